"""The entity model and the Tripletex query language.

Model: per-kind schemas (:data:`SCHEMAS`), API paths, constant defaults and the
standard reference data every company gets (VAT codes, accounts, voucher types).
Query language: ``fields`` projection, ``sorting``, list filters and query params.

Rows in the store are plain dicts. A relation is stored as the bare id of the
target row (or a list of ids); the schema below says which kind it points at.
Keys starting with ``_`` are internal and never projected; missing keys project
as ``null`` (or ``[]`` for list relations), which keeps large seeds small.

Projection rules (fact sheet 3.3):

* no ``fields`` → every field of the object, nested objects as ``{id, url}``,
  list relations as lists of ``{id, url}``; ``changes`` left out;
* ``*`` → all fields of that level (still without ``changes``);
* ``sub(*)`` / ``sub(a,b)`` → expand a relation with all / some fields;
* ``changes`` only when named explicitly (``fields=*,changes``);
* an unknown field name, or ``(...)`` on a plain value, raises
  :class:`FieldsError` (the API answers 400 / code 11000).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

Relation = tuple[bool, str]  # (is_list, target kind)

_COMMON = "id version url"
_COMPANY = (
    f"{_COMMON} name displayName startDate endDate organizationNumber email phoneNumber "
    "phoneNumberMobile faxNumber address:address type currency:currency accountantOrSimilar "
    "companyMigration invoiceShowDeliveryDate"
)
_SCHEMA_TEXT: dict[str, str] = {
    "company": _COMPANY,
    "client": f"{_COMPANY} customerCompanyId",
    "address": f"{_COMMON} addressLine1 addressLine2 postalCode city country:country displayName addressAsString",
    "deliveryAddress": f"{_COMMON} name addressLine1 addressLine2 postalCode city country:country displayName",
    "country": f"{_COMMON} name displayName isoAlpha2Code isoAlpha3Code isoNumericCode",
    "currency": f"{_COMMON} code description factor displayName isDisabled",
    "department": f"{_COMMON} name departmentNumber departmentManager:employee displayName isInactive",
    "employee": (
        f"{_COMMON} changes firstName lastName displayName employeeNumber email phoneNumberMobile "
        "phoneNumberWork dateOfBirth userType department:department address:address "
        "employments:[employment] companyId isContact"
    ),
    "employment": f"{_COMMON} employmentId startDate endDate",
    "contact": f"{_COMMON} firstName lastName displayName email customer:customer",
    "customerCategory": f"{_COMMON} name number description type",
    "customer": (
        f"{_COMMON} changes name organizationNumber customerNumber supplierNumber isCustomer "
        "isSupplier isInactive isPrivateIndividual email invoiceEmail overdueNoticeEmail "
        "phoneNumber phoneNumberMobile description displayName accountManager:employee "
        "department:department language invoiceSendMethod emailAttachmentType "
        "postalAddress:address physicalAddress:address deliveryAddress:deliveryAddress "
        "invoicesDueIn invoicesDueInType currency:currency ledgerAccount:account "
        "category1:customerCategory category2:customerCategory category3:customerCategory"
    ),
    "supplier": (
        f"{_COMMON} changes name organizationNumber supplierNumber email phoneNumber isInactive "
        "postalAddress:address displayName"
    ),
    "productUnit": f"{_COMMON} name nameShort commonCode",
    "product": (
        f"{_COMMON} changes name number displayNumber description orderLineDescription ean "
        "priceExcludingVatCurrency priceIncludingVatCurrency costExcludingVatCurrency "
        "vatType:vatType currency:currency productUnit:productUnit department:department "
        "account:account isInactive isStockItem displayName"
    ),
    "vatType": f"{_COMMON} name number displayName percentage deductionPercentage parentType:vatType",
    "order": (
        f"{_COMMON} changes customer:customer contact:contact attn:contact receiverEmail "
        "overdueNoticeEmail number reference ourContact:contact ourContactEmployee:employee "
        "department:department orderDate project:project invoiceComment currency:currency "
        "invoicesDueIn invoicesDueInType isShowOpenPostsOnInvoices isClosed deliveryDate "
        "deliveryAddress:deliveryAddress deliveryComment isPrioritizeAmountsIncludingVat "
        "orderLineSorting orderLines:[orderLine] isSubscription"
    ),
    "orderLine": (
        f"{_COMMON} order:order product:product description count unitCostCurrency "
        "unitPriceExcludingVatCurrency unitPriceIncludingVatCurrency currency:currency markup "
        "discount vatType:vatType amountExcludingVatCurrency amountIncludingVatCurrency sortIndex"
    ),
    "invoice": (
        f"{_COMMON} changes invoiceNumber invoiceDate invoiceDueDate deliveryDate customer:customer "
        "orders:[order] orderLines:[orderLine] voucher:voucher kid comment invoiceComment "
        "currency:currency amount amountCurrency amountExcludingVat amountExcludingVatCurrency "
        "amountOutstanding amountCurrencyOutstanding amountOutstandingTotal "
        "amountCurrencyOutstandingTotal isCredited isCreditNote isCharged isApproved "
        "creditedInvoice postings:[posting] reminders paidAmount documentId ehfSendStatus"
    ),
    "paymentType": f"{_COMMON} description displayName debitAccount:account creditAccount:account",
    "voucherType": f"{_COMMON} name displayName",
    "voucher": (
        f"{_COMMON} changes date number tempNumber year description voucherType:voucherType "
        "reverseVoucher:voucher postings:[posting] document:document attachment:document "
        "ediDocument:document numberAsString externalVoucherNumber vendorInvoiceNumber "
        "supplierVoucherType displayName"
    ),
    "posting": (
        f"{_COMMON} voucher:voucher date description account:account customer:customer "
        "supplier:supplier employee:employee project:project product:product vatType:vatType "
        "amount amountCurrency amountGross amountGrossCurrency currency:currency invoiceNumber "
        "row type externalRef systemGenerated matched"
    ),
    "document": f"{_COMMON} fileName size mimeType",
    "account": (
        f"{_COMMON} number name description type ledgerType vatType:vatType isBankAccount "
        "isInactive bankAccountNumber currency:currency displayName"
    ),
    "supplierInvoice": (
        f"{_COMMON} invoiceNumber invoiceDate invoiceDueDate supplier:supplier voucher:voucher "
        "amount amountCurrency amountExcludingVat amountExcludingVatCurrency currency:currency "
        "isCreditNote kidOrReceiverReference outstandingAmount payments:[posting] "
        "originalInvoiceDocumentId"
    ),
    "bank": f"{_COMMON} name bankStatementFileFormatSupport registerNumbers",
    "bankStatement": (
        f"{_COMMON} fromDate toDate fileName openingBalanceCurrency closingBalanceCurrency "
        "bank:bank account:account transactions:[bankTransaction]"
    ),
    "bankTransaction": (
        f"{_COMMON} postedDate description amountCurrency bankStatement:bankStatement "
        "account:account matched matchType paymentId sourceVoucher:voucher groupedPostings:[posting]"
    ),
    "project": (
        f"{_COMMON} name number displayName description projectManager:employee customer:customer "
        "startDate endDate isClosed isInternal isOffer isFixedPrice reference "
        "externalAccountsNumber department:department mainProject:project vatType:vatType"
    ),
    "activity": f"{_COMMON} name number description activityType isChargeable rate isDisabled displayName",
    "timesheetEntry": (
        f"{_COMMON} project:project activity:activity date hours employee:employee comment "
        "chargeableHours locked chargeable invoice:invoice hourlyRate"
    ),
    "consumerToken": f"{_COMMON} apiConsumerName expirationDate",
    "employeeToken": f"{_COMMON} employee:employee name expirationDate",
    "sessionToken": (
        f"{_COMMON} consumerToken:consumerToken employeeToken:employeeToken expirationDate token "
        "encryptionKey"
    ),
    "loggedInUserInfo": (
        "employeeId actualEmployeeId employee:employee companyId company:company language "
        "loggedInWithConnect employeeIsProxy"
    ),
}

#: API path (relative to ``/v2``) of each kind, used to build ``url`` values.
KIND_PATHS: dict[str, str] = {
    "company": "/company",
    "client": "/company",
    "address": "/address",
    "deliveryAddress": "/deliveryAddress",
    "country": "/country",
    "currency": "/currency",
    "department": "/department",
    "employee": "/employee",
    "employment": "/employee/employment",
    "contact": "/contact",
    "customerCategory": "/customer/category",
    "customer": "/customer",
    "supplier": "/supplier",
    "productUnit": "/product/unit",
    "product": "/product",
    "vatType": "/ledger/vatType",
    "order": "/order",
    "orderLine": "/order/orderline",
    "invoice": "/invoice",
    "paymentType": "/invoice/paymentType",
    "voucherType": "/ledger/voucherType",
    "voucher": "/ledger/voucher",
    "posting": "/ledger/posting",
    "document": "/document",
    "account": "/ledger/account",
    "supplierInvoice": "/supplierInvoice",
    "bank": "/bank",
    "bankStatement": "/bank/statement",
    "bankTransaction": "/bank/statement/transaction",
    "project": "/project",
    "activity": "/activity",
    "timesheetEntry": "/timesheet/entry",
    "consumerToken": "/token/consumer",
    "employeeToken": "/token/employee",
    "sessionToken": "/token/session",
}

#: Constant field values every new row of a kind starts with (callers may override them).
DEFAULTS: dict[str, dict[str, Any]] = {
    "company": {
        "accountantOrSimilar": False,
        "companyMigration": "NONE",
        "invoiceShowDeliveryDate": False,
    },
    "customer": {
        "isCustomer": True,
        "isSupplier": False,
        "isInactive": False,
        "isPrivateIndividual": False,
        "language": "NO",
        "invoiceSendMethod": "EMAIL",
        "emailAttachmentType": "LINK",
        "invoicesDueIn": 14,
        "invoicesDueInType": "DAYS",
    },
    "supplier": {"isInactive": False},
    "employee": {"isContact": False},
    "department": {"isInactive": False},
    "product": {"isInactive": False, "isStockItem": False},
    "account": {"ledgerType": "GENERAL", "isInactive": False, "isBankAccount": False},
    "order": {"isClosed": False, "isSubscription": False, "isPrioritizeAmountsIncludingVat": False},
    "invoice": {
        "isCredited": False,
        "isCreditNote": False,
        "isCharged": True,
        "isApproved": True,
        # An integer id, 0 when none: not a relation (`creditedInvoice(*)` is a 400).
        "creditedInvoice": 0,
        "reminders": (),
        "ehfSendStatus": "DO_NOT_SEND",
    },
    "voucher": {"tempNumber": 0},
    "posting": {"systemGenerated": False},
    "supplierInvoice": {"isCreditNote": False},
    "bankTransaction": {"matched": True, "matchType": "AUTOMATIC"},
    "project": {"isClosed": False, "isInternal": False, "isOffer": False, "isFixedPrice": False},
    "activity": {"isDisabled": False},
}

# ------------------------------------------------- standard reference data
#: Standard Norwegian VAT codes every company gets: number, name, percentage, typeOfVat tags.
VAT_TYPES: list[tuple[str, str, float, str]] = [
    ("0", "Ingen avgiftsbehandling", 0, "OUTGOING INCOMING LEDGER"),
    ("1", "Fradrag for inngående avgift, høy sats", 25, "INCOMING INCOMING_INVOICE LEDGER"),
    ("11", "Fradrag for inngående avgift, middels sats", 15, "INCOMING INCOMING_INVOICE LEDGER"),
    ("12", "Fradrag for inngående avgift, råfisk", 11.11, "INCOMING LEDGER"),
    ("13", "Fradrag for inngående avgift, lav sats", 12, "INCOMING INCOMING_INVOICE LEDGER"),
    ("14", "Fradrag for inngående mva ved innførsel, høy sats", 25, "INCOMING LEDGER"),
    ("86", "Tjenester kjøpt fra utlandet, fradragsberettiget", 25, "INCOMING LEDGER"),
    ("3", "Utgående avgift, høy sats", 25, "OUTGOING PROJECT LEDGER"),
    ("31", "Utgående avgift, middels sats", 15, "OUTGOING PROJECT LEDGER"),
    ("32", "Utgående avgift, råfisk", 11.11, "OUTGOING LEDGER"),
    ("33", "Utgående avgift, lav sats", 12, "OUTGOING PROJECT LEDGER"),
    ("5", "Ingen utgående avgift (innenfor mva-loven)", 0, "OUTGOING PROJECT LEDGER"),
    ("52", "Utførsel av varer og tjenester, fritatt", 0, "OUTGOING LEDGER"),
    ("6", "Ingen utgående avgift (utenfor mva-loven)", 0, "OUTGOING PROJECT LEDGER"),
    ("7", "Ingen avgiftsbehandling (inntekter)", 0, "OUTGOING LEDGER"),
]
#: The part of the standard chart of accounts the sandbox uses: number, name, type, VAT code.
ACCOUNTS: list[tuple[int, str, str, str | None]] = [
    (1500, "Kundefordringer", "ASSETS", None),
    (1900, "Kontanter", "ASSETS", None),
    (1920, "Bankinnskudd", "ASSETS", None),
    (1950, "Bankinnskudd for skattetrekk", "ASSETS", None),
    (2400, "Leverandørgjeld", "LIABILITIES", None),
    (2700, "Utgående merverdiavgift", "LIABILITIES", None),
    (2710, "Inngående merverdiavgift", "LIABILITIES", None),
    (3000, "Salgsinntekt, avgiftspliktig", "OPERATING_REVENUES", "3"),
    (3100, "Salgsinntekt, avgiftsfri", "OPERATING_REVENUES", "5"),
    (4000, "Innkjøp av råvarer og halvfabrikata", "OPERATING_EXPENSES", "1"),
    (5000, "Lønn til ansatte", "OPERATING_EXPENSES", None),
    (6300, "Leie lokale", "OPERATING_EXPENSES", "1"),
    (6800, "Kontorrekvisita", "OPERATING_EXPENSES", "1"),
    (6900, "Telefon og internett", "OPERATING_EXPENSES", "1"),
    (7770, "Bank- og kortgebyrer", "OPERATING_EXPENSES", None),
]
BANK_ACCOUNTS = (1920, 1950)
VOUCHER_TYPES = [
    "Utgående faktura",
    "Leverandørfaktura",
    "Bankavstemming",
    "Manuelt bilag",
    "Innbetaling",
    "Lønnsbilag",
    "Purring",
]

_CHANGE_KEYS = ("employeeId", "timestamp", "changeType")


def _parse_schema(text: str) -> dict[str, Relation | None]:
    out: dict[str, Relation | None] = {}
    for item in text.split():
        name, _, target = item.partition(":")
        if not target:
            out[name] = None
        elif target.startswith("["):
            out[name] = (True, target.strip("[]"))
        else:
            out[name] = (False, target)
    return out


#: kind -> ordered field name -> relation (``None`` for a plain value).
SCHEMAS: dict[str, dict[str, Relation | None]] = {
    kind: _parse_schema(text) for kind, text in _SCHEMA_TEXT.items()
}


class QueryError(ValueError):
    """A bad query parameter, ``fields`` or ``sorting``, with the Tripletex status and code.

    The app turns it into the error envelope; ``problems`` become ``validationMessages``;
    ``developerMessage`` is null, as Tripletex leaves it on these errors.
    """

    def __init__(
        self,
        message: str,
        problems: list[tuple[str, str]] | None = None,
        status: int = 422,
        code: int = 18000,
    ) -> None:
        super().__init__(message)
        self.problems = problems or []
        self.status = status
        self.code = code


class FieldsError(QueryError):
    """A ``fields`` expression is malformed or names an unknown field: 400 / 11000 ("Illegal
    Filter") with the explanation as ``message`` and no validation messages, as Tripletex."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=400, code=11000)


@dataclass
class FieldSpec:
    """One level of a parsed ``fields`` expression."""

    star: bool = False
    fields: dict[str, FieldSpec | None] = field(default_factory=dict)

    def merge(self, other: FieldSpec) -> None:
        """Union ``other`` into this spec (``a,a(b)`` and ``a(b),a(c)`` are legal)."""
        self.star = self.star or other.star
        for name, sub in other.fields.items():
            self.add(name, sub)

    def add(self, name: str, sub: FieldSpec | None) -> None:
        """Add one field, merging with an existing entry of the same name."""
        current = self.fields.get(name)
        if current is None:
            self.fields[name] = sub
        elif sub is not None:
            current.merge(sub)


_TOKEN = re.compile(r"\s*(?:([A-Za-z0-9_]+)|(\*)|([(),]))")


def parse_fields(text: str | None) -> FieldSpec | None:
    """Parse a ``fields`` value; ``None``/blank means "default projection"."""
    if text is None or not text.strip():
        return None
    tokens: list[str] = []
    pos = 0
    stripped = text.strip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if not match:
            raise FieldsError(f"Illegal character in fields at position {pos}: {stripped[pos:]!r}")
        tokens.append(match.group(match.lastindex or 0))
        pos = match.end()
    spec, index = _parse_level(tokens, 0)
    if index != len(tokens):
        raise FieldsError(f"Unbalanced parentheses in fields: {text!r}")
    return spec


def _parse_level(tokens: list[str], index: int) -> tuple[FieldSpec, int]:
    spec = FieldSpec()
    while True:
        if index >= len(tokens) or tokens[index] in ",()":
            raise FieldsError("Empty field name in fields")
        name = tokens[index]
        index += 1
        if name == "*":
            spec.star = True
        elif index < len(tokens) and tokens[index] == "(":
            sub, index = _parse_level(tokens, index + 1)
            if index >= len(tokens) or tokens[index] != ")":
                raise FieldsError("Unbalanced parentheses in fields")
            index += 1
            spec.add(name, sub)
        else:
            spec.add(name, None)
        if index < len(tokens) and tokens[index] == ",":
            index += 1
            continue
        return spec, index


def validate_fields(spec: FieldSpec | None, kind: str, prefix: str = "") -> None:
    """Raise :class:`FieldsError` if ``spec`` names a field ``kind`` does not have."""
    if spec is None:
        return
    schema = SCHEMAS[kind]
    for name, sub in spec.fields.items():
        if name not in schema:
            raise FieldsError(
                f"Illegal field in fields filter: {prefix}{name}. "
                f"{name} does not match a field in the model: {kind[0].upper()}{kind[1:]}DTO"
            )
        if sub is None:
            continue
        relation = schema[name]
        if relation is not None:
            validate_fields(sub, relation[1], f"{prefix}{name}.")
        elif name == "changes":
            unknown = set(sub.fields) - set(_CHANGE_KEYS)
            if unknown:
                raise FieldsError(
                    f"Illegal field in fields filter: {prefix}changes.{sorted(unknown)[0]}"
                )
        else:
            raise FieldsError(f"Illegal field in fields filter: {prefix}{name} is not an object")


class Links(Protocol):
    """What the projector needs from its caller: URLs and relation lookups."""

    def url(self, kind: str, row_id: int) -> str:
        """Canonical URL of one object."""
        ...

    def get(self, kind: str, row_id: int) -> dict[str, Any] | None:
        """The stored row, or ``None`` if it does not exist."""
        ...


_DEFAULT = FieldSpec(star=True)


def project(row: dict[str, Any], kind: str, spec: FieldSpec | None, links: Links) -> dict[str, Any]:
    """Render ``row`` (of ``kind``) as the API would, honouring ``spec``."""
    level = spec or _DEFAULT
    out: dict[str, Any] = {}
    for name, relation in SCHEMAS[kind].items():
        if name in level.fields:
            sub = level.fields[name]
        elif level.star and name != "changes":
            sub = None
        else:
            continue
        if name == "url":
            out[name] = links.url(kind, row["id"])
        elif relation is None:
            out[name] = _plain(row.get(name), sub)
        elif relation[0]:
            out[name] = [_nested(relation[1], ref, sub, links) for ref in row.get(name) or ()]
        else:
            ref = row.get(name)
            out[name] = None if ref is None else _nested(relation[1], ref, sub, links)
    return out


def _plain(value: Any, sub: FieldSpec | None) -> Any:
    if sub is None or sub.star or not isinstance(value, list):
        return value
    return [{k: v for k, v in item.items() if k in sub.fields} for item in value]


def _nested(kind: str, ref: int, sub: FieldSpec | None, links: Links) -> dict[str, Any]:
    target = None if sub is None else links.get(kind, ref)
    if target is None:
        return {"id": ref, "url": links.url(kind, ref)}
    return project(target, kind, sub, links)


# ------------------------------------------------------------------- sorting
def sort_rows(
    rows: list[dict[str, Any]], kind: str, sorting: str, links: Links
) -> list[dict[str, Any]]:
    """Apply ``sorting`` (``name,-id,customer.name``); unknown fields raise 422 / 17000."""
    keys = [part.strip() for part in sorting.split(",") if part.strip()]
    for part in reversed(keys):
        getter = _sort_getter(kind, part.lstrip("-+"), links)
        rows = sorted(rows, key=lambda row: _sort_key(getter(row)), reverse=part.startswith("-"))
    return rows


def _sort_getter(kind: str, dotted: str, links: Links) -> Callable[[dict[str, Any]], Any]:
    steps: list[tuple[str, str | None]] = []
    current: str | None = kind
    for name in dotted.split("."):
        schema = SCHEMAS.get(current or "", {})
        relation = schema.get(name)
        if (
            current is None
            or name not in schema
            or name in ("url", "changes")
            or (relation and relation[0])
        ):
            raise QueryError(
                "Illegal sorting field.", [("sorting", f"Can not sort on {dotted!r}.")], code=17000
            )
        current = relation[1] if relation else None
        steps.append((name, current))

    def getter(row: dict[str, Any]) -> Any:
        value: Any = row
        for index, (name, target) in enumerate(steps):
            value = value.get(name) if isinstance(value, dict) else None
            if target is not None and value is not None and index < len(steps) - 1:
                value = links.get(target, value)
        return value

    return getter


def _sort_key(value: Any) -> tuple[bool, Any]:
    if isinstance(value, str):
        return True, value.casefold()
    return value is not None, value


# ---------------------------------------------------------- query parameters
Query = Mapping[str, str]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$")


def param_error(name: str, message: str, code: int = 18000) -> QueryError:
    """422 with one validation message naming the parameter."""
    return QueryError("Validation failed.", [(name, message)], code=code)


#: Tripletex's text for a required value that is missing.
NOT_NULL = "Kan ikke være null."


def require(query: Query, *names: str) -> None:
    """422 / 15000 ("Value Validation") with one "Kan ikke være null." per missing (or blank)
    required query parameter, as Tripletex answers a list without its date range."""
    missing = [name for name in names if not query.get(name, "").strip()]
    if missing:
        raise QueryError("Validation failed", [(name, NOT_NULL) for name in missing], code=15000)


def int_param(query: Query, name: str, default: int | None = None) -> int | None:
    """An integer query parameter (422 if malformed)."""
    raw = query.get(name, "").strip()
    return _int(name, raw) if raw else default


def date_param(query: Query, name: str) -> date | None:
    """A strict ``yyyy-MM-dd`` query parameter (422 if malformed)."""
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise param_error(name, f"Invalid date {raw!r}, expected yyyy-MM-dd.") from None


def required_date(query: Query, name: str) -> date:
    """A required ``yyyy-MM-dd`` query parameter."""
    require(query, name)
    value = date_param(query, name)
    assert value is not None  # require() guarantees it
    return value


def bool_param(query: Query, name: str) -> bool | None:
    """``true``/``false`` (any case); blank means "not given"."""
    raw = query.get(name, "").strip().lower()
    if raw and raw not in ("true", "false"):
        raise param_error(name, f"Invalid boolean {raw!r}, expected true or false.")
    return None if not raw else raw == "true"


def number_param(query: Query, name: str) -> float | None:
    """A decimal number query parameter."""
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise param_error(name, f"Invalid number {raw!r}.")
    return float(value)


def _int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise param_error(name, f"Invalid integer {raw!r}.") from None


def _timestamp(name: str, raw: str) -> str:
    try:
        if not _DATETIME.match(raw):
            raise ValueError(raw)
        return datetime.fromisoformat(raw).isoformat(timespec="seconds")
    except ValueError:
        raise param_error(
            name, f"Invalid date-time {raw!r}, expected yyyy-MM-ddTHH:mm:ss."
        ) from None


# ------------------------------------------------------------------- filters
Predicate = Callable[[dict[str, Any]], bool]
#: Builds a row predicate from the query, or ``None`` when its parameter is absent.
Filter = Callable[[Query], Predicate | None]


def _filter(
    param: str, parse: Callable[[str], Any], test: Callable[[dict[str, Any], Any], bool]
) -> Filter:
    def build(query: Query) -> Predicate | None:
        raw = query.get(param, "").strip()
        if not raw:
            return None
        wanted = parse(raw)
        return lambda row: test(row, wanted)

    return build


def ids(param: str, key: str = "id") -> Filter:
    """Comma list of integers (ids or numbers) matched against ``row[key]``."""
    return _filter(
        param,
        lambda raw: {_int(param, p) for p in raw.split(",") if p.strip()},
        lambda row, wanted: row.get(key) in wanted,
    )


def one_of(param: str, key: str) -> Filter:
    """Comma list of strings, exact match."""
    return _filter(
        param,
        lambda raw: {p.strip() for p in raw.split(",")},
        lambda row, wanted: row.get(key) in wanted,
    )


def equals(param: str, key: str, fold: bool = False) -> Filter:
    """Exact match (case-insensitive when ``fold``); no normalisation of inner spaces (choice)."""
    norm: Callable[[str], str] = str.casefold if fold else str
    return _filter(param, norm, lambda row, wanted: norm(row.get(key) or "") == wanted)


def contains(param: str, key: str) -> Filter:
    """Case-insensitive substring match."""
    return _filter(
        param, str.casefold, lambda row, wanted: wanted in (row.get(key) or "").casefold()
    )


def since(param: str, key: str) -> Filter:
    """``row[key]`` (a timestamp) at or after the given date-time; a time zone is rejected (choice)."""
    return _filter(
        param, lambda raw: _timestamp(param, raw), lambda row, stamp: (row.get(key) or "") >= stamp
    )


def enum(
    param: str, values: tuple[str, ...], test: Callable[[dict[str, Any], str], bool]
) -> Filter:
    """One of ``values`` (422 otherwise), tested with ``test(row, value)``."""

    def parse(raw: str) -> str:
        if raw not in values:
            raise param_error(param, f"Illegal value {raw!r}; expected one of {', '.join(values)}.")
        return raw

    return _filter(param, parse, test)


def flag(param: str, key: str, default: bool | None = None) -> Filter:
    """Boolean filter: absent → ``default``; present but empty → no filter (choice)."""

    def build(query: Query) -> Predicate | None:
        value = bool_param(query, param) if param in query else default
        return None if value is None else (lambda row: bool(row.get(key)) is value)

    return build


def date_range(low: str, high: str, key: str) -> Filter:
    """Half-open ``[low, high)`` on a date field; ``high`` must be after ``low`` (choice)."""

    def build(query: Query) -> Predicate | None:
        start, end = date_param(query, low), date_param(query, high)
        if start and end and end <= start:
            raise param_error(high, f"{high} must be after {low} ({high} is exclusive).")
        lo, hi = start.isoformat() if start else "", end.isoformat() if end else "9999"
        return lambda row: lo <= (row.get(key) or "") < hi

    return build


def number_range(low: str, high: str, key: str) -> Filter:
    """``low`` inclusive, ``high`` exclusive on an integer field."""

    def build(query: Query) -> Predicate | None:
        start, end = int_param(query, low), int_param(query, high)
        if start is None and end is None:
            return None
        return lambda row: (
            (start is None or row.get(key, 0) >= start) and (end is None or row.get(key, 0) < end)
        )

    return build
