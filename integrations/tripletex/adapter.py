"""`TripletexAdapter`: Tripletex behind uku's vendor-neutral `AccountingAdapter` interface.

The adapter maps Tripletex JSON to uku's domain; all HTTP, sessions, retries, rate limits and
error classification live in `TripletexClient` (`client.py`), the one seam to Tripletex.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.base import (
    AccountingAdapter,
    BooksAccessLost,
    ConfigError,
    ExportedInvoice,
    ExportedRef,
    InvoiceOut,
    RemoteBooksCompany,
    RemoteCompany,
    RemoteCustomer,
    RemoteCustomerPage,
    RemoteInvoiceStatus,
    RemoteProduct,
    RemoteVatType,
    StatisticsTarget,
    StatisticValue,
    TransientError,
)
from integrations.tripletex import invoices
from integrations.tripletex.client import TOKEN_MENU_PATH, TripletexClient
from integrations.tripletex.errors import TripletexForbidden, TripletexRequestError, say
from integrations.tripletex.statistics import (
    StatisticsReader,
    check_keys,
)

TOKEN_FIELD = "employee_token"  # noqa: S105 - a field name, not a secret
# Tripletex tokens are base64-like text (test tokens: "test-" + base64url of a small JSON
# object), around 50 to 200 characters. The bounds are generous; the point is to catch a
# half-copied token or a pasted sentence before sending it anywhere.
TOKEN_MIN_LENGTH = 20
TOKEN_MAX_LENGTH = 1024
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9\-_.~+/=:]+$")

# Full pages keep the call count minimal; 1000 is Tripletex's default `count` (no maximum is
# published, and "Result Set Too Large" exists, so we do not go above it).
PAGE_SIZE = 1000
CUSTOMER_FIELDS = (
    "id,name,organizationNumber,customerNumber,email,invoiceEmail,phoneNumber,"
    "phoneNumberMobile,isInactive,accountManager(id),postalAddress(addressLine1,postalCode,city)"
)
VAT_TYPE_FIELDS = "id,number,name,percentage"
PRODUCT_FIELDS = "id,name,number,description,priceExcludingVatCurrency,vatType(id),isInactive"
WHOAMI_FIELDS = "employeeId,companyId,employee(firstName,lastName),company(id,name)"
COMPANY_FIELDS = "id,name"
BOOKS_COMPANY_FIELDS = "id,name,organizationNumber"
# What the link picker shows of a customer: no addresses, no account manager.
SEARCH_FIELDS = "id,name,organizationNumber,customerNumber,email,invoiceEmail,isInactive"
MAX_SEARCH_PAGE_SIZE = 100
EMPLOYEE_FIELDS = "id,firstName,lastName"


class TripletexAdapter(AccountingAdapter):
    """Tripletex API v2 for one firm connection and environment ("production" or "test").

    `credentials` is `{"employee_token": ...}` (cleaned again here, so a malformed token never
    reaches Tripletex even if a caller skipped `clean_credentials`). `client_options` are passed
    to `TripletexClient` (tests inject `sleep`, `budget`, `backoff_base`).
    """

    key = "tripletex"

    _client: TripletexClient | None = None

    @classmethod
    def clean_credentials(cls, raw: dict[str, str]) -> dict[str, str]:
        """Strip surrounding whitespace from the employee token and check its form. Returns
        `{"employee_token": token}`; raises `ConfigError(details={"field": "employee_token"})`
        for an empty token, one with inner whitespace or invisible characters, or one whose
        length or characters no Tripletex token has. Pure: no network call."""
        details = {"field": TOKEN_FIELD}
        token = str((raw or {}).get(TOKEN_FIELD) or "").strip()
        if not token:
            raise ConfigError(
                _("Paste the employee token from Tripletex (%(where)s).")
                % {"where": TOKEN_MENU_PATH},
                details=details,
            )
        if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in token):
            raise ConfigError(
                _(
                    "The employee token contains spaces, line breaks or invisible characters. "
                    "Copy it again, whole, from %(where)s in Tripletex and paste it as one piece."
                )
                % {"where": TOKEN_MENU_PATH},
                details=details,
            )
        if not (TOKEN_MIN_LENGTH <= len(token) <= TOKEN_MAX_LENGTH) or not _TOKEN_CHARS.match(
            token
        ):
            raise ConfigError(
                _(
                    "This does not look like a Tripletex employee token: it is too short, too "
                    "long, or has characters a token never has. Copy it again, whole, from "
                    "%(where)s in Tripletex."
                )
                % {"where": TOKEN_MENU_PATH},
                details=details,
            )
        return {TOKEN_FIELD: token}

    @property
    def client(self) -> TripletexClient:
        """The `TripletexClient` for the firm's own company (Basic username 0), created on first
        use and kept until `close()`. Raises `ConfigError` for bad credentials or a platform
        without a consumer token for this environment; makes no request."""
        if self._client is None:
            token = self.clean_credentials(self.credentials)[TOKEN_FIELD]
            self._client = TripletexClient(
                employee_token=token,
                environment=self.environment,
                rate_limit_key=self.rate_limit_key,
                on_call=self.on_call,
                **self._client_options,
            )
        return self._client

    def test_connection(self) -> RemoteCompany:
        """Open a session and say who the token logs in as: the company (id, name) and the
        employee behind the token, from `GET /token/session/>whoAmI` with both expanded.

        An accountant's token may call only `>whoAmI` and `>withLoginAccess` with username 0
        (fact sheet 2.3), so whoAmI is the one call needed. Whether Tripletex expands `company`
        there is unconfirmed: only a name it leaves out is asked for with `GET /company/{id}`
        (and the employee's with `GET /employee/{id}`), and a 403 to that (such a token) leaves
        the name blank instead of failing the test. Read-only and idempotent; raises
        `AuthError` with the most likely cause when refused."""
        client = self.client
        who = client.get("/token/session/>whoAmI", fields=WHOAMI_FIELDS)
        company_id = who.get("companyId") or _ref_id(who.get("company"))
        employee_id = who.get("employeeId") or _ref_id(who.get("employee"))
        company = _expanded(who.get("company"), "name")
        if company_id and not company:
            company = _unless_forbidden(
                lambda: client.get(f"/company/{int(company_id)}", fields=COMPANY_FIELDS)
            )
        employee = _expanded(who.get("employee"), "firstName", "lastName")
        if employee_id and not employee:
            employee = _unless_forbidden(
                lambda: client.get(f"/employee/{int(employee_id)}", fields=EMPLOYEE_FIELDS)
            )
        name = " ".join(
            part for part in (employee.get("firstName"), employee.get("lastName")) if part
        )
        return RemoteCompany(
            id=str(company.get("id") or company_id or ""),
            name=str(company.get("name") or ""),
            employee_id=str(employee_id or ""),
            employee_name=name,
        )

    def books_client(self, books_company_id: str | int) -> TripletexClient:
        """A `TripletexClient` acting inside client company `books_company_id` (an id from
        `list_books_companies`), on the firm's session. Makes no request. Its calls raise
        `BooksAccessLost` (that client only) when the firm cannot log into the company, and
        the usual errors otherwise. Raises `ConfigError` for an id that is not a positive
        number (0 would silently act as the firm)."""
        text = str(books_company_id).strip()
        if not text.isdigit() or int(text) <= 0:
            raise ConfigError(
                _("“%(id)s” is not a Tripletex company id.") % {"id": text[:20]},
                details={"field": "books_company_id"},
            )
        return self.client.for_company(int(text))

    def iter_customers(
        self, *, changed_since: datetime | None = None
    ) -> Iterator[list[RemoteCustomer]]:
        """`GET /customer` in full pages of `PAGE_SIZE`, asking only for the fields uku uses.

        Tripletex hides inactive customers unless `isInactive=true` is asked for, and what an
        empty `isInactive` means is unconfirmed, so this makes two passes (active, then
        inactive): one extra call, but correct on the real API. `changed_since` maps to
        Tripletex's `changedSince` (a date-time without zone, Europe/Oslo)."""
        params: dict[str, Any] = {}
        if changed_since is not None:
            local = timezone.localtime(changed_since).replace(tzinfo=None, microsecond=0)
            params["changedSince"] = local.isoformat()
        for inactive in (False, True):
            for page in self.client.iter_pages(
                "/customer",
                {**params, "isInactive": "true" if inactive else "false"},
                fields=CUSTOMER_FIELDS,
                page_size=PAGE_SIZE,
            ):
                yield _mapped(page, partial(_customer, inactive=inactive), "/customer")

    def search_customers(self, *, query: str, page: int, page_size: int) -> RemoteCustomerPage:
        """`GET /customer` with one of Tripletex's filters, sorted by name, `from`/`count`.

        Tripletex ANDs its filters, so the query picks one: nine digits (spaces ignored) are an
        organisation number (`organizationNumber`, exact), other digits a customer number
        (`customerAccountNumber`), anything else a name (`customerName`, containing). Only
        active customers are listed (Tripletex's default). One row more than the page is asked
        for, so `has_next` is exact; `total` is `fullResultSize`, which may be inexact."""
        page = max(int(page), 1)
        page_size = min(max(int(page_size), 1), MAX_SEARCH_PAGE_SIZE)
        params: dict[str, Any] = {"sorting": "name,id"}
        text = " ".join((query or "").split())
        digits = text.replace(" ", "")
        if digits.isdigit() and len(digits) == 9:
            params["organizationNumber"] = digits
        elif digits.isdigit():
            params["customerAccountNumber"] = digits
        elif text:
            params["customerName"] = text
        params.update({"from": (page - 1) * page_size, "count": page_size + 1})
        body = self.client.get_raw("/customer", params, fields=SEARCH_FIELDS)
        rows = body.get("values") or []
        total = body.get("fullResultSize")
        return RemoteCustomerPage(
            customers=_mapped(rows[:page_size], lambda row: _customer(row, False), "/customer"),
            page=page,
            page_size=page_size,
            has_next=len(rows) > page_size,
            total=total if isinstance(total, int) and not isinstance(total, bool) else None,
        )

    def get_customer(self, remote_id: str) -> RemoteCustomer | None:
        """`GET /customer/{id}`; a Tripletex id is a number, so anything else is `None` without
        a call, and Tripletex's 404 is `None` (a deleted customer)."""
        text = str(remote_id or "").strip()
        if not text.isdigit():
            return None
        try:
            row = self.client.get(f"/customer/{int(text)}", fields=CUSTOMER_FIELDS)
        except TripletexRequestError as exc:
            if exc.status == 404:
                return None
            raise
        return _mapped([row], lambda one: _customer(one, False), "/customer")[0]

    def list_books_companies(self) -> list[RemoteBooksCompany]:
        """`GET /company/>withLoginAccess` as the firm (username 0, which an accountant token may
        call): every client company the token can act in, by the id used as Basic username."""
        companies: list[RemoteBooksCompany] = []
        for page in self.client.iter_pages(
            "/company/>withLoginAccess", fields=BOOKS_COMPANY_FIELDS, page_size=PAGE_SIZE
        ):
            companies += _mapped(page, _books_company, "/company/>withLoginAccess")
        return companies

    def iter_vat_types(self) -> Iterator[list[RemoteVatType]]:
        """`GET /ledger/vatType`, every type (the id is not the code: look up by `number`)."""
        for page in self.client.iter_pages(
            "/ledger/vatType", fields=VAT_TYPE_FIELDS, page_size=PAGE_SIZE
        ):
            yield _mapped(page, _vat_type, "/ledger/vatType")

    def iter_products(self) -> Iterator[list[RemoteProduct]]:
        """`GET /product`, active then inactive (two passes, as for customers)."""
        for inactive in (False, True):
            for page in self.client.iter_pages(
                "/product",
                {"isInactive": "true" if inactive else "false"},
                fields=PRODUCT_FIELDS,
                page_size=PAGE_SIZE,
            ):
                yield _mapped(page, partial(_product, inactive=inactive), "/product")

    def read_statistics(
        self, target: StatisticsTarget, period: date, keys: Collection[str]
    ) -> dict[str, StatisticValue]:
        """Count the statistics `keys` (from `INFO.statistics`) of the month of `period` in
        the client's own company, `target.books_company_id`, through the firm's accountant
        access (that id is the Basic username; the firm's one session serves every client).

        One paged pass per distinct source of `keys` at 1,000 rows a page with `fields` cut to
        what the counts need (see `integrations.tripletex.statistics`); voucher types are
        listed once per company and credential in this process for a few minutes (a reload's
        12 months of one client, each its own task, list them once). A source refused with 403 in a company that still
        opens gives its statistics missing with the reason. Raises `ConfigError` for an unknown
        key (before any call), `BooksAccessLost` when the target has no books company or the
        company refuses the firm (that client only: no session is re-created for it),
        `AuthError` for refused firm credentials, `RateLimited`/`TransientError` (malformed
        answers too) when worth retrying. Read-only and idempotent."""
        wanted = check_keys(keys)
        company = str(target.books_company_id or "").strip()
        if not company:
            raise BooksAccessLost(say("books_not_linked"), books_company_id="")
        books = self.books_client(company)
        # Voucher types and bank statement lists per client company are listed once per company
        # and credential in this process, shared across adapters (`owner`).
        return StatisticsReader(books, owner=self.client.credential_key).read(period, wanted)

    def export_invoice(self, invoice: InvoiceOut) -> ExportedInvoice:
        """One `POST /order` with the lines embedded, the reference in `reference` (details in
        `integrations.tripletex.invoices.export_invoice`). Before it, once per credential every few minutes: the
        usable output VAT types of the issue date and the bank account check. Raises
        `ConfigError` with `details["fix"]` for what a clerk must fix, `TransientError` with
        `details["outcome"] = "unknown"` when the order may exist (never resent)."""
        return invoices.export_invoice(self.client, invoices.export_cache(self.client), invoice)

    def find_exported_invoice(self, invoice: InvoiceOut) -> ExportedInvoice | None:
        """The order carrying `invoice.reference` for the customer around the issue date
        (`GET /order` with `id,number,reference`, matched locally), or `None`. Read-only."""
        return invoices.find_exported_invoice(self.client, invoice)

    def invoice_statuses(self, exported: Sequence[ExportedRef]) -> dict[str, RemoteInvoiceStatus]:
        """Paged `GET /invoice` over the exports' dates, matched by `orders(id)` or the kept
        invoice id (details in `integrations.tripletex.invoices.invoice_statuses`). Read-only."""
        return invoices.invoice_statuses(self.client, exported)

    def close(self) -> None:
        """Delete the Tripletex session (best effort) and close connections. Safe to call
        twice; the adapter opens a new client if used again."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def release(self) -> None:
        """Close connections but keep the session cached for this credential (the next
        export of the batch reuses it). Safe to call twice."""
        if self._client is not None:
            self._client.release()
            self._client = None


def _ref_id(ref: Any) -> int | None:
    """The id of a `{"id": N, "url": ...}` reference, if it is one (a positive integer)."""
    value = ref.get("id") if isinstance(ref, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _expanded(ref: Any, *names: str) -> dict[str, Any]:
    """`ref` when Tripletex expanded it (one of `names` is filled), else `{}`."""
    if isinstance(ref, dict) and any(ref.get(name) for name in names):
        return ref
    return {}


def _unless_forbidden(read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`read()`, or `{}` when the token may not make that call (403)."""
    try:
        return read()
    except TripletexForbidden:
        return {}


_Row = TypeVar("_Row")


def _mapped(rows: Any, parse: Callable[[dict[str, Any]], _Row], path: str) -> list[_Row]:
    """Map the decoded rows of one answer with `parse`, turning any row uku cannot read (not an
    object, an id missing, a field of the wrong type, a number that is not one) into a
    `TransientError` (kind "malformed"), never a crash of the job that asked for them."""
    try:
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise TypeError("rows")
        return [parse(row) for row in rows]
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError):
        raise TransientError(
            say("malformed") + " " + say("retry_later"),
            details={"kind": "malformed", "method": "GET", "path": path},
        ) from None


def _id(value: Any) -> str:
    """A Tripletex id (a positive integer) as text; anything else is a malformed row."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("id")
    return str(value)


def _text(value: Any) -> str:
    """A text field; Tripletex sends strings (numbers for some codes), anything else is
    malformed rather than a Python repr stored as a name."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError("text")
    return str(value)


def _amount(value: Any) -> Decimal:
    """A JSON number (or numeric text) as a finite Decimal; missing is 0."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError("amount")
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError("amount")
    return number


def _books_company(row: dict[str, Any]) -> RemoteBooksCompany:
    return RemoteBooksCompany(
        id=_id(row["id"]),
        name=_text(row.get("name")).strip(),
        organisation_number=_text(row.get("organizationNumber")).strip(),
    )


def _vat_type(row: dict[str, Any]) -> RemoteVatType:
    return RemoteVatType(
        id=_id(row["id"]),
        number=_text(row.get("number")),
        name=_text(row.get("name")),
        percentage=_amount(row.get("percentage")),
    )


def _product(row: dict[str, Any], inactive: bool) -> RemoteProduct:
    return RemoteProduct(
        id=_id(row["id"]),
        name=_text(row.get("name")),
        number=_text(row.get("number")),
        description=_text(row.get("description")),
        unit_price=_amount(row.get("priceExcludingVatCurrency")),
        vat_type_id=str(_ref_id(row.get("vatType")) or ""),
        inactive=bool(row.get("isInactive", inactive)),
    )


def _customer(row: dict[str, Any], inactive: bool) -> RemoteCustomer:
    address = row.get("postalAddress") or {}
    if not isinstance(address, dict):
        raise TypeError("postalAddress")
    return RemoteCustomer(
        id=_id(row["id"]),
        name=_text(row.get("name")).strip(),
        organisation_number=_text(row.get("organizationNumber")).strip(),
        customer_number=_text(row.get("customerNumber")),
        email=_text(row.get("email")).strip(),
        invoice_email=_text(row.get("invoiceEmail")).strip(),
        phone=_text(row.get("phoneNumber") or row.get("phoneNumberMobile")).strip(),
        address_line=_text(address.get("addressLine1")).strip(),
        postal_code=_text(address.get("postalCode")).strip(),
        city=_text(address.get("city")).strip(),
        account_manager_id=str(_ref_id(row.get("accountManager")) or ""),
        inactive=bool(row.get("isInactive", inactive)),
    )
