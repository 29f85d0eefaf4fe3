"""Invoices out to Tripletex and their status back (the adapter's invoice methods).

uku exports an issued invoice as ONE order with its lines embedded (`POST /order`, fact sheet
6.5); people in Tripletex turn it into an invoice (`:invoice`), which gets paid, reminded or
credited. The status is read back from `GET /invoice` lists (6.6), which have no order filter:
invoices are matched to orders through `orders(id)`, or the invoice id a previous read kept.

Exactly once: Tripletex has no idempotency key (7), so the order carries uku's invoice number
in `reference` and `find_orders_by_reference` looks it up (a date range, the customer and
local matching: `reference` has no list filter) before anything is created again after an
unknown outcome. Nothing here ever resends a write after an ambiguous failure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from integrations.base import (
    ConfigError,
    ExpiringCache,
    ExportedInvoice,
    ExportedRef,
    InvoiceLineOut,
    InvoiceOut,
    RemoteInvoiceStatus,
    TransientError,
)
from integrations.tripletex.client import OSLO, TripletexClient
from integrations.tripletex.errors import TripletexForbidden, TripletexRequestError, say

logger = logging.getLogger(__name__)

# Tripletex's default `count`; no maximum is published and 23000 "Result Set Too Large"
# exists, so lists are read in pages of this size (as every other Tripletex list in uku).
PAGE_SIZE = 1000
VAT_TYPE_FIELDS = "id,number,percentage"
BANK_ACCOUNT_NUMBER = 1920
BANK_ACCOUNT_FIELDS = "id,number,bankAccountNumber"
ORDER_MATCH_FIELDS = "id,number,reference"
ORDER_ID_FIELDS = "id"
INVOICE_STATUS_FIELDS = (
    "id,invoiceNumber,amountOutstanding,isCredited,isCreditNote,creditedInvoice,orders(id)"
)
# The order's date is the invoice's issue date; people may move it a little in Tripletex, so
# the reference search looks this far either side (one list call either way).
ORDER_SEARCH_MARGIN = timedelta(days=31)
# An invoice may be dated a little before its order (back-dated when invoicing): read that far
# back. Invoices dated after today (Oslo) are read once their date has come.
INVOICE_BACKDATE_MARGIN = timedelta(days=7)
# Kept invoice ids looked up by id per call (a query string stays short).
IDS_PER_CALL = 100
# The widest invoice date range Tripletex needs when looking up kept ids (the filter is
# required, but those ids may be dated anywhere).
EARLIEST_INVOICE_DATE, LATEST_INVOICE_DATE = date(2000, 1, 1), date(2100, 1, 1)
FIX_LINK, FIX_VAT_TYPE, FIX_BANK_ACCOUNT = "link", "vat_type", "bank_account"
FIX_VAT_REGISTRATION, FIX_VALIDATION = "vat_registration", "validation"
CURRENCY = "NOK"


@dataclass
class ExportCache:
    """What the exports of one credential have learnt (kept per process, see `export_cache`):
    the company's usable output VAT types per date, and whether its bank account number is
    set. Never shared between credentials."""

    vat_types: dict[date, dict[str, dict[str, Any]]] = field(default_factory=dict)
    bank_account_ok: bool = False


# One batch of exports (one task and adapter per invoice) lists the VAT types and checks the
# bank account once per credential and few minutes, not once per invoice. A VAT code the
# cached table lacks is looked up again once before the export is refused.
EXPORT_LOOKUP_SECONDS = 600.0
_export_caches: ExpiringCache[ExportCache] = ExpiringCache(EXPORT_LOOKUP_SECONDS)


def export_cache(client: TripletexClient) -> ExportCache:
    """The lookups this process keeps for the client's credential (see `ExportCache`)."""
    return _export_caches.get(client.credential_key, ExportCache)


def oslo_today() -> date:
    """Today in Europe/Oslo, the calendar every Tripletex date is in (not the server's UTC)."""
    return datetime.now(OSLO).date()


# --- Export ----------------------------------------------------------------------------------


def export_invoice(
    client: TripletexClient, cache: ExportCache, invoice: InvoiceOut
) -> ExportedInvoice:
    """One `POST /order` with the lines embedded; see `AccountingAdapter.export_invoice`.

    Before it, and at most once per credential and date every `EXPORT_LOOKUP_SECONDS`: `GET /ledger/vatType?typeOfVat=OUTGOING
    &vatDate=` (the output codes the company may use that day, resolved by number, fact sheet
    6.3) and `GET /ledger/account?number=1920` (no invoice without a bank account number,
    6.5), so a refusal a clerk can fix is said before anything is written. A contact employee
    Tripletex refuses (unknown, deactivated) is left out with a warning: the refusal is a
    definite 422, so sending again without it cannot make a second order."""
    if (invoice.currency or CURRENCY).upper() != CURRENCY:
        raise ConfigError(
            say("export_currency", currency=invoice.currency[:3]),
            details={"fix": FIX_VALIDATION},
        )
    if not invoice.lines:
        raise ConfigError(say("export_no_lines"), details={"fix": FIX_VALIDATION})
    customer_id = _tripletex_id(invoice.customer_id)
    if customer_id is None:
        raise ConfigError(say("export_customer_unknown"), details={"fix": FIX_LINK})
    cached = invoice.issue_date in cache.vat_types
    vat_types = _vat_types(client, cache, invoice.issue_date)
    try:
        lines = [_order_line(line, vat_types, invoice.issue_date) for line in invoice.lines]
    except ConfigError:
        if not cached:
            raise
        # The table may be older than a VAT type added in Tripletex since: look once more.
        cache.vat_types.pop(invoice.issue_date, None)
        vat_types = _vat_types(client, cache, invoice.issue_date)
        lines = [_order_line(line, vat_types, invoice.issue_date) for line in invoice.lines]
    _check_bank_account(client, cache)

    warnings: list[str] = []
    employee_id = _tripletex_id(invoice.contact_employee_id)
    if not invoice.contact_employee_id.strip():
        warnings.append(say("contact_employee_blank"))
    elif employee_id is None:
        warnings.append(say("contact_employee_unknown", id=invoice.contact_employee_id[:20]))
    body = _order_body(invoice, customer_id, lines, employee_id)
    try:
        order = _post_order(client, body)
    except TripletexRequestError as exc:
        if employee_id is None or not _names_field(exc, "ourContactEmployee"):
            raise _export_refusal(exc) from None
        warnings.append(say("contact_employee_unknown", id=str(employee_id)))
        body.pop("ourContactEmployee")
        try:
            order = _post_order(client, body)
        except TripletexRequestError as again:
            raise _export_refusal(again) from None
    order_id = order.get("id") if isinstance(order, dict) else None
    if not isinstance(order_id, int):
        # Created or not, uku cannot tell: the caller must look before creating again.
        raise TransientError(
            say("export_unreadable_answer"),
            details={"outcome": "unknown", "write": True, "method": "POST", "path": "/order"},
        )
    return ExportedInvoice(
        remote_id=str(order_id),
        remote_number=str(order.get("number") or ""),
        warnings=tuple(warnings),
    )


def _post_order(client: TripletexClient, body: dict[str, Any]) -> Any:
    """`POST /order`; an ambiguous failure (the order may exist) is marked `outcome=unknown`."""
    try:
        return client.post("/order", body)
    except TransientError as exc:
        if exc.details.get("write"):
            exc.details["outcome"] = "unknown"
        raise


def _order_body(
    invoice: InvoiceOut,
    customer_id: int,
    lines: list[dict[str, Any]],
    employee_id: int | None,
) -> dict[str, Any]:
    """The order as Tripletex takes it: only fields of `Order` (an unknown one is 422/16000)."""
    body: dict[str, Any] = {
        "customer": {"id": customer_id},
        "orderDate": invoice.issue_date.isoformat(),
        "deliveryDate": invoice.issue_date.isoformat(),
        # The only free-text reference on an order (fact sheet 6.5, 7): what makes it findable.
        "reference": invoice.reference,
        # Prices are sent excluding VAT, so the order must not prioritise amounts including it.
        "isPrioritizeAmountsIncludingVat": False,
        "invoicesDueIn": max((invoice.due_date - invoice.issue_date).days, 0),
        "invoicesDueInType": "DAYS",
        "orderLines": lines,
    }
    if invoice.comment:
        body["invoiceComment"] = invoice.comment
    if employee_id is not None:
        body["ourContactEmployee"] = {"id": employee_id}
    return body


def _order_line(
    line: InvoiceLineOut, vat_types: dict[str, dict[str, Any]], day: date
) -> dict[str, Any]:
    """One embedded order line, its VAT type resolved by number among the usable codes."""
    label = (line.description or "")[:60]
    code = (line.vat_code or "").strip()
    if not code:
        raise ConfigError(say("export_vat_code_missing", line=label), details={"fix": FIX_VAT_TYPE})
    vat = vat_types.get(code)
    if vat is None:
        registered = any(_decimal(v.get("percentage")) > 0 for v in vat_types.values())
        if not registered and line.vat_percentage > 0:
            raise ConfigError(
                say("export_not_vat_registered", code=code, line=label),
                details={"fix": FIX_VAT_REGISTRATION, "vat_code": code},
            )
        raise ConfigError(
            say("export_vat_type_unknown", code=code, line=label, date=day.isoformat()),
            details={"fix": FIX_VAT_TYPE, "vat_code": code},
        )
    remote_rate = _decimal(vat.get("percentage"))
    if remote_rate != line.vat_percentage:
        # uku's totals were computed at the line's rate; Tripletex would invoice another.
        raise ConfigError(
            say(
                "export_vat_rate_differs",
                code=code,
                line=label,
                remote=_plain(remote_rate),
                local=_plain(line.vat_percentage),
            ),
            details={"fix": FIX_VAT_TYPE, "vat_code": code},
        )
    out: dict[str, Any] = {
        "description": line.description,
        "count": _number(line.quantity),
        "unitPriceExcludingVatCurrency": _number(line.unit_price),
        "vatType": {"id": vat["id"]},
        "discount": _number(line.discount_percent),
    }
    product_id = _tripletex_id(line.product_id)
    if product_id is not None:
        out["product"] = {"id": product_id}
    return out


def _vat_types(client: TripletexClient, cache: ExportCache, day: date) -> dict[str, dict[str, Any]]:
    """The output VAT types the company may use on `day`, by number (one list call, cached)."""
    if day not in cache.vat_types:
        rows = client.iter_values(
            "/ledger/vatType",
            {"typeOfVat": "OUTGOING", "vatDate": day.isoformat()},
            fields=VAT_TYPE_FIELDS,
            page_size=PAGE_SIZE,
        )
        cache.vat_types[day] = {
            str(row.get("number")): row
            for row in rows
            if isinstance(row.get("id"), int) and row.get("number") not in (None, "")
        }
    return cache.vat_types[day]


def _check_bank_account(client: TripletexClient, cache: ExportCache) -> None:
    """`ConfigError(fix="bank_account")` when ledger account 1920 has no bank account number.
    An account 1920 Tripletex does not list, or a token that may not read the ledger (403), is
    not held against the export."""
    if cache.bank_account_ok:
        return
    try:
        body = client.get_raw(
            "/ledger/account",
            {"number": BANK_ACCOUNT_NUMBER, "count": 10},
            fields=BANK_ACCOUNT_FIELDS,
        )
    except TripletexForbidden:
        # A token without access to the ledger can still create orders: the check is a
        # courtesy, not worth failing the export for.
        logger.info("Tripletex refused the bank account check (403); export goes ahead")
        cache.bank_account_ok = True
        return
    rows = [row for row in body.get("values") or [] if isinstance(row, dict)]
    if rows and not any(str(row.get("bankAccountNumber") or "").strip() for row in rows):
        raise ConfigError(say("export_bank_account_missing"), details={"fix": FIX_BANK_ACCOUNT})
    cache.bank_account_ok = True


def _export_refusal(exc: TripletexRequestError) -> ConfigError:
    """Tripletex's refusal of an order in a clerk's words, with the fix it needs. (A missing
    bank account refuses `:invoice`, never `POST /order`: `_check_bank_account` asks first.)"""
    fields = [m.get("field") or "" for m in exc.validation_messages]
    text = " ".join(
        [m.get("message") or "" for m in exc.validation_messages] + [exc.details.get("message", "")]
    ).lower()
    details = {**exc.details, "status": exc.status}
    if any(f.split(".")[0] == "customer" for f in fields):
        return ConfigError(say("export_customer_unknown"), details={**details, "fix": FIX_LINK})
    if "mva-kode" in text or any("vatType" in f for f in fields):
        reason = _reason(exc)
        return ConfigError(
            say("export_refused", reason=reason), details={**details, "fix": FIX_VAT_TYPE}
        )
    return ConfigError(
        say("export_refused", reason=_reason(exc)), details={**details, "fix": FIX_VALIDATION}
    )


def _reason(exc: TripletexRequestError) -> str:
    parts = [
        f"{m['field']}: {m['message']}" if m.get("field") else m.get("message", "")
        for m in exc.validation_messages
    ]
    return (
        "; ".join(p for p in parts if p)
        or str(exc.details.get("message") or "")
        or say("no_reason")
    )


def _names_field(exc: TripletexRequestError, name: str) -> bool:
    return exc.status == 422 and any(
        (m.get("field") or "").split(".")[0] == name for m in exc.validation_messages
    )


# --- Finding an export again -----------------------------------------------------------------


def find_exported_invoice(client: TripletexClient, invoice: InvoiceOut) -> ExportedInvoice | None:
    """The order carrying `invoice.reference` for the invoice's customer, or `None`.

    `GET /order` needs `orderDateFrom`/`orderDateTo` and cannot filter on `reference` (fact
    sheet 6.5, 7), so it lists the customer's orders around the issue date with only
    `id,number,reference` and matches locally (exactly, surrounding spaces aside). Of several
    matches (made outside uku) the oldest is the export, with a warning."""
    customer_id = _tripletex_id(invoice.customer_id)
    reference = invoice.reference.strip()
    if customer_id is None or not reference:
        return None
    matches = [
        row
        for row in client.iter_values(
            "/order",
            {
                "orderDateFrom": invoice.issue_date - ORDER_SEARCH_MARGIN,
                "orderDateTo": invoice.issue_date + ORDER_SEARCH_MARGIN + timedelta(days=1),
                "customerId": customer_id,
            },
            fields=ORDER_MATCH_FIELDS,
            page_size=PAGE_SIZE,
        )
        if isinstance(row.get("id"), int) and str(row.get("reference") or "").strip() == reference
    ]
    if not matches:
        return None
    first = min(matches, key=lambda row: row["id"])
    number = str(first.get("number") or "")
    warnings: tuple[str, ...] = ()
    if len(matches) > 1:
        warnings = (
            say("duplicate_orders", count=len(matches), reference=reference, number=number),
        )
    return ExportedInvoice(remote_id=str(first["id"]), remote_number=number, warnings=warnings)


# --- Status ----------------------------------------------------------------------------------


def invoice_statuses(
    client: TripletexClient, exported: Sequence[ExportedRef]
) -> dict[str, RemoteInvoiceStatus]:
    """Where each exported order stands; see `AccountingAdapter.invoice_statuses`.

    One paged pass over `GET /invoice` (pages of `PAGE_SIZE`, only the fields used) from a
    week before the oldest issue date to today in Europe/Oslo (inclusive: `invoiceDateTo` is
    exclusive), matching each invoice to an export by `orders(id)` or by the invoice id kept
    from an earlier read. That is at most ceil(invoices in the range / page size) + 1 calls.
    Only when something is left over: kept invoice ids not seen in the range are looked up by
    id, and orders with no invoice are checked to still exist with one pass over
    `GET /order` (`fields=id`) around their dates; an order Tripletex no longer has is left
    out of the result.

    Paid is `amountOutstanding` 0 or less (reminder fees live only in `amountOutstandingTotal`
    and do not make a paid invoice unpaid); unpaid with an outstanding amount is also partly
    paid; credited is an invoice with `isCredited` or one a credit note's `creditedInvoice`
    names. An invoice number 0 means Tripletex has not assigned one yet ("")."""
    refs = {ref.remote_id: ref for ref in exported if _tripletex_id(ref.remote_id) is not None}
    if not refs:
        return {}
    by_order = {int(remote_id): remote_id for remote_id in refs}
    by_invoice = {
        int(ref.remote_invoice_id): ref.remote_id
        for ref in refs.values()
        if _tripletex_id(ref.remote_invoice_id) is not None
    }
    start = min(ref.issue_date for ref in refs.values()) - INVOICE_BACKDATE_MARGIN
    end = max(oslo_today(), *(ref.issue_date for ref in refs.values())) + timedelta(days=1)
    found: dict[str, dict[str, Any]] = {}
    credited: set[int] = set()

    def take(rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            invoice_id = row.get("id")
            if not isinstance(invoice_id, int):
                raise _malformed()
            if row.get("isCreditNote"):
                target = row.get("creditedInvoice")
                if isinstance(target, int) and target:
                    credited.add(target)
                continue  # a credit note is no export's invoice, even if it names the order
            remote_id = by_invoice.get(invoice_id) or next(
                (
                    by_order[order["id"]]
                    for order in _list(row.get("orders"))
                    if isinstance(order, dict) and _int(order.get("id")) in by_order
                ),
                None,
            )
            if remote_id is None:
                continue
            # An order invoiced twice (credited, then invoiced again): the newest counts.
            if remote_id not in found or found[remote_id]["id"] < invoice_id:
                found[remote_id] = row

    take(
        client.iter_values(
            "/invoice",
            {"invoiceDateFrom": start, "invoiceDateTo": end},
            fields=INVOICE_STATUS_FIELDS,
            page_size=PAGE_SIZE,
        )
    )
    seen = {row["id"] for row in found.values()}
    missing = [
        invoice_id
        for invoice_id, remote_id in by_invoice.items()
        if invoice_id not in seen and remote_id not in found
    ]
    for chunk in range(0, len(missing), IDS_PER_CALL):
        take(
            client.iter_values(
                "/invoice",
                {
                    "id": missing[chunk : chunk + IDS_PER_CALL],
                    "invoiceDateFrom": EARLIEST_INVOICE_DATE,
                    "invoiceDateTo": LATEST_INVOICE_DATE,
                },
                fields=INVOICE_STATUS_FIELDS,
                page_size=PAGE_SIZE,
            )
        )
    result = {remote_id: _status(remote_id, row, credited) for remote_id, row in found.items()}
    waiting = [ref for remote_id, ref in refs.items() if remote_id not in found]
    if waiting:
        existing = _existing_orders(client, waiting)
        for ref in waiting:
            if int(ref.remote_id) in existing:
                result[ref.remote_id] = RemoteInvoiceStatus(
                    remote_id=ref.remote_id, state="not_invoiced"
                )
    return result


def _existing_orders(client: TripletexClient, refs: Sequence[ExportedRef]) -> set[int]:
    """Ids of the orders of `refs` Tripletex still has (one paged `GET /order`, ids only)."""
    wanted = {int(ref.remote_id) for ref in refs}
    rows = client.iter_values(
        "/order",
        {
            "orderDateFrom": min(ref.issue_date for ref in refs) - ORDER_SEARCH_MARGIN,
            "orderDateTo": max(ref.issue_date for ref in refs)
            + ORDER_SEARCH_MARGIN
            + timedelta(days=1),
        },
        fields=ORDER_ID_FIELDS,
        page_size=PAGE_SIZE,
    )
    return {row["id"] for row in rows if _int(row.get("id")) in wanted}


def _status(remote_id: str, row: dict[str, Any], credited: set[int]) -> RemoteInvoiceStatus:
    number = row.get("invoiceNumber")
    outstanding = _money(row.get("amountOutstanding"))
    state: Literal["unpaid", "paid", "credited"]
    if row.get("isCredited") or row["id"] in credited:
        state = "credited"
    elif outstanding <= 0:
        state = "paid"
    else:
        state = "unpaid"
    return RemoteInvoiceStatus(
        remote_id=remote_id,
        state=state,
        invoice_id=str(row["id"]),
        invoice_number=str(number) if isinstance(number, int) and number > 0 else "",
        outstanding=outstanding,
    )


# --- Helpers ---------------------------------------------------------------------------------


def _tripletex_id(value: str | int | None) -> int | None:
    """A Tripletex id (a positive number) from text, else `None`."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _int(value: Any) -> int | None:
    """A JSON integer, else `None` (an id of another type matches nothing, never crashes)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _list(value: Any) -> list[Any]:
    """A JSON array, else empty (`orders` of another type names no order)."""
    return value if isinstance(value, list) else []


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _money(value: Any) -> Decimal:
    """A Tripletex amount (a JSON number) as Decimal with 2 decimals. A missing or unreadable
    amount is a malformed answer, not 0 (which would read as paid)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _malformed()
    try:
        amount = Decimal(str(value))
        if not amount.is_finite():  # NaN would pass quantize and fail the first comparison
            raise _malformed()
        return amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        raise _malformed() from None


def _malformed() -> TransientError:
    """An invoice list uku cannot read (an id or amount missing or not a number)."""
    return TransientError(
        say("malformed") + " " + say("retry_later"),
        details={"kind": "malformed", "method": "GET", "path": "/invoice"},
    )


def _number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an int when whole, else the float with the same digits."""
    return int(value) if value == value.to_integral_value() else float(value)


def _plain(value: Decimal) -> str:
    """25.00 -> "25", 11.11 -> "11.11" (a rate as people write it)."""
    return format(value.normalize(), "f")
