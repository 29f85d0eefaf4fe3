"""Sales invoices after uku has sent them: the control calls that play the accountant.

`sendinvoice` (in :mod:`.endpoints`) stores an invoice; paying it in full or in part is
``POST /_sandbox/invoices/{SIHId}/payments`` (`Store.pay_invoice`). Crediting it is here:

``POST /_sandbox/invoices/{SIHId}/credit`` ``{"date"?: "YYYY-MM-DD"}`` → 201 with the credit
invoice's header. Merit makes a credit invoice as a sales invoice with negative quantities
(its API has no credit endpoint, and v1 lists carry no link to the credited invoice: the fact
sheet is silent). The choices here: the credit invoice is numbered ``<InvoiceNo>-K``, has the
original's customer and rows with negated quantities, so its `TotalSum` is minus the
original's, and Merit offsets the two: both are `Paid`, each `PaidAmount` equal to its own
`TotalSum`, with no bank payment. Crediting a credit invoice, or an invoice twice, is a 400.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from . import ledger
from .ledger import Company, LineIn
from .store import ControlError, Row, Store

CREDIT_SUFFIX = "-K"


def credit_invoice(store: Store, invoice_id: str, on: date | None = None) -> Row:
    """Credit sales invoice ``invoice_id`` in full; returns the credit invoice."""
    with store.lock:
        company, invoice = _find(store, invoice_id)
        header = invoice["Header"]
        if header["TotalSum"] < 0 or invoice.get("_credited_by"):
            raise ControlError("the invoice is a credit invoice or already credited")
        customer = company.customer(header["CustomerId"])
        if customer is None:
            raise ControlError("the invoice's customer is gone", 404)
        lines = [
            LineIn(
                code=row["ArticleCode"],
                description=row["Description"],
                quantity=-Decimal(row["Quantity"]),
                price=Decimal(row["Price"]),
                tax=_tax(company, row),
                discount_pct=Decimal(row["DiscountPct"] or 0),
                discount_amount=-Decimal(row["DiscountAmount"] or 0),
                uom=row["UOMName"],
                location=row["LocationCode"],
            )
            for row in invoice["Lines"]
        ]
        day = on or store.today()
        moment = datetime.combine(day, datetime.min.time())
        note = ledger.book_sales_invoice(
            company,
            customer,
            f"{header['InvoiceNo']}{CREDIT_SUFFIX}",
            moment,
            moment,
            lines,
            store.now(),
            hcomment=f"Kreeditarve {header['InvoiceNo']}",
        )
        for target in (invoice, note):
            target["Header"]["PaidAmount"] = target["Header"]["TotalSum"]
            target["Header"]["Paid"] = True
            target["_changed"] = store.now()
        invoice["_credited_by"] = note["Header"]["SIHId"]
        return note


def _find(store: Store, invoice_id: str) -> tuple[Company, Row]:
    for instance in store.instances.values():
        for company in instance.companies.values():
            company.ensure_history()
            invoice = company.invoice(invoice_id)
            if invoice is not None:
                return company, invoice
    raise ControlError("no such invoice", 404)


def _tax(company: Company, row: Row) -> Row:
    tax = next(
        (t for t in company.taxes if t["Name"] == row["TaxName"] and t["TaxPct"] == row["TaxPct"]),
        None,
    )
    if tax is None:
        raise ControlError("the invoice's VAT code is gone", 404)
    return tax


def _credit(store: Store, data: dict[str, Any], invoice_id: str) -> tuple[int, Any]:
    on = date.fromisoformat(data["date"]) if data.get("date") else None
    note = credit_invoice(store, invoice_id, on)
    return 201, {k: v for k, v in note["Header"].items() if not k.startswith("_")}


#: Control calls of this module, under ``/_sandbox``: (method, template, handler).
CONTROL_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/invoices/{}/credit", _credit),
]
