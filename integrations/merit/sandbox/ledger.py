"""A Merit company's books in the sandbox: the rows and the bookings that keep them consistent.

A sales invoice, a payment, a purchase invoice or a manual entry each also posts a GL
batch, so ``getinvoices``, ``getpayments``, ``getpurchorders``, ``getglbatches`` and
``GetGLBatchesFull`` always agree, whether the document was seeded or sent through
``sendinvoice``. Rows are dicts in Merit's response shape (PascalCase); keys starting
with ``_`` are internal (dates for filtering, change times) and never leave the sandbox.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from . import seed
from .seed import EMPTY_GUID, NO_DATE_0001, NO_DATE_1901, Country, guid, iso, money

Row = dict[str, Any]

_ACCOUNT_NAMES = {
    "EE": {
        "receivable": "Nõuded ostjate vastu",
        "payable": "Võlad tarnijatele",
        "bank": "Pangakontod",
        "revenue": "Müügitulu",
        "cost": "Kaubad, materjal ja teenused",
        "vat_out": "Käibemaksukohustus",
        "vat_in": "Sisendkäibemaks",
        "salary": "Palgakulu",
    },
    "FI": {
        "receivable": "Myyntisaamiset",
        "payable": "Ostovelat",
        "bank": "Pankkitili",
        "revenue": "Myynti",
        "cost": "Ostot",
        "vat_out": "ALV-velka",
        "vat_in": "ALV-saaminen",
        "salary": "Palkat",
    },
    "PL": {
        "receivable": "Rozrachunki z odbiorcami",
        "payable": "Rozrachunki z dostawcami",
        "bank": "Rachunek bankowy",
        "revenue": "Przychody ze sprzedaży",
        "cost": "Koszty według rodzajów",
        "vat_out": "VAT należny",
        "vat_in": "VAT naliczony",
        "salary": "Wynagrodzenia",
    },
}
#: Payment directions (``getpayments``): 1 customers, 2 vendors, 3 other income, 4 other expenses.
FROM_CUSTOMER, TO_VENDOR, OTHER_INCOME, OTHER_EXPENSE = 1, 2, 3, 4


@dataclass
class Company:
    """One company inside a Merit instance, with its own VAT codes, registers and documents."""

    id: int
    country: Country
    name: str
    reg_no: str
    vat_reg_no: str
    licence: str
    rng: random.Random
    taxes: list[Row] = field(default_factory=list)
    items: list[Row] = field(default_factory=list)
    customers: dict[str, Row] = field(default_factory=dict)
    vendors: list[Row] = field(default_factory=list)
    banks: list[Row] = field(default_factory=list)
    invoices: dict[str, Row] = field(default_factory=dict)
    purchases: dict[str, Row] = field(default_factory=dict)
    payments: list[Row] = field(default_factory=list)
    batches: dict[str, Row] = field(default_factory=dict)
    next_invoice_no: int = 1001
    batch_numbers: dict[str, int] = field(default_factory=dict)
    #: Seeded history not generated yet: ``(today, invoices per month, its own RNG)``.
    pending_history: tuple[date, int, random.Random] | None = None

    def ensure_history(self) -> None:
        """Generate the seeded documents on first use.

        Most tests only touch taxes, items or customers; generating two years of
        invoices and GL for every fresh sandbox would dominate their run time. The
        history has its own RNG, so it comes out the same whenever it is generated.
        """
        if self.pending_history is None:
            return
        today, per_month, history_rng = self.pending_history
        self.pending_history = None
        own_rng, self.rng = self.rng, history_rng
        try:
            seed_history(self, today, per_month)
        finally:
            self.rng = own_rng

    def tax(self, tax_id: str) -> Row | None:
        """The VAT code with this ``Id`` (GUIDs compare case-insensitively, as .NET's do)."""
        wanted = tax_id.lower()
        return next((row for row in self.taxes if row["Id"].lower() == wanted), None)

    def customer(self, customer_id: str) -> Row | None:
        """The customer with this ``CustomerId``."""
        wanted = customer_id.lower()
        return next((row for key, row in self.customers.items() if key.lower() == wanted), None)

    def invoice(self, invoice_id: str) -> Row | None:
        """The sales invoice (``{"Header", "Lines", "Payments"}``) with this ``SIHId``."""
        wanted = invoice_id.lower()
        return next((row for key, row in self.invoices.items() if key.lower() == wanted), None)

    def summary(self) -> dict[str, Any]:
        """Row counts for the control API (generates a pending history first)."""
        self.ensure_history()
        return {
            "id": self.id,
            "country": self.country.code,
            "name": self.name,
            "reg_no": self.reg_no,
            "vat_reg_no": self.vat_reg_no,
            "licence": self.licence,
            "customers": len(self.customers),
            "items": len(self.items),
            "taxes": len(self.taxes),
            "invoices": len(self.invoices),
            "purchase_invoices": len(self.purchases),
            "payments": len(self.payments),
            "gl_batches": len(self.batches),
        }

    def _account(self, role: str) -> tuple[str, str]:
        return self.country.accounts[role], _ACCOUNT_NAMES[self.country.code][role]

    def _entry(
        self,
        batch_id: str,
        role: str,
        memo: str,
        debit: Decimal = Decimal(0),
        credit: Decimal = Decimal(0),
        tax: Row | None = None,
    ) -> Row:
        code, name = self._account(role)
        entry: Row = {
            "AccountCode": code,
            "AccontName": name,  # sic: Merit's own spelling
            "Memo": memo,
            "DepartmentCode": "",
            "DebitAmount": money(debit),
            "DebitCurrency": money(debit),
            "CreditAmount": money(credit),
            "CreditCurrency": money(credit),
            "TypeId": 0,
            "BatchId": batch_id,
            "EntryId": guid(self.rng),
            "TaxId": tax["Id"] if tax else None,
            "CostAllocLines": [],
        }
        if self.country.code == "EE":
            entry["TaxPct"] = tax["TaxPct"] if tax else None
        return entry

    def post_batch(
        self,
        kind: str,
        on: date,
        document: str,
        doc_id: str,
        entries: list[tuple[Any, ...]],
        at: datetime,
    ) -> Row:
        """Post a GL batch of ``kind`` (sales/purchase/bank/manual) with ``(role, memo, debit, credit, tax)`` entries."""
        code = self.country.batch_codes[kind]
        number = self.batch_numbers.get(code, 0) + 1
        self.batch_numbers[code] = number
        batch_id = guid(self.rng)
        lines = [self._entry(batch_id, *entry) for entry in entries]
        total = sum((line["DebitAmount"] for line in lines), Decimal(0))
        batch: Row = {
            "GLBId": batch_id,
            "BatchCode": code,
            "No": number,
            "Document": document,
            "BatchDate": iso(on),
            "CurrencyCode": self.country.currency,
            "CurrencyRate": Decimal(1),
            "TotalAmount": money(total),
            "PriceInclVat": False,
            "FileExists": False,
            "Entries": lines,
            "_date": on,
            "_changed": at,
        }
        if self.country.code == "EE":
            batch["DocId"] = doc_id
            batch["ChangedDate"] = iso(at)
        self.batches[batch_id] = batch
        return batch


@dataclass
class LineIn:
    """One invoice row to book (already validated)."""

    code: str
    description: str
    quantity: Decimal
    price: Decimal
    tax: Row
    discount_pct: Decimal = Decimal(0)
    discount_amount: Decimal = Decimal(0)
    uom: str = ""
    location: str = ""


def line_amounts(line: LineIn) -> tuple[Decimal, Decimal]:
    """(amount excluding VAT, VAT) of one row, each rounded to cents *before* summing (Merit's FAQ)."""
    gross = line.quantity * line.price
    amount = money(gross * (1 - line.discount_pct / 100) - line.discount_amount)
    return amount, money(amount * line.tax["TaxPct"] / 100)


def book_sales_invoice(
    company: Company,
    customer: Row,
    invoice_no: str,
    doc_date: datetime,
    due_date: datetime,
    lines: list[LineIn],
    at: datetime,
    ref_no: str | None = None,
    hcomment: str = "",
    fcomment: str = "",
) -> Row:
    """Store a sales invoice with its rows and post its GL batch; returns ``{"Header", "Lines", "Payments"}``."""
    invoice_id = guid(company.rng)
    rows: list[Row] = []
    vat_by_tax: dict[str, tuple[Row, Decimal]] = {}
    total = Decimal(0)
    for line in lines:
        amount, vat = line_amounts(line)
        total += amount
        tax, so_far = vat_by_tax.get(line.tax["Id"], (line.tax, Decimal(0)))
        vat_by_tax[line.tax["Id"]] = (tax, so_far + vat)
        rows.append(
            {
                "SILId": guid(company.rng),
                "ArticleCode": line.code,
                "LocationCode": line.location,
                "Quantity": line.quantity,
                "Price": line.price,
                "TaxName": line.tax["Name"],
                "TaxPct": line.tax["TaxPct"],
                "AmountExclVat": amount,
                "AmountInclVat": amount + vat,
                "VatAmount": vat,
                "AccountCode": company.country.accounts["revenue"],
                "DepartmentCode": "",
                "DepartmentName": "",
                "ItemCostAmount": Decimal(0),
                "ProfitAmount": amount,
                "DiscountPct": line.discount_pct,
                "DiscountAmount": line.discount_amount,
                "Description": line.description,
                "UOMName": line.uom,
                "FixAsset": None,
                "DimAllocation": None,
            }
        )
    vat_total = sum((vat for _, vat in vat_by_tax.values()), Decimal(0))
    code = company.country.batch_codes["sales"]
    batch = company.post_batch(
        "sales",
        doc_date.date(),
        invoice_no,
        invoice_id,
        [
            ("receivable", customer["Name"], total + vat_total),
            *[
                (
                    "revenue",
                    row["Description"],
                    Decimal(0),
                    row["AmountExclVat"],
                    vat_by_tax[line.tax["Id"]][0],
                )
                for row, line in zip(rows, lines, strict=True)
            ],
            *[
                ("vat_out", tax["Name"], Decimal(0), vat, tax)
                for tax, vat in vat_by_tax.values()
                if vat
            ],
        ],
        at,
    )
    header: Row = {
        "SIHId": invoice_id,
        "DepartmentCode": "",
        "DepartmentName": "",
        "ProjectCode": "",
        "ProjectName": "",
        "BatchInfo": f"{code}-{batch['No']}",
        "InvoiceNo": invoice_no,
        "DocumentDate": iso(doc_date),
        "TransactionDate": iso(doc_date),
        "CustomerId": customer["CustomerId"],
        "CustomerName": customer["Name"],
        "CustomerRegNo": customer["RegNo"],
        "HComment": hcomment,
        "FComment": fcomment,
        "DueDate": iso(due_date),
        "CurrencyCode": customer.get("CurrencyCode") or company.country.currency,
        "CurrencyRate": Decimal(1),
        "TaxAmount": vat_total,
        "RoundingAmount": Decimal(0),
        "TotalAmount": total,
        "ProfitAmount": total,
        "TotalSum": total + vat_total,
        "UserName": "Uku Demo",
        "ReferenceNo": ref_no,
        "PriceInclVat": False,
        "VatRegNo": customer["VatRegNo"],
        "PaidAmount": Decimal(0),
        "EInvSent": False,
        "EmailSent": NO_DATE_1901,
        "Paid": False,
        # getinvoice's header has these too (fact sheet §4.6).
        "Dimensions": [],
        "AccountingDoc": 1,
        "EInvOperator": 0,
        "OfferId": None,
        "OfferDocType": None,
        "OfferNo": None,
        "FileExists": False,
        "PerSHId": None,
        "ContractNo": "",
        "Contact": customer.get("Contact", ""),
    }
    invoice = {
        "Header": header,
        "Lines": rows,
        "Payments": [],
        "_date": doc_date.date(),
        "_changed": at,
    }
    company.invoices[invoice_id] = invoice
    return invoice


def book_invoice_payment(
    company: Company, invoice: Row, amount: Decimal, on: date, method: str, at: datetime
) -> Row:
    """Record a customer's payment of ``invoice``: its ``Payments``, ``PaidAmount``/``Paid``, a bank row and batch."""
    header = invoice["Header"]
    amount = money(amount)
    payment_id = guid(company.rng)
    invoice["Payments"].append(
        {"PaymDate": iso(on), "Amount": amount, "PaymentMethod": method, "PaymentId": payment_id}
    )
    header["PaidAmount"] = money(header["PaidAmount"] + amount)
    header["Paid"] = header["PaidAmount"] >= header["TotalSum"]
    invoice["_changed"] = at
    return _bank_payment(
        company,
        payment_id,
        FROM_CUSTOMER,
        header["CustomerName"],
        header["InvoiceNo"],
        amount,
        on,
        method,
        at,
    )


def _bank_payment(
    company: Company,
    payment_id: str,
    direction: int,
    counterpart: str,
    document_no: str,
    amount: Decimal,
    on: date,
    bank: str,
    at: datetime,
) -> Row:
    incoming = direction in (FROM_CUSTOMER, OTHER_INCOME)
    other = {
        FROM_CUSTOMER: "receivable",
        TO_VENDOR: "payable",
        OTHER_INCOME: "revenue",
        OTHER_EXPENSE: "cost",
    }[direction]
    entries = (
        [("bank", counterpart, amount), (other, counterpart, Decimal(0), amount)]
        if incoming
        else [(other, counterpart, amount), ("bank", counterpart, Decimal(0), amount)]
    )
    company.post_batch("bank", on, document_no, payment_id, entries, at)
    row: Row = {
        "PHId": payment_id,
        "BankName": bank,
        "CounterPartType": 2
        if direction == FROM_CUSTOMER
        else (3 if direction == TO_VENDOR else 0),
        "CounterPartName": counterpart,
        "CurrencyCode": company.country.currency,
        "CurrencyRate": Decimal(1),
        "DocumentDate": iso(on),
        "DocumentNo": document_no,
        "Direction": direction,
        "Amount": amount,
        "_date": on,
    }
    company.payments.append(row)
    return row


def book_purchase_invoice(
    company: Company,
    vendor: Row,
    bill_no: str,
    on: date,
    amount: Decimal,
    tax: Row,
    paid_on: date | None,
    at: datetime,
) -> Row:
    """Store a purchase invoice (one cost line), post its batch and, if ``paid_on``, its payment."""
    purchase_id = guid(company.rng)
    amount = money(amount)
    vat = money(amount * tax["TaxPct"] / 100)
    batch = company.post_batch(
        "purchase",
        on,
        bill_no,
        purchase_id,
        [
            ("cost", vendor["Name"], amount, Decimal(0), tax),
            ("vat_in", tax["Name"], vat, Decimal(0), tax),
            ("payable", vendor["Name"], Decimal(0), amount + vat),
        ],
        at,
    )
    row: Row = {
        "PIHId": purchase_id,
        "DepartmentCode": "",
        "DepartmentName": "",
        "ProjectCode": "",
        "CostCenterCode": "",
        "BatchInfo": f"{batch['BatchCode']}-{batch['No']}",
        "BillNo": bill_no,
        "DocumentDate": iso(on),
        "TransactionDate": iso(on),
        "VendorId": vendor["VendorId"],
        "VendorName": vendor["Name"],
        "VendorRegNo": vendor["RegNo"],
        "DueDate": iso(on + timedelta(days=14)),
        "Fine": Decimal(0),
        "CurrencyCode": company.country.currency,
        "CurrencyRate": Decimal(1),
        "TaxAmount": vat,
        "RoundingAmount": Decimal(0),
        "TotalAmount": amount,
        "ProfitAmount": Decimal(0),
        "TotalSum": amount + vat,
        "ReferenceNo": None,
        "PriceInclVat": False,
        "VatRegNo": vendor["VatRegNo"],
        "PaidAmount": amount + vat if paid_on else Decimal(0),
        "FileExists": True,
        "InboundTime": NO_DATE_0001,
        "Operator": "",
        "Paid": paid_on is not None,
        "_date": on,
    }
    company.purchases[purchase_id] = row
    if paid_on is not None:
        _bank_payment(
            company,
            guid(company.rng),
            TO_VENDOR,
            vendor["Name"],
            bill_no,
            amount + vat,
            paid_on,
            company.banks[0]["Name"],
            at,
        )
    return row


def seed_history(company: Company, today: date, per_month: int) -> None:
    """24 months (up to ``today``) of sales invoices, payments, purchase invoices and salary entries.

    Volumes vary by month; older invoices are mostly paid (some partly), recent ones open.
    """
    rng = company.rng
    customers = list(company.customers.values())
    if not customers:
        return
    sellable = [item for item in company.items if item["TypeCode"] == 2] or company.items
    bank = company.banks[0]["Name"] if company.banks else "Pank"
    first = seed.add_months(date(today.year, today.month, 1), -23)
    for month in range(24):
        start = seed.add_months(first, month)
        last_day = (seed.add_months(start, 1) - timedelta(days=1)).day
        for _ in range(max(1, per_month + rng.randrange(-2, 3))):
            day = start.replace(day=rng.randrange(1, last_day + 1))
            if day > today:
                continue
            customer = rng.choice(customers)
            moment = datetime(
                day.year,
                day.month,
                day.day,
                rng.randrange(8, 18),
                rng.randrange(60),
                rng.randrange(60),
            )
            tax = (
                seed.default_tax(company.taxes, day)
                if customer["CountryCode"] == company.country.code
                else company.taxes[0]
            )
            lines = [
                LineIn(
                    item["Code"],
                    item["Name"],
                    Decimal(rng.choice([1, 1, 1, 2, 3, 10])),
                    item["SalesPrice"],
                    tax,
                    uom=item["UnitofMeasureName"],
                )
                for item in rng.sample(sellable, rng.randrange(1, 4))
            ]
            due = moment + timedelta(days=customer["PaymentDeadLine"])
            invoice = book_sales_invoice(
                company, customer, str(company.next_invoice_no), moment, due, lines, moment
            )
            company.next_invoice_no += 1
            age = (today - day).days
            total = invoice["Header"]["TotalSum"]
            if total > 0 and age > 20 and rng.random() < (0.95 if age > 60 else 0.6):
                paid_on = min(today, day + timedelta(days=rng.randrange(3, 40)))
                part = total if rng.random() < 0.9 else money(total / 2)
                book_invoice_payment(company, invoice, part, paid_on, bank, moment)
        for index in range(max(1, rng.randrange(3, 7))):
            day = start.replace(day=rng.randrange(1, last_day + 1))
            if day > today or not company.vendors:
                continue
            vendor = rng.choice(company.vendors)
            paid = day + timedelta(days=rng.randrange(1, 20))
            tax = seed.default_tax(company.taxes, day)
            at = datetime(day.year, day.month, day.day, 12)
            book_purchase_invoice(
                company,
                vendor,
                f"{start:%y%m}-{index + 1}",
                day,
                Decimal(rng.randrange(2000, 90000)) / 100,
                tax,
                paid if paid <= today else None,
                at,
            )
        month_end = start.replace(day=last_day)
        if month_end <= today:
            at = datetime(month_end.year, month_end.month, month_end.day, 16)
            company.post_batch(
                "manual",
                month_end,
                f"Palk {start:%m/%Y}",
                EMPTY_GUID,
                [("salary", "Palk", Decimal(3200)), ("bank", "Palk", Decimal(0), Decimal(3200))],
                at,
            )
            _bank_payment(
                company,
                guid(rng),
                OTHER_EXPENSE,
                bank,
                f"Teenustasu {start:%m/%Y}",
                Decimal("4.50"),
                month_end,
                bank,
                at,
            )
