"""Invoices out to Merit Aktiva and their paid status back (the adapter's invoice methods).

An issued uku invoice becomes ONE Merit sales invoice (`sendinvoice`, fact sheet §4.4) whose
`InvoiceNo` is uku's invoice number (`InvoiceOut.reference`, caller-chosen and required by
Merit): that is what `find_exported_invoice` looks for in `getinvoices` before anything is
sent again after an unknown outcome. Merit refuses an invoice whose rows do not add up to its
totals unless each row's amount and VAT is rounded to cents BEFORE summing (its FAQ: every row
is a Decimal(12.2) GL record), so the totals sent are computed here by that rule from the
lines, never taken from uku's totals.

Status comes from `getinvoices` (`Paid`, `PaidAmount` against `TotalSum`, §4.5) over
3-month windows (Merit's maximum; it has no paging). Merit's v1 lists do not link a credit
invoice to the invoice it credits, so an export counts as credited when a credit invoice
(negative `TotalSum`) of the same customer for exactly minus its total, dated on or after it,
exists; each credit invoice cancels one export at most.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

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
from integrations.merit.client import MeritClient
from integrations.merit.errors import MeritRequestError, say

CENT = Decimal("0.01")
DOC_DATE_FORMAT = "%Y%m%d%H%M%S"
INVOICE_NO_MAX = 35  # Merit's `InvoiceNo` is a Str 35 (§4.4)
# A row without an uku product from Merit still needs an item code (`Item.Code` is required):
# Merit creates this service item on first use and reuses it.
SERVICE_ITEM_CODE = "UKU"
SERVICE_ITEM_TYPE = 2  # 1 stock item, 2 service, 3 item
# The invoice's document date is the issue date uku sent; a look this far either side finds it
# in one `getinvoices` window (at most 3 months).
SEARCH_MARGIN = timedelta(days=31)
#: Each instance's calendar: "today" for the status windows is Merit's local date.
TIME_ZONES = {
    "ee": ZoneInfo("Europe/Tallinn"),
    "fi": ZoneInfo("Europe/Helsinki"),
    "pl": ZoneInfo("Europe/Warsaw"),
}
_GUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
FIX_LINK, FIX_VAT_TYPE, FIX_VALIDATION = "link", "vat_type", "validation"


@dataclass
class ExportCache:
    """What the exports of one credential learn: the tax rates and the item codes by id."""

    taxes: list[dict[str, Any]] | None = None
    item_codes: dict[str, tuple[str, int]] | None = None

    def reset(self) -> bool:
        """Forget the lookups; True when there was something to forget."""
        had = self.taxes is not None or self.item_codes is not None
        self.taxes = self.item_codes = None
        return had


# A batch of exports (one task per invoice, each with its own adapter) asks `gettaxes` and
# `getitems` once per credential and few minutes, not once per invoice. A tax or item a
# cached table lacks is looked up again once before the export is refused or warned about.
EXPORT_LOOKUP_SECONDS = 600.0
_export_caches: ExpiringCache[ExportCache] = ExpiringCache(EXPORT_LOOKUP_SECONDS)


def export_cache(client: MeritClient) -> ExportCache:
    """The lookups this process keeps for the client's credential (see `ExportCache`)."""
    return _export_caches.get(client.credential_key, ExportCache)


def merit_round(value: Decimal) -> Decimal:
    """Half up to cents, as Merit stores every GL amount."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def row_amounts(line: InvoiceLineOut) -> tuple[Decimal, Decimal]:
    """(amount without VAT, VAT) of one row by Merit's rule: each rounded to cents first."""
    amount = merit_round(line.quantity * line.unit_price * (1 - line.discount_percent / 100))
    return amount, merit_round(amount * line.vat_percentage / 100)


def local_today(country: str) -> date:
    """Today in the Merit instance's own time zone."""
    return datetime.now(TIME_ZONES.get(country, TIME_ZONES["ee"])).date()


# --- Export ----------------------------------------------------------------------------------


def export_invoice(client: MeritClient, cache: ExportCache, invoice: InvoiceOut) -> ExportedInvoice:
    """One `sendinvoice`; see `AccountingAdapter.export_invoice`. Before it, once per credential
    and `EXPORT_LOOKUP_SECONDS` (see `ExportCache`):
    `gettaxes` (each line's tax rate by its id, else its code, checked active and at the
    line's rate) and, when a line has a product, `getitems` (Merit rows name items by code).
    Merit's refusal of a number it already has is answered by looking the invoice up: ours
    (same customer) is adopted, never sent twice."""
    if not invoice.lines:
        raise ConfigError(say("export_no_lines"), details={"fix": FIX_VALIDATION})
    if not _GUID.match(invoice.customer_id or ""):
        raise ConfigError(say("export_customer_unknown"), details={"fix": FIX_LINK})
    reference = invoice.reference.strip()
    if not reference or len(reference) > INVOICE_NO_MAX:
        raise ConfigError(
            say("export_refused", reason=f"InvoiceNo: 1-{INVOICE_NO_MAX} characters"),
            details={"fix": FIX_VALIDATION},
        )
    try:
        body, warnings, unknown_items = _invoice_body(client, cache, invoice, reference)
        retry = unknown_items and cache.reset()
    except ConfigError:
        # A tax rate added in Merit since the lookups were cached: look once more.
        if not cache.reset():
            raise
        retry = True
    if retry:
        # Taxes or items may be newer than the cached tables: one fresh look before refusing
        # or sending a line as a plain service row.
        body, warnings, _unknown = _invoice_body(client, cache, invoice, reference)
    try:
        answer = client.request("POST", "/sendinvoice", json=body, idempotent=False).data
    except MeritRequestError as exc:
        if "already exists" in exc.merit_message.lower():
            return _adopt(client, invoice, warnings)
        raise _export_refusal(exc) from None
    except TransientError as exc:
        if exc.details.get("write"):
            exc.details["outcome"] = "unknown"
        raise
    invoice_id = answer.get("InvoiceId") if isinstance(answer, dict) else None
    if not isinstance(invoice_id, str) or not _GUID.match(invoice_id):
        raise TransientError(
            say("export_unreadable_answer"),
            details={"outcome": "unknown", "write": True, "method": "POST", "path": "/sendinvoice"},
        )
    return ExportedInvoice(
        remote_id=invoice_id,
        remote_number=str(answer.get("InvoiceNo") or reference),
        warnings=tuple(warnings),
    )


def _invoice_body(
    client: MeritClient, cache: ExportCache, invoice: InvoiceOut, reference: str
) -> tuple[dict[str, Any], list[str], bool]:
    """The `sendinvoice` body, the warnings, and whether a line's product was not among the
    items (sent as a plain service row). Raises `ConfigError` for a tax rate Merit lacks."""
    warnings: list[str] = []
    unknown_items = False
    taxes = _taxes(client, cache)
    items = _item_codes(client, cache) if any(line.product_id for line in invoice.lines) else {}
    rows: list[dict[str, Any]] = []
    vat_by_tax: dict[str, Decimal] = {}
    total = Decimal(0)
    for line in invoice.lines:
        tax = _tax_for(line, taxes)
        amount, vat = row_amounts(line)
        total += amount
        vat_by_tax[tax["Id"]] = vat_by_tax.get(tax["Id"], Decimal(0)) + vat
        code, item_type = SERVICE_ITEM_CODE, SERVICE_ITEM_TYPE
        if line.product_id:
            found = items.get(line.product_id.lower())
            if found is None:
                unknown_items = True
                warnings.append(say("export_product_unknown", line=line.description[:60]))
            else:
                code, item_type = found
        rows.append(
            {
                "Item": {
                    "Code": code,
                    "Description": line.description or code,
                    "Type": item_type,
                },
                "Quantity": _number(line.quantity),
                "Price": _number(line.unit_price),
                "DiscountPct": _number(line.discount_percent),
                "TaxId": tax["Id"],
            }
        )
    body: dict[str, Any] = {
        "Customer": {"Id": invoice.customer_id},
        "DocDate": _doc_date(invoice.issue_date),
        "DueDate": _doc_date(invoice.due_date),
        "InvoiceNo": reference,
        "CurrencyCode": invoice.currency,
        "InvoiceRow": rows,
        "TaxAmount": [{"TaxId": tax_id, "Amount": _number(v)} for tax_id, v in vat_by_tax.items()],
        "TotalAmount": _number(total),
        "RoundingAmount": 0,
    }
    if invoice.comment:
        body["HComment"] = invoice.comment
    merit_gross = total + sum(vat_by_tax.values(), Decimal(0))
    if merit_gross != invoice.gross_total:
        warnings.append(say("export_total_differs", merit=merit_gross, uku=invoice.gross_total))
    return body, warnings, unknown_items


def _adopt(client: MeritClient, invoice: InvoiceOut, warnings: list[str]) -> ExportedInvoice:
    """Merit already has an invoice with this number: ours if it is the same customer's."""
    found = find_exported_invoice(client, invoice)
    if found is None:
        raise ConfigError(
            say("export_number_taken", number=invoice.reference),
            details={"fix": FIX_VALIDATION},
        )
    note = say("export_adopted", number=found.remote_number)
    return ExportedInvoice(found.remote_id, found.remote_number, (*warnings, note))


def _tax_for(line: InvoiceLineOut, taxes: list[dict[str, Any]]) -> dict[str, Any]:
    """The active Merit tax rate of `line`: by its imported id, else by its code."""
    label = (line.description or "")[:60]
    wanted_id = (line.vat_type_id or "").lower()
    code = (line.vat_code or "").strip()
    active = [t for t in taxes if not t.get("NonActive") and isinstance(t.get("Id"), str)]
    tax = next((t for t in active if t["Id"].lower() == wanted_id), None) if wanted_id else None
    if tax is None and code:
        tax = next((t for t in active if str(t.get("Code") or "").strip() == code), None)
    if tax is None:
        raise ConfigError(
            say("export_tax_unknown", line=label, code=code or wanted_id),
            details={"fix": FIX_VAT_TYPE, "vat_code": code},
        )
    rate = _decimal(tax.get("TaxPct"))
    if rate != line.vat_percentage:
        raise ConfigError(
            say(
                "export_tax_rate_differs",
                code=str(tax.get("Code") or ""),
                line=label,
                remote=_plain(rate),
                local=_plain(line.vat_percentage),
            ),
            details={"fix": FIX_VAT_TYPE, "vat_code": code},
        )
    return tax


def _taxes(client: MeritClient, cache: ExportCache) -> list[dict[str, Any]]:
    if cache.taxes is None:
        cache.taxes = [t for t in client.post_list("gettaxes") if isinstance(t, dict)]
    return cache.taxes


def _item_codes(client: MeritClient, cache: ExportCache) -> dict[str, tuple[str, int]]:
    """Item id (lower case) -> (code, type code), from one `getitems`."""
    if cache.item_codes is None:
        codes: dict[str, tuple[str, int]] = {}
        for row in client.post_list("getitems"):
            if isinstance(row, dict) and row.get("ItemId") and row.get("Code"):
                type_code = row.get("TypeCode")
                codes[str(row["ItemId"]).lower()] = (
                    str(row["Code"]),
                    type_code if type_code in (1, 2, 3) else SERVICE_ITEM_TYPE,
                )
        cache.item_codes = codes
    return cache.item_codes


def _export_refusal(exc: MeritRequestError) -> ConfigError:
    text = exc.merit_message.lower()
    details = {**exc.details, "status": exc.status}
    if "customer" in text and "not found" in text:
        return ConfigError(say("export_customer_unknown"), details={**details, "fix": FIX_LINK})
    if "tax" in text and "not found" in text:
        return ConfigError(
            say("export_tax_unknown", line="", code=""), details={**details, "fix": FIX_VAT_TYPE}
        )
    reason = exc.merit_message or say("no_reason")
    return ConfigError(
        say("export_refused", reason=reason), details={**details, "fix": FIX_VALIDATION}
    )


# --- Finding an export again -----------------------------------------------------------------


def find_exported_invoice(client: MeritClient, invoice: InvoiceOut) -> ExportedInvoice | None:
    """The invoice numbered `invoice.reference` of the invoice's customer, from one
    `getinvoices` window around the issue date, or `None`. Read-only."""
    reference = invoice.reference.strip()
    customer = (invoice.customer_id or "").lower()
    if not reference:
        return None
    for rows in client.iter_windows(
        "getinvoices", invoice.issue_date - SEARCH_MARGIN, invoice.issue_date + SEARCH_MARGIN
    ):
        for row in rows:
            if (
                isinstance(row, dict)
                and str(row.get("InvoiceNo") or "").strip() == reference
                and str(row.get("CustomerId") or "").lower() == customer
                and row.get("SIHId")
            ):
                return ExportedInvoice(
                    remote_id=str(row["SIHId"]), remote_number=str(row["InvoiceNo"])
                )
    return None


# --- Status ----------------------------------------------------------------------------------


def invoice_statuses(
    client: MeritClient, exported: Sequence[ExportedRef], country: str
) -> dict[str, RemoteInvoiceStatus]:
    """Paid status of each export from `getinvoices` over 3-month windows from the oldest
    issue date to today in the instance's time zone (one call per window); see the module
    docstring for credit invoices. An export Merit no longer lists is left out."""
    refs = {ref.remote_id.lower(): ref for ref in exported if _GUID.match(ref.remote_id or "")}
    if not refs:
        return {}
    start = min(ref.issue_date for ref in refs.values())
    end = max(local_today(country), *(ref.issue_date for ref in refs.values()))
    found: dict[str, dict[str, Any]] = {}
    credits: list[dict[str, Any]] = []
    for rows in client.iter_windows("getinvoices", start, end):
        for row in rows:
            if not isinstance(row, dict) or not row.get("SIHId"):
                raise _malformed()
            total = _money(row.get("TotalSum"))
            if total < 0:
                credits.append(row)
            elif str(row["SIHId"]).lower() in refs:
                found[str(row["SIHId"]).lower()] = row
    credited = _credited(client, found, credits)
    result: dict[str, RemoteInvoiceStatus] = {}
    for key, row in found.items():
        ref = refs[key]
        total, paid = _money(row.get("TotalSum")), _money(row.get("PaidAmount"))
        outstanding = max(total - paid, Decimal("0.00"))
        state: Literal["unpaid", "paid", "credited"] = "unpaid"
        if key in credited:
            state, outstanding = "credited", Decimal("0.00")
        elif _settled(row):
            state, outstanding = "paid", Decimal("0.00")
        result[ref.remote_id] = RemoteInvoiceStatus(
            remote_id=ref.remote_id,
            state=state,
            invoice_id=str(row["SIHId"]),
            invoice_number=str(row.get("InvoiceNo") or ""),
            outstanding=outstanding,
        )
    return result


def _settled(row: dict[str, Any]) -> bool:
    """Nothing left to pay: `Paid`, or `PaidAmount` reaching `TotalSum`."""
    return row.get("Paid") is True or _money(row.get("PaidAmount")) >= _money(row.get("TotalSum"))


def _credited(
    client: MeritClient, found: dict[str, dict[str, Any]], credits: list[dict[str, Any]]
) -> set[str]:
    """The exports (keys of `found`) a credit invoice cancels.

    Merit offsets a credit invoice against the invoice it credits, so that invoice reads as
    settled. A credit invoice of the customer for minus its total, dated on or after it,
    cancels it; when several settled exports fit one credit invoice, `getinvoice` tells them
    apart (the credited one was not paid by payments), a call only for such a tie."""
    credited: set[str] = set()
    for credit in sorted(credits, key=_day):
        customer = str(credit.get("CustomerId") or "").lower()
        amount = -_money(credit.get("TotalSum"))
        candidates = sorted(
            (
                key
                for key, row in found.items()
                if key not in credited
                and _settled(row)
                and str(row.get("CustomerId") or "").lower() == customer
                and _money(row.get("TotalSum")) == amount
                and _day(row) <= _day(credit)
            ),
            key=lambda key: (_day(found[key]), key),
        )
        if len(candidates) > 1:
            candidates = [k for k in candidates if _paid_by_payments(client, found[k]) < amount]
        if candidates:
            credited.add(candidates[0])
    return credited


def _paid_by_payments(client: MeritClient, row: dict[str, Any]) -> Decimal:
    """The sum of the payments `getinvoice` lists for the invoice of `row`."""
    detail = client.post("getinvoice", {"Id": str(row["SIHId"]), "AddAttachment": False})
    payments = detail.get("Payments") if isinstance(detail, dict) else None
    if not isinstance(payments, list):
        raise _malformed()
    return sum((_money(p.get("Amount")) for p in payments if isinstance(p, dict)), Decimal("0.00"))


# --- Helpers ---------------------------------------------------------------------------------


def _doc_date(day: date) -> str:
    return datetime.combine(day, datetime.min.time()).strftime(DOC_DATE_FORMAT)


def _day(row: dict[str, Any]) -> date:
    """A row's `DocumentDate` ("2024-04-29T00:00:00", sometimes "2024/04/29")."""
    text = str(row.get("DocumentDate") or "")[:10].replace("/", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _malformed() from None


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _money(value: Any) -> Decimal:
    """A Merit amount (a number, sometimes text) to cents; missing or unreadable is a
    malformed answer, never 0 (which could read as paid)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _malformed()
    try:
        amount = Decimal(str(value))
        if not amount.is_finite():  # "Infinity", "NaN": no amount (inf - inf would raise)
            raise _malformed()
        return merit_round(amount)
    except InvalidOperation:
        raise _malformed() from None


def _malformed() -> TransientError:
    return TransientError(
        f"{say('malformed')} {say('retry_later')}",
        details={"kind": "malformed", "path": "/getinvoices"},
    )


def _number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an int when whole, else the float with the same digits."""
    return int(value) if value == value.to_integral_value() else float(value)


def _plain(value: Decimal) -> str:
    """24.00 -> "24", 5.5 -> "5.5"."""
    return format(value.normalize(), "f")
