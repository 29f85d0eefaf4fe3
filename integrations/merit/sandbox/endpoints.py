"""The emulated Merit API v1 endpoints: request-body parsing, filters, date windows, writes.

Handlers take a :class:`Call` (the authenticated company and the parsed body) and
return the bare JSON value Merit answers with (there is no envelope), or raise
:class:`MeritError` carrying the status and body Merit gives for that failure.

Request bodies are matched case-insensitively at every level (the docs' own examples
write ``Periodstart`` and ``item``), numbers may arrive as strings (``"100"``) and
booleans as ``"true"``.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from . import ledger, seed
from .ledger import Company, LineIn
from .seed import add_months, money

Row = dict[str, Any]
JSON = Any

#: Window limits (fact sheet §3): 3 months for lists, 31 days for the full GL list.
MAX_MONTHS = 3
MAX_GL_FULL_DAYS = 31
INVOICE_NO_MAX = 35


class MeritError(Exception):
    """A failure answered the way Merit answers it: status, body and content type.

    ``body`` is a JSON value (sent as JSON), a ``str`` (sent as is with
    ``content_type``) or ``None`` (no body at all).
    """

    def __init__(
        self,
        status: int,
        body: JSON | str | None = None,
        content_type: str = "text/plain; charset=utf-8",
        json_body: bool = False,
    ) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.content_type = content_type
        self.json_body = json_body


def message(text: str, status: int = 400) -> MeritError:
    """A validation failure: ``{"Message": text}`` (the field client libraries read)."""
    return MeritError(status, {"Message": text}, json_body=True)


def missing(_field: str) -> MeritError:
    """A missing required body field: Merit's FAQ gives 404 for a missing required parameter."""
    return MeritError(404, None)


def stack_trace(exception: str, text: str, status: int = 500) -> MeritError:
    """An ASP.NET error page, as Merit sends for payloads it cannot make sense of."""
    return MeritError(status, asp_net_error_page(exception, text), "text/html; charset=utf-8")


def asp_net_error_page(exception: str, text: str) -> str:
    """A short ASP.NET "Server Error in '/' Application." page with a stack trace."""
    short = exception.rsplit(".", 1)[-1]
    return (
        "<!DOCTYPE html>\r\n<html>\r\n<head><title>"
        f'{html.escape(text)}</title></head>\r\n<body bgcolor="white">\r\n'
        "<span><H1>Server Error in '/' Application.<hr width=100% size=1 color=silver></H1>\r\n"
        f"<h2> <i>{html.escape(text)}</i> </h2></span>\r\n"
        f"<b> Exception Details: </b>{exception}: {html.escape(text)}<br><br>\r\n"
        f"<pre>[{short}: {html.escape(text)}]\r\n"
        "   Merit.Aktiva.Api.Controllers.V1Controller.Dispatch(String endpoint, String body) +412\r\n"
        "   System.Web.Http.Controllers.ReflectedHttpActionDescriptor.ExecuteAsync() +83\r\n"
        "</pre></body>\r\n</html>\r\n"
    )


# ----------------------------------------------------------------- the body
def fold(value: JSON) -> JSON:
    """Lower-case every object key, recursively (Merit matches field names case-insensitively)."""
    if isinstance(value, dict):
        return {str(key).lower(): fold(item) for key, item in value.items()}
    if isinstance(value, list):
        return [fold(item) for item in value]
    return value


_GUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


class Body:
    """Typed, case-insensitive access to one JSON object of a request body."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def has(self, name: str) -> bool:
        """Whether the field is present and not null or an empty string."""
        value = self.data.get(name.lower())
        return value is not None and value != ""

    def raw(self, name: str, required: bool = False) -> Any:
        """The value as sent; a missing required one → 404."""
        if not self.has(name):
            if required:
                raise missing(name)
            return None
        return self.data[name.lower()]

    def text(self, name: str, required: bool = False) -> str | None:
        """A string (numbers are accepted and turned into text)."""
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, dict | list):
            raise stack_trace("System.FormatException", f"{name}: a string was expected.")
        return str(value)

    def date(self, name: str, required: bool = False) -> date | None:
        """A ``yyyyMMdd`` date; anything else fails as .NET's date parsing does (500 page)."""
        value = self.text(name, required)
        if value is None:
            return None
        try:
            if len(value) != 8 or not value.isdigit():
                raise ValueError
            return datetime.strptime(value, "%Y%m%d").date()
        except ValueError:
            raise stack_trace(
                "System.FormatException", "String was not recognized as a valid DateTime."
            ) from None

    def moment(self, name: str, required: bool = False) -> datetime | None:
        """A ``yyyyMMddHHmmss`` date-time (a bare ``yyyyMMdd`` means midnight)."""
        value = self.text(name, required)
        if value is None:
            return None
        for pattern, length in (("%Y%m%d%H%M%S", 14), ("%Y%m%d", 8)):
            if len(value) == length and value.isdigit():
                try:
                    return datetime.strptime(value, pattern)
                except ValueError:
                    break
        raise stack_trace(
            "System.FormatException", "String was not recognized as a valid DateTime."
        )

    def decimal(self, name: str, required: bool = False) -> Decimal | None:
        """A number, sent as a JSON number or as a string like ``"100"`` or ``"12.50"``."""
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, bool):
            raise stack_trace("System.FormatException", "Input string was not in a correct format.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise stack_trace(
                "System.FormatException", "Input string was not in a correct format."
            ) from None
        if not number.is_finite():
            raise stack_trace("System.FormatException", "Input string was not in a correct format.")
        return number

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean: ``true``/``false``, ``"true"``/``"false"`` or ``1``/``0``."""
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise stack_trace("System.FormatException", "String was not recognized as a valid Boolean.")

    def guid(self, name: str, required: bool = False) -> str | None:
        """A GUID (any case, with or without dashes), normalised to lower case with dashes."""
        value = self.text(name, required)
        if value is None:
            return None
        if not _GUID.match(value.strip()):
            raise stack_trace(
                "System.FormatException",
                "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).",
            )
        return str(uuid.UUID(value.strip()))

    def obj(self, name: str, required: bool = False) -> Body | None:
        """A nested object."""
        value = self.raw(name, required)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise stack_trace("System.InvalidCastException", f"{name}: an object was expected.")
        return Body(value)

    def objects(self, name: str, required: bool = False) -> list[Body] | None:
        """A list of objects (present but empty is ``[]``, absent is ``None``)."""
        value = self.data.get(name.lower())
        if value is None:
            if required:
                raise missing(name)
            return None
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise stack_trace("System.InvalidCastException", f"{name}: a list was expected.")
        return [Body(item) for item in value]


@dataclass
class Call:
    """One authenticated API call: the instance's country, the company and the parsed body."""

    company: Company
    body: Body
    now: datetime
    today: date


Handler = Callable[[Call], JSON]


def public(value: JSON) -> JSON:
    """A row as Merit shows it: internal ``_`` keys dropped, recursively."""
    if isinstance(value, dict):
        return {key: public(item) for key, item in value.items() if not key.startswith("_")}
    if isinstance(value, list):
        return [public(item) for item in value]
    return value


def period(
    body: Body, max_months: int | None = None, max_days: int | None = None
) -> tuple[date, date]:
    """``PeriodStart``/``PeriodEnd`` (both required), refused when longer than the endpoint allows.

    "Max 3 months" is read strictly: ``PeriodEnd`` must fall before the same day three
    months later (1 Jan to 31 Mar passes, 1 Jan to 1 Apr does not). "31 days" is read as
    the fact sheet words it: ``PeriodEnd`` at most 31 days after ``PeriodStart``.
    """
    start = body.date("PeriodStart", required=True)
    end = body.date("PeriodEnd", required=True)
    assert start is not None and end is not None
    if end < start:
        raise message("PeriodEnd must not be before PeriodStart")
    if max_months is not None and end >= add_months(start, max_months):
        raise message(f"Period length max {max_months} months!")
    if max_days is not None and (end - start).days > max_days:
        raise message(f"Period length max {max_days} days!")
    return start, end


# ------------------------------------------------------------------ readers
def get_taxes(call: Call) -> JSON:
    """``gettaxes``: every VAT code of the company, active or not (no filters)."""
    return public(call.company.taxes)


def get_items(call: Call) -> JSON:
    """``getitems``: ``Id`` (then the rest is ignored), ``Code`` exact, ``Description`` broad, ``LocationCode``."""
    body = call.body
    rows = call.company.items
    item_id = body.guid("Id")
    if item_id is not None:
        rows = [row for row in rows if row["ItemId"].lower() == item_id]
    else:
        code, description = body.text("Code"), body.text("Description")
        if code is not None:
            rows = [row for row in rows if row["Code"] == code]
        if description is not None:
            needle = description.casefold()
            rows = [row for row in rows if needle in row["Name"].casefold()]
    location = body.text("LocationCode")
    result = []
    for row in rows:
        view = public(row)
        if location is not None and row["TypeCode"] == 1:
            view["InventoryQty"] = row["_quantities"].get(location, Decimal(0))
        result.append(view)
    return result


def _customer_view(row: Row, with_comments: bool, comments_from: date | None) -> Row:
    view = public(row)
    comments = row["_comments"] if with_comments else []
    if comments_from is not None:
        comments = [c for c in comments if c["CommDate"][:10] >= comments_from.isoformat()]
    view["Comments"] = comments if with_comments else None
    return view


def get_customers(call: Call) -> JSON:
    """``getcustomers``: ``Id`` (then the rest is ignored), ``RegNo``/``VatRegNo`` exact,
    ``Name`` broad, ``ChangedDate`` (changed or created on/after), ``WithComments``/``CommentsFrom``.
    """
    body = call.body
    rows = list(call.company.customers.values())
    customer_id = body.guid("Id")
    with_comments = body.flag("WithComments")
    comments_from = body.date("CommentsFrom")
    if customer_id is not None:
        rows = [row for row in rows if row["CustomerId"].lower() == customer_id]
    else:
        reg_no, vat_no, name = body.text("RegNo"), body.text("VatRegNo"), body.text("Name")
        changed = body.date("ChangedDate")
        if reg_no is not None:
            rows = [row for row in rows if row["RegNo"] == reg_no]
        if vat_no is not None:
            rows = [row for row in rows if row["VatRegNo"] == vat_no]
        if name is not None:
            needle = name.casefold()
            rows = [row for row in rows if needle in row["Name"].casefold()]
        if changed is not None:
            rows = [row for row in rows if row["_changed"].date() >= changed]
    return [_customer_view(row, with_comments, comments_from) for row in rows]


_LIST_HEADER = (
    "SIHId", "DepartmentCode", "DepartmentName", "ProjectCode", "ProjectName", "BatchInfo",
    "InvoiceNo", "DocumentDate", "TransactionDate", "CustomerId", "CustomerName", "CustomerRegNo",
    "HComment", "FComment", "DueDate", "CurrencyCode", "CurrencyRate", "TaxAmount",
    "RoundingAmount", "TotalAmount", "ProfitAmount", "TotalSum", "UserName", "ReferenceNo",
    "PriceInclVat", "VatRegNo", "PaidAmount", "EInvSent", "EmailSent", "Paid",
)  # fmt: skip


def get_invoices(call: Call) -> JSON:
    """``getinvoices``: sales invoices by document date within at most 3 months; ``UnPaid``."""
    start, end = period(call.body, max_months=MAX_MONTHS)
    unpaid = call.body.flag("UnPaid")
    rows = []
    for invoice in sorted(
        call.company.invoices.values(), key=lambda i: i["Header"]["DocumentDate"]
    ):
        header = invoice["Header"]
        if start <= invoice["_date"] <= end and not (unpaid and header["Paid"]):
            rows.append({name: header[name] for name in _LIST_HEADER})
    return rows


def get_invoice(call: Call) -> JSON:
    """``getinvoice``: one invoice with ``Header``, ``Lines``, ``Payments`` (``Id`` and ``AddAttachment`` required)."""
    invoice_id = call.body.guid("Id", required=True)
    if call.body.raw("AddAttachment") is None:
        raise missing("AddAttachment")
    call.body.flag("AddAttachment")
    assert invoice_id is not None
    invoice = call.company.invoice(invoice_id)
    if invoice is None:
        raise message("Invoice not found")
    return {**public(invoice), "Attachment": None}


def get_payments(call: Call) -> JSON:
    """``getpayments``: payments by document date within at most 3 months."""
    start, end = period(call.body, max_months=MAX_MONTHS)
    rows = [row for row in call.company.payments if start <= row["_date"] <= end]
    return public(sorted(rows, key=lambda row: row["_date"]))


def get_purchase_invoices(call: Call) -> JSON:
    """``getpurchorders``: purchase invoices by document date within at most 3 months; ``UnPaid``."""
    start, end = period(call.body, max_months=MAX_MONTHS)
    unpaid = call.body.flag("UnPaid")
    rows = [
        row
        for row in call.company.purchases.values()
        if start <= row["_date"] <= end and not (unpaid and row["Paid"])
    ]
    return public(sorted(rows, key=lambda row: row["_date"]))


def _batches_in(company: Company, start: date, end: date, by_changed: bool = False) -> list[Row]:
    def when(row: Row) -> date:
        return row["_changed"].date() if by_changed else row["_date"]

    rows = [row for row in company.batches.values() if start <= when(row) <= end]
    return sorted(rows, key=lambda row: (row["_date"], row["BatchCode"], row["No"]))


def get_gl_batches(call: Call) -> JSON:
    """``getglbatches``: batch headers by batch date within at most 3 months."""
    start, end = period(call.body, max_months=MAX_MONTHS)
    return [
        {
            key: value
            for key, value in public(row).items()
            if key not in ("Entries", "DocId", "ChangedDate")
        }
        for row in _batches_in(call.company, start, end)
    ]


def get_gl_batch(call: Call) -> JSON:
    """``getglbatch``: one batch's ``Header`` and ``Lines``."""
    batch_id = call.body.guid("Id", required=True)
    batch = next((b for key, b in call.company.batches.items() if key.lower() == batch_id), None)
    if batch is None:
        raise message("Batch not found")
    view = public(batch)
    header = {
        k: v for k, v in view.items() if k not in ("Entries", "DocId", "ChangedDate", "FileExists")
    }
    header.update(FileName=None, FileContent=None)
    lines = [
        {
            "AccountCode": e["AccountCode"],
            "Memo": e["Memo"],
            "DepartmentCode": e["DepartmentCode"],
            "TaxName": _tax_name(call.company, e["TaxId"]),
            "DebitAmount": e["DebitAmount"],
            "DebitCurrency": e["DebitCurrency"],
            "CreditAmount": e["CreditAmount"],
            "CreditCurrency": e["CreditCurrency"],
            "TypeId": e["TypeId"],
        }
        for e in view["Entries"]
    ]
    return {"Header": header, "Lines": lines}


def _tax_name(company: Company, tax_id: str | None) -> str | None:
    tax = company.tax(tax_id) if tax_id else None
    return tax["Name"] if tax else None


def get_gl_batches_full(call: Call) -> JSON:
    """``GetGLBatchesFull``: batches with ``Entries`` within at most 31 days.

    ``WithLines`` 0 leaves ``Entries`` null; ``WithCostAlloc`` 0 leaves each entry's
    ``CostAllocLines`` null; ``DateType`` 1 selects by changed date (Estonia only).
    """
    body = call.body
    start, end = period(body, max_days=MAX_GL_FULL_DAYS)
    with_lines = body.flag("WithLines", default=True)
    with_alloc = body.flag("WithCostAlloc", default=True)
    date_type = body.decimal("DateType") or Decimal(0)
    if date_type not in (0, 1):
        raise message("DateType must be 0 or 1")
    by_changed = date_type == 1 and call.company.country.code == "EE"
    rows = []
    for batch in _batches_in(call.company, start, end, by_changed):
        view = public(batch)
        if not with_lines:
            view["Entries"] = None
        elif not with_alloc:
            view["Entries"] = [{**entry, "CostAllocLines": None} for entry in view["Entries"]]
        view.pop("FileExists", None)
        rows.append(view)
    return rows


def get_banks(call: Call) -> JSON:
    """``getbanks``: the company's bank accounts."""
    return public(call.company.banks)


# ------------------------------------------------------------------ writers
_CUSTOMER_FIELDS = {
    "regno": "RegNo", "vatregno": "VatRegNo", "currencycode": "CurrencyCode",
    "paymentdeadline": "PaymentDeadLine", "overduecharge": "OverdueCharge", "refnobase": "RefNoBase",
    "address": "Address", "city": "City", "county": "County", "postalcode": "PostalCode",
    "countrycode": "CountryCode", "phoneno": "PhoneNo", "phoneno2": "PhoneNo2", "homepage": "HomePage",
    "email": "Email", "contact": "Contact", "salesinvlang": "SalesInvLang", "bankaccount": "BankAccount",
}  # fmt: skip


def _new_customer(call: Call, data: Body) -> Row:
    """A customer created from ``sendinvoice``'s ``Customer`` (``Name``, ``NotTDCustomer``, ``CountryCode`` required)."""
    name = data.text("Name", required=True)
    if data.raw("NotTDCustomer") is None:
        raise missing("NotTDCustomer")
    person = data.flag("NotTDCustomer")
    data.text("CountryCode", required=True)
    company = call.company
    row = seed.customer_row(company.rng, company.country, len(company.customers), call.now)
    row.update(
        {
            key: ""
            for key in (
                "RegNo",
                "VatRegNo",
                "Contact",
                "PhoneNo",
                "Address",
                "City",
                "County",
                "PostalCode",
                "Email",
                "HomePage",
            )
        },
        Name=name,
        NotTDCustomer=person,
        CountryName="",
        CustomerGroupName=None,
        _comments=[],
    )
    for key, target in _CUSTOMER_FIELDS.items():
        if data.has(key):
            value = data.raw(key)
            if target in ("PaymentDeadLine", "RefNoBase"):
                value = int(data.decimal(key) or 0)
            elif target == "OverdueCharge":
                value = data.decimal(key)
            row[target] = value if not isinstance(value, str) else value.strip()
    if row["CountryCode"] == company.country.code:
        row["CountryName"] = company.country.country_name
    company.customers[row["CustomerId"]] = row
    return row


def send_invoice(call: Call) -> JSON:
    """``sendinvoice``: create a sales invoice (and, if needed, its customer and items).

    Checks what Merit checks: the customer exists or can be created, ``InvoiceNo`` is
    given (at most 35 characters, unique in the company), every row has an item code,
    a description and a known ``TaxId``, the rows sum to ``TotalAmount`` and the VAT to
    ``TaxAmount`` (each row rounded to cents first), and ``Payment.PaidAmount`` does not
    exceed the invoice total. An invoice without rows is Merit's documented
    "200 with a stack trace".
    """
    body, company = call.body, call.company
    customer_data = body.obj("Customer", required=True)
    assert customer_data is not None
    rows = body.objects("InvoiceRow", required=True)
    assert rows is not None
    invoice_no = body.text("InvoiceNo", required=True)
    assert invoice_no is not None
    if not rows:
        raise stack_trace(
            "System.NullReferenceException",
            "Object reference not set to an instance of an object.",
            200,
        )
    tax_amounts = body.objects("TaxAmount", required=True)
    assert tax_amounts is not None
    if len(invoice_no) > INVOICE_NO_MAX:
        raise message(f"InvoiceNo is longer than {INVOICE_NO_MAX} characters")
    if any(inv["Header"]["InvoiceNo"] == invoice_no for inv in company.invoices.values()):
        raise message(f"Invoice with number {invoice_no} already exists")
    customer_id = customer_data.guid("Id")
    lines: list[LineIn] = []
    new_items: list[Row] = []
    for row in rows:
        item = row.obj("Item", required=True)
        assert item is not None
        code = item.text("Code", required=True)
        description = item.text("Description", required=True)
        tax_id = row.guid("TaxId", required=True)
        assert code is not None and description is not None and tax_id is not None
        tax = company.tax(tax_id)
        if tax is None:
            raise message(f"Tax with Id {tax_id} not found")
        known = next((i for i in [*company.items, *new_items] if i["Code"] == code), None)
        type_code = int(item.decimal("Type") or (known["TypeCode"] if known else 3))
        if type_code not in (1, 2, 3):
            raise message("Item Type must be 1, 2 or 3")
        uom = item.text("UOMName") or (known["UnitofMeasureName"] if known else "")
        quantity = row.decimal("Quantity")
        price = row.decimal("Price")
        lines.append(
            LineIn(
                code=code,
                description=description,
                quantity=Decimal(1) if quantity is None else quantity,
                price=(known["SalesPrice"] if known else Decimal(0)) if price is None else price,
                tax=tax,
                discount_pct=row.decimal("DiscountPct") or Decimal(0),
                discount_amount=row.decimal("DiscountAmount") or Decimal(0),
                uom=uom,
                location=row.text("LocationCode") or "",
            )
        )
        if known is None:
            # Merit adds an item it does not know yet from the row's Item object.
            new_items.append(
                seed.item_row(
                    company.rng,
                    company.country,
                    code,
                    description,
                    type_code,
                    uom,
                    lines[-1].price,
                    tax["Name"],
                )
            )
    amounts = [ledger.line_amounts(line) for line in lines]
    total = sum((amount for amount, _ in amounts), Decimal(0))
    computed_vat: dict[str, Decimal] = {}
    for line, (_, vat) in zip(lines, amounts, strict=True):
        computed_vat[line.tax["Id"]] = computed_vat.get(line.tax["Id"], Decimal(0)) + vat
    sent_total = body.decimal("TotalAmount")
    if sent_total is not None and money(sent_total) != total:
        raise message("INVOICE ROWS DOES NOT SUM UP")
    sent_vat: dict[str, Decimal] = {}
    for entry in tax_amounts:
        tax_id = entry.guid("TaxId", required=True)
        assert tax_id is not None
        sent_vat[tax_id] = sent_vat.get(tax_id, Decimal(0)) + money(entry.decimal("Amount") or 0)
    if {k: v for k, v in sent_vat.items() if v} != {k: v for k, v in computed_vat.items() if v}:
        raise message("TAX AMOUNTS DOES NOT SUM UP")
    total_sum = total + sum(computed_vat.values(), Decimal(0))
    payment = body.obj("Payment")
    paid = payment.decimal("PaidAmount", required=True) if payment else None
    if paid is not None and (paid <= 0 or money(paid) > total_sum):
        raise message("PaidAmount can't exceed the invoice total and must be positive")
    doc_date = body.moment("DocDate") or call.now
    if customer_id is not None:
        customer = company.customer(customer_id)
        if customer is None:
            raise message(f"Customer with Id {customer_id} not found")
        new_customer = None
    else:
        customer = _new_customer(call, customer_data)
        new_customer = True
    due_date = body.moment("DueDate") or doc_date + timedelta(
        days=int(customer["PaymentDeadLine"] or 0)
    )
    company.items.extend(new_items)
    invoice = ledger.book_sales_invoice(
        company,
        customer,
        invoice_no,
        doc_date,
        due_date,
        lines,
        call.now,
        ref_no=body.text("RefNo"),
        hcomment=body.text("HComment") or "",
        fcomment=body.text("FComment") or "",
    )
    if payment is not None and paid is not None:
        paid_on = payment.moment("PaymDate") or doc_date
        method = payment.text("PaymentMethod") or (
            company.banks[0]["Name"] if company.banks else ""
        )
        ledger.book_invoice_payment(company, invoice, paid, paid_on.date(), method, call.now)
    header = invoice["Header"]
    return {
        "CustomerId": header["CustomerId"],
        "InvoiceId": header["SIHId"],
        "InvoiceNo": header["InvoiceNo"],
        "RefNo": header["ReferenceNo"],
        "NewCustomer": new_customer,
    }


#: Endpoint name (lower case: ASP.NET routes ignore case) → handler.
ENDPOINTS: dict[str, Handler] = {
    "gettaxes": get_taxes,
    "getitems": get_items,
    "getcustomers": get_customers,
    "getinvoices": get_invoices,
    "getinvoice": get_invoice,
    "getpayments": get_payments,
    "getpurchorders": get_purchase_invoices,
    "getglbatches": get_gl_batches,
    "getglbatch": get_gl_batch,
    "getglbatchesfull": get_gl_batches_full,
    "getbanks": get_banks,
    "sendinvoice": send_invoice,
}
#: Endpoints that read or write documents (they need the company's seeded history).
DOCUMENT_ENDPOINTS = frozenset(ENDPOINTS) - {"gettaxes", "getitems", "getcustomers", "getbanks"}
