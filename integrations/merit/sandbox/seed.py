"""Seed data of the Merit sandbox: per-country reference data and generated demo rows.

Everything is deterministic per (country, seed name, company, reference date): a
``random.Random`` seeded with those builds the same companies, GUIDs, customers and
documents on every start, which is what lets the demo's saved connection and the
ids it imported survive a restart.

Registry numbers are valid and checksummed (python-stdnum): Estonian registry codes
(8 digits, ``stdnum.ee.registrikood``) and KMKR VAT numbers, Finnish Y-tunnus
(``stdnum.fi.ytunnus``) with the FI ALV number derived from it, Polish NIP
(``stdnum.pl.nip``) with ``PL`` + NIP as the EU VAT number.
"""

# ruff: noqa: RUF001 - the Russian VAT names (NameRU) are Cyrillic on purpose

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from stdnum.ee import kmkr, registrikood
from stdnum.fi import ytunnus
from stdnum.pl import nip

Row = dict[str, Any]

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
#: Merit's "no date" values (fact sheet §5): ``EmailSent`` and ``InboundTime`` use these.
NO_DATE_1901 = "1901-01-01T00:00:00"
NO_DATE_0001 = "0001-01-01T00:00:00"
CENT = Decimal("0.01")


def money(value: Decimal | int | float | str) -> Decimal:
    """Round half up to cents, as every Merit GL record is a Decimal(12.2)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def iso(moment: date | datetime) -> str:
    """Merit's response date format ``YYYY-mm-DDTHH:mm:ss`` (no zone)."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def guid(rng: random.Random) -> str:
    """A version-4 GUID drawn from ``rng`` (deterministic, unlike ``uuid.uuid4``)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


# ------------------------------------------------------------------ countries
@dataclass(frozen=True)
class Tax:
    """One VAT code of a country's standard Merit company set-up."""

    code: str
    name: str
    name_en: str
    name_ru: str
    pct: Decimal
    tax_type: int
    non_active: bool = False
    #: The date range in which the seed uses it as the default sales rate.
    default_from: date | None = None
    default_to: date | None = None


@dataclass(frozen=True)
class Country:
    """One Merit instance: its sandbox path, real host and local conventions."""

    code: str
    path: str
    real_base_url: str
    product: str
    currency: str
    language: str
    country_name: str
    taxes: tuple[Tax, ...]
    item_type_names: dict[int, str]
    usage_name: str
    batch_codes: dict[str, str]
    accounts: dict[str, str]


def _taxes(*rows: tuple[Any, ...]) -> tuple[Tax, ...]:
    return tuple(Tax(*row) for row in rows)


D = Decimal
COUNTRIES: dict[str, Country] = {
    "EE": Country(
        code="EE",
        path="ee",
        real_base_url="https://aktiva.merit.ee/api/v1/",
        product="Merit Aktiva",
        currency="EUR",
        language="ET",
        country_name="Eesti",
        taxes=_taxes(
            ("24%", "Käibemaks 24%", "VAT 24%", "НДС 24%", D(24), 1, False, date(2025, 7, 1)),
            (
                "22%",
                "Käibemaks 22%",
                "VAT 22%",
                "НДС 22%",
                D(22),
                1,
                False,
                date(2024, 1, 1),
                date(2025, 6, 30),
            ),
            (
                "20%",
                "Käibemaks 20%",
                "VAT 20%",
                "НДС 20%",
                D(20),
                1,
                True,
                None,
                date(2023, 12, 31),
            ),
            ("13%", "Käibemaks 13%", "VAT 13%", "НДС 13%", D(13), 1),
            ("9%", "Käibemaks 9%", "VAT 9%", "НДС 9%", D(9), 1),
            ("0%", "Käibemaks 0%", "VAT 0%", "НДС 0%", D(0), 1),
            ("MV", "Maksuvaba käive", "VAT exempt", "Освобождено от НДС", D(0), 2),
            ("PM", "Pöördmaksustamine", "Reverse charge", "Обратное налогообложение", D(24), 6),
            ("-", "Käibemaksuta", "Not taxable", "Не облагается", D(0), 5),
        ),
        item_type_names={1: "Laokaup", 2: "Teenus", 3: "Kaup"},
        usage_name="müügiartiklites",
        batch_codes={"sales": "MA", "purchase": "OS", "bank": "PN", "manual": "KK"},
        accounts={
            "receivable": "1210",
            "payable": "2110",
            "bank": "1020",
            "revenue": "3000",
            "cost": "4000",
            "vat_out": "2410",
            "vat_in": "1510",
            "salary": "5000",
        },
    ),
    "FI": Country(
        code="FI",
        path="fi",
        real_base_url="https://app.passelimerit.fi/api/v1/",
        product="Passeli Merit",
        currency="EUR",
        language="FI",
        country_name="Suomi",
        taxes=_taxes(
            ("25,5%", "ALV 25,5%", "VAT 25.5%", "НДС 25,5%", D("25.5"), 1, False, date(2024, 9, 1)),
            ("24%", "ALV 24%", "VAT 24%", "НДС 24%", D(24), 1, True, None, date(2024, 8, 31)),
            ("14%", "ALV 14%", "VAT 14%", "НДС 14%", D(14), 1),
            ("13,5%", "ALV 13,5%", "VAT 13.5%", "НДС 13,5%", D("13.5"), 1),
            ("10%", "ALV 10%", "VAT 10%", "НДС 10%", D(10), 1),
            ("0%", "ALV 0%", "VAT 0%", "НДС 0%", D(0), 2),
            (
                "AVL8c",
                "Käännetty verovelvollisuus (AVL 8 c §)",
                "Reverse charge (AVL 8 c)",
                "Обратное налогообложение",
                D("25.5"),
                6,
            ),
            ("EI", "Veroton", "Not taxable", "Не облагается", D(0), 5),
        ),
        item_type_names={1: "Varastotavara", 2: "Palvelu", 3: "Tavara"},
        usage_name="myyntinimikkeissä",
        batch_codes={"sales": "MY", "purchase": "OS", "bank": "PA", "manual": "PÄ"},
        accounts={
            "receivable": "1700",
            "payable": "2870",
            "bank": "1910",
            "revenue": "3000",
            "cost": "4000",
            "vat_out": "2939",
            "vat_in": "1763",
            "salary": "5000",
        },
    ),
    "PL": Country(
        code="PL",
        path="pl",
        real_base_url="https://program.360ksiegowosc.pl/api/v1/",
        product="360 Księgowość",
        currency="PLN",
        language="PL",
        country_name="Polska",
        taxes=_taxes(
            ("23%", "VAT 23%", "VAT 23%", "НДС 23%", D(23), 1, False, date(2011, 1, 1)),
            ("8%", "VAT 8%", "VAT 8%", "НДС 8%", D(8), 1),
            ("5%", "VAT 5%", "VAT 5%", "НДС 5%", D(5), 1),
            ("0%", "VAT 0%", "VAT 0%", "НДС 0%", D(0), 1),
            ("zw", "Zwolniony", "VAT exempt", "Освобождено от НДС", D(0), 2),
            ("np", "Nie podlega", "Not taxable", "Не облагается", D(0), 5),
            ("oo", "Odwrotne obciążenie", "Reverse charge", "Обратное налогообложение", D(23), 6),
        ),
        item_type_names={1: "Towar magazynowy", 2: "Usługa", 3: "Towar"},
        usage_name="w sprzedaży",
        batch_codes={"sales": "FS", "purchase": "FZ", "bank": "WB", "manual": "PK"},
        accounts={
            "receivable": "200",
            "payable": "201",
            "bank": "130",
            "revenue": "700",
            "cost": "400",
            "vat_out": "221",
            "vat_in": "222",
            "salary": "231",
        },
    ),
}
#: Extra sandbox paths that reach an instance: Finland's old host still works (fact sheet §1).
PATH_ALIASES = {"fi-legacy": "FI"}


# ------------------------------------------------------------ registry numbers
def _complete(rng: random.Random, prefix: str, length: int, valid: Callable[[str], bool]) -> str:
    """Random digits after ``prefix`` up to ``length``, with a last digit that passes ``valid``."""
    while True:
        body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
        for digit in "0123456789":
            if valid(body + digit):
                return body + digit


def registry_number(rng: random.Random, country: str, first: str = "1") -> str:
    """A valid registry number: EE registrikood, FI Y-tunnus (``1234567-8``) or PL NIP."""
    if country == "EE":
        return _complete(rng, first, 8, registrikood.is_valid)
    if country == "FI":
        return ytunnus.format(_complete(rng, str(rng.randrange(1, 4)), 8, ytunnus.is_valid))
    return _complete(rng, str(rng.randrange(1, 10)), 10, nip.is_valid)


def vat_number(rng: random.Random, country: str, reg_no: str) -> str:
    """The company's EU VAT number: EE KMKR (its own 9 digits), FI + Y-tunnus digits, PL + NIP."""
    if country == "EE":
        return "EE" + _complete(rng, "10", 9, kmkr.is_valid)
    return country + reg_no.replace("-", "")


# ----------------------------------------------------------------- name lists
_EE_STEMS = [
    "Kase",
    "Männi",
    "Tamme",
    "Lepa",
    "Kuuse",
    "Saare",
    "Järve",
    "Mere",
    "Põldma",
    "Õunapuu",
    "Ülemiste",
    "Pärnu",
    "Tartu",
    "Viljandi",
    "Rakvere",
    "Kärdla",
    "Haapsalu",
    "Võru",
    "Nõmme",
    "Kalamaja",
]
_EE_TRADES = [
    "Ehitus",
    "Kohvik",
    "Autoremont",
    "Puit",
    "Kinnisvara",
    "Transport",
    "Ilusalong",
    "Aiandus",
    "IT",
    "Pagarid",
    "Hambaravi",
    "Elekter",
    "Turundus",
    "Trükk",
    "Metall",
    "Toitlustus",
]
_EE_PEOPLE = (
    ["Mari", "Jüri", "Kätlin", "Tõnu", "Liis", "Märt", "Ülle", "Priit", "Kristiina", "Sten"],
    ["Tamm", "Saar", "Sepp", "Mägi", "Kask", "Õunapuu", "Pärn", "Kuusk", "Rebane", "Lõhmus"],
)
_EE_CITIES = [
    ("Tallinn", "Harju maakond", "10"),
    ("Tartu", "Tartu maakond", "50"),
    ("Pärnu", "Pärnu maakond", "80"),
    ("Narva", "Ida-Viru maakond", "20"),
    ("Viljandi", "Viljandi maakond", "71"),
]
_EE_STREETS = [
    "Narva mnt",
    "Pärnu mnt",
    "Tartu mnt",
    "Vabaduse pst",
    "Rüütli",
    "Jõe",
    "Kesk",
    "Sõpruse pst",
]

_FI_STEMS = [
    "Järvi",
    "Koivu",
    "Mänty",
    "Saari",
    "Kallio",
    "Pohjan",
    "Meri",
    "Kuusi",
    "Lähde",
    "Metsä",
    "Aalto",
    "Väinö",
    "Kivi",
    "Ranta",
]
_FI_TRADES = [
    "Rakennus",
    "Kahvila",
    "Autohuolto",
    "Puutyö",
    "Kiinteistöt",
    "Kuljetus",
    "Kampaamo",
    "Puutarha",
    "IT",
    "Leipomo",
    "Hammaslääkärit",
    "Sähkö",
]
_FI_PEOPLE = (
    ["Aino", "Juhani", "Sanna", "Mikko", "Päivi", "Jyrki", "Tiina", "Väinö"],
    ["Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Hämäläinen", "Järvinen", "Lähteenmäki"],
)
_FI_CITIES = [
    ("Helsinki", "Uusimaa", "00"),
    ("Espoo", "Uusimaa", "02"),
    ("Tampere", "Pirkanmaa", "33"),
    ("Turku", "Varsinais-Suomi", "20"),
    ("Oulu", "Pohjois-Pohjanmaa", "90"),
]
_FI_STREETS = [
    "Mannerheimintie",
    "Hämeenkatu",
    "Aleksanterinkatu",
    "Merimiehenkatu",
    "Kauppakatu",
    "Satamakatu",
]

_PL_STEMS = [
    "Zielona",
    "Wiśniowa",
    "Dębowa",
    "Słoneczna",
    "Bursztyn",
    "Żuraw",
    "Mazowsze",
    "Łąka",
    "Kraków",
    "Gdańsk",
    "Wawel",
    "Sokół",
]
_PL_TRADES = [
    "Budownictwo",
    "Kawiarnia",
    "Serwis Samochodowy",
    "Stolarstwo",
    "Nieruchomości",
    "Transport",
    "Salon Fryzjerski",
    "Ogrodnictwo",
    "IT",
    "Piekarnia",
    "Elektryka",
]
_PL_PEOPLE = (
    ["Anna", "Łukasz", "Małgorzata", "Paweł", "Zofia", "Grzegorz", "Agnieszka", "Michał"],
    ["Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamińska", "Lewandowski", "Żak", "Szymański"],
)
_PL_CITIES = [
    ("Warszawa", "mazowieckie", "0"),
    ("Kraków", "małopolskie", "3"),
    ("Gdańsk", "pomorskie", "8"),
    ("Wrocław", "dolnośląskie", "5"),
    ("Poznań", "wielkopolskie", "6"),
]
_PL_STREETS = [
    "ul. Marszałkowska",
    "ul. Długa",
    "ul. Piotrkowska",
    "ul. Świętojańska",
    "ul. Grunwaldzka",
    "al. Jerozolimskie",
]

_NAMES = {
    "EE": (
        _EE_STEMS,
        _EE_TRADES,
        _EE_PEOPLE,
        _EE_CITIES,
        _EE_STREETS,
        ["OÜ", "OÜ", "OÜ", "AS", "MTÜ"],
    ),
    "FI": (
        _FI_STEMS,
        _FI_TRADES,
        _FI_PEOPLE,
        _FI_CITIES,
        _FI_STREETS,
        ["Oy", "Oy", "Oy", "Ab", "Ky"],
    ),
    "PL": (
        _PL_STEMS,
        _PL_TRADES,
        _PL_PEOPLE,
        _PL_CITIES,
        _PL_STREETS,
        ["sp. z o.o.", "sp. z o.o.", "S.A.", "sp.j."],
    ),
}
_PHONES = {"EE": "+372 5{}", "FI": "+358 40 {}", "PL": "+48 60{}"}

#: The firm company per country (``demo`` and ``empty`` seeds) and the low-licence company.
FIRMS = {
    "EE": ("Uku Demo Raamatupidamine OÜ", "Väike Pood OÜ"),
    "FI": ("Uku Demo Tilitoimisto Oy", "Pieni Kauppa Oy"),
    "PL": ("Uku Demo Biuro Rachunkowe sp. z o.o.", "Mały Sklep sp. z o.o."),
}
#: Customers generated in each firm company by the ``demo`` seed.
DEMO_CUSTOMERS = {"EE": 200, "FI": 60, "PL": 60}

#: (code, names per country, type code, unit per country, sales price).
_ITEMS: list[tuple[str, dict[str, str], int, dict[str, str], str]] = [
    (
        "RAAM",
        {
            "EE": "Raamatupidamisteenus (kuutasu)",
            "FI": "Kirjanpitopalvelu (kuukausimaksu)",
            "PL": "Usługi księgowe (abonament)",
        },
        2,
        {"EE": "kuu", "FI": "kk", "PL": "mies."},
        "250.00",
    ),
    (
        "PALK",
        {
            "EE": "Palgaarvestus töötaja kohta",
            "FI": "Palkanlaskenta / työntekijä",
            "PL": "Naliczanie płac / pracownik",
        },
        2,
        {"EE": "tk", "FI": "kpl", "PL": "szt."},
        "12.00",
    ),
    (
        "KMD",
        {
            "EE": "Käibedeklaratsiooni koostamine",
            "FI": "ALV-ilmoituksen laatiminen",
            "PL": "Deklaracja JPK_V7",
        },
        2,
        {"EE": "tk", "FI": "kpl", "PL": "szt."},
        "45.00",
    ),
    (
        "AA",
        {"EE": "Majandusaasta aruanne", "FI": "Tilinpäätös", "PL": "Sprawozdanie finansowe"},
        2,
        {"EE": "tk", "FI": "kpl", "PL": "szt."},
        "480.00",
    ),
    (
        "KONS",
        {"EE": "Konsultatsioon", "FI": "Konsultointi", "PL": "Konsultacja"},
        2,
        {"EE": "h", "FI": "h", "PL": "godz."},
        "65.00",
    ),
    (
        "DOK",
        {
            "EE": "Algdokumentide sisestus",
            "FI": "Tositteiden kirjaus",
            "PL": "Księgowanie dokumentów",
        },
        2,
        {"EE": "tk", "FI": "kpl", "PL": "szt."},
        "1.50",
    ),
    (
        "TD",
        {
            "EE": "Tuludeklaratsioon (eraisik)",
            "FI": "Veroilmoitus (yksityishenkilö)",
            "PL": "Zeznanie PIT",
        },
        2,
        {"EE": "tk", "FI": "kpl", "PL": "szt."},
        "60.00",
    ),
    (
        "ALUS",
        {"EE": "Ettevõtte asutamine", "FI": "Yrityksen perustaminen", "PL": "Rejestracja spółki"},
        2,
        {"EE": "tk", "FI": "kpl", "PL": "szt."},
        "150.00",
    ),
    (
        "AUDIT",
        {"EE": "Ülevaatus", "FI": "Tilintarkastus", "PL": "Badanie sprawozdania"},
        2,
        {"EE": "tk", "FI": "kpl", "PL": "szt."},
        "900.00",
    ),
    (
        "ARHIIV",
        {"EE": "Dokumentide arhiveerimine", "FI": "Arkistointi", "PL": "Archiwizacja dokumentów"},
        2,
        {"EE": "kuu", "FI": "kk", "PL": "mies."},
        "15.00",
    ),
    (
        "PAB-A4",
        {
            "EE": "Paber A4 (500 lehte)",
            "FI": "Kopiopaperi A4 (500 arkkia)",
            "PL": "Papier A4 (500 arkuszy)",
        },
        1,
        {"EE": "pk", "FI": "pkt", "PL": "ryza"},
        "6.90",
    ),
    (
        "KAUST",
        {"EE": "Dokumendikaust", "FI": "Mappi", "PL": "Segregator"},
        1,
        {"EE": "tk", "FI": "kpl", "PL": "szt."},
        "3.20",
    ),
    (
        "TARK",
        {
            "EE": "Raamatupidamistarkvara litsents",
            "FI": "Ohjelmistolisenssi",
            "PL": "Licencja oprogramowania",
        },
        3,
        {"EE": "tk", "FI": "kpl", "PL": "szt."},
        "39.00",
    ),
    (
        "KOOL",
        {"EE": "Koolitus", "FI": "Koulutus", "PL": "Szkolenie"},
        2,
        {"EE": "h", "FI": "h", "PL": "godz."},
        "80.00",
    ),
    (
        "KULU",
        {"EE": "Kulude edasimüük", "FI": "Kulujen edelleenlaskutus", "PL": "Refaktura kosztów"},
        3,
        {"EE": "tk", "FI": "kpl", "PL": "szt."},
        "0.00",
    ),
]
_VENDORS = {
    "EE": [
        "Telia Eesti AS",
        "Elektrilevi OÜ",
        "Rimi Eesti Food AS",
        "Circle K Eesti AS",
        "Swedbank AS",
        "Kontorikaubad OÜ",
        "Tallinna Vesi AS",
        "Büroomööbel OÜ",
    ],
    "FI": [
        "Elisa Oyj",
        "Helen Oy",
        "Kesko Oyj",
        "Neste Markkinointi Oy",
        "Nordea Bank Oyj",
        "Toimistotarvike Oy",
        "Lähivakuutus Oy",
    ],
    "PL": [
        "Orange Polska S.A.",
        "PGE Obrót S.A.",
        "Biedronka sp. z o.o.",
        "Orlen S.A.",
        "PKO Bank Polski S.A.",
        "Biuro-Serwis sp. z o.o.",
        "Żabka Polska sp. z o.o.",
    ],
}
_BANKS = {
    "EE": [("Swedbank", "EE382200221020145685"), ("SEB", "EE921010220034567011")],
    "FI": [("Nordea", "FI2112345600000785"), ("OP", "FI5542345670000081")],
    "PL": [("PKO BP", "PL61109010140000071219812874"), ("mBank", "PL27114020040000300201355387")],
}


# ------------------------------------------------------------------ generators
def taxes(rng: random.Random, country: Country) -> list[Row]:
    """The country's VAT codes as ``gettaxes`` rows (GUIDs per company)."""
    rows: list[Row] = []
    for tax in country.taxes:
        rows.append(
            {
                "Id": guid(rng),
                "Code": tax.code,
                "Name": tax.name,
                "NameEN": tax.name_en,
                "NameRU": tax.name_ru,
                "TaxPct": tax.pct,
                "NonActive": tax.non_active,
                "TaxType": tax.tax_type,
                "_from": tax.default_from,
                "_to": tax.default_to,
            }
        )
    return rows


def default_tax(tax_rows: list[Row], on: date) -> Row:
    """The standard sales rate in force on ``on`` (Estonia 20/22/24 %, Finland 24/25.5 %, ...)."""
    for row in tax_rows:
        start, end = row["_from"], row["_to"]
        if (start or end) and (start is None or start <= on) and (end is None or on <= end):
            return row
    return tax_rows[0]


def item_row(
    rng: random.Random,
    country: Country,
    code: str,
    name: str,
    type_code: int,
    unit: str,
    price: Decimal,
    tax_name: str,
) -> Row:
    """A ``getitems`` row; ``Type``/``Usage`` are localised strings, as in Merit's answers."""
    stock = type_code == 1
    quantities = (
        {"1": Decimal(rng.randrange(5, 200)), "2": Decimal(rng.randrange(0, 40))} if stock else {}
    )
    cost = money(price * Decimal("0.6")) if type_code != 2 else Decimal(0)
    accounts = country.accounts
    return {
        "ItemId": guid(rng),
        "Code": code,
        "Name": name,
        "UnitofMeasureName": unit,
        "Type": country.item_type_names[type_code],
        "SalesPrice": price,
        "InventoryQty": quantities.get("1", Decimal(0)),
        "ReservedQty": Decimal(0),
        "VatTaxName": tax_name,
        "Usage": country.usage_name,
        "SalesAccountCode": accounts["revenue"],
        "PurchaseAccountCode": accounts["cost"],
        "InventoryAccountCode": "1410" if stock else None,
        "ItemCostAccountCode": accounts["cost"] if stock else None,
        "DiscountPct": Decimal(0),
        "LastPurchasePrice": cost,
        "ItemUnitCost": cost,
        "InventoryCost": money(cost * quantities.get("1", Decimal(0))),
        "ItemGroupName": "Kaubad" if stock else None,
        "DefLoc_Name": "Põhiladu"
        if stock and country.code == "EE"
        else ("Varasto" if stock and country.code == "FI" else ("Magazyn" if stock else None)),
        "EANCode": _complete(rng, "47", 13, _ean_valid) if stock else None,
        "TypeCode": type_code,
        "UsageCode": 1,
        # Polish JPK GTU codes: GTU_12 covers accounting and advisory services.
        "GTUCodes": ("GTU_12" if type_code == 2 else None) if country.code == "PL" else None,
        "_quantities": quantities,
    }


def _ean_valid(code: str) -> bool:
    digits = [int(c) for c in code]
    return (
        sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:-1])) % 10
        == (10 - digits[-1]) % 10
    )


def items(rng: random.Random, country: Country, tax_rows: list[Row], today: date) -> list[Row]:
    """The firm's products: accounting services, a few stock items and one plain item."""
    tax_name = default_tax(tax_rows, today)["Name"]
    return [
        item_row(
            rng,
            country,
            code,
            names[country.code],
            kind,
            units[country.code],
            Decimal(price),
            tax_name,
        )
        for code, names, kind, units, price in _ITEMS
    ]


def customer_row(rng: random.Random, country: Country, index: int, changed: datetime) -> Row:
    """One generated customer of the firm: mostly companies, some private persons (``NotTDCustomer``)."""
    code = country.code
    stems, trades, people, cities, streets, forms = _NAMES[code]
    city, county, postal_prefix = rng.choice(cities)
    person = index % 9 == 4
    if person:
        name = f"{rng.choice(people[0])} {rng.choice(people[1])}"
        reg_no, vat_no = "", ""
    else:
        form = rng.choice(forms)
        name = f"{stems[index % len(stems)]} {trades[(index // len(stems)) % len(trades)]}"
        name = f"{name} {form}"
        if index >= len(stems) * len(trades):
            name = f"{name} {index // (len(stems) * len(trades)) + 1}"
        first = "8" if code == "EE" and form == "MTÜ" else "1"
        reg_no = registry_number(rng, code, first)
        vat_no = vat_number(rng, code, reg_no) if rng.random() < 0.7 else ""
    slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:20] or "klient"
    postal = postal_prefix + "".join(str(rng.randrange(10)) for _ in range(5 - len(postal_prefix)))
    if code == "PL":
        postal = f"{postal[:2]}-{postal[2:]}0"[:6]
    comments = []
    if rng.random() < 0.15:
        comments.append(
            {
                "Comment": "Maksab tavaliselt hilinemisega" if code == "EE" else "Note",
                "CommDate": iso(changed - timedelta(days=rng.randrange(1, 300))),
            }
        )
    return {
        "CustomerId": guid(rng),
        "Name": name,
        "RegNo": reg_no,
        "Contact": "" if person else f"{rng.choice(people[0])} {rng.choice(people[1])}",
        "PhoneNo": _PHONES[code].format(rng.randrange(1_000_000, 9_999_999)),
        "PhoneNo2": "",
        "Address": f"{rng.choice(streets)} {rng.randrange(1, 120)}",
        "City": city,
        "County": county,
        "PostalCode": postal,
        "CountryCode": code,
        "CountryName": country.country_name,
        "FaxNo": "",
        "Email": f"info@{slug}.example" if rng.random() < 0.9 else "",
        "HomePage": "" if person or rng.random() < 0.6 else f"https://{slug}.example",
        "PaymentDeadLine": rng.choice([7, 14, 14, 21, 30]),
        "OverdueCharge": Decimal("0.05") if rng.random() < 0.3 else Decimal(0),
        "CurrencyCode": country.currency,
        "CustomerGroupName": rng.choice(["Püsikliendid", None, None]) if code == "EE" else None,
        "VatRegNo": vat_no,
        "BankName": "",
        "BankAccount": "",
        "NotTDCustomer": person,
        "SalesInvLang": country.language,
        "RefNoBase": 1,
        "Dimensions": [],
        "_comments": comments,
        "_changed": changed,
    }


def customers(rng: random.Random, country: Country, count: int, today: date) -> list[Row]:
    """``count`` customers with last-changed times spread over the two years before ``today``."""
    start = datetime(today.year, today.month, today.day) - timedelta(days=730)
    rows = []
    for index in range(count):
        changed = start + timedelta(seconds=rng.randrange(0, 730 * 86400))
        rows.append(customer_row(rng, country, index, changed))
    return rows


def vendors(rng: random.Random, country: Country) -> list[Row]:
    """The firm's suppliers (used by purchase invoices and vendor payments)."""
    rows = []
    for name in _VENDORS[country.code]:
        reg_no = registry_number(rng, country.code)
        rows.append(
            {
                "VendorId": guid(rng),
                "Name": name,
                "RegNo": reg_no,
                "VatRegNo": vat_number(rng, country.code, reg_no),
            }
        )
    return rows


def banks(rng: random.Random, country: Country) -> list[Row]:
    """``getbanks`` rows."""
    return [
        {
            "BankId": guid(rng),
            "Name": name,
            "IBANCode": iban,
            "Description": f"{name} {country.currency}",
            "CurrencyCode": country.currency,
        }
        for name, iban in _BANKS[country.code]
    ]
