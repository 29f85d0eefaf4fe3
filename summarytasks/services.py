"""Use cases of summary tasks: the only code that changes their settings, fields, mappings,
tasks and values. Views, API views and tasks call these with `company` and `actor`.

Who may do what (checked here, whoever calls): owners and admins change the settings, the field
mapping and the custom fields and start a reload (integration settings are theirs); owners,
admins and members fill tasks in (status, assignee, comment, values typed by hand); every member
of the firm reads them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from clients.models import BooksState, Client, ExternalLink
from integrations import jobs
from integrations.base import (
    AccountingAdapter,
    AuthError,
    BooksAccessLost,
    Capability,
    ConfigError,
    StatisticsTarget,
    StatisticValue,
    VendorInfo,
    get_vendor,
)
from integrations.models import ConnectionStatus, IntegrationConnection, SyncJob
from integrations.services import audit_integration
from summarytasks import schedule
from summarytasks.models import (
    NUMERIC_TYPES,
    CustomTaskField,
    FieldMapping,
    FieldType,
    SummarySettings,
    SummaryTask,
    SummaryTaskValue,
    TaskStatus,
    TaskTopic,
)
from uku import audit
from uku.models import Company, Membership, Role, User
from uku.permissions import ADMIN_ROLES, require

logger = logging.getLogger(__name__)

TASK_ROLES: tuple[Role, ...] = (Role.OWNER, Role.ADMIN, Role.MEMBER)
"""Who fill summary tasks in: owners, admins and members (accountants). Billing staff read."""

RELOAD_KIND = "statistics_reload"
DEFAULT_TITLE = "{client}: {month}"


def statistics_vendor(vendor: str) -> VendorInfo:
    """The vendor `vendor`, which must read work statistics (`CapabilityMissing` otherwise)."""
    info = get_vendor(vendor)
    info.require(Capability.STATISTICS)
    return info


def _require_admin(company: Company, actor: User) -> None:
    require(
        company,
        actor,
        roles=ADMIN_ROLES,
        message=_("Only owners and admins change the summary task settings."),
    )


def _require_task_role(company: Company, actor: User) -> None:
    require(
        company,
        actor,
        roles=TASK_ROLES,
        message=_("Billing staff can read summary tasks but not change them."),
    )


# --- Settings ------------------------------------------------------------------------------------


def summary_settings(company: Company, vendor: str) -> SummarySettings:
    """The firm's settings for `vendor` (the defaults, unsaved, until someone saves them)."""
    found = SummarySettings.objects.filter(company=company, vendor=vendor).first()
    return found or SummarySettings(company=company, vendor=vendor, task_title=DEFAULT_TITLE)


def save_summary_settings(
    *,
    company: Company,
    actor: User,
    vendor: str,
    task_title: str,
    topic: str = "",
    import_day: str | int = schedule.LAST_WORK_DAY,
) -> SummarySettings:
    """Save the task title (with `{month}` and `{client}`), the topic (by name; created when
    new, blank for none) and the import day. Raises `ValidationError` naming the field.
    Idempotent."""
    _require_admin(company, actor)
    statistics_vendor(vendor)
    task_title = (task_title or "").strip()
    errors: dict[str, str] = {}
    if not task_title:
        errors["task_title"] = _("Enter a task title.")
    elif len(task_title) > 200:
        errors["task_title"] = _("Keep the task title under 200 characters.")
    try:
        rule = schedule.check_rule(str(import_day))
    except ValueError:
        errors["import_day"] = _(
            "Choose the last work day, the last calendar day or a day from 1 to 28."
        )
    topic = (topic or "").strip()
    if len(topic) > 100:
        errors["topic"] = _("Keep the topic under 100 characters.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        topic_row = (
            TaskTopic.objects.get_or_create(company=company, name=topic)[0] if topic else None
        )
        saved, _created = SummarySettings.objects.update_or_create(
            company=company,
            vendor=vendor,
            defaults={"task_title": task_title, "topic": topic_row, "import_day": rule},
        )
        _audit(
            company,
            actor,
            "summary.settings_saved",
            vendor,
            {"task_title": task_title, "topic": topic, "import_day": rule},
        )
    return saved


def _audit(
    company: Company,
    actor: User,
    action: str,
    vendor: str,
    details: dict[str, Any],
    client: Client | None = None,
) -> None:
    """An audit event about the firm's summary tasks of `vendor` (or of one client)."""
    if client is not None:
        audit.record_for(
            client,
            company=company,
            actor=actor,
            action=action,
            details={"vendor": vendor, **details},
        )
        return
    audit_integration(company, actor, action, vendor, {"vendor": vendor, **details})


def task_title(settings_row: SummarySettings, client: Client, period: date) -> str:
    """The title of `client`'s task for `period`: the placeholders filled in (the month as
    "March 2024" in the site's language). Plain replacement, so other braces stay as typed."""
    with translation.override(settings.LANGUAGE_CODE):
        month = formats.date_format(period, "F Y")
    title = (settings_row.task_title or DEFAULT_TITLE).replace("{month}", month)
    return title.replace("{client}", client.name)[:255]


# --- Custom task fields -------------------------------------------------------------------------


def _clean_field(company: Company, name: str, type_: str, instance: CustomTaskField | None) -> str:
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Enter a name for the field.")
    elif len(name) > 100:
        errors["name"] = _("Keep the name under 100 characters.")
    elif (
        CustomTaskField.objects.filter(company=company, name__iexact=name)
        .exclude(pk=instance.pk if instance else 0)
        .exists()
    ):
        errors["name"] = _("There is already a field called “%(name)s”.") % {"name": name}
    if type_ not in FieldType.values:
        errors["type"] = _("Choose a type: %(types)s.") % {
            "types": ", ".join(str(label) for label in FieldType.labels)
        }
    if errors:
        raise ValidationError(errors)
    return name


def create_task_field(
    *, company: Company, actor: User, name: str, type: str = FieldType.WHOLE_NUMBER
) -> CustomTaskField:
    """A new custom task field. Raises `ValidationError` (name taken, blank, unknown type)."""
    _require_admin(company, actor)
    name = _clean_field(company, name, type, None)
    return CustomTaskField.objects.create(company=company, name=name, type=type)


def update_task_field(
    *, company: Company, actor: User, field: CustomTaskField, **changes: Any
) -> CustomTaskField:
    """Rename a field or change its type. A numeric field that holds values stays numeric: its
    values would otherwise be lost."""
    _require_admin(company, actor)
    name = changes.get("name", field.name)
    type_ = changes.get("type", field.type)
    name = _clean_field(company, name, type_, field)
    if (
        type_ != field.type
        and (field.type in NUMERIC_TYPES) != (type_ in NUMERIC_TYPES)
        and SummaryTaskValue.objects.filter(field=field).exists()
    ):
        raise ValidationError(
            {"type": _("The field holds values: it can only change to another number type.")}
        )
    field.name, field.type = name, type_
    field.save(update_fields=["name", "type"])
    return field


# --- Field mapping --------------------------------------------------------------------------------


def field_mapping(company: Company, vendor: str) -> dict[str, CustomTaskField]:
    """statistic key -> the field it fills, for the vendor's mapped statistics."""
    rows = FieldMapping.objects.filter(company=company, vendor=vendor).select_related("field")
    return {row.statistic_key: row.field for row in rows}


def save_field_mapping(
    *,
    company: Company,
    actor: User,
    vendor: str,
    mapping: Mapping[str, CustomTaskField | None],
) -> dict[str, CustomTaskField]:
    """Replace the vendor's mapping: each statistic key -> a field, or None (not imported). Keys
    left out keep their mapping. Raises `ValidationError` for an unknown key, another firm's
    field or one field chosen twice. Idempotent."""
    _require_admin(company, actor)
    info = statistics_vendor(vendor)
    errors: dict[str, str] = {}
    for key, field in mapping.items():
        if info.statistic(key) is None:
            errors[key] = _("%(vendor)s has no statistic “%(key)s”.") % {
                "vendor": info.label,
                "key": key,
            }
        elif field is not None and field.company_id != company.pk:
            errors[key] = _("That field does not exist.")
    current = field_mapping(company, vendor)
    wanted = {**current, **mapping}
    chosen = [f.pk for f in wanted.values() if f is not None]
    if len(chosen) != len(set(chosen)):
        errors["mapping"] = _("Each field can hold one statistic: pick another field.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        FieldMapping.objects.filter(company=company, vendor=vendor).delete()
        FieldMapping.objects.bulk_create(
            FieldMapping(company=company, vendor=vendor, statistic_key=key, field=field)
            for key, field in wanted.items()
            if field is not None
        )
        changed = {
            key: (field.name if field is not None else None)
            for key, field in wanted.items()
            if getattr(current.get(key), "pk", None) != getattr(field, "pk", None)
        }
        if changed:
            _audit(company, actor, "summary.mapping_saved", vendor, {"mapping": changed})
    return field_mapping(company, vendor)


# --- Importing one client-month -----------------------------------------------------------------


class NotLinked(ConfigError):
    """The client has no link to the vendor: nothing to read (reported, not a failure)."""


@dataclass(frozen=True)
class ImportResult:
    task: SummaryTask
    imported: int  # values written from the vendor
    missing: int  # statistics the vendor could not compute (kept with their reason)
    kept: int  # values typed by hand that were left alone


def ensure_task(company: Company, client: Client, period: date, vendor: str) -> SummaryTask:
    """The client's task for `period`, created from the vendor's settings when missing. Never
    changes an existing task (a person may have renamed it or moved its topic)."""
    settings_row = summary_settings(company, vendor)
    task, _created = SummaryTask.objects.get_or_create(
        client=client,
        period=period,
        defaults={
            "company": company,
            "title": task_title(settings_row, client, period),
            "topic": settings_row.topic,
            "assignee": client.responsible,
        },
    )
    return task


def _value_fields(field: CustomTaskField, stat: StatisticValue) -> dict[str, Any]:
    """The columns a statistic writes into `field`'s value: a number for number fields, text
    for text fields; missing (with the reason) when it has no value or cannot fit a date."""
    empty: dict[str, Any] = {"number": None, "text": "", "day": None, "missing_reason": ""}
    if stat.value is None:
        return {**empty, "missing_reason": stat.missing_reason or _("No value was returned.")}
    if field.type == FieldType.WHOLE_NUMBER:
        return {**empty, "number": Decimal(int(stat.value))}
    if field.type in NUMERIC_TYPES:
        return {**empty, "number": stat.value}
    if field.type == FieldType.TEXT:
        return {**empty, "text": f"{stat.value.normalize():f}"}
    return {
        **empty,
        "missing_reason": _("A count cannot fill the date field “%(field)s”.")
        % {"field": field.name},
    }


def client_connection(
    company: Company, client: Client, vendor: str
) -> IntegrationConnection | None:
    """The connection to `client`'s OWN company in `vendor` (credentials that belong to that
    client), when the firm has saved one; else None."""
    return (
        IntegrationConnection.objects.filter(
            company=company, vendor=vendor, client=client, enabled=True
        )
        .exclude(status=ConnectionStatus.NOT_CONNECTED)
        .first()
    )


def _read_client_statistics(
    company: Company,
    client: Client,
    vendor: str,
    adapter: AccountingAdapter,
    target: StatisticsTarget,
    period: date,
    keys: list[str],
) -> dict[str, StatisticValue]:
    """The statistics of the client's own books. A vendor with accountant access opens them
    through the firm's credentials (`target.books_company_id`). A vendor without it (Merit:
    credentials open exactly one company) can only count a client with the client's own
    credentials: the firm's would count the firm's own bookkeeping under every client, so
    without them each value is missing with what to do, and no call is made."""
    info = get_vendor(vendor)
    if info.can(Capability.BOOKS_ACCESS):
        return adapter.read_statistics(target, period, keys)
    own = client_connection(company, client, vendor)
    if own is None:
        reason = _(
            "%(vendor)s credentials open one company only: connect this client's own "
            "%(vendor)s company to read its statistics."
        ) % {"vendor": info.label}
        return {key: StatisticValue(key, None, reason) for key in keys}
    from integrations.services import adapter_for, record_sync_failure

    client_adapter = adapter_for(own)
    try:
        return client_adapter.read_statistics(target, period, keys)
    except AuthError as exc:
        # The client's own credentials, not the firm's: this client's books are out of reach,
        # the firm's connection and the other clients are fine (a reload goes on with them).
        # The client's connection is flagged (and the admins told); the firm's, which made no
        # call, is left as it is.
        record_sync_failure(own, exc)
        raise BooksAccessLost(
            _("This client's own %(vendor)s credentials were refused: %(error)s")
            % {"vendor": info.label, "error": exc.message},
            books_company_id=own.remote_company_id,
        ) from exc
    finally:
        client_adapter.close()


def import_client_month(
    *,
    company: Company,
    client: Client,
    vendor: str,
    period: date,
    adapter: AccountingAdapter,
    overwrite_typed: bool = False,
) -> ImportResult:
    """Read the mapped statistics of `client` for the month `period` and write them into its
    summary task (created when missing). Only mapped statistics are asked for, so the sources
    of unmapped ones are not read; values of unmapped fields are never touched. A value typed by
    hand is kept unless `overwrite_typed` (a reload). Upserts: safe to run twice, one task and
    one value per field. Raises `NotLinked`, and the adapter's errors (`BooksAccessLost` for
    this client only, `AuthError`, `TransientError`, `RateLimited`)."""
    statistics_vendor(vendor)
    if client.company_id != company.pk:  # a caller's bug
        raise ValueError("client of another firm")
    period = schedule.month_start(period)
    link = ExternalLink.objects.filter(company=company, client=client, vendor=vendor).first()
    if link is None:
        raise NotLinked(
            _("%(client)s is not linked to %(vendor)s.")
            % {"client": client.name, "vendor": get_vendor(vendor).label}
        )
    mapping = list(
        FieldMapping.objects.filter(company=company, vendor=vendor).select_related("field")
    )
    keys = sorted({m.statistic_key for m in mapping})
    stats: dict[str, StatisticValue] = {}
    if keys:
        target = StatisticsTarget(
            customer_id=link.remote_id, books_company_id=link.books_company_id
        )
        stats = _read_client_statistics(company, client, vendor, adapter, target, period, keys)
    now = timezone.now()
    with transaction.atomic():
        task = ensure_task(company, client, period, vendor)
        typed = set(
            SummaryTaskValue.objects.filter(task=task, typed_by_hand=True).values_list(
                "field_id", flat=True
            )
        )
        rows: list[SummaryTaskValue] = []
        kept = missing = 0
        for m in mapping:
            if m.field_id in typed and not overwrite_typed:
                kept += 1
                continue
            stat = stats.get(m.statistic_key) or StatisticValue(
                m.statistic_key, None, _("The accounting system did not return this statistic.")
            )
            columns = _value_fields(m.field, stat)
            missing += bool(columns["missing_reason"])
            rows.append(
                SummaryTaskValue(
                    company=company,
                    task=task,
                    field=m.field,
                    source_vendor=vendor,
                    statistic_key=m.statistic_key,
                    imported_at=now,
                    typed_by=None,
                    typed_by_hand=False,
                    **columns,
                )
            )
        # One statement, an upsert on (task, field): a second run writes the same rows again.
        SummaryTaskValue.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["task", "field"],
            update_fields=[
                "number",
                "text",
                "day",
                "missing_reason",
                "source_vendor",
                "statistic_key",
                "imported_at",
                "typed_by",
                "typed_by_hand",
                "updated_at",
            ],
        )
    return ImportResult(task=task, imported=len(rows) - missing, missing=missing, kept=kept)


def mark_books_access_lost(link: ExternalLink, error: BooksAccessLost) -> None:
    """Record on the client's link that its books can no longer be opened.

    Uses `clients.linking.mark_books_access_lost` (issue 10) when it exists; until then the
    equivalent here: the link's books state becomes "no access", which the Integration column
    shows with what to do. Idempotent."""
    from clients import linking

    shared = getattr(linking, "mark_books_access_lost", None)
    if shared is not None:
        shared(link, error)
        return
    ExternalLink.objects.filter(pk=link.pk).update(books_state=BooksState.NO_ACCESS)


# --- Reload -------------------------------------------------------------------------------------


def connected(company: Company, vendor: str) -> IntegrationConnection | None:
    """The firm's enabled, connected connection to `vendor`, or None."""
    return (
        IntegrationConnection.objects.filter(
            company=company, vendor=vendor, client__isnull=True, enabled=True
        )
        .exclude(status=ConnectionStatus.NOT_CONNECTED)
        .first()
    )


def reload_scope(client: Client | None) -> str:
    return f"client:{client.public_id}" if client is not None else ""


def reload_work_statistics(
    *, company: Company, actor: User, vendor: str, client: Client | None = None
) -> tuple[SyncJob, bool]:
    """*Reload data*: one background job that back-fills the last 12 months of every linked
    client (or of `client` only) and overwrites the mapped values. Asking again while it runs
    joins it. Returns (job, created). Raises `PermissionDenied` (not owner or admin),
    `CapabilityMissing`, `ConfigError` (not connected, no field mapped, client not linked)."""
    _require_admin(company, actor)
    info = statistics_vendor(vendor)
    if connected(company, vendor) is None:
        raise ConfigError(
            _("Connect %(vendor)s first: Settings & Apps → %(vendor)s → Connect.")
            % {"vendor": info.label}
        )
    if not FieldMapping.objects.filter(company=company, vendor=vendor).exists():
        raise ConfigError(
            _("No data fields are mapped yet: choose a field for at least one statistic and save.")
        )
    if client is not None:
        if client.company_id != company.pk:
            raise ValueError("client of another firm")
        if not ExternalLink.objects.filter(company=company, client=client, vendor=vendor).exists():
            raise ConfigError(
                _("%(client)s is not linked to %(vendor)s: link it in the Integration column.")
                % {"client": client.name, "vendor": info.label}
            )
    options = {"client_id": str(client.public_id)} if client is not None else {}
    with transaction.atomic():
        job, created = jobs.request_job(
            company=company,
            actor=actor,
            vendor=vendor,
            kind=RELOAD_KIND,
            scope_key=reload_scope(client),
            options=options,
        )
        if created:  # asking again while it runs joins the job: nothing new to record
            _audit(
                company,
                actor,
                "summary.reload_requested",
                vendor,
                {"job": str(job.public_id)},
                client,
            )
    return job, created


def active_reload(company: Company, vendor: str, client: Client | None = None) -> SyncJob | None:
    """The latest reload job of the firm (or of `client`), running or ended."""
    return (
        SyncJob.objects.filter(
            company=company, vendor=vendor, kind=RELOAD_KIND, scope=reload_scope(client)
        )
        .order_by("-created_at")
        .first()
    )


# --- Filling tasks in -----------------------------------------------------------------------------


def update_task(
    *,
    company: Company,
    actor: User,
    task: SummaryTask,
    **changes: Any,
) -> SummaryTask:
    """Change a task's `status`, `assignee` (a member of the firm, or None), `comment` or
    `due_date`. Raises `ValidationError` naming the field."""
    _require_task_role(company, actor)
    if task.company_id != company.pk:
        raise ValueError("task of another firm")
    errors: dict[str, str] = {}
    fields: list[str] = []
    if "status" in changes:
        if changes["status"] not in TaskStatus.values:
            errors["status"] = _("Choose open, in progress or done.")
        else:
            task.status = changes["status"]
            fields.append("status")
    if "assignee" in changes:
        assignee = changes["assignee"]
        if (
            assignee is not None
            and not Membership.objects.filter(company=company, user=assignee).exists()
        ):
            errors["assignee"] = _("Choose a member of the firm.")
        else:
            task.assignee = assignee
            fields.append("assignee")
    if "comment" in changes:
        task.comment = str(changes["comment"] or "")[:5000]
        fields.append("comment")
    if "due_date" in changes:
        task.due_date = changes["due_date"]
        fields.append("due_date")
    if errors:
        raise ValidationError(errors)
    if fields:
        task.save(update_fields=[*fields, "updated_at"])
    return task


def _parse_value(field: CustomTaskField, raw: str) -> dict[str, Any]:
    raw = (raw or "").strip()
    empty: dict[str, Any] = {"number": None, "text": "", "day": None}
    if not raw:
        return empty
    if field.type in NUMERIC_TYPES:
        try:
            number = Decimal(raw.replace(" ", "").replace("\u00a0", "").replace(",", "."))
        except InvalidOperation:
            raise ValidationError({"value": _("Enter a number.")}) from None
        if not number.is_finite() or abs(number) >= Decimal(10) ** 14:
            raise ValidationError({"value": _("Enter a number.")})
        if field.type == FieldType.WHOLE_NUMBER and number != number.to_integral():
            raise ValidationError({"value": _("Enter a whole number.")})
        return {**empty, "number": number}
    if field.type == FieldType.DATE:
        try:
            return {**empty, "day": date.fromisoformat(raw)}
        except ValueError:
            raise ValidationError({"value": _("Enter a date as YYYY-MM-DD.")}) from None
    return {**empty, "text": raw[:5000]}


def set_task_value(
    *, company: Company, actor: User, task: SummaryTask, field: CustomTaskField, raw: str
) -> SummaryTaskValue:
    """Type a value by hand. It is kept as the person's (the monthly import leaves it alone)
    until a reload overwrites the mapped values. Raises `ValidationError` on `value`."""
    _require_task_role(company, actor)
    if task.company_id != company.pk or field.company_id != company.pk:
        raise ValueError("object of another firm")
    columns = _parse_value(field, raw)
    value, _created = SummaryTaskValue.objects.update_or_create(
        task=task,
        field=field,
        defaults={
            "company": company,
            **columns,
            "missing_reason": "",
            "source_vendor": "",
            "statistic_key": "",
            "imported_at": None,
            "typed_by": actor,
            "typed_by_hand": True,
        },
    )
    return value


# --- Troubleshooting states ------------------------------------------------------------------------


@dataclass(frozen=True)
class VendorState:
    """What the Settings tab and the month view say about one vendor's statistics."""

    info: VendorInfo
    connected: bool
    linked_clients: int
    mapped: int
    next_import: date | None
    next_period: date | None


def vendor_state(company: Company, info: VendorInfo, today: date | None = None) -> VendorState:
    today = today or schedule.firm_today(company.country)
    settings_row = summary_settings(company, info.key)
    next_day, next_period = schedule.next_import(today, settings_row.import_day, company.country)
    return VendorState(
        info=info,
        connected=connected(company, info.key) is not None,
        linked_clients=ExternalLink.objects.filter(
            company=company, vendor=info.key, client__active=True
        ).count(),
        mapped=FieldMapping.objects.filter(company=company, vendor=info.key).count(),
        next_import=next_day,
        next_period=next_period,
    )


def integration_facts(company: Company, vendor: VendorInfo) -> list[Any]:
    """The next scheduled import of summary-task statistics, for a connected integration's card
    and Overview (registered with `integrations.status.register_fact_source`)."""
    from django.urls import reverse

    from integrations.status import Fact

    if not vendor.can(Capability.STATISTICS):
        return []
    state = vendor_state(company, vendor)
    if not state.mapped:
        return [
            Fact(
                "next_import",
                _("Next import"),
                _("No data fields mapped"),
                f"{reverse('integration_detail', args=[vendor.key])}?tab=settings",
                "warn",
            )
        ]
    if state.next_import is None:
        return []
    return [
        Fact(
            "next_import",
            _("Next import"),
            formats.date_format(state.next_import, "SHORT_DATE_FORMAT"),
            reverse("summary_month"),
        )
    ]
