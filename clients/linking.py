"""Linking clients to their customers (and books) in an accounting system: by hand, from the
Integration column's picker, or by accepting suggestions in bulk.

Every use case takes `company` and `actor`; every query is filtered by the firm. The remote side is
read through the vendor-neutral `AccountingAdapter` only (`search_customers`, `get_customer`,
`iter_customers`, `list_books_companies`), so a Merit Aktiva customer links the same way as a
Tripletex one. Linking needs `Capability.CUSTOMERS`; the books part needs
`Capability.BOOKS_ACCESS` and is simply absent for vendors without it.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import BooksState, Client, ExternalLink, MatchRule
from integrations import services as integration_services
from integrations.base import (
    AccountingAdapter,
    AuthError,
    BooksAccessLost,
    Capability,
    ConfigError,
    RemoteBooksCompany,
    RemoteCustomer,
    RemoteCustomerPage,
    VendorInfo,
    get_vendor,
    iter_vendors,
)
from integrations.models import ConnectionStatus, IntegrationConnection
from uku import audit
from uku.models import Company, Membership, Role, User

# Who may link, relink and unlink: everyone but Billing staff (who see the column read-only).
LINK_ROLES = (Role.OWNER, Role.ADMIN, Role.MEMBER)
SEARCH_PAGE_SIZE = 20

# The client list's `?link=` filter.
LINK_FILTERS = ("linked", "unlinked", "attention")


class LinkTaken(Exception):
    """Another client of the firm already holds that customer. `other` is that client; the
    message names it so the accountant knows which link to undo first."""

    def __init__(self, other: Client, vendor: VendorInfo) -> None:
        self.other = other
        self.message = _(
            "This %(vendor)s customer is already linked to the client %(name)s. Unlink it "
            "there first, or choose another customer."
        ) % {"vendor": vendor.label, "name": other.name}
        super().__init__(self.message)


@dataclass(frozen=True)
class BooksResolution:
    """Where a linked client's books are: a `BooksState` (blank when the vendor has no
    accountant access) and the company found, if one."""

    state: str = ""
    company_id: str = ""
    company_name: str = ""


@dataclass(frozen=True)
class CustomerSearch:
    """A page of a live customer search, with the firm's client holding each customer."""

    page: RemoteCustomerPage
    linked: dict[str, Client]


@dataclass(frozen=True)
class LinkConflict:
    """An unlinked `client` whose organisation number several active customers have (the
    accounting system allows it, a client has one link): the accountant links one of them to
    the client, and may import the others as clients of their own (`resolve_link_conflict`).
    `holders` names the client already linked to a customer, if any."""

    client: Client
    customers: list[RemoteCustomer]
    holders: dict[str, Client]


@dataclass(frozen=True)
class Suggestion:
    """A proposed link: `customer` is the only one whose organisation number (`rule` "orgnr")
    or e-mail ("email") matches the unlinked `client`, and no other client matches it."""

    client: Client
    customer: RemoteCustomer
    rule: str


# --- Access -------------------------------------------------------------------------------------


def can_link(company: Company, actor: User, membership: Membership | None = None) -> bool:
    """Whether `actor` may change the firm's links (owners, admins and members). Pass the
    request's `membership` (of `actor` in `company`) to save the query."""
    if membership is not None and membership.company_id == company.pk:
        return membership.user_id == actor.pk and membership.role in LINK_ROLES
    return Membership.objects.filter(company=company, user=actor, role__in=LINK_ROLES).exists()


def assert_can_link(company: Company, actor: User) -> None:
    """Raise `PermissionDenied` unless `actor` may link in `company`."""
    if not can_link(company, actor):
        raise PermissionDenied(_("Billing staff can see the links but not change them."))


def linkable_vendors(company: Company) -> list[VendorInfo]:
    """The vendors a client can be linked in: those with `Capability.CUSTOMERS` that the firm has
    enabled and connected (one query)."""
    keys = set(
        IntegrationConnection.objects.filter(company=company, enabled=True, client__isnull=True)
        .exclude(status=ConnectionStatus.NOT_CONNECTED)
        .values_list("vendor", flat=True)
    )
    return [info for info in iter_vendors(Capability.CUSTOMERS) if info.key in keys]


def _connection(company: Company, vendor: str) -> IntegrationConnection:
    """The firm's enabled, connected connection to `vendor`, else a `ConfigError` saying what to
    do; `CapabilityMissing` for a vendor that cannot list customers."""
    info = get_vendor(vendor)
    info.require(Capability.CUSTOMERS)
    connection = IntegrationConnection.objects.filter(
        company=company, vendor=vendor, client__isnull=True
    ).first()
    if (
        connection is None
        or not connection.enabled
        or connection.status == ConnectionStatus.NOT_CONNECTED
    ):
        raise ConfigError(
            _("Connect %(vendor)s first: Settings & Apps → %(vendor)s → Connect.")
            % {"vendor": info.label}
        )
    return connection


@contextlib.contextmanager
def open_adapter(company: Company, vendor: str) -> Iterator[AccountingAdapter]:
    """The adapter of the firm's connection to `vendor`, for one interactive read.

    Deliberately not `close()`d: closing deletes the vendor session (Tripletex), and the picker
    searches on every pause in typing. The process's session cache keeps one session per token
    until shortly before it expires, so a keystroke costs one call, not three."""
    yield integration_services.adapter_for(_connection(company, vendor))


# --- Reading the remote side --------------------------------------------------------------------


def _holders(company: Company, vendor: str, remote_ids: Iterable[str]) -> dict[str, Client]:
    links = ExternalLink.objects.filter(
        company=company, vendor=vendor, remote_id__in=list(remote_ids)
    ).select_related("client")
    return {link.remote_id: link.client for link in links}


def search_customers(
    *,
    company: Company,
    actor: User,
    vendor: str,
    query: str = "",
    page: int = 1,
    page_size: int = SEARCH_PAGE_SIZE,
) -> CustomerSearch:
    """One page of the vendor's customers matching `query`, read live (server-side search), and
    which client of the firm holds each. Raises `PermissionDenied` for Billing staff,
    `ConfigError` when not connected, and the adapter's `IntegrationError`s."""
    assert_can_link(company, actor)
    with open_adapter(company, vendor) as adapter:
        result = adapter.search_customers(query=query, page=page, page_size=page_size)
    return CustomerSearch(
        page=result, linked=_holders(company, vendor, (c.id for c in result.customers))
    )


def books_companies(
    *, company: Company, actor: User, vendor: str
) -> list[tuple[RemoteBooksCompany, Client | None]]:
    """The client companies the firm's credentials can log into, each with the client whose link
    points at it (or None). Raises as `search_customers`, and `CapabilityMissing` for a vendor
    without accountant access."""
    assert_can_link(company, actor)
    get_vendor(vendor).require(Capability.BOOKS_ACCESS)
    with open_adapter(company, vendor) as adapter:
        companies = adapter.list_books_companies()
    links = ExternalLink.objects.filter(
        company=company, vendor=vendor, books_company_id__in=[c.id for c in companies]
    ).select_related("client")
    held = {link.books_company_id: link.client for link in links}
    return [(books, held.get(books.id)) for books in companies]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def _list_books(adapter: AccountingAdapter) -> list[RemoteBooksCompany] | None:
    """The companies, or None when the vendor refuses to list them (no accountant access)."""
    try:
        return adapter.list_books_companies()
    except AuthError as exc:
        if exc.details.get("status") == 403:
            return None
        raise


def resolve_books(
    info: VendorInfo,
    customer: RemoteCustomer,
    client: Client,
    companies: list[RemoteBooksCompany] | None,
    books_company_id: str | None = None,
) -> BooksResolution:
    """Find the client's company among `companies` (None: the vendor refused to list them).

    An explicit `books_company_id` must be one of them (else a `ValidationError` on that field).
    Otherwise the organisation number (the customer's, else the client's) picks it: one match is
    LINKED, none NOT_FOUND, several AMBIGUOUS; no companies at all (or a refusal) is NO_ACCESS,
    the firm's credentials having no accountant access. Pure: makes no call."""
    if not info.can(Capability.BOOKS_ACCESS):
        return BooksResolution()
    if companies is None:
        return BooksResolution(BooksState.NO_ACCESS)
    if books_company_id:
        for books in companies:
            if books.id == str(books_company_id):
                return BooksResolution(BooksState.LINKED, books.id, books.name)
        raise ValidationError(
            {
                "books_company_id": _(
                    "Your %(vendor)s login has no access to that company. Choose one of the "
                    "companies listed."
                )
                % {"vendor": info.label}
            }
        )
    if not companies:
        return BooksResolution(BooksState.NO_ACCESS)
    number = _digits(customer.organisation_number) or _digits(client.organisation_number)
    matches = [c for c in companies if number and _digits(c.organisation_number) == number]
    if len(matches) == 1:
        return BooksResolution(BooksState.LINKED, matches[0].id, matches[0].name)
    return BooksResolution(BooksState.AMBIGUOUS if matches else BooksState.NOT_FOUND)


# --- Linking ------------------------------------------------------------------------------------


def _check_client(company: Company, client: Client) -> None:
    if client.company_id != company.pk:  # a caller's bug, never a user's path
        raise PermissionDenied


def _taken_by(company: Company, vendor: str, remote_id: str, client: Client) -> Client | None:
    other = (
        ExternalLink.objects.filter(company=company, vendor=vendor, remote_id=remote_id)
        .exclude(client=client)
        .select_related("client")
        .first()
    )
    return other.client if other else None


def _save_link(
    *,
    company: Company,
    actor: User,
    client: Client,
    info: VendorInfo,
    customer: RemoteCustomer,
    books: BooksResolution,
) -> ExternalLink:
    """Create or replace the client's link to `customer`; `LinkTaken` if another client holds
    it (also when another request linked it a moment ago: the unique constraint decides)."""
    try:
        with transaction.atomic():
            previous = (
                ExternalLink.objects.filter(company=company, client=client, vendor=info.key)
                .values_list("remote_id", flat=True)
                .first()
            )
            link, _created = ExternalLink.objects.update_or_create(
                company=company,
                client=client,
                vendor=info.key,
                defaults={
                    "remote_id": customer.id,
                    "remote_name": customer.name[:255],
                    "remote_number": customer.customer_number[:64],
                    "books_company_id": books.company_id,
                    "books_company_name": books.company_name[:255],
                    "books_state": books.state,
                    # A (re)link starts afresh: neither stale nor with lost books.
                    "books_error": "",
                    "books_error_at": None,
                    "stale_reason": "",
                    "stale_at": None,
                    "linked_by": actor,
                    "linked_at": timezone.now(),
                },
            )
            if previous != customer.id:  # linking the same customer again changes no link
                _audit_link(
                    company,
                    actor,
                    client,
                    info.key,
                    {"remote_id": customer.id, "remote_name": customer.name[:255]},
                    previous,
                )
    except IntegrityError:
        other = _taken_by(company, info.key, customer.id, client)
        if other is None:
            raise
        raise LinkTaken(other, info) from None
    return link


def _audit_link(
    company: Company,
    actor: User | None,
    client: Client,
    vendor: str,
    now: dict[str, str] | None,
    previous: str | None,
) -> None:
    """The audit event of a link made, replaced (`previous` is the old customer) or removed."""
    audit.record_for(
        client,
        company=company,
        actor=actor,
        action="client.link_changed",
        details={
            "vendor": vendor,
            "change": "unlinked" if now is None else ("relinked" if previous else "linked"),
            "previous_remote_id": previous or "",
            **(now or {}),
        },
    )


def link_client(
    *,
    company: Company,
    actor: User,
    client: Client,
    vendor: str,
    remote_id: str,
    books_company_id: str | None = None,
) -> ExternalLink:
    """Link `client` to the vendor's customer `remote_id` (replacing the client's link to another
    customer of that vendor: a relink), and resolve its books (see `resolve_books`).

    Raises `PermissionDenied` (Billing staff), `LinkTaken` naming the client that already holds
    the customer, `ValidationError` for a customer that does not exist (on `remote_id`) or a books
    company the login cannot open (on `books_company_id`), `ConfigError` when the vendor is not
    connected, and the adapter's `IntegrationError`s. Idempotent: the same link twice is one link
    (refreshed with the customer's current name and number)."""
    assert_can_link(company, actor)
    _check_client(company, client)
    info = get_vendor(vendor)
    remote_id = str(remote_id).strip()
    if other := _taken_by(company, vendor, remote_id, client):
        raise LinkTaken(other, info)
    with open_adapter(company, vendor) as adapter:
        customer = adapter.get_customer(remote_id)
        if customer is None:
            raise ValidationError(
                {
                    "remote_id": _("%(vendor)s has no customer with that id.")
                    % {"vendor": info.label}
                }
            )
        companies = _list_books(adapter) if info.can(Capability.BOOKS_ACCESS) else None
    books = resolve_books(info, customer, client, companies, books_company_id)
    return _save_link(
        company=company, actor=actor, client=client, info=info, customer=customer, books=books
    )


def unlink_client(*, company: Company, actor: User, client: Client, vendor: str) -> bool:
    """Remove the client's link to `vendor`; True if there was one. Idempotent. Raises
    `PermissionDenied` for Billing staff. Makes no remote call: nothing changes there."""
    assert_can_link(company, actor)
    _check_client(company, client)
    get_vendor(vendor)  # an unknown vendor is a KeyError, not a silent no-op
    with transaction.atomic():
        links = ExternalLink.objects.filter(company=company, client=client, vendor=vendor)
        previous = links.values_list("remote_id", flat=True).first()
        deleted, _rows = links.delete()
        if deleted:
            _audit_link(company, actor, client, vendor, None, previous)
    return deleted > 0


# --- Stale links and lost books access ---------------------------------------------------------


def mark_link_stale(link: ExternalLink, reason: str) -> None:
    """Record that the linked customer is gone or inactive in the accounting system: `reason`
    is the text the Integration column shows (translated by the caller, no secret, no URL).

    The link is kept (invoices and history still point at it) until a person relinks or unlinks
    the client; the client list's "needs attention" filter finds it. Idempotent: marking again
    updates the reason and keeps the time it was first found stale. One UPDATE; `link` is
    updated in place. Callers: the customer import's preview (every customer it reads) and
    `check_link` (one client)."""
    now = timezone.now()
    link.stale_reason = reason[:1000]
    link.stale_at = link.stale_at or now
    ExternalLink.objects.filter(pk=link.pk).update(
        stale_reason=link.stale_reason, stale_at=Coalesce("stale_at", Value(now))
    )


def clear_link_stale(link: ExternalLink) -> None:
    """The customer is there and active again: the link is no longer stale. Idempotent."""
    link.stale_reason, link.stale_at = "", None
    ExternalLink.objects.filter(pk=link.pk).update(stale_reason="", stale_at=None)


def mark_books_access_lost(link: ExternalLink, error: BooksAccessLost) -> None:
    """Record on the client's link that its books can no longer be read: the firm's
    credentials work, but not for this client's company (`BooksAccessLost`, raised by the
    adapter when acting as that company is refused).

    Sets `books_state` to ACCESS_LOST with `error.message` as the reason (shown in the
    Integration column with the fix) and the time it was first seen; keeps `books_company_id`
    so relinking or a renewed access can pick it up again. Never touches the firm's connection
    and never notifies anyone about credentials: only this client's work is affected (see
    `integrations.jobs`, which does not flag the connection for this error). Idempotent:
    calling it again for the same loss changes nothing but the reason text. One UPDATE; `link`
    is updated in place. Callers: anything reading a client's books (the statistics import),
    and `check_link`; relinking (`link_client`) clears it."""
    now = timezone.now()
    link.books_state = BooksState.ACCESS_LOST
    link.books_error = error.message[:1000]
    link.books_error_at = link.books_error_at or now
    ExternalLink.objects.filter(pk=link.pk).update(
        books_state=BooksState.ACCESS_LOST,
        books_error=link.books_error,
        books_error_at=Coalesce("books_error_at", Value(now)),
    )


def stale_reason(info: VendorInfo, customer: RemoteCustomer | None) -> str:
    """Why a link to `customer` (None: not found) is stale, or "" when it is fine."""
    if customer is None:
        return _(
            "The customer was deleted in %(vendor)s. Link the client to another customer, or "
            "unlink it."
        ) % {"vendor": info.label}
    if customer.inactive:
        return _(
            "The customer is inactive in %(vendor)s. Activate it there, link the client to "
            "another customer, or unlink it."
        ) % {"vendor": info.label}
    return ""


def check_link(*, company: Company, actor: User, client: Client, vendor: str) -> ExternalLink:
    """Check one client's link against the accounting system now: `get_customer` finds the
    customer deleted or inactive (the link is marked stale) or fine (a stale mark is cleared,
    and the name and number are refreshed); for vendors with accountant access, books that
    were linked but are no longer among the companies the login can open are marked
    ACCESS_LOST. Raises `PermissionDenied` (Billing staff), `ValidationError` (on `vendor`) when
    the client is not linked to `vendor`, `ConfigError` when not connected and the adapter's
    `IntegrationError`s (a `BooksAccessLost` is recorded, not raised). Read-only remotely;
    idempotent."""
    assert_can_link(company, actor)
    _check_client(company, client)
    info = get_vendor(vendor)
    link = ExternalLink.objects.filter(company=company, client=client, vendor=vendor).first()
    if link is None:
        raise ValidationError(
            {"vendor": _("The client is not linked in %(vendor)s.") % {"vendor": info.label}}
        )
    with open_adapter(company, vendor) as adapter:
        customer = adapter.get_customer(link.remote_id)
        companies = None
        if info.can(Capability.BOOKS_ACCESS) and link.books_state == BooksState.LINKED:
            companies = _list_books(adapter)
    if reason := stale_reason(info, customer):
        mark_link_stale(link, reason)
    else:
        assert customer is not None
        clear_link_stale(link)
        ExternalLink.objects.filter(pk=link.pk).update(
            remote_name=customer.name[:255], remote_number=customer.customer_number[:64]
        )
    if companies is not None and link.books_company_id not in {c.id for c in companies}:
        mark_books_access_lost(
            link,
            BooksAccessLost(
                _(
                    "Your %(vendor)s login can no longer open %(company)s. Ask the client to "
                    "give your firm accountant access again, or pick another company."
                )
                % {
                    "vendor": info.label,
                    "company": link.books_company_name or link.books_company_id,
                },
                books_company_id=link.books_company_id,
            ),
        )
    link.refresh_from_db()
    return link


# --- Suggestions --------------------------------------------------------------------------------


def _emails(customer: RemoteCustomer) -> set[str]:
    # Tripletex's invoiceEmail may hold several addresses separated by ";".
    raw = [customer.email, *re.split(r"[;,]", customer.invoice_email or "")]
    return {address.strip().lower() for address in raw if address and address.strip()}


def unlinked_clients(company: Company, vendor: str) -> QuerySet[Client]:
    """The firm's active clients without a link to `vendor`."""
    linked = ExternalLink.objects.filter(company=company, vendor=vendor, client=OuterRef("pk"))
    return Client.objects.filter(company=company, active=True).exclude(Exists(linked))


def link_suggestions(
    *,
    company: Company,
    vendor: str,
    actor: User | None = None,
    adapter: AccountingAdapter | None = None,
) -> list[Suggestion]:
    """A customer for every unlinked active client whose organisation number, or else e-mail,
    matches exactly one active customer, that customer matching no other client and being linked
    to none. Ambiguous matches (two customers with one number or address) are not suggested;
    those by number are `link_conflicts`.

    The customers are streamed page by page (`iter_customers`); only those matching a client are
    kept, so memory follows the firm's clients, not the vendor's customer count. Read-only.
    Raises `PermissionDenied` when `actor` (if given) may not link, `ConfigError` when not
    connected and the adapter's `IntegrationError`s."""
    return suggestions_and_conflicts(company=company, vendor=vendor, actor=actor, adapter=adapter)[
        0
    ]


def suggestions_and_conflicts(
    *,
    company: Company,
    vendor: str,
    actor: User | None = None,
    adapter: AccountingAdapter | None = None,
) -> tuple[list[Suggestion], list[LinkConflict]]:
    """`link_suggestions` and the conflicts (`LinkConflict`) found by the same single read of
    the customers. Raises as `link_suggestions`."""
    if actor is not None:
        assert_can_link(company, actor)
    if adapter is None:
        with open_adapter(company, vendor) as opened:
            return suggestions_and_conflicts(company=company, vendor=vendor, adapter=opened)
    clients = list(unlinked_clients(company, vendor))
    by_number = {
        (c.registry_country, c.organisation_number): c for c in clients if c.organisation_number
    }
    by_email: dict[str, list[Client]] = defaultdict(list)
    for client in clients:
        if client.email:
            by_email[client.email.lower()].append(client)
    number_hits: dict[tuple[str, str], list[RemoteCustomer]] = defaultdict(list)
    email_hits: dict[str, list[RemoteCustomer]] = defaultdict(list)
    for page in adapter.iter_customers():
        for customer in page:
            if customer.inactive:
                continue
            key = (
                customer.registry_country or company.country,
                _digits(customer.organisation_number),
            )
            if key in by_number:
                number_hits[key].append(customer)
            for address in _emails(customer):
                if address in by_email:
                    email_hits[address].append(customer)
    held = set(
        ExternalLink.objects.filter(company=company, vendor=vendor).values_list(
            "remote_id", flat=True
        )
    )
    proposals: list[Suggestion] = []
    conflicts: list[LinkConflict] = []
    for client in clients:
        numbered = number_hits.get((client.registry_country, client.organisation_number), [])
        if len(numbered) == 1:
            proposals.append(Suggestion(client, numbered[0], MatchRule.ORGNR))
            continue
        if numbered:  # several customers share the number: the accountant decides
            conflicts.append(LinkConflict(client, numbered, {}))
            continue
        address = client.email.lower()
        mailed = {c.id: c for c in email_hits.get(address, [])} if address else {}
        if len(mailed) == 1 and len(by_email[address]) == 1:
            proposals.append(Suggestion(client, next(iter(mailed.values())), MatchRule.EMAIL))
    uses: dict[str, int] = defaultdict(int)
    for proposal in proposals:
        uses[proposal.customer.id] += 1
    if conflicts:  # who holds which of the conflicting customers (one query)
        holders = _holders(
            company, vendor, (c.id for conflict in conflicts for c in conflict.customers)
        )
        conflicts = [
            LinkConflict(
                conflict.client,
                conflict.customers,
                {c.id: holders[c.id] for c in conflict.customers if c.id in holders},
            )
            for conflict in conflicts
        ]
    proposals = [p for p in proposals if uses[p.customer.id] == 1 and p.customer.id not in held]
    return proposals, conflicts


def resolve_link_conflict(
    *,
    company: Company,
    actor: User,
    vendor: str,
    client: Client,
    link: str | None = None,
    import_as_clients: Iterable[str] = (),
) -> dict[str, Any]:
    """The accountant's choice for a `LinkConflict`: link the customer `link` to `client`
    (books resolved as `link_client` does), and/or import each customer of
    `import_as_clients` as a client of its own, linked to it. Those new clients get every field
    of the customer but the organisation number, which stays with `client` (numbers are unique
    per firm); the customer keeps it in the accounting system.

    Each customer must be an active customer with the client's organisation number (else a
    `ValidationError` on `link` / `import`). Returns `{"linked": {"client", "remote_id"} | None,
    "imported": [{"client", "remote_id", "name"}], "skipped": [{"remote_id", "reason"}]}`; a
    customer held by a client meanwhile is skipped with reason `link_taken`. Raises
    `PermissionDenied` (Billing staff), `LinkTaken` when `link` is held by another client,
    `ConfigError` when not connected and the adapter's `IntegrationError`s. Idempotent: a second
    call skips what the first did (`link_taken`) and links nothing twice."""
    from clients import importing  # importing reports stale links back to this module

    assert_can_link(company, actor)
    _check_client(company, client)
    info = get_vendor(vendor)
    wanted_imports = [str(r).strip() for r in dict.fromkeys(import_as_clients) if str(r).strip()]
    link = str(link).strip() if link else None
    if link and link in wanted_imports:
        raise ValidationError({"import": _("A customer cannot be linked and imported at once.")})
    if not link and not wanted_imports:
        raise ValidationError({"link": _("Choose a customer to link, or customers to import.")})
    key = (client.registry_country, client.organisation_number)
    customers: dict[str, RemoteCustomer] = {}
    with open_adapter(company, vendor) as adapter:
        for remote_id in [*([link] if link else []), *wanted_imports]:
            customer = adapter.get_customer(remote_id)
            number = (
                (
                    customer.registry_country or company.country,
                    _digits(customer.organisation_number),
                )
                if customer is not None
                else None
            )
            if customer is None or customer.inactive or number != key or not key[1]:
                field = "link" if remote_id == link else "import"
                raise ValidationError(
                    {
                        field: _(
                            "%(id)s is not an active %(vendor)s customer with this client's "
                            "organisation number."
                        )
                        % {"id": remote_id, "vendor": info.label}
                    }
                )
            customers[remote_id] = customer
        companies = _list_books(adapter) if link and info.can(Capability.BOOKS_ACCESS) else None
    result: dict[str, Any] = {"linked": None, "imported": [], "skipped": []}
    if link:
        if other := _taken_by(company, vendor, link, client):
            raise LinkTaken(other, info)
        books = resolve_books(info, customers[link], client, companies)
        _save_link(
            company=company,
            actor=actor,
            client=client,
            info=info,
            customer=customers[link],
            books=books,
        )
        result["linked"] = {"client": str(client.public_id), "remote_id": link}
    for remote_id in wanted_imports:
        customer = customers[remote_id]
        try:
            with transaction.atomic():
                if ExternalLink.objects.filter(
                    company=company, vendor=vendor, remote_id=remote_id
                ).exists():
                    raise LinkTaken(client, info)
                data = importing.clean_remote(customer, company.country)
                made = Client(company=company, active=True)
                importing.copy_remote(made, data, number=False)
                made.save()
                ExternalLink.objects.create(
                    company=company,
                    client=made,
                    vendor=vendor,
                    remote_id=customer.id,
                    remote_name=customer.name[:255],
                    remote_number=customer.customer_number[:64],
                    linked_by=actor,
                )
                _audit_link(
                    company,
                    actor,
                    made,
                    vendor,
                    {"remote_id": customer.id, "remote_name": customer.name[:255]},
                    None,
                )
        except (LinkTaken, IntegrityError):
            result["skipped"].append({"remote_id": remote_id, "reason": "link_taken"})
            continue
        result["imported"].append(
            {"client": str(made.public_id), "remote_id": remote_id, "name": made.name}
        )
    return result


def accept_suggestions(
    *,
    company: Company,
    actor: User,
    vendor: str,
    clients: Iterable[str] | None = None,
    accept_all: bool = False,
) -> dict[str, Any]:
    """Link the suggested customer of each client in `clients` (public ids), or of every client
    with a suggestion when `accept_all`. The suggestions are computed afresh, so a proposal that
    no longer holds is skipped, never forced. Returns `{"linked": N, "skipped": [{"client",
    "reason"}]}` with reasons `no_suggestion` and `link_taken`. Raises `PermissionDenied` for
    Billing staff and the adapter's `IntegrationError`s. Idempotent: accepting again links
    nothing twice (a linked client has no suggestion)."""
    assert_can_link(company, actor)
    info = get_vendor(vendor)
    wanted = None if accept_all else [str(c) for c in clients or []]
    linked = 0
    skipped: list[dict[str, str]] = []
    with open_adapter(company, vendor) as adapter:
        proposals = {
            str(p.client.public_id): p
            for p in link_suggestions(company=company, vendor=vendor, adapter=adapter)
        }
        chosen = list(proposals) if wanted is None else wanted
        companies = (
            _list_books(adapter)
            if info.can(Capability.BOOKS_ACCESS) and any(c in proposals for c in chosen)
            else None
        )
    for client_id in dict.fromkeys(chosen):
        proposal = proposals.get(client_id)
        if proposal is None:
            skipped.append({"client": client_id, "reason": "no_suggestion"})
            continue
        books = resolve_books(info, proposal.customer, proposal.client, companies)
        try:
            _save_link(
                company=company,
                actor=actor,
                client=proposal.client,
                info=info,
                customer=proposal.customer,
                books=books,
            )
        except LinkTaken:
            skipped.append({"client": client_id, "reason": "link_taken"})
        else:
            linked += 1
    return {"linked": linked, "skipped": skipped}


# --- The client list ----------------------------------------------------------------------------


def filter_by_link(clients: QuerySet[Client], company: Company, value: str) -> QuerySet[Client]:
    """The client list's `?link=` filter: `linked` (to any vendor), `unlinked`, `attention`
    (a link whose books cannot be read); anything else leaves the list as it is."""
    links = ExternalLink.objects.filter(company=company, client=OuterRef("pk"))
    if value == "linked":
        return clients.filter(Exists(links))
    if value == "unlinked":
        return clients.exclude(Exists(links))
    if value == "attention":
        return clients.filter(Exists(links.needing_attention()))  # type: ignore[attr-defined]
    return clients


def integration_facts(company: Company, vendor: Any) -> list[Any]:
    """A connected integration's linked clients for its card and Overview, and how many need
    attention (registered with `integrations.status.register_fact_source`)."""
    from django.urls import reverse

    from integrations.base import Capability
    from integrations.status import Fact

    if not vendor.can(Capability.CUSTOMERS):
        return []
    links = ExternalLink.objects.filter(company=company, vendor=vendor.key, client__active=True)
    clients = reverse("client_list")
    facts = [
        Fact("linked_clients", _("Linked clients"), str(links.count()), f"{clients}?link=linked")
    ]
    attention = links.needing_attention().count()  # type: ignore[attr-defined]
    if attention:
        facts.append(
            Fact(
                "links_attention",
                _("Links that need attention"),
                str(attention),
                f"{clients}?link=attention",
                "warn",
            )
        )
    return facts


__all__ = [
    "LINK_FILTERS",
    "LINK_ROLES",
    "BooksResolution",
    "CustomerSearch",
    "LinkConflict",
    "LinkTaken",
    "Suggestion",
    "accept_suggestions",
    "assert_can_link",
    "books_companies",
    "can_link",
    "check_link",
    "clear_link_stale",
    "filter_by_link",
    "link_client",
    "link_suggestions",
    "linkable_vendors",
    "mark_books_access_lost",
    "mark_link_stale",
    "resolve_books",
    "resolve_link_conflict",
    "search_customers",
    "suggestions_and_conflicts",
    "unlink_client",
]
