"""The bookkeeping a client company's monthly work statistics are counted from (fact sheet 6.7).

`seed.py` generates each demo client's sales, purchases, bank fees and monthly bank statement;
`add_bookkeeping` adds, per company and month and as deterministically, what the statistics
need besides, in the shapes of the fact sheet:

* the voucher types "Reiseregning" and "Ansattutlegg" (ids of the company's own, like all its
  types: resolve them by name);
* a payroll voucher ("Lønnsbilag", postings of type `WAGE`) per month, travel expense reports
  ("Reiseregning", with a system-generated VAT posting in row 0), employee outlays, manual
  journal entries without a voucher type (`voucherType: null`), unposted vouchers (`number`
  0, `tempNumber` N, `numberAsString` "<Ikke bokført N>");
* EHF supplier invoices (`ediDocument` + `attachment`, `document` null) whose `/supplierInvoice`
  rows have **negative** amounts and a positive `outstandingAmount`, and supplier invoices booked
  as plain vouchers only (no `/supplierInvoice` row);
* credit notes in `/invoice` (`isCreditNote`, `creditedInvoice`; the original `isCredited`);
* for every client but the first, statements of the tax-withholding account 1950 running from
  the 15th to the 14th, so each starts before its month and has transactions on both sides of
  the month boundary;
* for the second client, more than 1,000 extra vouchers (cash-register sales) in the last full
  month, so a month takes several pages of vouchers and postings.

`ROUTES` adds `GET /ledger/voucher/>nonPosted`; `CONTROL_ROUTES` adds `GET
/_sandbox/statistics?company=<id>&period=YYYY-MM`, the true count of every statistic of a
client-month, computed here from the stored rows, independently of uku's adapter, so tests can
compare what uku imports with the truth.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from .endpoints import Call, Reply, add_voucher, list_reply
from .fields import bool_param, date_range, require
from .store import ControlError, Row, Store

if TYPE_CHECKING:
    from .app import Route

EXTRA_VOUCHER_TYPES = ("Reiseregning", "Ansattutlegg")
#: The client (index into ``seed.CLIENTS``) with more than 1,000 vouchers in its last full month.
BUSY_CLIENT = 1
BUSY_MONTH_VOUCHERS = 1_150
TRAVEL_TEXTS = ["Kundebesøk Bergen", "Messe Lillestrøm", "Befaring Trondheim", "Kurs Oslo"]
OUTLAY_TEXTS = ["Kontorrekvisita", "Parkering", "Bevertning kunde", "Drivstoff"]
MANUAL_TEXTS = ["Avskrivning driftsmidler", "Periodisering forsikring", "Korrigering bilag"]


def add_bookkeeping(
    store: Store, company: int, index: int, months: list[tuple[date, date]], today: date
) -> None:
    """Add the statistics' bookkeeping (see the module docstring) to client ``company``, the
    demo's client number ``index``, for ``months`` (first day, last day ≤ today)."""
    for name in EXTRA_VOUCHER_TYPES:
        if store.lookup("voucherType", company, name) is None:
            store.data.lookup[("voucherType", company, name)] = store.insert(
                "voucherType", company, {"name": name}
            )["id"]
    org = (store.get("company", company) or {})["organizationNumber"]
    staff = [row["id"] for row in store.company_rows("employee", company)]
    suppliers = store.company_rows("supplier", company)
    withheld: dict[tuple[int, int], list[tuple[date, str, float, int]]] = {}
    unposted = 0
    for first, last in months:
        rng = random.Random(f"{org}-{first:%Y-%m}-bookkeeping")
        span = (last - first).days + 1

        def day() -> date:
            return first + timedelta(days=rng.randrange(span))  # noqa: B023 - used at once

        if last.day >= 25:  # payroll runs on the 25th
            gross = round(rng.uniform(40_000, 160_000), 2)
            tax = round(gross * 0.32, 2)
            payday = first.replace(day=25)
            voucher = add_voucher(
                store,
                company,
                payday,
                "Lønnsbilag",
                f"Lønn {first:%m.%Y}",
                [
                    (5000, gross, {"type": "WAGE", "employee": staff[0] if staff else None}),
                    (1920, -round(gross - tax, 2), {"type": "WAGE"}),
                    (1950, -tax, {"type": "WAGE"}),
                ],
            )
            withheld.setdefault((payday.year, payday.month), []).append(
                (payday, f"Skattetrekk {first:%m.%Y}", tax, voucher["id"])
            )
        for _ in range(rng.randint(0, 3)):
            _travel_expense(store, company, day(), rng, staff)
        for _ in range(rng.randint(0, 2)):
            amount = round(rng.uniform(80, 2500), 2)
            add_voucher(
                store,
                company,
                day(),
                "Ansattutlegg",
                rng.choice(OUTLAY_TEXTS),
                [(6800, amount, {"employee": staff[-1] if staff else None}), (1920, -amount, {})],
                {"attachment": _document(store, company, rng, "kvittering", "image/jpeg")},
            )
        for _ in range(rng.randint(1, 3)):
            amount = round(rng.uniform(1000, 25000), 2)
            extra = (
                {"document": _document(store, company, rng, "bilag", "application/pdf")}
                if rng.random() < 0.4
                else {}
            )
            voucher = add_voucher(
                store,
                company,
                day(),
                "",  # no voucher type: a journal entry made by hand
                rng.choice(MANUAL_TEXTS),
                [(6800, amount, {}), (1920, -amount, {})],
                extra,
            )
            voucher["voucherType"] = None
        for _ in range(rng.randint(0, 2)):
            unposted += 1
            _unposted(store, company, day(), unposted, rng)
        for _ in range(rng.randint(0, 2)):
            if suppliers:
                _ehf_supplier_invoice(store, company, day(), rng.choice(suppliers), rng, today)
        for _ in range(rng.randint(0, 2)):
            if suppliers:
                _plain_supplier_voucher(store, company, day(), rng.choice(suppliers), rng)
        _credit_notes(store, company, first, last, rng)
    if index != 0:
        _withholding_statements(store, company, months, withheld, random.Random(f"{org}-1950"))
    if index == BUSY_CLIENT and len(months) >= 2:
        _busy_month(store, company, *months[-2], random.Random(f"{org}-busy"))


def _document(store: Store, company: int, rng: random.Random, stem: str, mime: str) -> int:
    extension = "pdf" if mime == "application/pdf" else "xml" if "xml" in mime else "jpg"
    return store.insert(
        "document",
        company,
        {
            "fileName": f"{stem}_{rng.randint(1, 99999)}.{extension}",
            "size": rng.randint(10_000, 900_000),
            "mimeType": mime,
        },
    )["id"]


def _travel_expense(
    store: Store, company: int, on: date, rng: random.Random, staff: list[int]
) -> None:
    excl = round(rng.uniform(300, 6000), 2)
    vat = round(excl * 0.12, 2)
    voucher = add_voucher(
        store,
        company,
        on,
        "Reiseregning",
        f"Reiseregning {rng.choice(TRAVEL_TEXTS)}",
        [
            (6800, excl, {"employee": staff[-1] if staff else None}),
            (1920, -round(excl + vat, 2), {}),
        ],
        {"attachment": _document(store, company, rng, "reiseregning", "application/pdf")},
    )
    # Row 0 is the system-generated VAT posting (fact sheet 6.7).
    vat_posting = store.insert(
        "posting",
        company,
        {
            "voucher": voucher["id"],
            "date": voucher["date"],
            "description": "Inngående mva",
            "account": store.lookup("account", company, 2710),
            "amount": vat,
            "amountCurrency": vat,
            "amountGross": vat,
            "amountGrossCurrency": vat,
            "currency": store.lookup("currency", "NOK"),
            "row": 0,
            "systemGenerated": True,
            "type": None,
        },
    )
    voucher["postings"] = [vat_posting["id"], *voucher["postings"]]


def _unposted(store: Store, company: int, on: date, temp: int, rng: random.Random) -> None:
    """A voucher registered but not posted yet: no number, a temporary one, no postings."""
    store.insert(
        "voucher",
        company,
        {
            "date": on.isoformat(),
            "number": 0,
            "tempNumber": temp,
            "numberAsString": f"<Ikke bokført {temp}>",
            "year": on.year,
            "description": "Ikke bokført bilag",
            "voucherType": store.lookup("voucherType", company, "Leverandørfaktura"),
            "displayName": f"<Ikke bokført {temp}>",
            "attachment": _document(store, company, rng, "innkommende", "application/pdf"),
            "postings": [],
            "_posted": False,
        },
        at=f"{on.isoformat()}T09:00:00",
    )


def _ehf_supplier_invoice(
    store: Store, company: int, on: date, supplier: Row, rng: random.Random, today: date
) -> None:
    """An imported EHF invoice: `ediDocument` + `attachment`, `document` null, and its
    `/supplierInvoice` row with negative amounts and a positive outstanding amount."""
    excl = round(rng.uniform(500, 30000), 2)
    incl = round(excl * 1.25, 2)
    number = str(rng.randint(100000, 999999))
    voucher = add_voucher(
        store,
        company,
        on,
        "Leverandørfaktura",
        f"{supplier['name']} EHF {number}",
        [
            (2400, -incl, {"supplier": supplier["id"], "invoiceNumber": number}),
            (6300, excl, {"vatType": store.lookup("vatType", company, "1")}),
            (2710, round(incl - excl, 2), {}),
        ],
        {
            "ediDocument": _document(store, company, rng, "ehf", "application/xml"),
            "attachment": _document(store, company, rng, "ehf", "application/pdf"),
            "document": None,
            "vendorInvoiceNumber": number,
            "supplierVoucherType": None,
        },
    )
    due = on + timedelta(days=30)
    store.insert(
        "supplierInvoice",
        company,
        {
            "invoiceNumber": number,
            "invoiceDate": on.isoformat(),
            "invoiceDueDate": due.isoformat(),
            "supplier": supplier["id"],
            "voucher": voucher["id"],
            "amount": -incl,
            "amountCurrency": -incl,
            "amountExcludingVat": -excl,
            "amountExcludingVatCurrency": -excl,
            "currency": store.lookup("currency", "NOK"),
            "kidOrReceiverReference": number,
            "outstandingAmount": incl if due > today else 0.0,
        },
    )


def _plain_supplier_voucher(
    store: Store, company: int, on: date, supplier: Row, rng: random.Random
) -> None:
    """A supplier invoice booked as a plain voucher: it never shows in `/supplierInvoice`."""
    amount = round(rng.uniform(200, 8000), 2)
    add_voucher(
        store,
        company,
        on,
        "Leverandørfaktura",
        f"{supplier['name']} (manuelt bokført)",
        [(2400, -amount, {"supplier": supplier["id"]}), (6900, amount, {})],
    )


def _credit_notes(store: Store, company: int, first: date, last: date, rng: random.Random) -> None:
    """Credit about one invoice in eight of the month, on a day of the same month."""
    month = [
        row
        for row in store.company_rows("invoice", company)
        if first.isoformat() <= row["invoiceDate"] <= last.isoformat()
        and not row.get("isCreditNote")
    ]
    for original in month:
        if rng.random() >= 0.125:
            continue
        on = date.fromisoformat(original["invoiceDate"]) + timedelta(days=rng.randint(0, 5))
        on = min(on, last)
        excl, incl = original["amountExcludingVat"], original["amount"]
        number = store.next_number("invoice", company)
        voucher = add_voucher(
            store,
            company,
            on,
            "Utgående faktura",
            f"Kreditnota {number} for faktura {original['invoiceNumber']}",
            [(1500, -incl, {"customer": original["customer"]}), (3000, excl, {})],
        )
        original["isCredited"] = True
        store.insert(
            "invoice",
            company,
            {
                "invoiceNumber": number,
                "invoiceDate": on.isoformat(),
                "deliveryDate": on.isoformat(),
                "invoiceDueDate": on.isoformat(),
                "customer": original["customer"],
                "voucher": voucher["id"],
                "kid": "",
                "currency": original.get("currency"),
                "amount": -incl,
                "amountCurrency": -incl,
                "amountExcludingVat": -excl,
                "amountExcludingVatCurrency": -excl,
                "amountOutstanding": 0.0,
                "amountCurrencyOutstanding": 0.0,
                "amountOutstandingTotal": 0.0,
                "amountCurrencyOutstandingTotal": 0.0,
                "isCreditNote": True,
                "creditedInvoice": original["id"],
                "postings": voucher["postings"][:1],
            },
            at=f"{on}T11:00:00",
        )


def _withholding_statements(
    store: Store,
    company: int,
    months: list[tuple[date, date]],
    withheld: dict[tuple[int, int], list[tuple[date, str, float, int]]],
    rng: random.Random,
) -> None:
    """Statements of account 1950 from the 15th to the 14th of the next month: the 25th's
    withholding comes in, the tax office's draw goes out on the 10th and interest on the 1st."""
    account = store.lookup("account", company, 1950)
    bank = store.lookup("bank", "DNB")
    balance = round(rng.uniform(10_000, 90_000), 2)
    today = months[-1][1]
    for first, _last in months:
        start = first.replace(day=15)
        end = (start + timedelta(days=31)).replace(day=14)
        if start > today:
            break
        moves = [m for m in withheld.get((first.year, first.month), ())]
        following = end.replace(day=1)
        moves.append((following, "Renter", round(rng.uniform(5, 90), 2), 0))
        moves.append((following.replace(day=10), "Skattetrekk til skatteetaten", -balance / 2, 0))
        moves = sorted((m for m in moves if m[0] <= min(end, today)), key=lambda m: m[0])
        closing = round(balance + sum(m[2] for m in moves), 2)
        statement = store.insert(
            "bankStatement",
            company,
            {
                "fromDate": start.isoformat(),
                "toDate": min(end, today).isoformat() if end > today else end.isoformat(),
                "fileName": f"DNB_1950_{start:%Y-%m-%d}.csv",
                "openingBalanceCurrency": balance,
                "closingBalanceCurrency": closing,
                "bank": bank,
                "account": account,
            },
        )
        statement["transactions"] = [
            store.insert(
                "bankTransaction",
                company,
                {
                    "postedDate": on.isoformat(),
                    "description": text,
                    "amountCurrency": round(amount, 2),
                    "bankStatement": statement["id"],
                    "account": account,
                    "sourceVoucher": voucher or None,
                },
            )["id"]
            for on, text, amount, voucher in moves
        ]
        balance = closing


def _busy_month(store: Store, company: int, first: date, last: date, rng: random.Random) -> None:
    """More than 1,000 cash-register sales in one month (a shop that books every receipt)."""
    span = (last - first).days + 1
    for number in range(BUSY_MONTH_VOUCHERS):
        on = first + timedelta(days=number * span // BUSY_MONTH_VOUCHERS)
        amount = round(rng.uniform(50, 900), 2)
        extra = (
            {"attachment": _document(store, company, rng, "kassekvittering", "image/jpeg")}
            if number % 3 == 0
            else {}
        )
        add_voucher(
            store,
            company,
            on,
            "Utgående faktura",
            f"Kassesalg {on:%d.%m} #{number + 1}",
            [(1920, amount, {}), (3000, -amount, {})],
            extra,
        )


# --- The endpoint ------------------------------------------------------------------------------


def non_posted(call: Call) -> Reply:
    """``GET /ledger/voucher/>nonPosted``: vouchers not posted yet (``includeNonApproved``
    required as in the spec; ``dateFrom``/``dateTo`` optional, half-open)."""
    require(call.query, "includeNonApproved")
    bool_param(call.query, "includeNonApproved")
    in_range = date_range("dateFrom", "dateTo", "date")(call.query)
    rows = [
        row
        for row in call.store.company_rows("voucher", call.company)
        if row.get("_posted") is False and (in_range is None or in_range(row))
    ]
    return list_reply(call, "voucher", rows)


# --- The truth ---------------------------------------------------------------------------------


def true_statistics(store: Store, company: int, period: str) -> dict[str, Any]:
    """The true count of every Tripletex statistic of ``company`` in month ``period``
    ("YYYY-MM"), straight from the stored rows (no paging, no filters of the API)."""
    try:
        first = date.fromisoformat(f"{period}-01")
    except (TypeError, ValueError):
        raise ControlError("period must be YYYY-MM") from None
    if store.get("company", company) is None:
        raise ControlError(f"no company {company}", status=404)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)

    def inside(value: Any) -> bool:
        return bool(value) and first <= date.fromisoformat(str(value)[:10]) < following

    with store.lock:
        names = {row["id"]: row["name"] for row in store.company_rows("voucherType", company)}
        vouchers = [v for v in store.company_rows("voucher", company) if inside(v.get("date"))]
        invoices = [
            i for i in store.company_rows("invoice", company) if inside(i.get("invoiceDate"))
        ]

        def typed(name: str) -> int:
            return sum(1 for v in vouchers if names.get(v.get("voucherType")) == name)

        truth = {
            "sale_entries": typed("Utgående faktura"),
            "purchase_entries": typed("Leverandørfaktura"),
            "bank_transactions": sum(
                1
                for t in store.company_rows("bankTransaction", company)
                if inside(t.get("postedDate"))
            ),
            "documents": sum(
                1
                for v in vouchers
                if v.get("document") or v.get("attachment") or v.get("ediDocument")
            ),
            "outgoing_invoices": sum(1 for i in invoices if not i.get("isCreditNote")),
            "credit_notes": sum(1 for i in invoices if i.get("isCreditNote")),
            "supplier_invoices": sum(
                1
                for s in store.company_rows("supplierInvoice", company)
                if inside(s.get("invoiceDate"))
            ),
            "payroll_vouchers": typed("Lønnsbilag"),
            "manual_journal_entries": sum(1 for v in vouchers if v.get("voucherType") is None),
            "travel_expenses": typed("Reiseregning"),
            "employee_expenses": typed("Ansattutlegg"),
            "postings": sum(
                1 for p in store.company_rows("posting", company) if inside(p.get("date"))
            ),
            "all_vouchers": len(vouchers),
        }
    return {"company_id": company, "period": period, "statistics": truth}


def _statistics(store: Store, data: dict[str, Any]) -> Reply:
    try:
        company = int(data.get("company") or 0)
    except (TypeError, ValueError):
        raise ControlError("company must be a company id") from None
    return Reply(200, true_statistics(store, company, str(data.get("period") or "")))


def routes() -> tuple[list[Route], list[Route]]:
    """(API routes, control routes) this module adds to the sandbox's router."""
    from .app import Route

    return (
        [Route("GET", "/ledger/voucher/>nonPosted", non_posted)],
        [Route("GET", "/statistics", _statistics)],
    )
