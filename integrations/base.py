"""The vendor-neutral integration core: the adapter interface, its errors and the registry.

Every accounting system uku talks to is one folder under `integrations/` with an adapter class that
implements `AccountingAdapter`, registered in `REGISTRY` by a dotted path (imported only when used).
Callers (services, tasks, views) only ever see this interface and these errors, so adding Merit
Aktiva, Smart Accounts, Scoro, Directo or Trigon later changes no caller.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, Generic, Literal, Protocol, TypeVar

from django.utils.translation import gettext_lazy as _

# --- Errors -------------------------------------------------------------------------------------


class IntegrationError(Exception):
    """Base of every error an adapter raises.

    `permanent=True` means retrying will not help (a person must act: new token, other setting);
    the job stops, the connection is flagged and the firm's admins are notified. `permanent=False`
    means a retry with backoff may succeed. `message` is safe to show to a user: it never contains a
    secret. `details` carries the vendor's own diagnostics (error code, developer message, request
    id) for the sync history.
    """

    permanent: bool = True

    def __init__(
        self, message: str, *, permanent: bool | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if permanent is not None:
            self.permanent = permanent
        self.details: dict[str, Any] = details or {}

    def __str__(self) -> str:
        return self.message


class AuthError(IntegrationError):
    """The credentials are not accepted: invalid, expired, revoked, wrong environment, or the
    user behind them is deactivated. Permanent."""

    permanent = True


class ConfigError(IntegrationError):
    """The integration is not set up well enough to run (not connected, missing setting, a
    request the vendor refuses as invalid). Permanent."""

    permanent = True


class RateLimited(IntegrationError):
    """The vendor asked us to slow down; `retry_after` seconds until the budget resets."""

    permanent = False

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class TransientError(IntegrationError):
    """A timeout, a dropped connection, a 5xx or a malformed answer: worth retrying later."""

    permanent = False


class BooksAccessLost(IntegrationError):
    """The firm's credentials still work, but no longer reach ONE client's own books: the
    accountant's login access to that client company was removed, or it never existed
    (Tripletex answers 401 or 403 when acting as that company).

    Permanent for that client only: retrying will not help until someone grants the access
    again or links the client to another company, but nothing is wrong with the firm's
    connection. A caller marks that client's books link, goes on with the other clients and
    must not flag the connection, ask for new credentials or re-create sessions.
    `books_company_id` (also in `details`) names the client company."""

    permanent = True

    def __init__(self, message: str, *, books_company_id: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.books_company_id = books_company_id
        self.details.setdefault("books_company_id", books_company_id)


class CapabilityMissing(ConfigError):
    """The vendor cannot do what was asked ("Merit Aktiva cannot read work statistics."). A
    caller's mistake, never a crash: the API answers `capability_missing` (404 for a route the
    vendor does not have, 400 from a service call)."""

    def __init__(self, vendor: VendorInfo, capability: Capability) -> None:
        super().__init__(
            str(
                _("%(vendor)s cannot %(what)s.") % {"vendor": vendor.label, "what": capability.verb}
            ),
            details={"capability": str(capability)},
        )
        self.capability = capability


# --- Data exchanged with adapters ----------------------------------------------------------------


@dataclass(frozen=True)
class RemoteCompany:
    """Who the credentials log in as: the answer to "Test connection"."""

    id: str
    name: str
    employee_id: str = ""
    employee_name: str = ""


@dataclass(frozen=True)
class RemoteCustomer:
    """A customer in the accounting system, as uku imports it as a client."""

    id: str
    name: str
    organisation_number: str = ""
    # ISO 3166 alpha-2 country of `organisation_number` when the vendor knows it (Merit's
    # CountryCode); "" means the firm's country.
    registry_country: str = ""
    customer_number: str = ""
    email: str = ""
    invoice_email: str = ""
    phone: str = ""
    address_line: str = ""
    postal_code: str = ""
    city: str = ""
    account_manager_id: str = ""  # the remote employee id; matched to a member's External ID
    inactive: bool = False


@dataclass(frozen=True)
class RemoteCustomerPage:
    """One page of a customer search (`AccountingAdapter.search_customers`).

    `has_next` is exact (the adapter asks for one row more than the page). `total` is the
    vendor's own count when it gives one, which may be an estimate (Tripletex's `fullResultSize`
    is deprecated and "not exact"); `None` when unknown."""

    customers: list[RemoteCustomer]
    page: int
    page_size: int
    has_next: bool
    total: int | None = None


@dataclass(frozen=True)
class RemoteBooksCompany:
    """A client company whose books the firm's credentials can log into (Tripletex: a company
    listed by `/company/>withLoginAccess`; its id is the Basic-auth username for that client)."""

    id: str
    name: str
    organisation_number: str = ""


@dataclass(frozen=True)
class RemoteVatType:
    """A VAT type; `number` is the Norwegian VAT code as text ("3", "31", ...)."""

    id: str
    number: str
    name: str
    percentage: Decimal


@dataclass(frozen=True)
class RemoteProduct:
    """A product or service; `unit_price` excludes VAT; `vat_type_id` is the remote VAT type id."""

    id: str
    name: str
    number: str = ""
    description: str = ""
    unit_price: Decimal = Decimal("0")
    vat_type_id: str = ""
    inactive: bool = False


@dataclass(frozen=True)
class Statistic:
    """One work statistic a vendor can count for a client-month (summary tasks' data fields).

    Declared per vendor on `VendorInfo.statistics` (no adapter needed to show the catalogue).
    `key` is stable (stored in field mappings): never rename one. `source` names the endpoint it
    is read from ("/ledger/voucher"); statistics with one source are computed in ONE paged pass
    over it, so the cost of a client-month is one pass per distinct source of the mapped keys.
    `common=False` puts it behind "Show more"."""

    key: str
    label: Any
    definition: Any
    source: str
    common: bool = True


@dataclass(frozen=True)
class StatisticsTarget:
    """Whose books a statistics read opens: the linked customer and, for vendors with
    `Capability.BOOKS_ACCESS`, the client's own company (the link's `books_company_id`)."""

    customer_id: str
    books_company_id: str = ""


@dataclass(frozen=True)
class StatisticValue:
    """A statistic's value for one client-month, or why it has none. `value is None` means
    missing (never 0): `missing_reason` is then a user-safe sentence ("Tripletex refused
    /bank/statement: the accountant's access does not include bank.")."""

    key: str
    value: Decimal | None
    missing_reason: str = ""


@dataclass(frozen=True)
class InvoiceLineOut:
    """One line of an uku invoice as it is exported. Money is already rounded by uku
    (half-up, 2 decimals per line): adapters send these amounts, they never re-round them,
    except where a vendor's fact sheet dictates its own rounding rule."""

    description: str
    quantity: Decimal
    unit_price: Decimal  # excluding VAT
    discount_percent: Decimal
    net_amount: Decimal  # quantity x unit price less the discount, excluding VAT, rounded
    vat_amount: Decimal
    vat_percentage: Decimal
    vat_code: str  # the VAT type's number as the vendor knows it ("3" = 25 % in Norway)
    vat_type_id: str = ""  # the vendor's VAT type id when the VAT type was imported from it
    product_id: str = ""  # the vendor's product id when the product was imported from it


@dataclass(frozen=True)
class InvoiceOut:
    """An issued uku invoice, as `export_invoice` receives it. `reference` is uku's invoice
    number, unique in the firm: the adapter writes it where `find_exported_invoice` can find it
    again (Tripletex: the order's reference), which is what makes the export exactly-once."""

    reference: str
    customer_id: str  # the client's linked customer in the vendor
    issue_date: date
    due_date: date
    currency: str
    lines: tuple[InvoiceLineOut, ...]
    net_total: Decimal
    vat_total: Decimal
    gross_total: Decimal
    contact_employee_id: str = ""  # the responsible member's External ID; "" leaves it out
    comment: str = ""


@dataclass(frozen=True)
class ExportedInvoice:
    """What the vendor holds for an exported invoice: its id (Tripletex: the order id) and the
    number it shows people (the order number; Merit: the invoice number). `warnings` are
    user-safe sentences to show on the invoice (an employee left out, say)."""

    remote_id: str
    remote_number: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportedRef:
    """An export whose status `invoice_statuses` reads back."""

    remote_id: str  # `ExportedInvoice.remote_id`
    issue_date: date
    remote_invoice_id: str = ""  # the vendor's invoice id once a status read found it


@dataclass(frozen=True)
class RemoteInvoiceStatus:
    """Where an exported invoice stands in the vendor. `state`: "not_invoiced" (an order not
    turned into an invoice yet), "unpaid" (also partly paid: see `outstanding`), "paid" (nothing
    outstanding of the invoice amount; reminder fees do not count) or "credited" (a credit note
    cancels it)."""

    remote_id: str
    state: Literal["not_invoiced", "unpaid", "paid", "credited"]
    invoice_id: str = ""
    invoice_number: str = ""
    outstanding: Decimal | None = None  # of the invoice amount, excluding reminder fees


class FieldKind(StrEnum):
    SECRET = "secret"  # noqa: S105 - a field kind. Write-only: stored encrypted, shown as "ending in ..."
    TEXT = "text"  # shown back to the admin (an API ID, a company database name)
    CHOICE = "choice"  # one of `choices`


@dataclass(frozen=True)
class CredentialField:
    """A field the admin fills in to connect: rendered on the Connect tab, accepted by the API
    under `credentials`, and validated by the adapter's `clean_credentials`."""

    name: str
    label: Any
    kind: FieldKind = FieldKind.SECRET
    required: bool = True
    help_text: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()

    @property
    def secret(self) -> bool:
        return self.kind == FieldKind.SECRET


class Capability(StrEnum):
    """What an accounting system can do for uku. Tabs, buttons, API routes and job kinds exist
    only for vendors that declare the capability they need."""

    CUSTOMERS = "customers"  # list customers (the client import)
    PRODUCTS = "products"  # list products / items (billing)
    VAT_TYPES = "vat_types"  # list VAT types / tax rates (billing)
    STATISTICS = "statistics"  # work statistics per client and month (summary tasks)
    INVOICE_EXPORT = "invoice_export"  # create an invoice (or order) from uku's
    INVOICE_STATUS = "invoice_status"  # read invoice numbers and paid status back
    BOOKS_ACCESS = "books_access"  # log into each client's own company (accountant access)
    # A client's own books open only with that client's own credentials (no accountant access):
    # a connection may belong to one client (`IntegrationConnection.client`), saved by its
    # accountant; that client's statistics are read with it.
    CLIENT_CREDENTIALS = "client_credentials"

    @property
    def verb(self) -> Any:
        """What the capability lets uku do, for "<vendor> cannot <verb>" messages."""
        return _CAPABILITY_VERBS[self]


_CAPABILITY_VERBS: dict[Capability, Any] = {
    Capability.CUSTOMERS: _("import customers"),
    Capability.PRODUCTS: _("import products"),
    Capability.VAT_TYPES: _("import VAT types"),
    Capability.STATISTICS: _("read work statistics"),
    Capability.INVOICE_EXPORT: _("receive invoices"),
    Capability.INVOICE_STATUS: _("report invoice status"),
    Capability.BOOKS_ACCESS: _("open client companies' books"),
    Capability.CLIENT_CREDENTIALS: _("connect a client's own company"),
}


@dataclass(frozen=True)
class CallRecord:
    """One HTTP call, for the sync job's log. Never holds a token or a request body."""

    method: str
    path: str  # a template: /customer/{id}, not /customer/123
    status: int | None
    duration_ms: int
    error_code: str = ""
    developer_message: str = ""
    request_id: str = ""


class CallRecorder(Protocol):
    def __call__(self, record: CallRecord, /) -> None: ...


# --- The adapter interface ----------------------------------------------------------------------


class AccountingAdapter:
    """What every accounting system implements. One instance per (firm connection, environment).

    Constructed with the decrypted credentials and the environment; it must never log, return or
    raise them. Every method raises only `IntegrationError` subclasses. Reads are side-effect
    free; writes (invoice export) must be idempotent: calling twice creates one remote object.

    A method whose capability a vendor lacks raises `CapabilityMissing` (the defaults below);
    new methods get their contract written here first, then an implementation per vendor.
    """

    key: str = ""

    def __init__(
        self,
        *,
        credentials: dict[str, str],
        environment: str,
        rate_limit_key: str = "",
        on_call: CallRecorder | None = None,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.credentials = credentials
        self.environment = environment
        self.rate_limit_key = rate_limit_key
        self.on_call = on_call
        # Passed on to the vendor's HTTP client (tests inject `sleep`, `budget`, ...).
        self._client_options = dict(client_options or {})

    def __repr__(self) -> str:  # never the credentials (the default repr would show them)
        return f"<{type(self).__name__} {self.environment}>"

    @classmethod
    def clean_credentials(cls, raw: dict[str, str]) -> dict[str, str]:
        """Normalise what the admin typed (strip whitespace) and validate its form before any
        call is made. Returns the cleaned credentials; raises `ConfigError` with a message naming
        the field. Pure: makes no network call."""
        raise NotImplementedError

    def test_connection(self) -> RemoteCompany:
        """Log in with the credentials and say who we are. Raises `AuthError` with the most
        likely cause when refused. Idempotent; may create and cache a session."""
        raise NotImplementedError

    def iter_customers(
        self, *, changed_since: datetime | None = None
    ) -> Iterator[list[RemoteCustomer]]:
        """Every customer, active and inactive, one page (list) at a time, streamed: memory
        stays bounded whatever the count. With `changed_since`, only those changed since then
        where the vendor can filter so (else all). Read-only."""
        raise NotImplementedError

    def search_customers(self, *, query: str, page: int, page_size: int) -> RemoteCustomerPage:
        """One page of the customers matching `query`, searched on the vendor's side (never the
        whole list in memory): by name (containing), customer number or organisation number;
        an empty query lists every active customer. `page` counts from 1; `page_size` is at
        most 100. Returns a `RemoteCustomerPage` (empty past the last page). Read-only and
        idempotent; raises `IntegrationError` subclasses (`AuthError` for refused credentials,
        `TransientError`/`RateLimited` when worth retrying). Needs `Capability.CUSTOMERS`."""
        raise NotImplementedError

    def get_customer(self, remote_id: str) -> RemoteCustomer | None:
        """The customer with the vendor's id `remote_id`, active or inactive, or `None` when no
        such customer exists (deleted, never existed, or an id of the wrong form). Read-only and
        idempotent; raises as `search_customers`. Needs `Capability.CUSTOMERS`."""
        raise NotImplementedError

    def list_books_companies(self) -> list[RemoteBooksCompany]:
        """The client companies the credentials can log into (accountant access), each with its
        organisation number as the vendor has it. Read-only and idempotent. A vendor without
        `Capability.BOOKS_ACCESS` raises `CapabilityMissing`; a refusal to list them at all is
        an `AuthError` (its `details["status"]` is the vendor's HTTP status, 403 for "no
        accountant access")."""
        raise CapabilityMissing(get_vendor(self.key), Capability.BOOKS_ACCESS)

    def iter_vat_types(self) -> Iterator[list[RemoteVatType]]:
        """Every VAT type, a page at a time. Read-only."""
        raise NotImplementedError

    def iter_products(self) -> Iterator[list[RemoteProduct]]:
        """Every product, active and inactive, a page at a time. Read-only."""
        raise NotImplementedError

    def read_statistics(
        self, target: StatisticsTarget, period: date, keys: Collection[str]
    ) -> dict[str, StatisticValue]:
        """Count the statistics `keys` (from `VendorInfo.statistics`) for one client and one
        calendar month: `period` is its first day and the range is half-open, [period, first
        day of the next month). Returns one `StatisticValue` per key.

        Reads only the sources of the requested keys, each in ONE pass at the vendor's maximum
        page size with only the fields the counts need (never trusting inexact totals). A
        statistic that cannot be computed (an endpoint refused for this client, a module not in
        use) comes back missing with its reason, never as 0. Raises `BooksAccessLost` when the
        client's books cannot be opened at all (for that client only), `AuthError` when the
        firm's credentials are refused, `TransientError`/`RateLimited` when worth retrying and
        `ConfigError` for an unknown key. Read-only and idempotent.
        Needs `Capability.STATISTICS`."""
        raise CapabilityMissing(get_vendor(self.key), Capability.STATISTICS)

    def export_invoice(self, invoice: InvoiceOut) -> ExportedInvoice:
        """Create the invoice in the vendor (Tripletex: one order with its lines embedded;
        Merit: one sales invoice) carrying `invoice.reference`, in the fewest calls.

        Never retries a write itself after an ambiguous failure. A timeout, a dropped
        connection or a 5xx after the request was sent raises `TransientError` with
        `details["outcome"] = "unknown"`: the caller must then call `find_exported_invoice`
        before creating again, which is how a retry never makes a second object. A refusal a
        person must fix raises `ConfigError` with a message a billing clerk understands and
        `details["fix"]` one of "link" (customer unknown), "vat_type", "bank_account",
        "vat_registration", "validation". Needs `Capability.INVOICE_EXPORT`."""
        raise CapabilityMissing(get_vendor(self.key), Capability.INVOICE_EXPORT)

    def find_exported_invoice(self, invoice: InvoiceOut) -> ExportedInvoice | None:
        """The object an earlier `export_invoice` of this invoice created (found by
        `invoice.reference` for `invoice.customer_id` around `invoice.issue_date`), or `None`
        when there is none. Read-only and idempotent; raises as `export_invoice` (never
        "unknown" outcomes). Needs `Capability.INVOICE_EXPORT`."""
        raise CapabilityMissing(get_vendor(self.key), Capability.INVOICE_EXPORT)

    def invoice_statuses(self, exported: Sequence[ExportedRef]) -> dict[str, RemoteInvoiceStatus]:
        """The status of each exported invoice, keyed by `ExportedRef.remote_id`; an export the
        vendor no longer knows is absent from the result. Reads in the fewest calls: list calls
        over date ranges covering `exported` at the maximum page size with only the fields
        used (Tripletex: at most ceil(invoices / page size) + 1 list calls), never one call
        per invoice. Read-only and idempotent; raises `AuthError`, `TransientError`,
        `RateLimited`. Needs `Capability.INVOICE_STATUS`."""
        raise CapabilityMissing(get_vendor(self.key), Capability.INVOICE_STATUS)

    def close(self) -> None:
        """Release what the adapter holds (sessions). Safe to call twice."""

    def release(self) -> None:
        """Done with this adapter, but more work for the same connection is likely soon in this
        process (the next invoice export): close what is per use (HTTP connections) and keep
        what the process caches for the credential (a vendor session, until it expires).
        Defaults to `close()`. Safe to call twice."""
        self.close()


_process_caches: list[Any] = []


V = TypeVar("V")


class ExpiringCache(Generic[V]):
    """A per-process cache of vendor lookups that change rarely (VAT codes, items, whether a
    bank account is set, a client company's voucher types or bank statement list), keyed by a
    hash of the credential, so one batch of exports or one reload asks once instead of once per
    invoice or month. Entries expire after `seconds`; callers that find a value missing in a
    cached table look again once (`forget`) before refusing, so something added in the
    accounting system meanwhile is seen. Never shared between credentials: the key must include
    them (hashed).

    Thread-safe, and one load per key at a time: threads asking for a key that is being loaded
    wait for that load instead of each asking the vendor (a reload's parallel months of one
    company). A load that raises stores nothing; the next caller loads again."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._values: dict[str, tuple[float, V]] = {}
        self._loading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        _process_caches.append(self)

    def _fresh(self, key: str) -> tuple[float, V] | None:
        with self._lock:
            found = self._values.get(key)
            if found is not None and self.clock() - found[0] >= self.seconds:
                del self._values[key]
                return None
            return found

    def get(self, key: str, load: Callable[[], V]) -> V:
        """The value of `key`, from `load()` when it is absent or expired."""
        found = self._fresh(key)
        if found is not None:
            return found[1]
        with self._lock:
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            found = self._fresh(key)  # loaded by the thread this one waited for
            if found is not None:
                return found[1]
            value = load()
            with self._lock:
                self._values[key] = (self.clock(), value)
            return value

    def forget(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._loading.clear()


def clear_process_caches() -> None:
    """Forget every `ExpiringCache` entry of this process (tests; key rotation)."""
    for cache in _process_caches:
        cache.clear()


# --- Registry --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VendorInfo:
    """What uku knows about an accounting system without importing its adapter: the card, the
    Connect form (credential fields, environments, whether credentials expire) and what it can
    do. Each vendor declares one as `INFO` in its folder's `vendor.py`; nothing outside the
    folder names a vendor."""

    key: str
    adapter_path: str
    label: str
    description: Any
    logo: str  # a static file path, served from the vendor's own static/ folder
    required_plan: str
    credential_fields: tuple[CredentialField, ...]
    capabilities: frozenset[Capability] = frozenset()
    # (key, label) of each place the credentials may belong to: Tripletex's production and test
    # systems, Merit's country instances. The first is the default.
    environments: tuple[tuple[str, Any], ...] = (
        ("production", _("Production")),
        ("test", _("Test")),
    )
    environment_label: Any = ""  # blank: "Environment"
    environment_help: Any = ""
    credentials_expire: bool = False  # ask for an expiry date and warn before it
    syncs: tuple[tuple[Any, str], ...] = field(
        default=()
    )  # (what, "in"|"out") for the Overview tab
    # The work statistics `read_statistics` can count (vendors with Capability.STATISTICS).
    statistics: tuple[Statistic, ...] = ()
    # How an exported invoice is named on the invoice page, in the vendor's own words, with
    # `%(number)s` for `ExportedInvoice.remote_number` (Tripletex: "Exported as order
    # #%(number)s", since it receives orders). Blank: "Exported as invoice #%(number)s".
    # Vendors with Capability.INVOICE_EXPORT.
    exported_as: Any = ""

    @cached_property
    def adapter_class(self) -> type[AccountingAdapter]:
        module_path, _sep, name = self.adapter_path.rpartition(".")
        return getattr(importlib.import_module(module_path), name)

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def require(self, capability: Capability) -> None:
        """Raise `CapabilityMissing` unless the vendor can do `capability`."""
        if capability not in self.capabilities:
            raise CapabilityMissing(self, capability)

    @property
    def environment_keys(self) -> tuple[str, ...]:
        return tuple(key for key, _label in self.environments)

    @property
    def default_environment(self) -> str:
        return self.environments[0][0]

    def environment_name(self, key: str) -> str:
        return str(dict(self.environments).get(key, key))

    def statistic(self, key: str) -> Statistic | None:
        """The catalogue entry `key`, or `None` when this vendor has no such statistic."""
        return next((s for s in self.statistics if s.key == key), None)

    @property
    def secret_fields(self) -> tuple[CredentialField, ...]:
        return tuple(f for f in self.credential_fields if f.secret)


class _Registry(Mapping[str, VendorInfo]):
    """The accounting systems uku offers: `settings.UKU_ACCOUNTING_SYSTEMS`, a list of vendor
    packages (each also a Django app), each with `vendor.INFO`. Loaded on first use, so importing
    this module needs no settings; adding a vendor is one line there."""

    def __init__(self) -> None:
        self._loaded: dict[str, VendorInfo] | None = None

    def _vendors(self) -> dict[str, VendorInfo]:
        if self._loaded is None:
            from django.conf import settings

            infos = [
                importlib.import_module(f"{package}.vendor").INFO
                for package in settings.UKU_ACCOUNTING_SYSTEMS
            ]
            self._loaded = {info.key: info for info in infos}
        return self._loaded

    def __getitem__(self, key: str) -> VendorInfo:
        return self._vendors()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._vendors())

    def __len__(self) -> int:
        return len(self._vendors())


REGISTRY: Mapping[str, VendorInfo] = _Registry()


def get_vendor(key: str) -> VendorInfo:
    """The registry entry for `key`; raises `KeyError` for an unknown vendor."""
    return REGISTRY[key]


def iter_vendors(capability: Capability | None = None) -> Iterator[VendorInfo]:
    """Every registered vendor, or those that can do `capability`."""
    return (v for v in REGISTRY.values() if capability is None or v.can(capability))
