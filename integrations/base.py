"""The vendor-neutral integration core: the adapter interface, its errors and the registry.

Every accounting system uku talks to is one folder under `integrations/` with an adapter class that
implements `AccountingAdapter`, registered in `REGISTRY` by a dotted path (imported only when used).
Callers (services, tasks, views) only ever see this interface and these errors, so adding Merit
Aktiva, Smart Accounts, Scoro, Directo or Trigon later changes no caller.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, Protocol

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
class CredentialField:
    """A field the admin fills in to connect (rendered on the Connect tab, validated by the adapter)."""

    name: str
    label: str
    secret: bool = True
    help_text: str = ""


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
    def __call__(self, record: CallRecord) -> None: ...


# --- The adapter interface ----------------------------------------------------------------------


class AccountingAdapter:
    """What every accounting system implements. One instance per (firm connection, environment).

    Constructed with the decrypted credentials and the environment; it must never log, return or
    raise them. Every method raises only `IntegrationError` subclasses. Reads are side-effect
    free; writes (invoice export) must be idempotent: calling twice creates one remote object.

    Issue 4 implements `test_connection`; the import, statistics and invoice methods arrive with
    the issues that use them, each added here with its contract first.
    """

    key: str = ""

    def __init__(
        self,
        *,
        credentials: dict[str, str],
        environment: str,
        rate_limit_key: str = "",
        on_call: CallRecorder | None = None,
    ) -> None:
        self.credentials = credentials
        self.environment = environment
        self.rate_limit_key = rate_limit_key
        self.on_call = on_call

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

    def iter_vat_types(self) -> Iterator[list[RemoteVatType]]:
        """Every VAT type, a page at a time. Read-only."""
        raise NotImplementedError

    def iter_products(self) -> Iterator[list[RemoteProduct]]:
        """Every product, active and inactive, a page at a time. Read-only."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the adapter holds (sessions). Safe to call twice."""


# --- Registry --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VendorInfo:
    """Registry entry: everything the UI needs to show a card without importing the adapter."""

    key: str
    adapter_path: str
    label: str
    description: Any
    logo: str  # a static file path
    required_plan: str
    credential_fields: tuple[CredentialField, ...]
    environments: tuple[tuple[str, Any], ...] = (
        ("production", _("Production")),
        ("test", _("Test")),
    )
    syncs: tuple[tuple[Any, str], ...] = field(
        default=()
    )  # (what, "in"|"out") for the Overview tab

    @cached_property
    def adapter_class(self) -> type[AccountingAdapter]:
        module_path, _sep, name = self.adapter_path.rpartition(".")
        return getattr(importlib.import_module(module_path), name)  # type: ignore[no-any-return]


REGISTRY: dict[str, VendorInfo] = {
    "tripletex": VendorInfo(
        key="tripletex",
        adapter_path="integrations.tripletex.adapter.TripletexAdapter",
        label="Tripletex",
        description=_(
            "Norwegian accounting system. Imports clients, products and VAT types, fills monthly "
            "summary tasks from work statistics, and exports invoices as orders."
        ),
        logo="integrations/tripletex.svg",
        required_plan="team",
        credential_fields=(
            CredentialField(
                "employee_token",
                _("Employee token"),
                secret=True,
                help_text=_(
                    "Created in Tripletex under Company → API access. Tripletex shows it once."
                ),
            ),
        ),
        syncs=(
            (_("Clients (Tripletex customers)"), "in"),
            (_("Products"), "in"),
            (_("VAT types"), "in"),
            (_("Work statistics for summary tasks"), "in"),
            (_("Invoices (as orders)"), "out"),
        ),
    ),
}


def get_vendor(key: str) -> VendorInfo:
    """The registry entry for `key`; raises `KeyError` for an unknown vendor."""
    return REGISTRY[key]


def iter_vendors() -> Iterator[VendorInfo]:
    return iter(REGISTRY.values())
