"""Use cases of the billing app: switching billing on and off, and importing VAT types and
products from the firm's accounting system.

Imports run as background sync jobs (`integrations.jobs`): `request_vat_type_import` and
`request_product_import` queue one (or join the one already queued or running), and the runners
`run_vat_type_import` / `run_product_import` do the work page by page. A product import refreshes
the VAT types first, in the same job, so every product can be linked to its VAT type.

Import rules, the same for both:
- upsert by the remote (accounting system) id, with one SELECT, at most one bulk INSERT and one
  bulk UPDATE per page, and one UPDATE of the job's counts: the number of SQL statements per page
  does not grow with the page size;
- inactive in the accounting system means inactive here; gone from its list means deactivated
  here, never deleted (invoices will reference these rows);
- idempotent: a second run changes nothing and counts every row as unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import VAT_NUMBER_MAX_LENGTH, BillingProduct, BillingSettings, VatType
from integrations.base import (
    REGISTRY,
    AccountingAdapter,
    ConfigError,
    RemoteProduct,
    RemoteVatType,
    get_vendor,
)
from integrations.jobs import request_job
from integrations.models import ConnectionStatus, IntegrationConnection, SyncJob, SyncJobStatus
from uku.models import Company, User
from uku.permissions import ADMIN_ROLES, require

VAT_TYPE_IMPORT = "vat_type_import"
PRODUCT_IMPORT = "product_import"
IMPORT_KINDS = (VAT_TYPE_IMPORT, PRODUCT_IMPORT)

# Roles that may import. Importing pulls through the firm's accounting-system connection, which
# is an integration setting (owners and admins), and its progress and API-call log live on
# Settings & Apps and /api/v1/sync-jobs/, which are theirs too. Billing members read the lists.
IMPORT_ROLES = ADMIN_ROLES

MAX_LISTED_FAILURES = 50  # the summary names this many failed rows; `failed` counts them all
_CENT = Decimal("0.01")
_MAX_PRICE = Decimal("1e12")  # BillingProduct.unit_price: 14 digits, 2 of them decimals

VAT_TYPE_FIELDS = ("number", "name", "percentage", "active")
PRODUCT_FIELDS = ("name", "number", "description", "unit_price", "vat_type_id", "active")


class BillingNotActive(ConfigError):
    """Billing is off for the firm (or set up without this accounting system). Permanent."""


# --- Reading ----------------------------------------------------------------------------------------


def billing_settings_of(company: Company) -> BillingSettings | None:
    """The firm's billing settings, or None before billing was ever activated. Never writes."""
    return BillingSettings.objects.filter(company=company).first()


def is_billing_active(company: Company) -> bool:
    settings = billing_settings_of(company)
    return bool(settings and settings.active)


def accounting_connection(company: Company, vendor: str) -> IntegrationConnection | None:
    """The firm's connection to `vendor` if it is enabled and has a token saved (it may be in
    error after a failed sync: importing again is how the admin checks a fix)."""
    if not vendor:
        return None
    connection = (
        IntegrationConnection.objects.filter(
            company=company, vendor=vendor, client__isnull=True, enabled=True
        )
        .exclude(status=ConnectionStatus.NOT_CONNECTED)
        .first()
    )
    return connection


def last_import_job(company: Company, vendor: str | None = None) -> SyncJob | None:
    """The newest VAT type or product import of the firm (running or finished)."""
    jobs = SyncJob.objects.filter(company=company, kind__in=IMPORT_KINDS)
    if vendor:
        jobs = jobs.filter(vendor=vendor)
    return jobs.select_related("requested_by").order_by("-created_at", "-pk").first()


def vendor_label(vendor: str) -> str:
    return str(get_vendor(vendor).label) if vendor in REGISTRY else ""


def billing_card(company: Company) -> dict[str, Any]:
    """What the Billing card in Settings & Apps shows (render `billing/_app_card.html` with it
    as `billing_card`). Read-only; a handful of queries whatever the catalogue's size."""
    settings = billing_settings_of(company)
    active = bool(settings and settings.active)
    vendor = settings.accounting_vendor if settings else ""
    label = vendor_label(vendor)
    if not active:
        state, headline = "not_active", _("Not enabled")
    elif label:
        state = "active"
        headline = _("Active, with %(vendor)s as the accounting system") % {"vendor": label}
    else:
        state, headline = "active", _("Active, without an accounting system")
    products = BillingProduct.objects.filter(company=company).aggregate(
        total=Count("pk"), active=Count("pk", filter=Q(active=True))
    )
    last = last_import_job(company)
    return {
        "state": state,
        "active": active,
        "headline": headline,
        "vendor": vendor,
        "vendor_label": label,
        "products": products["active"],
        "products_total": products["total"],
        "vat_types": VatType.objects.filter(company=company, active=True).count(),
        "last_import": last,
        "last_import_finished_at": last.finished_at if last else None,
        "url": reverse("billing_settings"),
    }


# --- Activate, deactivate -------------------------------------------------------------------------


def activate_billing(*, company: Company, actor: User, vendor: str) -> BillingSettings:
    """Turn billing on with `vendor` as the accounting system ("" for none). Owners and admins.

    Idempotent: activating again with the same vendor changes nothing; with another vendor it
    switches. Imports nothing by itself (see `request_product_import`). Raises
    `PermissionDenied`, `ConfigError` for an unknown vendor, or `PlanRequired` when the firm's
    plan does not include the vendor (the same rule as enabling the integration).
    """
    require(
        company, actor, roles=ADMIN_ROLES, message=_("Only owners and admins can activate billing.")
    )
    if vendor and vendor not in REGISTRY:
        raise ConfigError(
            _("“%(vendor)s” is not an accounting system uku knows.") % {"vendor": vendor},
            details={"field": "accounting_vendor"},
        )
    if vendor:
        require(company, actor, plan=get_vendor(vendor).required_plan)
    with transaction.atomic():
        settings, _created = BillingSettings.objects.select_for_update().get_or_create(
            company=company
        )
        if not settings.active or settings.accounting_vendor != vendor:
            if not settings.active:
                settings.activated_at = timezone.now()
                settings.activated_by = actor
            settings.active = True
            settings.accounting_vendor = vendor
            settings.save()
    return settings


def deactivate_billing(*, company: Company, actor: User) -> BillingSettings:
    """Turn billing off. Products, VAT types and import history stay, so activating again picks
    up where the firm left off. Owners and admins. Idempotent."""
    require(
        company,
        actor,
        roles=ADMIN_ROLES,
        message=_("Only owners and admins can deactivate billing."),
    )
    with transaction.atomic():
        settings, _created = BillingSettings.objects.select_for_update().get_or_create(
            company=company
        )
        if settings.active:
            settings.active = False
            settings.save(update_fields=["active", "updated_at"])
    return settings


# --- Requesting imports -----------------------------------------------------------------------------


def assert_can_import(company: Company, actor: User, vendor: str) -> IntegrationConnection:
    """Owners and admins, on a plan that includes `vendor`, with billing active on `vendor` and
    `vendor` connected. Returns the connection; raises `PermissionDenied`, `PlanRequired`,
    `BillingNotActive` or `ConfigError`, each with a message that says what to do."""
    require(
        company,
        actor,
        roles=ADMIN_ROLES,
        message=_("Only owners and admins can import products and VAT types."),
    )
    if not vendor:
        raise BillingNotActive(
            _("Choose the accounting system under Settings & Apps → Billing first.")
        )
    info = get_vendor(vendor)
    require(company, actor, plan=info.required_plan)
    settings = billing_settings_of(company)
    if settings is None or not settings.active:
        raise BillingNotActive(
            _("Billing is not active. Activate it under Settings & Apps → Billing first.")
        )
    if settings.accounting_vendor != vendor:
        raise BillingNotActive(
            _(
                "Billing does not use %(vendor)s as its accounting system. Choose it under "
                "Settings & Apps → Billing first."
            )
            % {"vendor": info.label}
        )
    connection = accounting_connection(company, vendor)
    if connection is None:
        raise ConfigError(
            _("Connect %(vendor)s first: Settings & Apps → %(vendor)s → Connect.")
            % {"vendor": info.label}
        )
    return connection


def request_vat_type_import(*, company: Company, actor: User, vendor: str) -> tuple[SyncJob, bool]:
    """Queue an import of the VAT types (or join one). Returns (job, created).

    A product import refreshes the VAT types too, so while one is queued or running this joins
    it rather than reading the same list twice at the same time.
    """
    assert_can_import(company, actor, vendor)
    running = SyncJob.objects.filter(
        company=company,
        vendor=vendor,
        kind=PRODUCT_IMPORT,
        status__in=[SyncJobStatus.QUEUED, SyncJobStatus.RUNNING],
    ).first()
    if running is not None:
        return running, False
    return request_job(company=company, actor=actor, vendor=vendor, kind=VAT_TYPE_IMPORT)


def request_product_import(*, company: Company, actor: User, vendor: str) -> tuple[SyncJob, bool]:
    """Queue an import of the VAT types and then the products (or join the one queued or
    running). Returns (job, created)."""
    assert_can_import(company, actor, vendor)
    return request_job(company=company, actor=actor, vendor=vendor, kind=PRODUCT_IMPORT)


# --- Running imports (job runners) -----------------------------------------------------------------


def run_vat_type_import(*, job: SyncJob, adapter: AccountingAdapter) -> dict[str, Any]:
    """Job runner for `vat_type_import`. Returns `{"vat_types": counts}`."""
    return {"vat_types": _import_vat_types(job, adapter)}


def run_product_import(*, job: SyncJob, adapter: AccountingAdapter) -> dict[str, Any]:
    """Job runner for `product_import`: VAT types first (so products can link to them), then
    products. Returns `{"vat_types": counts, "products": counts}`."""
    vat_types = _import_vat_types(job, adapter)
    return {"vat_types": vat_types, "products": _import_products(job, adapter)}


def import_summary(job: SyncJob | None) -> list[dict[str, Any]]:
    """The job's counts as rows for a summary table: one per kind of data it imported."""
    if job is None:
        return []
    labels = (("vat_types", _("VAT types")), ("products", _("Products")))
    return [
        {"key": key, "label": label, **job.counts[key]}
        for key, label in labels
        if isinstance(job.counts.get(key), dict)
    ]


def describe_import(job: SyncJob) -> str:
    """A product or VAT type import's result in words, for History and its notification:
    "VAT types: 3 created. Products: 220 created, 1 failed." """
    from integrations.jobs import format_counts

    parts = []
    for row in import_summary(job):
        counts = format_counts(row) or _("nothing changed")
        parts.append(f"{row['label']}: {counts}.")
    return " ".join(parts)


ApplyPage = Callable[[Company, str, list[Any], dict[str, Any]], None]


def _new_tally(**extra: int) -> dict[str, Any]:
    return {
        "created": 0,
        "updated": 0,
        "deactivated": 0,
        "unchanged": 0,
        "failed": 0,
        "failures": [],
        "rows": 0,
        "pages": 0,
        "finished": False,
        **extra,
    }


def _fail(tally: dict[str, Any], remote_id: str, name: str, reason: str) -> None:
    tally["failed"] += 1
    if len(tally["failures"]) < MAX_LISTED_FAILURES:
        tally["failures"].append({"id": remote_id, "name": name, "reason": reason})


def _save_tally(job: SyncJob, key: str, tally: dict[str, Any]) -> None:
    """Store the counts so far and the progress on the job: one UPDATE."""
    job.counts = {**job.counts, key: tally}
    job.progress_done = sum(
        int(v.get("rows", 0)) for v in job.counts.values() if isinstance(v, dict)
    )
    SyncJob.objects.filter(pk=job.pk).update(counts=job.counts, progress_done=job.progress_done)


# The two catalogue models an import upserts; both have company, vendor, remote_id, active and
# updated_at.
CatalogueRow = TypeVar("CatalogueRow", BillingProduct, VatType)


def _run_import(
    job: SyncJob,
    key: str,
    model: type[CatalogueRow],
    pages: Iterator[list[Any]],
    apply_page: ApplyPage,
    **extra: int,
) -> dict[str, Any]:
    """Apply every page, then deactivate what the accounting system no longer lists.

    The job may run again after a transient error (see `integrations.jobs`). The counts are
    stored after every page, so a retry keeps them: it reads the pages already applied again
    (to know which ids still exist) without applying or counting them twice, and skips a part
    that had finished.
    """
    previous = job.counts.get(key)
    tally = {**_new_tally(**extra), **previous} if isinstance(previous, dict) else None
    if tally is not None and tally["finished"]:
        return tally
    tally = tally or _new_tally(**extra)
    applied_before = tally["pages"]
    company, vendor = job.company, job.vendor
    seen: set[str] = set()
    for index, page in enumerate(pages):
        seen.update(row.id for row in page)
        if index < applied_before:
            continue
        apply_page(company, vendor, page, tally)
        tally["pages"] += 1
        tally["rows"] += len(page)
        _save_tally(job, key, tally)
    with transaction.atomic():
        # Gone from the accounting system's list: deactivate, never delete.
        tally["deactivated"] += (
            model.objects.filter(company=company, vendor=vendor, active=True)
            .exclude(remote_id__in=seen)
            .update(active=False, updated_at=timezone.now())
        )
        tally["finished"] = True
        _save_tally(job, key, tally)
    return tally


def _upsert(
    model: type[CatalogueRow],
    company: Company,
    vendor: str,
    wanted: dict[str, dict[str, Any]],
    fields: Iterable[str],
    tally: dict[str, Any],
) -> None:
    """Create or update the page's rows in three statements at most: SELECT, INSERT, UPDATE.

    `ignore_conflicts` makes a concurrent import of the same rows (a VAT type import next to a
    product import) harmless: the row the other one inserted first wins, with the same values.
    """
    fields = tuple(fields)
    existing = {
        row.remote_id: row
        for row in model.objects.filter(company=company, vendor=vendor, remote_id__in=list(wanted))
    }
    now = timezone.now()
    new: list[CatalogueRow] = []
    changed: list[CatalogueRow] = []
    for remote_id, values in wanted.items():
        current = existing.get(remote_id)
        if current is None:
            new.append(model(company=company, vendor=vendor, remote_id=remote_id, **values))
            tally["created"] += 1
            continue
        if all(getattr(current, f) == values[f] for f in fields):
            tally["unchanged"] += 1
            continue
        tally["deactivated" if current.active and not values["active"] else "updated"] += 1
        for f in fields:
            setattr(current, f, values[f])
        current.updated_at = now
        changed.append(current)
    if new:
        model.objects.bulk_create(new, ignore_conflicts=True)
    if changed:
        model.objects.bulk_update(changed, [*fields, "updated_at"])


# VAT types ------------------------------------------------------------------------------------------


def _import_vat_types(job: SyncJob, adapter: AccountingAdapter) -> dict[str, Any]:
    return _run_import(job, "vat_types", VatType, adapter.iter_vat_types(), _apply_vat_type_page)


def _apply_vat_type_page(
    company: Company, vendor: str, page: list[RemoteVatType], tally: dict[str, Any]
) -> None:
    wanted: dict[str, dict[str, Any]] = {}
    for remote in page:
        values = _clean_vat_type(remote)
        if isinstance(values, str):
            _fail(tally, remote.id, remote.name, values)
        else:
            wanted[remote.id] = values
    _upsert(VatType, company, vendor, wanted, VAT_TYPE_FIELDS, tally)


def _clean_vat_type(remote: RemoteVatType) -> dict[str, Any] | str:
    """The row's values, or why it cannot be imported."""
    number = remote.number.strip()
    if not number or len(number) > VAT_NUMBER_MAX_LENGTH:
        return _("The VAT type has no valid code.")
    try:
        percentage = Decimal(remote.percentage).quantize(_CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        percentage = Decimal(-1)
    if not Decimal(0) <= percentage <= Decimal(100):
        return _("The VAT percentage is not between 0 and 100.")
    name = remote.name.strip()[:255] or number
    return {"number": number, "name": name, "percentage": percentage, "active": True}


# Products ---------------------------------------------------------------------------------------------


def _import_products(job: SyncJob, adapter: AccountingAdapter) -> dict[str, Any]:
    # One query for the whole job: a firm has tens of VAT types, not thousands.
    vat_types = dict(
        VatType.objects.filter(company=job.company, vendor=job.vendor).values_list(
            "remote_id", "pk"
        )
    )

    def apply_page(
        company: Company, vendor: str, page: list[RemoteProduct], tally: dict[str, Any]
    ) -> None:
        wanted: dict[str, dict[str, Any]] = {}
        for remote in page:
            values = _clean_product(remote, vat_types)
            if isinstance(values, str):
                _fail(tally, remote.id, remote.name, values)
                continue
            if remote.vat_type_id and values["vat_type_id"] is None:
                tally["without_vat_type"] += 1
            wanted[remote.id] = values
        _upsert(BillingProduct, company, vendor, wanted, PRODUCT_FIELDS, tally)

    return _run_import(
        job, "products", BillingProduct, adapter.iter_products(), apply_page, without_vat_type=0
    )


def _clean_product(remote: RemoteProduct, vat_types: dict[str, int]) -> dict[str, Any] | str:
    """The row's values, or why it cannot be imported. An unknown VAT type leaves the product
    without one (counted as `without_vat_type`) rather than failing it."""
    name = remote.name.strip()
    if not name:
        return _("The product has no name.")
    try:
        price = Decimal(remote.unit_price).quantize(_CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return _("The price is not a number.")
    if abs(price) >= _MAX_PRICE:
        return _("The price is too large.")
    return {
        "name": name[:255],
        "number": remote.number.strip()[:64],
        "description": remote.description.strip(),
        "unit_price": price,
        "vat_type_id": vat_types.get(remote.vat_type_id) if remote.vat_type_id else None,
        "active": not remote.inactive,
    }


def billing_card_context(company: Company) -> dict[str, Any]:
    """Settings & Apps context for the Billing card (`billing/_app_card.html`)."""
    return {"billing_card": billing_card(company)}


def billing_not_active(company: Company) -> bool:
    """Whether enabling an integration should offer to activate billing too."""
    return not is_billing_active(company)
