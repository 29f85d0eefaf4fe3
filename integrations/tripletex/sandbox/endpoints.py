"""The emulated Tripletex v2 endpoints: list/detail machinery, handlers and writes.

Handlers receive a :class:`Call` (already authenticated by :mod:`.app` unless the
route is public) and return a :class:`Reply`; they raise
:class:`~.store.TripletexError` (or :class:`~.fields.QueryError` for bad query
parameters) for every API error. The routing table lives in :mod:`.app`. Choices
for behaviour the fact sheet leaves unconfirmed are marked "(choice)" and listed
in README.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .fields import (
    KIND_PATHS,
    SCHEMAS,
    FieldSpec,
    Filter,
    bool_param,
    int_param,
    number_param,
    param_error,
    parse_fields,
    project,
    require,
    required_date,
    sort_rows,
    validate_fields,
)
from .store import (
    VALIDATION_ERROR,
    Auth,
    ControlError,
    Row,
    Store,
    TripletexError,
    parse_date,
    validation_error,
)

#: Largest accepted ``count`` (choice); above it the API answers 422 / 23000.
MAX_COUNT = 10_000
DEFAULT_COUNT = 1000


@dataclass
class Reply:
    """An API answer: status, JSON-able body (``None`` = no body) and extra headers."""

    status: int
    body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Call:
    """One ``/v2`` request as the handlers see it."""

    store: Store
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    host: str
    auth: Auth | None = None

    @property
    def company(self) -> int:
        """The company the caller acts in (own company, or a client via proxy login)."""
        return self.auth.company_id if self.auth else 0

    @property
    def employee(self) -> int | None:
        """The calling employee's id."""
        return self.auth.employee_id if self.auth else None

    def json(self) -> Any:
        """The request body as JSON (422 / 22000 if it is not valid JSON)."""
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            raise TripletexError(422, 22000, "Invalid JSON in the request body.") from None

    def url(self, kind: str, row_id: int) -> str:
        """Canonical object URL: ``host/v2/path/id`` without a scheme, as Tripletex writes them (choice)."""
        return f"{self.host}/v2{KIND_PATHS[kind]}/{row_id}"

    def get(self, kind: str, row_id: int) -> Row | None:
        """Row lookup for ``fields`` expansion (``client`` rows are companies)."""
        if kind == "client":
            return _client_row(self.store.get("company", row_id))
        return self.store.get(kind, row_id)


Handler = Callable[..., Reply]


# ----------------------------------------------------------- list machinery
def fields_of(call: Call, kind: str) -> FieldSpec | None:
    """Parsed and validated ``fields`` (a :class:`FieldsError` becomes 400 / 11000)."""
    spec = parse_fields(call.query.get("fields"))
    validate_fields(spec, kind)
    return spec


def value_reply(call: Call, kind: str, row: Row, status: int = 200) -> Reply:
    """``{"value": ...}`` projected with the request's ``fields``."""
    return Reply(status, {"value": project(row, kind, fields_of(call, kind), call)})


def list_reply(
    call: Call, kind: str, rows: list[Row], extra: dict[str, Any] | None = None
) -> Reply:
    """The list envelope with paging, sorting, ``fields`` and ``If-None-Match`` / ``versionDigest``."""
    spec = fields_of(call, kind)
    start = int_param(call.query, "from", 0) or 0
    count = int_param(call.query, "count", DEFAULT_COUNT)
    if start < 0 or count is None or count < 0:
        raise param_error("from" if start < 0 else "count", "Must be zero or greater.")
    if count > MAX_COUNT:
        raise param_error("count", f"count can not exceed {MAX_COUNT}.", code=23000)
    rows = sort_rows(rows, kind, call.query.get("sorting", ""), call)
    values = [project(row, kind, spec, call) for row in rows[start : start + count]]
    body: dict[str, Any] = {
        "fullResultSize": len(rows),
        "from": start,
        "count": len(values),
        "versionDigest": None,
        **(extra or {}),
        "values": values,
    }
    tag = call.headers.get("if-none-match", "").strip()
    if tag:
        digest = hashlib.sha256(
            json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()[:32]
        if tag.removeprefix("W/").strip('"') == digest:
            return Reply(304)
        body["versionDigest"] = digest
    return Reply(200, body)


def listing(
    kind: str,
    *filters: Filter,
    required: tuple[str, ...] = (),
    extra: Callable[[list[Row]], dict[str, Any]] | None = None,
) -> Handler:
    """A list handler for ``kind`` in the caller's company."""

    def handle(call: Call) -> Reply:
        require(call.query, *required)
        tests = [test for build in filters if (test := build(call.query)) is not None]
        rows = [
            row
            for row in call.store.company_rows(kind, call.company)
            if all(test(row) for test in tests)
        ]
        return list_reply(call, kind, rows, extra(rows) if extra else None)

    return handle


def detail(kind: str) -> Handler:
    """A ``GET /x/{id}`` handler; another company's id is a 404."""

    def handle(call: Call, id: int) -> Reply:
        row = call.store.get_in(kind, id, call.company)
        if row is None:
            raise TripletexError(404, 6000, "Object not found.")
        return value_reply(call, kind, row)

    return handle


# ------------------------------------------------------------------ handlers
def session_create(call: Call) -> Reply:
    """``PUT /token/session/:create`` (no auth)."""
    require(call.query, "consumerToken", "employeeToken", "expirationDate")
    row = call.store.create_session(
        call.query["consumerToken"],
        call.query["employeeToken"],
        call.query["expirationDate"].strip(),
    )
    return value_reply(call, "sessionToken", row)


def session_delete(call: Call, token: str) -> Reply:
    """``DELETE /token/session/{token}``: 204, or 404 if not one of the caller's sessions."""
    if call.auth is None or not call.store.delete_session(token, call.auth):
        raise TripletexError(404, 6000, "Object not found.")
    return Reply(204)


def who_am_i(call: Call) -> Reply:
    """``GET /token/session/>whoAmI``."""
    auth = call.auth
    assert auth is not None
    info = {
        "employeeId": auth.employee_id,
        "actualEmployeeId": auth.employee_id,
        "employee": auth.employee_id,
        "companyId": auth.company_id,
        "company": auth.company_id,
        "language": "NO",
        "loggedInWithConnect": False,
        "employeeIsProxy": auth.is_proxy,
    }
    return value_reply(call, "loggedInUserInfo", info)


def _client_row(company: Row | None) -> Row | None:
    return None if company is None else {**company, "customerCompanyId": company["id"]}


def with_login_access(call: Call) -> Reply:
    """``GET /company/>withLoginAccess``: the acting company's clients (``Client.id`` = company id)."""
    rows = [
        _client_row(call.store.get("company", cid))
        for cid in call.store.company_clients(call.company)
    ]
    return list_reply(call, "client", [row for row in rows if row])


def company_detail(call: Call, id: int) -> Reply:
    """``GET /company/{id}``: the acting company or one of its clients."""
    if id != call.company and id not in call.store.company_clients(call.company):
        raise TripletexError(404, 6000, "Object not found.")
    return value_reply(call, "company", call.store.get("company", id) or {})


def order_create(call: Call) -> Reply:
    """``POST /order`` → 201."""
    return value_reply(
        call, "order", create_order(call.store, call.company, call.json(), call.employee), 201
    )


def order_update(call: Call, id: int) -> Reply:
    """``PUT /order/{id}``."""
    return value_reply(
        call, "order", update_order(call.store, call.company, id, call.json(), call.employee)
    )


def order_invoice(call: Call, id: int) -> Reply:
    """``PUT /order/{id}/:invoice?invoiceDate=&sendToCustomer=`` → 200 with the invoice."""
    invoice_date = required_date(call.query, "invoiceDate")
    send = bool_param(call.query, "sendToCustomer")
    payment_type, paid = (
        int_param(call.query, "paymentTypeId"),
        number_param(call.query, "paidAmount"),
    )
    if (payment_type is None) != (paid is None):
        raise validation_error(
            "paidAmount" if paid is None else "paymentTypeId",
            "paymentTypeId and paidAmount must be given together.",
            developer_message=VALIDATION_ERROR,
        )
    invoice = invoice_order(
        call.store,
        call.company,
        id,
        invoice_date,
        True if send is None else send,
        call.employee,
        payment_type,
        paid,
    )
    return value_reply(call, "invoice", invoice)


def invoice_payment(call: Call, id: int) -> Reply:
    """``PUT /invoice/{id}/:payment?paymentDate=&paymentTypeId=&paidAmount=``."""
    require(call.query, "paymentDate", "paymentTypeId", "paidAmount")
    invoice = register_payment(
        call.store,
        call.company,
        id,
        required_date(call.query, "paymentDate"),
        int_param(call.query, "paymentTypeId") or 0,
        number_param(call.query, "paidAmount") or 0.0,
        call.employee,
    )
    return value_reply(call, "invoice", invoice)


# -------------------------------------------------------------------- writes
def add_voucher(
    store: Store,
    company: int,
    day: date,
    type_name: str,
    description: str,
    postings: list[tuple[int, float, Row]],
    extra: Row | None = None,
    by: int | None = None,
) -> Row:
    """Create a voucher of the named type with postings ``(account number, amount, extra)``."""
    number = store.next_number(f"voucher{day.year}", company)
    voucher = store.insert(
        "voucher",
        company,
        {
            "date": day.isoformat(),
            "number": number,
            "year": day.year,
            "description": description,
            "voucherType": store.lookup("voucherType", company, type_name),
            "displayName": f"{number}-{day.year} {description}",
            **(extra or {}),
        },
        by,
        f"{day.isoformat()}T12:00:00",
    )
    currency = store.lookup("currency", "NOK")
    ids = []
    for row_no, (account, amount, values) in enumerate(postings, 1):
        ids.append(
            store.insert(
                "posting",
                company,
                {
                    "voucher": voucher["id"],
                    "date": voucher["date"],
                    "description": description,
                    "account": store.lookup("account", company, account),
                    "amount": amount,
                    "amountCurrency": amount,
                    "amountGross": amount,
                    "amountGrossCurrency": amount,
                    "currency": currency,
                    "row": row_no,
                    "systemGenerated": False,
                    **values,
                },
            )["id"]
        )
    voucher["postings"] = ids
    return voucher


def create_order(store: Store, company: int, data: Any, employee_id: int | None) -> Row:
    """``POST /order`` with embedded ``orderLines``; raises :class:`TripletexError` on bad input."""
    with store.lock:
        check = _Check(store, company)
        values = _order_values(store, check, data, creating=True)
        prioritize = bool(values.get("isPrioritizeAmountsIncludingVat"))
        lines = check.items(data, "orderLines")
        line_values = [
            _line_values(store, check, line, f"orderLines[{i}].", prioritize)
            for i, line in enumerate(lines)
        ]
        check.done()
        customer = store.get("customer", values["customer"]) or {}
        defaults = {
            "number": str(store.next_number("order", company)),
            "receiverEmail": customer.get("invoiceEmail") or customer.get("email"),
            "invoicesDueIn": customer.get("invoicesDueIn", 14),
            "invoicesDueInType": customer.get("invoicesDueInType", "DAYS"),
            "currency": store.lookup("currency", "NOK"),
        }
        order = store.insert("order", company, {**defaults, **values}, employee_id)
        order["orderLines"] = [
            store.insert("orderLine", company, {**line, "order": order["id"]}, employee_id)["id"]
            for line in line_values
        ]
        return order


def update_order(
    store: Store, company: int, order_id: int, data: Any, employee_id: int | None
) -> Row:
    """``PUT /order/{id}``: partial update; lines with an ``id`` are changed, others added."""
    with store.lock:
        order = _own(store, company, "order", order_id)
        check = _Check(store, company)
        if isinstance(data, dict) and data.get("version") not in (None, order["version"]):
            raise TripletexError(
                409,
                8000,
                "The object has been changed since it was read.",
            )
        if order.get("_invoiced"):
            raise TripletexError(409, 10000, "The order has been invoiced and is locked.")
        values = _order_values(store, check, data, creating=False)
        prioritize = bool(
            values.get(
                "isPrioritizeAmountsIncludingVat", order.get("isPrioritizeAmountsIncludingVat")
            )
        )
        changes: list[tuple[Row | None, Row]] = []
        for i, line in enumerate(check.items(data, "orderLines")):
            check.keys("orderLine", line, f"orderLines[{i}].")
            existing = (
                store.get("orderLine", line.get("id")) if isinstance(line.get("id"), int) else None
            )
            if existing is not None and existing["order"] != order_id:
                existing = None
                check.fail(f"orderLines[{i}].id", "The order line does not belong to this order.")
            merged = {**_line_input(existing, prioritize), **line} if existing else line
            changes.append(
                (existing, _line_values(store, check, merged, f"orderLines[{i}].", prioritize))
            )
        check.done()
        order.update(values)
        for existing, line in changes:
            if existing is None:
                order["orderLines"] = [
                    *order.get("orderLines", []),
                    store.insert("orderLine", company, {**line, "order": order_id}, employee_id)[
                        "id"
                    ],
                ]
            else:
                existing.update(line)
                existing["version"] += 1
        store.touch(order, employee_id)
        return order


def invoice_order(
    store: Store,
    company: int,
    order_id: int,
    invoice_date: date,
    send: bool,
    employee_id: int | None,
    payment_type_id: int | None = None,
    paid_amount: float | None = None,
    assign_number: bool = True,
) -> Row:
    """``PUT /order/{id}/:invoice``: a charged invoice with the next invoice number, or with
    ``invoiceNumber`` 0 (and no KID) until one is assigned when ``assign_number`` is False (the
    control API's "number assigned later")."""
    with store.lock:
        order = _own(store, company, "order", order_id)
        if order.get("isClosed"):
            raise validation_error(
                "isClosed",
                "The order is closed and can not be invoiced.",
                developer_message=VALIDATION_ERROR,
            )
        lines = [store.get("orderLine", i) or {} for i in order.get("orderLines", [])]
        if not lines:
            raise validation_error(
                "orderLines",
                "The order has no order lines to invoice.",
                developer_message=VALIDATION_ERROR,
            )
        bank = store.get("account", store.lookup("account", company, 1920) or 0) or {}
        if not bank.get("bankAccountNumber") and not store.company_rows("invoice", company):
            # The first invoice of a company needs a bank account number on 1920 (fact sheet 6.5).
            raise validation_error(
                None,
                "Faktura kan ikke opprettes før selskapet har registrert et bankkontonummer.",
                developer_message=VALIDATION_ERROR,
            )
        customer = store.get("customer", order["customer"]) or {}
        excl = sum((Decimal(str(line["amountExcludingVatCurrency"])) for line in lines), Decimal(0))
        incl = sum((Decimal(str(line["amountIncludingVatCurrency"])) for line in lines), Decimal(0))
        number = store.next_number("invoice", company) if assign_number else 0
        due_in = int(order.get("invoicesDueIn") or 0)
        due = (
            _add_months(invoice_date, due_in)
            if order.get("invoicesDueInType") == "MONTHS"
            else invoice_date + timedelta(days=due_in)
        )
        voucher = add_voucher(
            store,
            company,
            invoice_date,
            "Utgående faktura",
            f"Faktura {number} {customer.get('name')}",
            [
                (
                    1500,
                    _money(incl),
                    {
                        "customer": customer.get("id"),
                        "invoiceNumber": str(number),
                        "type": "OUTGOING_INVOICE_CUSTOMER_POSTING",
                    },
                ),
                (3000, _money(-excl), {}),
                (2700, _money(excl - incl), {}),
            ],
            by=employee_id,
        )
        send_type = customer.get("invoiceSendMethod") or "EMAIL"
        invoice = store.insert(
            "invoice",
            company,
            {
                "invoiceNumber": number,
                "invoiceDate": invoice_date.isoformat(),
                "invoiceDueDate": due.isoformat(),
                "deliveryDate": order.get("deliveryDate"),
                "customer": customer.get("id"),
                "orders": [order_id],
                "orderLines": list(order.get("orderLines", [])),
                "voucher": voucher["id"],
                "kid": _kid(number) if number else "",
                "invoiceComment": order.get("invoiceComment"),
                "currency": order.get("currency"),
                "amount": _money(incl),
                "amountCurrency": _money(incl),
                "amountExcludingVat": _money(excl),
                "amountExcludingVatCurrency": _money(excl),
                **_outstanding(incl),
                "postings": voucher["postings"][:1],
                "ehfSendStatus": "SENT" if send and send_type == "EHF" else "DO_NOT_SEND",
                "_sent_to_customer": send,
            },
            employee_id,
            store.timestamp(),
        )
        order["isClosed"] = order["_invoiced"] = True
        store.touch(order, employee_id)
        if send:
            store.record_sent_invoice(
                {
                    "invoice_id": invoice["id"],
                    "invoice_number": number,
                    "company_id": company,
                    "customer_id": customer.get("id"),
                    "send_type": send_type,
                    "sent_at": store.timestamp(),
                    "recipient": order.get("receiverEmail")
                    or customer.get("invoiceEmail")
                    or customer.get("email"),
                }
            )
        if paid_amount:
            register_payment(
                store,
                company,
                invoice["id"],
                invoice_date,
                payment_type_id or 0,
                paid_amount,
                employee_id,
            )
        return invoice


def register_payment(
    store: Store,
    company: int,
    invoice_id: int,
    payment_date: date,
    payment_type_id: int,
    paid_amount: float,
    employee_id: int | None,
) -> Row:
    """``PUT /invoice/{id}/:payment``: lowers ``amountOutstanding`` (over-payment goes negative)."""
    with store.lock:
        invoice = _own(store, company, "invoice", invoice_id)
        payment_type = store.get_in("paymentType", payment_type_id, company)
        if payment_type is None:
            raise validation_error(
                "paymentTypeId",
                f"The payment type {payment_type_id} does not exist.",
                developer_message=VALIDATION_ERROR,
            )
        paid = Decimal(str(paid_amount))
        if paid <= 0:
            raise validation_error(
                "paidAmount",
                "The paid amount must be greater than zero.",
                developer_message=VALIDATION_ERROR,
            )
        debit = store.get("account", payment_type["debitAccount"]) or {"number": 1920}
        add_voucher(
            store,
            company,
            payment_date,
            "Innbetaling",
            f"Innbetaling faktura {invoice['invoiceNumber']}",
            [
                (debit["number"], _money(paid), {}),
                (
                    1500,
                    _money(-paid),
                    {
                        "customer": invoice["customer"],
                        "invoiceNumber": str(invoice["invoiceNumber"]),
                        "type": "INCOMING_PAYMENT",
                    },
                ),
            ],
            by=employee_id,
        )
        # A payment settles the invoice amount; reminder fees stay in the totals (fact sheet 6.6).
        fees = Decimal(str(invoice["amountOutstandingTotal"])) - Decimal(
            str(invoice["amountOutstanding"])
        )
        invoice.update(_outstanding(Decimal(str(invoice["amountOutstanding"])) - paid))
        total = _money(Decimal(str(invoice["amountOutstanding"])) + fees)
        invoice["amountOutstandingTotal"] = invoice["amountCurrencyOutstandingTotal"] = total
        store.touch(invoice, employee_id)
        return invoice


def _own(store: Store, company: int, kind: str, row_id: int) -> Row:
    row = store.get_in(kind, row_id, company)
    if row is None:
        raise TripletexError(404, 6000, "Object not found.")
    return row


def _order_values(store: Store, check: _Check, data: Any, creating: bool) -> Row:
    check.keys("order", data, "")
    out: Row = {}
    for key, relation in SCHEMAS["order"].items():
        if key in ("id", "version", "url", "changes", "orderLines") or key not in data:
            continue
        if relation is not None:
            out[key] = check.ref(data, key, relation[1], "")
            employee = store.get("employee", out[key] or 0) if key == "ourContactEmployee" else None
            if employee is not None and not employee.get("_active", True):
                check.fail(f"{key}.id", "The employee is not active.")  # (choice)
        elif key in ("orderDate", "deliveryDate"):
            out[key] = check.date(data, key, "")
        elif key.startswith("is"):
            out[key] = check.boolean(data, key, "")
        elif key == "invoicesDueIn":
            days = check.number(data, key, "")
            out[key] = None if days is None else int(days)
        elif data[key] is not None and not isinstance(data[key], str):
            raise validation_error(key, "Expected a string.", 16000)
        else:
            out[key] = data[key]
    for key in ("customer", "orderDate", "deliveryDate") if creating else ():
        if data.get(key) is None:
            check.fail(key, "Cannot be null.")
    return out


def _line_values(store: Store, check: _Check, line: Any, prefix: str, prioritize: bool) -> Row:
    check.keys("orderLine", line, prefix)
    product = store.get("product", check.ref(line, "product", "product", prefix) or 0)
    vat = store.get("vatType", check.ref(line, "vatType", "vatType", prefix) or 0)
    if vat is not None and "OUTGOING" not in vat["_tags"]:
        # Tripletex's text for a code that is not an active output code of the company (not
        # outgoing at all, or the company is not registered for VAT: fact sheet 6.3, 6.5).
        check.fail(f"{prefix}vatType.id", "Ugyldig mva-kode.")
    if vat is None and line.get("vatType") is None:
        # The product's VAT type; a line with neither product nor VAT type gets no VAT at all
        # (fact sheet 6.5 and quirk 20), never a default rate.
        vat = store.get("vatType", (product or {}).get("vatType") or 0)
    count = check.number(line, "count", prefix) or Decimal(0)
    discount = check.number(line, "discount", prefix) or Decimal(0)
    if not 0 <= discount <= 100:
        check.fail(f"{prefix}discount", "The discount must be a percentage between 0 and 100.")
    excl = check.number(line, "unitPriceExcludingVatCurrency", prefix)
    incl = check.number(line, "unitPriceIncludingVatCurrency", prefix)
    if prioritize and excl is not None and incl is None:
        check.fail(
            f"{prefix}unitPriceIncludingVatCurrency",
            "The order uses amounts including VAT (isPrioritizeAmountsIncludingVat); give the price including VAT.",
        )
    if not prioritize and incl is not None and excl is None:
        check.fail(
            f"{prefix}unitPriceExcludingVatCurrency",
            "The order uses amounts excluding VAT (isPrioritizeAmountsIncludingVat=false); give the price excluding VAT.",
        )
    factor = 1 + Decimal(str(vat["percentage"] if vat else 0)) / 100
    product = product or {}
    if prioritize:
        incl = (
            incl
            if incl is not None
            else Decimal(str(product.get("priceIncludingVatCurrency") or 0))
        )
        excl = incl / factor
    else:
        excl = (
            excl
            if excl is not None
            else Decimal(str(product.get("priceExcludingVatCurrency") or 0))
        )
        incl = excl * factor
    quantity = count * (1 - discount / 100)
    return {
        "product": product.get("id"),
        "description": line.get("description") or product.get("name"),
        "count": float(count),
        "discount": float(discount),
        "vatType": vat["id"] if vat else None,
        "unitCostCurrency": product.get("costExcludingVatCurrency", 0.0),
        "markup": 0.0,
        "unitPriceExcludingVatCurrency": _price(excl),
        "unitPriceIncludingVatCurrency": _price(incl),
        "amountExcludingVatCurrency": _money(excl * quantity),
        "sortIndex": line.get("sortIndex"),
        "amountIncludingVatCurrency": _money(incl * quantity),
        "currency": store.lookup("currency", "NOK"),
    }


class _Check:
    """Collects validation messages for one write; mapping errors (16000) raise at once."""

    def __init__(self, store: Store, company: int) -> None:
        self.store = store
        self.company = company
        self.problems: list[tuple[str | None, str]] = []

    def fail(self, field_name: str, message: str) -> None:
        self.problems.append((field_name, message))

    def done(self) -> None:
        if self.problems:
            raise TripletexError(
                422,
                18000,
                "Validation failed.",
                self.problems,
                VALIDATION_ERROR,
            )

    def keys(self, kind: str, data: Any, prefix: str) -> None:
        if not isinstance(data, dict):
            raise validation_error(prefix.rstrip(".") or None, "Expected a JSON object.", 16000)
        for key in data:
            if key not in SCHEMAS[kind]:
                raise validation_error(
                    f"{prefix}{key}", "The field does not exist in the object.", 16000
                )

    def items(self, data: Any, key: str) -> list[Any]:
        value = data.get(key) or []
        if not isinstance(value, list):
            raise validation_error(key, "Expected a JSON array.", 16000)
        return value

    def ref(self, data: Row, key: str, kind: str, prefix: str) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict) or not isinstance(value.get("id"), int):
            raise validation_error(f"{prefix}{key}", 'Expected an object like {"id": 123}.', 16000)
        if self.store.get_in(kind, value["id"], self.company) is None:
            self.fail(f"{prefix}{key}.id", f"The object with id {value['id']} does not exist.")
            return None
        return value["id"]

    def date(self, data: Row, key: str, prefix: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        try:
            return parse_date(value).isoformat()
        except ControlError:
            raise validation_error(
                f"{prefix}{key}", "Invalid date, expected yyyy-MM-dd.", 16000
            ) from None

    def boolean(self, data: Row, key: str, prefix: str) -> bool | None:
        value = data.get(key)
        if value is not None and not isinstance(value, bool):
            raise validation_error(f"{prefix}{key}", "Expected true or false.", 16000)
        return value

    def number(self, data: Row, key: str, prefix: str) -> Decimal | None:
        value = data.get(key)
        if value is None:
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise InvalidOperation(value)
            number = Decimal(str(value))
            if not number.is_finite():
                raise InvalidOperation(value)
            return number
        except InvalidOperation:
            raise validation_error(f"{prefix}{key}", "Expected a number.", 16000) from None


def _money(value: Decimal | float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _price(value: Decimal) -> float:
    return float(value.quantize(Decimal("1e-10"), ROUND_HALF_UP))


def _outstanding(amount: Decimal) -> Row:
    value = _money(amount)
    return {
        "amountOutstanding": value,
        "amountCurrencyOutstanding": value,
        "amountOutstandingTotal": value,
        "amountCurrencyOutstandingTotal": value,
    }


def _kid(number: int) -> str:
    """A KID: the invoice number zero-padded to 7 digits plus a MOD10 (Luhn) check digit."""
    digits = f"{number:07d}"
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return digits + str((10 - total % 10) % 10)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


def _line_input(line: Row, prioritize: bool) -> Row:
    """An existing order line in input shape, so a partial PUT can be merged and recomputed."""
    price = "unitPriceIncludingVatCurrency" if prioritize else "unitPriceExcludingVatCurrency"
    out: Row = {key: line.get(key) for key in ("description", "count", "discount", price)}
    for key in ("product", "vatType"):
        if line.get(key) is not None:
            out[key] = {"id": line[key]}
    return out
