"""Orders after uku has exported them: credit notes, and control calls that play the accountant.

uku exports an invoice as an order (`POST /order`); turning it into an invoice, getting it
paid, sending a reminder or crediting it happens in Tripletex, by people. The control calls
here do those things so the invoice-status tests can see every state (fact sheet 6.5, 6.6):

* ``POST /_sandbox/orders/{id}/invoice`` ``{"state": "unpaid"|"paid"|"partly_paid"|
  "reminder"|"credited", "invoice_date"?, "paid_amount"?, "reminder_fee"?,
  "number_later"?}`` invoices the order (``sendToCustomer=false``) and brings the invoice into
  that state: "partly_paid" pays ``paid_amount`` (default half), "reminder" pays it in full and
  leaves a ``reminder_fee`` (default 70) in ``amountOutstandingTotal`` only, "credited" issues a
  credit note. ``number_later`` leaves ``invoiceNumber`` 0 until
  ``POST /_sandbox/invoices/{id}/assign-number``.
* ``POST /_sandbox/invoices/{id}/payment`` ``{"amount", "date"?}``,
  ``/reminder`` ``{"fee"?}``, ``/credit-note`` ``{"date"?}``, ``/assign-number``.
* ``POST /_sandbox/companies/{id}/bank-account`` ``{"bank_account_number": str|null}`` sets or
  clears the number on ledger account 1920 (null: the first ``:invoice`` is refused).
* ``POST /_sandbox/companies/{id}/vat-registration`` ``{"registered": bool}``: a company not
  registered for VAT has only code 6 among its output codes (``typeOfVat=OUTGOING``); an order
  line with any other output code is refused with 422 "Ugyldig mva-kode.".

And one Tripletex endpoint: ``PUT /invoice/{id}/:createCreditNote?date=`` (``comment``,
``sendToCustomer`` default true) → 200 with the credit note: a new invoice with
``isCreditNote=true``, ``creditedInvoice=<original id>`` (an integer, 0 on other invoices) and the
original's order in ``orders`` (choice); the original gets ``isCredited=true`` and nothing
outstanding.

The routing tables at the bottom are plain tuples so `app.py` only has to splice them in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from .endpoints import (
    Call,
    Reply,
    _money,
    _outstanding,
    _own,
    add_voucher,
    invoice_order,
    register_payment,
    value_reply,
)
from .fields import bool_param, required_date
from .store import VALIDATION_ERROR, ControlError, Row, Store, parse_date, validation_error

STATES = ("unpaid", "paid", "partly_paid", "reminder", "credited")
DEFAULT_REMINDER_FEE = Decimal("70")


# ----------------------------------------------------------------- Tripletex
def credit_note(call: Call, id: int) -> Reply:
    """``PUT /invoice/{id}/:createCreditNote?date=&comment=&sendToCustomer=``."""
    day = required_date(call.query, "date")
    send = bool_param(call.query, "sendToCustomer")
    note = create_credit_note(
        call.store,
        call.company,
        id,
        day,
        call.employee,
        comment=call.query.get("comment", ""),
        send=True if send is None else send,
    )
    return value_reply(call, "invoice", note)


def create_credit_note(
    store: Store,
    company: int,
    invoice_id: int,
    day: date,
    employee_id: int | None,
    *,
    comment: str = "",
    send: bool = False,
) -> Row:
    """Credit invoice ``invoice_id`` in full: the credit note row (negative amounts)."""
    with store.lock:
        original = _own(store, company, "invoice", invoice_id)
        if original.get("isCreditNote") or original.get("isCredited"):
            raise validation_error(
                None, "The invoice is already credited.", developer_message=VALIDATION_ERROR
            )
        amount = Decimal(str(original["amount"]))
        excl = Decimal(str(original["amountExcludingVat"]))
        number = store.next_number("invoice", company)
        voucher = add_voucher(
            store,
            company,
            day,
            "Utgående faktura",
            f"Kreditnota {number} for faktura {original['invoiceNumber']}",
            [
                (
                    1500,
                    _money(-amount),
                    {
                        "customer": original["customer"],
                        "invoiceNumber": str(number),
                        "type": "OUTGOING_INVOICE_CUSTOMER_POSTING",
                    },
                ),
                (3000, _money(excl), {}),
                (2700, _money(amount - excl), {}),
            ],
            by=employee_id,
        )
        note = store.insert(
            "invoice",
            company,
            {
                "invoiceNumber": number,
                "invoiceDate": day.isoformat(),
                "invoiceDueDate": day.isoformat(),
                "customer": original["customer"],
                "orders": list(original.get("orders") or []),
                "voucher": voucher["id"],
                "kid": "",
                "comment": comment,
                "currency": original.get("currency"),
                "amount": _money(-amount),
                "amountCurrency": _money(-amount),
                "amountExcludingVat": _money(-excl),
                "amountExcludingVatCurrency": _money(-excl),
                **_outstanding(Decimal(0)),
                "postings": voucher["postings"][:1],
                "isCreditNote": True,
                "creditedInvoice": original["id"],
                "_sent_to_customer": send,
            },
            employee_id,
            store.timestamp(),
        )
        # The credit note is matched against the original: nothing is left to pay on either.
        original.update(_outstanding(Decimal(0)))
        original["isCredited"] = True
        store.touch(original, employee_id)
        if send:
            customer = store.get("customer", original["customer"]) or {}
            store.record_sent_invoice(
                {
                    "invoice_id": note["id"],
                    "invoice_number": number,
                    "company_id": company,
                    "customer_id": original["customer"],
                    "send_type": customer.get("invoiceSendMethod") or "EMAIL",
                    "sent_at": store.timestamp(),
                    "recipient": customer.get("invoiceEmail") or customer.get("email"),
                }
            )
        return note


# --------------------------------------------------------------- control API
def _company_of(store: Store, kind: str, row_id: int) -> tuple[Row, int]:
    row = store.get(kind, row_id)
    if row is None or row.get("_company") is None:
        raise ControlError(f"{kind} {row_id} does not exist", 404)
    return row, int(row["_company"])


def _day(store: Store, data: dict[str, Any], key: str) -> date:
    return parse_date(data[key]) if data.get(key) else store.today()


def _amount(data: dict[str, Any], key: str, default: Decimal) -> Decimal:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ControlError(f"{key} must be a number")
    return Decimal(str(value))


def invoice_view(store: Store, invoice: Row) -> dict[str, Any]:
    """What the control API answers about an invoice (and its credit note, if any)."""
    notes = [
        row["id"]
        for row in store.company_rows("invoice", invoice["_company"])
        if row.get("creditedInvoice") == invoice["id"]
    ]
    keys = [
        "id",
        "invoiceNumber",
        "invoiceDate",
        "amount",
        "amountOutstanding",
        "amountOutstandingTotal",
        "isCredited",
        "isCreditNote",
        "creditedInvoice",
        "orders",
    ]
    return {
        **{key: invoice.get(key) for key in keys},
        "company_id": invoice["_company"],
        "credit_note_id": notes[0] if notes else None,
    }


def _pay(store: Store, company: int, invoice: Row, amount: Decimal, day: date) -> None:
    bank = store.lookup("paymentType", company, "bank") or 0
    register_payment(store, company, invoice["id"], day, bank, float(amount), None)


def add_reminder(store: Store, invoice: Row, fee: Decimal, day: date) -> Row:
    """A reminder with ``fee``: only the totals (``amountOutstandingTotal``) grow."""
    with store.lock:
        total = Decimal(str(invoice["amountOutstandingTotal"])) + fee
        invoice["amountOutstandingTotal"] = invoice["amountCurrencyOutstandingTotal"] = _money(
            total
        )
        invoice["reminders"] = [
            *(invoice.get("reminders") or ()),
            {"reminderDate": day.isoformat(), "charge": _money(fee), "type": "REMINDER"},
        ]
        store.touch(invoice, None)
        return invoice


def control_invoice_order(store: Store, data: dict[str, Any], id: int) -> Reply:
    """``POST /_sandbox/orders/{id}/invoice``: see the module docstring."""
    state = str(data.get("state", "unpaid"))
    if state not in STATES:
        raise ControlError(f"state must be one of {', '.join(STATES)}")
    _order, company = _company_of(store, "order", id)
    day = _day(store, data, "invoice_date")
    with store.lock:
        invoice = invoice_order(
            store, company, id, day, False, None, assign_number=not data.get("number_later")
        )
        amount = Decimal(str(invoice["amount"]))
        if state == "partly_paid":
            _pay(store, company, invoice, _amount(data, "paid_amount", amount / 2), day)
        elif state in ("paid", "reminder"):
            if state == "reminder":
                add_reminder(
                    store, invoice, _amount(data, "reminder_fee", DEFAULT_REMINDER_FEE), day
                )
            _pay(store, company, invoice, amount, day)
        elif state == "credited":
            create_credit_note(store, company, invoice["id"], day, None)
        return Reply(201, invoice_view(store, invoice))


def control_payment(store: Store, data: dict[str, Any], id: int) -> Reply:
    invoice, company = _company_of(store, "invoice", id)
    amount = _amount(data, "amount", Decimal(str(invoice["amountOutstanding"])))
    _pay(store, company, invoice, amount, _day(store, data, "date"))
    return Reply(200, invoice_view(store, invoice))


def control_reminder(store: Store, data: dict[str, Any], id: int) -> Reply:
    invoice, _company = _company_of(store, "invoice", id)
    fee = _amount(data, "fee", DEFAULT_REMINDER_FEE)
    add_reminder(store, invoice, fee, _day(store, data, "date"))
    return Reply(200, invoice_view(store, invoice))


def control_credit_note(store: Store, data: dict[str, Any], id: int) -> Reply:
    invoice, company = _company_of(store, "invoice", id)
    create_credit_note(store, company, id, _day(store, data, "date"), None)
    return Reply(200, invoice_view(store, invoice))


def control_assign_number(store: Store, data: dict[str, Any], id: int) -> Reply:
    """Give an invoice made with ``number_later`` its invoice number (and KID) now."""
    from .endpoints import _kid

    invoice, company = _company_of(store, "invoice", id)
    with store.lock:
        if not invoice.get("invoiceNumber"):
            number = store.next_number("invoice", company)
            invoice["invoiceNumber"], invoice["kid"] = number, _kid(number)
            store.touch(invoice, None)
    return Reply(200, invoice_view(store, invoice))


def control_bank_account(store: Store, data: dict[str, Any], id: int) -> Reply:
    """Set (or with null clear) the bank account number of company ``id``'s account 1920."""
    with store.lock:
        account = store.get("account", store.lookup("account", id, 1920) or 0)
        if account is None:
            raise ControlError(f"company {id} has no account 1920", 404)
        number = data.get("bank_account_number")
        if number is not None and not isinstance(number, str):
            raise ControlError("bank_account_number must be a string or null")
        account["bankAccountNumber"] = number or None
        store.touch(account, None)
        return Reply(200, {"company_id": id, "bank_account_number": account["bankAccountNumber"]})


#: The output codes a company not registered for VAT keeps (fact sheet 6.3: "only code 6").
UNREGISTERED_OUTPUT_CODES = frozenset({"6"})


def control_vat_registration(store: Store, data: dict[str, Any], id: int) -> Reply:
    """Register or unregister company ``id`` for VAT (see the module docstring)."""
    registered = data.get("registered")
    if not isinstance(registered, bool):
        raise ControlError("registered must be true or false")
    with store.lock:
        rows = store.company_rows("vatType", id)
        if not rows:
            raise ControlError(f"company {id} does not exist", 404)
        for row in rows:
            tags = frozenset(row.setdefault("_registered_tags", row["_tags"]) or ())
            if registered or row["number"] in UNREGISTERED_OUTPUT_CODES:
                row["_tags"] = tags
            else:
                row["_tags"] = frozenset(tags - {"OUTGOING", "PROJECT"})
        return Reply(200, {"company_id": id, "registered": registered})


ApiHandler = Callable[..., Reply]
#: Tripletex endpoints of this module: (method, template, handler); `app.py` adds them.
API_ROUTES: tuple[tuple[str, str, ApiHandler], ...] = (
    ("PUT", "/invoice/{id}/:createCreditNote", credit_note),
)
#: Control calls of this module, under ``/_sandbox``: (method, template, handler).
CONTROL_ROUTES: tuple[tuple[str, str, ApiHandler], ...] = (
    ("POST", "/orders/{id}/invoice", control_invoice_order),
    ("POST", "/invoices/{id}/payment", control_payment),
    ("POST", "/invoices/{id}/reminder", control_reminder),
    ("POST", "/invoices/{id}/credit-note", control_credit_note),
    ("POST", "/invoices/{id}/assign-number", control_assign_number),
    ("POST", "/companies/{id}/bank-account", control_bank_account),
    ("POST", "/companies/{id}/vat-registration", control_vat_registration),
)
