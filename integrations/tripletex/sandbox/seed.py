"""Deterministic seed data for the Tripletex sandbox.

Seeds:

* ``demo``: the accounting firm *Demo Regnskap AS* with accountant (proxy) access to
  six client companies, 220 customers (7 fixed plus 213 generated, or N generated
  with ``customers=N``), 30 products, the standard Norwegian VAT types, employees
  (one deactivated), orders and invoices (paid, partly paid, unpaid), projects,
  activities and timesheet entries. Each client company gets 24 months (up to the
  sandbox's today) of vouchers, supplier invoices, outgoing invoices and bank
  statements with transactions. One more company (*Konkurrent Revisjon AS*)
  exists without access, to provoke 403s.
* ``empty``: the firm company, its employees and its ledger set-up (VAT types,
  accounts, voucher types, payment types) only; ``customers=N`` adds N generated
  customers to the firm.

All randomness comes from :class:`random.Random` with fixed string seeds, per
company and per month, so the same ``today`` gives the same data. A client
company's history is generated when the company is first touched (see
``Store.materialize``), from its own id block, so ids do not depend on the
order in which companies are accessed.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from .bookkeeping import add_bookkeeping
from .endpoints import add_voucher, create_order, invoice_order, register_payment
from .fields import VAT_TYPES
from .store import ControlError, Row

if TYPE_CHECKING:
    from .store import Store

SEEDS = ("demo", "empty")
DEMO_CUSTOMERS = 213
MONTHS_OF_HISTORY = 24

PREFIXES = ["Fjord", "Nord", "Sør", "Vest", "Øst", "Bjørke", "Lønne", "Ås", "Bræ", "Fjell", "Sjø"]
PREFIXES += ["Lyng", "Grøn", "Måke", "Ørne", "Tind", "Kyst", "Vik", "Holme", "Haug", "Sæter"]
INDUSTRIES = ["Bygg", "Rør", "Elektro", "Transport", "Bakeri", "Snekkeri", "Maling", "Frisør"]
INDUSTRIES += ["Eiendom", "Handel", "Data", "Kafé", "Fiskeri", "Gartneri", "Maskin", "Blomster"]
INDUSTRIES += ["Kjøtt", "Sveis", "Grøntanlegg", "Bilverksted", "Taktekking", "Rådgivning"]
SUFFIXES = ["AS", "AS", "AS", "AS", "AS", "ANS", "DA", "SA"]
FIRST_NAMES = ["Ola", "Kari", "Åse", "Bjørn", "Ørjan", "Kjærsti", "Håkon", "Sølvi", "Trond"]
FIRST_NAMES += ["Ingrid", "Jørgen", "Mari", "Pål", "Siv", "Øystein", "Ståle", "Åsmund", "Tuva"]
LAST_NAMES = ["Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Dahl", "Jørgensen"]
LAST_NAMES += ["Sørensen", "Moen", "Strand", "Eide", "Bakken", "Nygård", "Sæther", "Ødegård"]
LAST_NAMES += ["Sætre", "Bråthen", "Løken", "Våge", "Østby", "Brække", "Grønli", "Åmodt"]
CITIES = [("0150", "Oslo"), ("5003", "Bergen"), ("7010", "Trondheim"), ("4006", "Stavanger")]
CITIES += [("9008", "Tromsø"), ("3110", "Tønsberg"), ("2317", "Hamar"), ("6002", "Ålesund")]
CITIES += [("8006", "Bodø"), ("6800", "Førde"), ("2000", "Lillestrøm"), ("9900", "Kirkenes")]
STREETS = ["Storgata", "Kirkegata", "Fjordveien", "Bjørkeveien", "Strandgata", "Løkkeveien"]
STREETS += ["Åsveien", "Sjøgata", "Møllebakken", "Rådhusgata", "Kløverveien", "Tårnveien"]
FIRM_EMPLOYEES = [
    ("Kari", "Nordmann"),
    ("Bjørn", "Sætre"),
    ("Åse", "Bråten"),
    ("Håkon", "Ødegård"),
    ("Ingrid", "Løvås"),
    ("Sølvi", "Kværnes"),
    ("Pål", "Vågen"),
]
# name, company type, sales invoices per month, supplier invoices per month
CLIENTS = [
    ("Fjellheim Bakeri AS", "AS", 18, 10),
    ("Nordlys Rørleggerservice AS", "AS", 10, 6),
    ("Ærlig Håndverk Snekkeri AS", "AS", 6, 5),
    ("Sjøbris Kafé DA", "DA", 14, 8),
    ("Tønsberg Elektro og Automasjon AS", "AS", 10, 7),
    ("Åsmund Ødegård Gårdsdrift", "ENK", 3, 3),
]
# name, price excluding VAT, VAT code; the last INACTIVE_PRODUCTS are inactive
PRODUCTS = [
    ("Regnskapsføring, løpende (time)", 1150, "3"),
    ("Årsoppgjør og skattemelding AS", 14500, "3"),
    ("Årsoppgjør enkeltpersonforetak", 7900, "3"),
    ("MVA-melding per termin", 1650, "3"),
    ("Lønnskjøring per ansatt", 250, "3"),
    ("A-melding per måned", 450, "3"),
    ("Rådgivning (time)", 1450, "3"),
    ("Fakturering og purring (time)", 850, "3"),
    ("Bankavstemming per måned", 600, "3"),
    ("Oppstartspakke ny kunde", 4900, "3"),
    ("Tripletex-lisens, månedlig", 499, "3"),
    ("Skattemelding personlig", 2900, "3"),
    ("Aksjonærregisteroppgave", 1200, "3"),
    ("Stiftelse av aksjeselskap", 6500, "3"),
    ("Budsjett og likviditetsplan", 5200, "3"),
    ("Revisjonsbistand (time)", 1550, "3"),
    ("Reiseregning, behandling", 150, "3"),
    ("Purregebyr", 70, "6"),
    ("Fagbok: Regnskap i praksis", 699, "5"),
    ("Kurs: Regnskapsskolen", 3500, "6"),
    ("Kaffe og møtemat", 250, "31"),
    ("Billetter kundearrangement", 150, "33"),
    ("Kjøregodtgjørelse (km)", 4.5, "6"),
    ("Arkivering, digital (mnd)", 199, "3"),
    ("Årsregnskap, innsending Brønnøysund", 950, "3"),
    ("Næringsoppgave", 2400, "3"),
    ("Konsulentbistand hastesak (time)", 1950, "3"),
    ("Eiendomsskatt, kontroll", 800, "3"),
    ("Gammel timepris 2022 (utgått)", 990, "3"),
    ("Papirarkiv (avviklet)", 300, "3"),
]
INACTIVE_PRODUCTS = 2
# name, activity type, chargeable, hourly rate
ACTIVITIES = [
    ("Bokføring", "PROJECT_GENERAL_ACTIVITY", True, 1150),
    ("Årsoppgjør", "PROJECT_GENERAL_ACTIVITY", True, 1350),
    ("Lønn", "PROJECT_GENERAL_ACTIVITY", True, 1050),
    ("Rådgivning", "PROJECT_GENERAL_ACTIVITY", True, 1450),
    ("Intern tid", "GENERAL_ACTIVITY", False, 0),
    ("Kurs og opplæring", "GENERAL_ACTIVITY", False, 0),
]
MANUAL_VOUCHERS = ["Periodisering husleie", "Korrigering mva", "Privat uttak", "Kassetelling"]
_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e", " ": "", "&": "og"})


def mod11_check(digits: list[int]) -> int | None:
    """MOD11 check digit for the first 8 digits (weights 3,2,7,6,5,4,3,2); ``None`` if invalid."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    check = 11 - sum(d * w for d, w in zip(digits[:8], weights, strict=True)) % 11
    return 0 if check == 11 else None if check == 10 else check


def org_number(rng: random.Random, taken: set[str]) -> str:
    """A fresh 9-digit organisation number valid under the MOD11 rule."""
    while True:
        digits = [rng.choice((8, 9))] + [rng.randrange(10) for _ in range(7)]
        check = mod11_check(digits)
        number = "".join(map(str, digits)) + str(check)
        if check is not None and number not in taken:
            taken.add(number)
            return number


def company_name(rng: random.Random) -> str:
    """A plausible Norwegian company name such as "Fjordbygg AS" or "Hansen Rør ANS"."""
    industry, suffix = rng.choice(INDUSTRIES), rng.choice(SUFFIXES)
    pattern = rng.randrange(3)
    if pattern == 0:
        return f"{rng.choice(PREFIXES)}{industry.lower()} {suffix}"
    return f"{rng.choice(PREFIXES if pattern == 1 else LAST_NAMES)} {industry} {suffix}"


def _slug(text: str) -> str:
    return "".join(c for c in text.lower().translate(_ASCII) if c.isalnum() or c == ".")


def _months(today: date, count: int) -> list[tuple[date, date]]:
    """``count`` (first day, last day ≤ today) pairs ending with today's month, oldest first."""
    out = []
    year, month = today.year, today.month
    for _ in range(count):
        following = date(year + (month == 12), month % 12 + 1, 1)
        out.append((date(year, month, 1), min(following - timedelta(days=1), today)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


class _Builder:
    """Writes seed rows into a freshly reset store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.today = store.data.seeded_on
        self.taken: set[str] = {"923456783"}
        lookup = store.data.lookup
        if ("currency", "NOK") not in lookup:
            for key, kind, values in (
                (("currency", "NOK"), "currency", {"code": "NOK", "description": "Norske kroner"}),
                (("country", "NO"), "country", {"name": "Norge", "isoAlpha2Code": "NO"}),
                (("bank", "DNB"), "bank", {"name": "DNB Bank ASA", "registerNumbers": [1503]}),
            ):
                lookup[key] = store.insert(kind, None, values)["id"]
        self.nok, self.norway = lookup[("currency", "NOK")], lookup[("country", "NO")]
        self.bank = lookup[("bank", "DNB")]

    def address(self, company: int, rng: random.Random) -> int:
        postal_code, city = rng.choice(CITIES)
        line = f"{rng.choice(STREETS)} {rng.randint(1, 120)}"
        text = f"{line}, {postal_code} {city}"
        return self.store.insert(
            "address",
            company,
            {
                "addressLine1": line,
                "postalCode": postal_code,
                "city": city,
                "country": self.norway,
                "displayName": text,
                "addressAsString": text,
            },
        )["id"]

    def company(self, name: str, kind: str, rng: random.Random, accountant: bool = False) -> int:
        phone = f"+47 {rng.randint(22, 77)} {rng.randint(10, 99)} {rng.randint(10, 99)} 00"
        row = self.store.insert(
            "company",
            None,
            {
                "name": name,
                "startDate": f"{rng.randint(1995, 2019)}-01-01",
                "type": kind,
                "organizationNumber": org_number(rng, self.taken),
                "phoneNumber": phone,
                "email": f"post@{_slug(name.split(' ')[0])}.no",
                "currency": self.nok,
                "accountantOrSimilar": accountant,
                "_clients": [],
            },
        )
        company = row["_company"] = row["id"]
        row["address"] = self.address(company, rng)
        self.store.add_standard_ledger(company)
        return company

    def employee(
        self,
        company: int,
        number: int,
        name: tuple[str, str],
        domain: str,
        admin: bool = False,
        active: bool = True,
    ) -> int:
        first, last = name
        user_type = "EXTENDED" if admin else "STANDARD"
        return self.store.insert(
            "employee",
            company,
            {
                "firstName": first,
                "lastName": last,
                "displayName": f"{first} {last}",
                "employeeNumber": str(number),
                "email": f"{_slug(first)}.{_slug(last)}@{domain}",
                "phoneNumberMobile": f"+47 9{number:02d}{company % 10**5:05d}",
                "companyId": company,
                "dateOfBirth": f"{1960 + number * 7 % 35}-{1 + number % 12:02d}-{1 + number * 5 % 28:02d}",
                "userType": user_type if active else "NO_ACCESS",
                "_user_type": user_type,
                "department": self.store.lookup("department", company),
                "_active": active,
            },
            at=f"{self.today.year - 3}-01-02T08:00:00",
        )["id"]

    def firm(self) -> tuple[int, list[int]]:
        """The accounting firm and its employees (admin first, the last one deactivated)."""
        company = self.company("Demo Regnskap AS", "AS", random.Random("firm"), accountant=True)
        last = len(FIRM_EMPLOYEES)
        employees = [
            self.employee(company, i, name, "demoregnskap.no", i == 1, i < last)
            for i, name in enumerate(FIRM_EMPLOYEES, 1)
        ]
        self.store.data.firm_company_id = company
        self.store.data.admin_employee_id = employees[0]
        return company, employees

    def customers(
        self, company: int, count: int, managers: list[int], rng: random.Random
    ) -> list[int]:
        """``count`` customers with Norwegian names, addresses, e-mails and org numbers."""
        store, ids = self.store, []
        start = self.today - timedelta(days=730)
        for _ in range(count):
            number = store.next_number("customer", company, 10001)
            values: Row = {"customerNumber": number, "isInactive": rng.random() < 0.08}
            if rng.random() < 0.2:
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                mail = rng.choice(("gmail.com", "online.no", "hotmail.com"))
                email = f"{_slug(first)}.{_slug(last)}{rng.randint(1, 99)}@{mail}"
                values.update(name=f"{first} {last}", isPrivateIndividual=True, invoiceEmail=email)
            else:
                values["name"] = name = company_name(rng)
                email = f"post@{_slug(name.rsplit(' ', 1)[0])}.no"
                values["invoiceEmail"] = rng.choice(
                    (email, email.replace("post@", "faktura@"), None)
                )
                if rng.random() < 0.85:
                    org = org_number(rng, self.taken)
                    spaced = rng.random() < 0.04
                    values["organizationNumber"] = (
                        f"{org[:3]} {org[3:6]} {org[6:]}" if spaced else org
                    )
                    values["invoiceSendMethod"] = "EHF" if rng.random() < 0.3 else "EMAIL"
            changed = f"{start + timedelta(days=rng.randrange(729))}T{rng.randint(7, 17):02d}:15:00"
            values.update(
                email=email,
                phoneNumberMobile=f"+47 {rng.choice((4, 9))}{rng.randrange(10**7):07d}",
                accountManager=rng.choice(managers),
                language="EN" if rng.random() < 0.05 else "NO",
                postalAddress=self.address(company, rng),
                invoicesDueIn=rng.choice((14, 14, 14, 10, 20, 30)),
                currency=self.nok,
                _changed_at=changed,
            )
            ids.append(store.insert("customer", company, values, managers[0], changed)["id"])
        return ids


def apply_seed(store: Store, seed: str, customers: int | None = None) -> None:
    """Fill a freshly reset ``store`` with the named seed (``demo`` or ``empty``)."""
    if seed not in SEEDS:
        raise ControlError(f"seed must be one of {list(SEEDS)}")
    if customers is not None and not 0 <= customers <= 100_000:
        raise ControlError("customers must be between 0 and 100000")
    builder = _Builder(store)
    firm, employees = builder.firm()
    if seed == "empty":
        builder.customers(firm, customers or 0, employees[:-1], random.Random("customers"))
        return
    _seed_demo(builder, firm, employees, DEMO_CUSTOMERS if customers is None else customers)


def add_demo_clients(store: Store, count: int) -> list[int]:
    """``count`` client companies more for the firm, each with the history of a demo client
    (generated now, with fresh ids), so a benchmark can read many different books."""
    firm = store.firm_company_id
    added = []
    with store.lock:
        builder = _Builder(store)
        for n in range(count):
            index = n % len(CLIENTS)
            name, kind, _sales, _purchases = CLIENTS[index]
            company = builder.company(f"{name} {n + 2}", kind, random.Random(f"bench-{n}"))
            _client_history(builder, company, index)
            (store.get("company", firm) or {})["_clients"].append(company)
            added.append(company)
    return added


def load_client_history(store: Store, company: int, index: int) -> None:
    """Materialise the bookkeeping history of demo client ``index`` (called by the store)."""
    _client_history(_Builder(store), company, index)


def _seed_demo(builder: _Builder, firm: int, employees: list[int], generated: int) -> None:
    store, today = builder.store, builder.today
    clients = [
        builder.company(name, kind, random.Random(f"client-{i}"))
        for i, (name, kind, _sales, _purchases) in enumerate(CLIENTS)
    ]
    other = builder.company("Konkurrent Revisjon AS", "AS", random.Random("other"), True)
    builder.employee(other, 1, ("Trine", "Konkurrent"), "konkurrentrevisjon.no", admin=True)
    (store.get("company", firm) or {})["_clients"] = clients
    store.data.lazy.update({client: index for index, client in enumerate(clients)})
    managers, stamp = employees[:-1], f"{today - timedelta(days=400)}T09:30:00"
    # the firm's customer records for its clients, plus one org number typed with spaces
    fixed_customers = [store.get("company", client) or {} for client in clients]
    fixed_customers.append(
        {
            "name": "Bjørkeli Bygg AS",
            "organizationNumber": "923 456 783",
            "email": "post@bjorkelibygg.no",
            "phoneNumber": None,
        }
    )
    fixed = []
    for i, company in enumerate(fixed_customers):
        fixed.append(
            store.create_customer(
                firm,
                at=stamp,
                name=company["name"],
                organizationNumber=company["organizationNumber"],
                email=company["email"],
                invoiceEmail=company["email"].replace("post@", "faktura@"),
                phoneNumber=company["phoneNumber"],
                accountManager=managers[i % len(managers)],
                invoiceSendMethod="EHF" if company["phoneNumber"] else "EMAIL",
                postalAddress=builder.address(firm, random.Random(company["name"])),
            )["id"]
        )
    customers = fixed + builder.customers(firm, generated, employees, random.Random("customers"))
    products = _products(builder, firm)
    _firm_invoices(builder, firm, managers[0], customers, products)
    _hours(builder, firm, managers, fixed[: len(clients)])


def _products(builder: _Builder, firm: int) -> list[int]:
    store = builder.store
    unit = store.insert("productUnit", firm, {"name": "Stykk", "nameShort": "stk"})["id"]
    ids = []
    for i, (name, price, vat) in enumerate(PRODUCTS):
        percentage = next(p for number, _, p, _ in VAT_TYPES if number == vat)
        ids.append(
            store.insert(
                "product",
                firm,
                {
                    "name": name,
                    "number": str(1001 + i),
                    "displayNumber": str(1001 + i),
                    "description": name,
                    "priceExcludingVatCurrency": float(price),
                    "costExcludingVatCurrency": round(price * 0.2, 2),
                    "priceIncludingVatCurrency": round(price * (1 + percentage / 100), 2),
                    "vatType": store.lookup("vatType", firm, vat),
                    "currency": builder.nok,
                    "productUnit": unit,
                    "account": store.lookup("account", firm, 3000 if percentage else 3100),
                    "isInactive": i >= len(PRODUCTS) - INACTIVE_PRODUCTS,
                },
                at=f"{builder.today.year - 2}-01-05T09:00:00",
            )["id"]
        )
    return ids


def _firm_invoices(
    builder: _Builder, firm: int, admin: int, customers: list[int], products: list[int]
) -> None:
    """45 invoiced orders over six months (paid, partly paid, unpaid) and 4 open orders."""
    store, today, rng = builder.store, builder.today, random.Random("firm-invoices")
    active = [c for c in customers if not (store.get("customer", c) or {}).get("isInactive")][:80]
    bank = store.lookup("paymentType", firm, "bank") or 0
    for i in range(49):
        day = today - timedelta(days=180 * (48 - i) // 48)
        lines = [
            {"product": {"id": p}, "count": rng.choice((1, 1, 2, 3, 5, 10))}
            for p in rng.sample(products[:-INACTIVE_PRODUCTS], rng.randint(1, 3))
        ]
        order = create_order(
            store,
            firm,
            {
                "customer": {"id": rng.choice(active)},
                "orderDate": day.isoformat(),
                "deliveryDate": day.isoformat(),
                "ourContactEmployee": {"id": admin},
                "orderLines": lines,
            },
            admin,
        )
        if i >= 45:
            continue
        invoice = invoice_order(store, firm, order["id"], day, False, admin)
        roll, old = rng.random(), (today - day).days > 45
        share = (
            (0.0 if roll > 0.88 else 0.4 if roll > 0.75 else 1.0)
            if old
            else (0.0 if roll > 0.5 else 0.5 if roll > 0.3 else 1.0)
        )
        if share:
            paid_on = min(today, day + timedelta(days=rng.randint(5, 30)))
            amount = round(invoice["amount"] * share, 2)
            register_payment(store, firm, invoice["id"], paid_on, bank, amount, admin)


def _hours(builder: _Builder, firm: int, employees: list[int], client_customers: list[int]) -> None:
    """A project per client and year, activities, and 90 days of timesheet entries."""
    store, today, rng = builder.store, builder.today, random.Random("hours")
    activities = [
        store.insert(
            "activity",
            firm,
            {
                "name": name,
                "number": str(i),
                "description": name,
                "activityType": kind,
                "isChargeable": chargeable,
                "rate": float(rate),
            },
        )
        for i, (name, kind, chargeable, rate) in enumerate(ACTIVITIES, 1)
    ]
    projects: list[Row] = []
    for i, customer in enumerate(client_customers):
        for year in (today.year - 1, today.year):
            name = f"Regnskap {year} - {(store.get('customer', customer) or {})['name']}"
            projects.append(
                store.insert(
                    "project",
                    firm,
                    {
                        "name": name,
                        "number": str(len(projects) + 1),
                        "customer": customer,
                        "projectManager": employees[i % len(employees)],
                        "startDate": f"{year}-01-01",
                        "endDate": f"{year}-12-31" if year < today.year else None,
                        "isClosed": year < today.year,
                        "department": store.lookup("department", firm),
                    },
                )
            )
    internal = store.insert(
        "project",
        firm,
        {
            "name": "Intern administrasjon",
            "number": str(len(projects) + 1),
            "isInternal": True,
            "projectManager": employees[0],
            "startDate": f"{today.year - 3}-01-01",
        },
    )
    open_projects = [p for p in projects if not p["isClosed"]]
    for offset in range(90, -1, -1):
        day = today - timedelta(days=offset)
        for employee in employees if day.weekday() < 5 else ():
            used: set[tuple[int, int]] = set()
            for _ in range(rng.randint(1, 3)):
                project = rng.choice(open_projects) if rng.random() < 0.8 else internal
                activity = rng.choice(activities[4:] if project is internal else activities[:4])
                if (project["id"], activity["id"]) in used:
                    continue
                used.add((project["id"], activity["id"]))
                hours = rng.choice((0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 7.5))
                chargeable = activity["isChargeable"] and not project["isInternal"]
                store.insert(
                    "timesheetEntry",
                    firm,
                    {
                        "project": project["id"],
                        "activity": activity["id"],
                        "date": day.isoformat(),
                        "hours": hours,
                        "employee": employee,
                        "comment": activity["name"],
                        "chargeableHours": hours if chargeable else 0.0,
                        "chargeable": chargeable,
                        "locked": offset > 30,
                        "hourlyRate": activity["rate"],
                    },
                )


CashFlow = dict[tuple[int, int], list[tuple[date, str, float, int]]]


def _client_history(builder: _Builder, company: int, index: int) -> None:
    """24 months of bookkeeping for one client company, deterministic per company and month."""
    store, today = builder.store, builder.today
    name, _kind, sales, purchases = CLIENTS[index]
    setup = random.Random(f"client-{index}-setup")
    staff = [
        builder.employee(
            company,
            n,
            (setup.choice(FIRST_NAMES), setup.choice(LAST_NAMES)),
            f"{_slug(name.split(' ')[0])}.no",
            admin=n == 1,
        )
        for n in (1, 2)
    ]
    customers = builder.customers(company, setup.randint(12, 25), staff, setup)
    suppliers: list[Row] = []
    for number in range(setup.randint(6, 10)):
        supplier_name = company_name(setup)
        suppliers.append(
            store.insert(
                "supplier",
                company,
                {
                    "name": supplier_name,
                    "organizationNumber": org_number(setup, builder.taken),
                    "supplierNumber": 20001 + number,
                    "email": f"faktura@{_slug(supplier_name.rsplit(' ', 1)[0])}.no",
                    "postalAddress": builder.address(company, setup),
                },
            )
        )
    food = index in (0, 3)
    cash: CashFlow = {}
    org = (store.get("company", company) or {})["organizationNumber"]
    months = _months(today, MONTHS_OF_HISTORY)
    for first, last in months:
        rng = random.Random(f"{org}-{first:%Y-%m}")
        season = 1.3 if first.month in (11, 12) else 0.7 if first.month == 7 else 1.0
        span = (last - first).days + 1
        for _ in range(round(sales * season * rng.uniform(0.6, 1.4) * span / 30)):
            customer = store.get("customer", rng.choice(customers)) or {}
            _sale(
                builder,
                company,
                first + timedelta(days=rng.randrange(span)),
                customer,
                food,
                rng,
                cash,
            )
        for _ in range(round(purchases * rng.uniform(0.7, 1.3) * span / 30)):
            seller = rng.choice(suppliers)
            _purchase(
                builder, company, first + timedelta(days=rng.randrange(span)), seller, rng, cash
            )
        for _ in range(rng.randint(1, 2)):
            fee = round(rng.uniform(45, 350), 2)
            postings: list[tuple[int, float, Row]] = [(7770, fee, {}), (1920, -fee, {})]
            voucher = add_voucher(
                store, company, last, "Bankavstemming", f"Bankgebyr {first:%m.%Y}", postings
            )
            cash.setdefault((last.year, last.month), []).append(
                (last, "Gebyrer", -fee, voucher["id"])
            )
        for _ in range(rng.randint(0, 3)):
            amount, extra = round(rng.uniform(500, 15000), 2), {}
            if rng.random() < 0.5:
                extra["attachment"] = store.insert(
                    "document",
                    company,
                    {
                        "fileName": f"bilag_{first:%Y%m}_{rng.randint(1, 999)}.jpg",
                        "size": rng.randint(80_000, 2_000_000),
                        "mimeType": "image/jpeg",
                    },
                )["id"]
            day = first + timedelta(days=rng.randrange(span))
            postings = [(6800, amount, {}), (1920, -amount, {})]
            add_voucher(
                store, company, day, "Manuelt bilag", rng.choice(MANUAL_VOUCHERS), postings, extra
            )
    _bank_statements(builder, company, months, cash, random.Random(f"{org}-bank"))
    add_bookkeeping(store, company, index, months, today)


def _sale(
    builder: _Builder,
    company: int,
    day: date,
    customer: Row,
    food: bool,
    rng: random.Random,
    cash: CashFlow,
) -> None:
    store = builder.store
    excl = round(rng.uniform(150, 4000 if food else 30000), 2)
    incl = round(excl * (1.15 if food else 1.25), 2)
    number = store.next_number("invoice", company)
    vat = store.lookup("vatType", company, "31" if food else "3")
    voucher = add_voucher(
        store,
        company,
        day,
        "Utgående faktura",
        f"Faktura {number} {customer['name']}",
        [
            (
                1500,
                incl,
                {
                    "customer": customer["id"],
                    "invoiceNumber": str(number),
                    "type": "OUTGOING_INVOICE_CUSTOMER_POSTING",
                },
            ),
            (3000, -excl, {"vatType": vat}),
            (2700, round(excl - incl, 2), {}),
        ],
    )
    paid_on = day + timedelta(days=rng.randint(3, 40))
    open_amount = incl if paid_on > builder.today else 0.0
    store.insert(
        "invoice",
        company,
        {
            "invoiceNumber": number,
            "invoiceDate": day.isoformat(),
            "deliveryDate": day.isoformat(),
            "invoiceDueDate": (day + timedelta(days=14)).isoformat(),
            "customer": customer["id"],
            "voucher": voucher["id"],
            "kid": f"{number:07d}0",
            "currency": builder.nok,
            "amount": incl,
            "amountCurrency": incl,
            "amountExcludingVat": excl,
            "amountExcludingVatCurrency": excl,
            "amountOutstanding": open_amount,
            "amountCurrencyOutstanding": open_amount,
            "amountOutstandingTotal": open_amount,
            "amountCurrencyOutstandingTotal": open_amount,
            "postings": voucher["postings"][:1],
        },
        at=f"{day}T10:00:00",
    )
    if paid_on <= builder.today:
        text = f"Innbetaling {customer['name']} KID {number:07d}0"
        cash.setdefault((paid_on.year, paid_on.month), []).append(
            (paid_on, text, incl, voucher["id"])
        )


def _purchase(
    builder: _Builder, company: int, day: date, supplier: Row, rng: random.Random, cash: CashFlow
) -> None:
    store = builder.store
    excl = round(rng.uniform(200, 20000), 2)
    incl = round(excl * 1.25, 2)
    number = str(rng.randint(10000, 999999))
    extra: Row = {
        "vendorInvoiceNumber": number,
        "supplierVoucherType": "TYPE_SUPPLIER_INVOICE_SIMPLE",
    }
    if rng.random() < 0.85:
        extra["document"] = store.insert(
            "document",
            company,
            {
                "fileName": f"faktura_{_slug(supplier['name'])}_{number}.pdf",
                "size": rng.randint(20_000, 400_000),
                "mimeType": "application/pdf",
            },
        )["id"]
    expense = rng.choice((4000, 6300, 6800, 6900))
    voucher = add_voucher(
        store,
        company,
        day,
        "Leverandørfaktura",
        f"{supplier['name']} faktura {number}",
        [
            (2400, -incl, {"supplier": supplier["id"], "invoiceNumber": number}),
            (expense, excl, {"vatType": store.lookup("vatType", company, "1")}),
            (2710, round(incl - excl, 2), {}),
        ],
        extra,
    )
    due = day + timedelta(days=rng.choice((14, 30)))
    store.insert(
        "supplierInvoice",
        company,
        {
            "invoiceNumber": number,
            "invoiceDate": day.isoformat(),
            "invoiceDueDate": due.isoformat(),
            "supplier": supplier["id"],
            "voucher": voucher["id"],
            "amount": incl,
            "amountCurrency": incl,
            "amountExcludingVat": excl,
            "amountExcludingVatCurrency": excl,
            "currency": builder.nok,
            "kidOrReceiverReference": number,
            "outstandingAmount": incl if due > builder.today else 0.0,
            "originalInvoiceDocumentId": extra.get("document"),
        },
    )
    if due <= builder.today:
        text = f"Betaling {supplier['name']} {number}"
        cash.setdefault((due.year, due.month), []).append((due, text, -incl, voucher["id"]))


def _bank_statements(
    builder: _Builder,
    company: int,
    months: list[tuple[date, date]],
    cash: CashFlow,
    rng: random.Random,
) -> None:
    """One statement per month on account 1920, with the month's payments as transactions."""
    store = builder.store
    account = store.lookup("account", company, 1920)
    balance = round(rng.uniform(50_000, 500_000), 2)
    for first, last in months:
        moves = sorted(cash.get((first.year, first.month), ()), key=lambda move: move[0])
        closing = round(balance + sum(move[2] for move in moves), 2)
        statement = store.insert(
            "bankStatement",
            company,
            {
                "fromDate": first.isoformat(),
                "toDate": last.isoformat(),
                "fileName": f"DNB_1920_{first:%Y-%m}.csv",
                "openingBalanceCurrency": balance,
                "closingBalanceCurrency": closing,
                "bank": builder.bank,
                "account": account,
            },
        )
        statement["transactions"] = [
            store.insert(
                "bankTransaction",
                company,
                {
                    "postedDate": day.isoformat(),
                    "description": text,
                    "amountCurrency": amount,
                    "bankStatement": statement["id"],
                    "account": account,
                    "sourceVoucher": voucher,
                },
            )["id"]
            for day, text, amount, voucher in moves
        ]
        balance = closing
