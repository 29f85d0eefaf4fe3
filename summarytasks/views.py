"""Pages of summary tasks: the integration dialog's Settings tab (settings, Configure data
fields, Reload data), the month view across clients, and each client's tasks."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients.models import Client, ExternalLink
from integrations.base import REGISTRY, Capability, IntegrationError, VendorInfo, iter_vendors
from integrations.views import vendor_or_404
from summarytasks import schedule, services
from summarytasks.models import (
    NUMERIC_TYPES,
    CustomTaskField,
    FieldMapping,
    FieldType,
    SummaryTask,
    SummaryTaskValue,
    TaskStatus,
    TaskTopic,
)
from uku.http import FirmRequest, as_uuid
from uku.models import Membership
from uku.tenancy import ADMIN_ROLES, company_required, requires_role

NEW_FIELD = "__new__"
PAGE_SIZE = 50


def _statistics_info(vendor: str) -> VendorInfo:
    info = vendor_or_404(vendor)
    if not info.can(Capability.STATISTICS):
        raise PermissionDenied(_("This accounting system has no work statistics."))
    return info


def _tab_url(vendor: str) -> str:
    return f"{reverse('integration_detail', args=[vendor])}?tab=settings"


# --- The Settings tab -------------------------------------------------------------------------------


def _mapping_context(
    request: FirmRequest,
    info: VendorInfo,
    chosen: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The Configure data fields form: every statistic (common first) with the field chosen for
    it (`chosen`, posted values; else the saved mapping)."""
    if chosen is None:
        chosen = {
            key: str(field.public_id)
            for key, field in services.field_mapping(request.company, info.key).items()
        }
    rows: list[dict[str, Any]] = [
        {"statistic": s, "selected": chosen.get(s.key, ""), "error": (errors or {}).get(s.key, "")}
        for s in info.statistics
    ]
    uncommon_chosen = any(r["selected"] for r in rows if not r["statistic"].common)
    return {
        "info": info,
        "vendor": info.key,
        "common_rows": [r for r in rows if r["statistic"].common],
        "more_rows": [r for r in rows if not r["statistic"].common],
        "show_more": uncommon_chosen or any(r["error"] for r in rows),
        "task_fields": list(CustomTaskField.objects.filter(company=request.company)),
        "field_types": FieldType.choices,
        "mapping_error": (errors or {}).get("mapping", ""),
        "NEW_FIELD": NEW_FIELD,
    }


def settings_context(request: FirmRequest, vendor: str) -> dict[str, Any]:
    """What the Settings tab shows (registered with `integrations.views.register_tab`)."""
    info = _statistics_info(vendor)
    company = request.company
    row = services.summary_settings(company, vendor)
    return {
        **_mapping_context(request, info),
        "summary": row,
        "summary_state": services.vendor_state(company, info),
        "day_choices": schedule.DAY_CHOICES,
        "reload_job": services.active_reload(company, vendor),
        "topics": TaskTopic.objects.filter(company=company),
    }


@require_POST
@requires_role(*ADMIN_ROLES)
def settings_save(request: FirmRequest, vendor: str) -> HttpResponse:
    _statistics_info(vendor)
    try:
        services.save_summary_settings(
            company=request.company,
            actor=request.user,
            vendor=vendor,
            task_title=request.POST.get("task_title", ""),
            topic=request.POST.get("topic", ""),
            import_day=request.POST.get("import_day", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Summary task settings saved."))
    return redirect(_tab_url(vendor))


def _posted_mapping(request: FirmRequest, info: VendorInfo) -> dict[str, str]:
    return {s.key: request.POST.get(f"map:{s.key}", "") for s in info.statistics}


def _create_posted_field(request: FirmRequest, key: str) -> CustomTaskField:
    return services.create_task_field(
        company=request.company,
        actor=request.user,
        name=request.POST.get(f"new_name:{key}", ""),
        type=request.POST.get(f"new_type:{key}", FieldType.WHOLE_NUMBER),
    )


@require_POST
@requires_role(*ADMIN_ROLES)
def mapping_save(request: FirmRequest, vendor: str) -> HttpResponse:
    """*Save* of Configure data fields. A row left on "New custom field" (no script) creates
    the field from the row's inputs first."""
    info = _statistics_info(vendor)
    chosen = _posted_mapping(request, info)
    errors: dict[str, str] = {}
    for key, value in chosen.items():
        if value == NEW_FIELD:
            try:
                chosen[key] = str(_create_posted_field(request, key).public_id)
            except ValidationError as exc:
                errors[key] = " ".join(exc.messages)
                chosen[key] = ""
    ids = [as_uuid(v) for v in chosen.values()]
    fields = {
        str(f.public_id): f
        for f in CustomTaskField.objects.filter(
            company=request.company, public_id__in=[i for i in ids if i is not None]
        )
    }
    # A choice that names none of the firm's fields (a stale page, another firm's id, a forged
    # post) is an error on its row, never a silent "not imported".
    for key, value in chosen.items():
        if value and key not in errors and str(as_uuid(value)) not in fields:
            errors[key] = _("Choose one of the firm's custom fields.")
    if not errors:
        try:
            services.save_field_mapping(
                company=request.company,
                actor=request.user,
                vendor=vendor,
                mapping={k: fields.get(v) for k, v in chosen.items()},
            )
        except ValidationError as exc:
            errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
    if errors:
        context = settings_context(request, vendor)
        context.update(_mapping_context(request, info, chosen, errors))
        return render(request, "summarytasks/_mapping_form.html", context, status=422)
    messages.success(request, _("Data fields saved."))
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": _tab_url(vendor)})
    return redirect(_tab_url(vendor))


@require_POST
@requires_role(*ADMIN_ROLES)
def field_create(request: FirmRequest, vendor: str) -> HttpResponse:
    """*New custom field* inside a row's dropdown (htmx): create the field and answer the form
    again with it selected in that row, keeping every other row as it was chosen."""
    info = _statistics_info(vendor)
    key = request.POST.get("new_for", "")
    chosen = _posted_mapping(request, info)
    errors: dict[str, str] = {}
    if info.statistic(key) is None:
        errors["mapping"] = _("Choose a data field first.")
    else:
        try:
            chosen[key] = str(_create_posted_field(request, key).public_id)
        except ValidationError as exc:
            errors[key] = " ".join(exc.messages)
            chosen[key] = NEW_FIELD
    return render(
        request,
        "summarytasks/_mapping_form.html",
        _mapping_context(request, info, chosen, errors),
        status=422 if errors else 200,
    )


def _safe_next(request: FirmRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@require_POST
@requires_role(*ADMIN_ROLES)
def reload_start(request: FirmRequest, vendor: str) -> HttpResponse:
    """*Reload data*, for every linked client or, with `client`, for one."""
    info = _statistics_info(vendor)
    client = None
    if client_id := request.POST.get("client"):
        client = get_object_or_404(Client, company=request.company, public_id=client_id)
    try:
        _job, created = services.reload_work_statistics(
            company=request.company, actor=request.user, vendor=vendor, client=client
        )
    except IntegrationError as exc:
        messages.error(request, exc.message)
    else:
        if created:
            messages.info(
                request,
                _(
                    "Reloading %(vendor)s data in the background. You will be notified when it is done."
                )
                % {"vendor": info.label},
            )
        else:
            messages.info(request, _("A reload is already running; this is its progress."))
    default = (
        reverse("client_summary_tasks", args=[client.public_id]) if client else _tab_url(vendor)
    )
    return redirect(_safe_next(request, default))


# --- The month view -------------------------------------------------------------------------------


def _period(text: str | None, today: date) -> date:
    try:
        year, month = (int(p) for p in (text or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return schedule.previous_month(schedule.month_start(today))


def _field_value(field: CustomTaskField, period: date) -> Subquery:
    column = (
        "number"
        if field.type in NUMERIC_TYPES
        else ("day" if field.type == FieldType.DATE else "text")
    )
    return Subquery(
        SummaryTaskValue.objects.filter(
            task__client=OuterRef("pk"), task__period=period, field=field
        ).values(column)[:1]
    )


def month_rows(request: FirmRequest, period: date) -> tuple[QuerySet[Client], dict[str, Any]]:
    """The month view's clients (filtered and sorted by the query string), each with its task of
    `period` (`period_tasks`) and its links prefetched: a constant number of queries."""
    company = request.company
    params = request.GET
    tasks_of_month = SummaryTask.objects.filter(client=OuterRef("pk"), period=period)
    clients = Client.objects.filter(company=company, active=True)
    filters: dict[str, str] = {}
    if status := params.get("status", ""):
        if status == "none":
            clients = clients.exclude(Exists(tasks_of_month))
        elif status in TaskStatus.values:
            clients = clients.filter(Exists(tasks_of_month.filter(status=status)))
        filters["status"] = status
    if topic := params.get("topic", ""):
        clients = clients.filter(Exists(tasks_of_month.filter(topic__public_id=topic)))
        filters["topic"] = topic
    if assignee := params.get("assignee", ""):
        clients = clients.filter(Exists(tasks_of_month.filter(assignee__email=assignee)))
        filters["assignee"] = assignee
    vendors = [v.key for v in iter_vendors(Capability.STATISTICS)]
    linked = Exists(ExternalLink.objects.filter(client=OuterRef("pk"), vendor__in=vendors))
    if (link_filter := params.get("linked", "")) in ("yes", "no"):
        clients = clients.filter(linked) if link_filter == "yes" else clients.exclude(linked)
        filters["linked"] = link_filter
    fields = list(CustomTaskField.objects.filter(company=company))
    sort = params.get("sort", "name")
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    if key == "status":
        clients = clients.annotate(sort_value=Subquery(tasks_of_month.values("status")[:1]))
    elif key.startswith("field:") and (
        field := next((f for f in fields if str(f.public_id) == key[6:]), None)
    ):
        clients = clients.annotate(sort_value=_field_value(field, period))
    else:
        key, sort = "name", "-name" if descending else "name"
    if key == "name":
        clients = clients.order_by("-name" if descending else "name", "pk")
    else:
        value = F("sort_value")
        # Clients without a value (or a task) last, whichever way.
        ordering = value.desc(nulls_last=True) if descending else value.asc(nulls_last=True)
        clients = clients.order_by(ordering, "name", "pk")
    clients = clients.select_related("responsible").prefetch_related(
        Prefetch(
            "summary_tasks",
            queryset=SummaryTask.objects.filter(period=period)
            .select_related("topic", "assignee")
            .prefetch_related(
                Prefetch("values", queryset=SummaryTaskValue.objects.select_related("typed_by"))
            ),
            to_attr="period_tasks",
        ),
        Prefetch("links", queryset=ExternalLink.objects.filter(vendor__in=vendors)),
    )
    return clients, {"fields": fields, "filters": filters, "sort": sort}


def _rows(clients: Any, fields: list[CustomTaskField]) -> list[dict[str, Any]]:
    rows = []
    for client in clients:
        task = client.period_tasks[0] if client.period_tasks else None
        by_field = {v.field_id: v for v in task.values.all()} if task else {}
        for value in by_field.values():  # the field is known already: no query per value
            value.field = next(f for f in fields if f.pk == value.field_id)
        rows.append(
            {
                "client": client,
                "task": task,
                "linked": bool(client.links.all()),
                "cells": [by_field.get(f.pk) for f in fields],
            }
        )
    return rows


@company_required
def month_view(request: FirmRequest) -> HttpResponseBase:
    """Every active client's summary task of one month: rows clients, columns the custom fields,
    with filters, sorting, totals, paging and a CSV export (`?format=csv`)."""
    company = request.company
    today = schedule.firm_today(company.country)
    period = _period(request.GET.get("period"), today)
    clients, context = month_rows(request, period)
    fields: list[CustomTaskField] = context["fields"]
    if request.GET.get("format") == "csv":
        return _csv(period, clients, fields)
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    mapped_ids = set(
        FieldMapping.objects.filter(company=company).values_list("field_id", flat=True)
    )
    totals_by_field = dict(
        SummaryTaskValue.objects.filter(
            company=company,
            task__period=period,
            task__client__in=clients.values("pk"),
            field__type__in=NUMERIC_TYPES,
        )
        .values("field_id")
        .annotate(total=Sum("number"))
        .values_list("field_id", "total")
    )
    filled = set(
        SummaryTaskValue.objects.filter(company=company, task__period=period)
        .exclude(number__isnull=True, text="", day__isnull=True)
        .values_list("field_id", flat=True)
        .distinct()
    )
    columns = [
        {
            "field": f,
            "mapped": f.pk in mapped_ids,
            "empty": f.pk not in filled,
            "total": _total(f, totals_by_field.get(f.pk)),
            "sort_key": f"field:{f.public_id}",
        }
        for f in fields
    ]
    states = [
        services.vendor_state(company, info, today)
        for info in iter_vendors(Capability.STATISTICS)
        if services.connected(company, info.key) is not None
    ]
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("sort", None)
    return render(
        request,
        "summarytasks/month.html",
        {
            **context,
            "period": period,
            "previous": schedule.previous_month(period),
            "next": schedule.next_month(period),
            "page": page,
            "rows": _rows(page.object_list, fields),
            "columns": columns,
            "states": states,
            "topics": TaskTopic.objects.filter(company=company),
            "members": Membership.objects.filter(company=company).select_related("user"),
            "statuses": TaskStatus.choices,
            "query": query.urlencode(),
            "filtered": any(request.GET.get(k) for k in ("status", "topic", "assignee", "linked")),
            "clear_url": f"?period={period:%Y-%m}",
            "is_admin": request.membership.role in ADMIN_ROLES,
        },
    )


def _total(field: CustomTaskField, total: Decimal | None) -> Decimal | None:
    """The column's total, for the page to format the language's way (money as money)."""
    if total is None:
        return None
    if field.type == FieldType.WHOLE_NUMBER:
        return Decimal(int(total))
    if field.type == FieldType.MONEY:
        return total.quantize(Decimal("0.01"))
    return total.normalize()


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(
    period: date, clients: QuerySet[Client], fields: list[CustomTaskField]
) -> StreamingHttpResponse:
    """The filtered month as CSV, every row (not one page), streamed in chunks."""
    writer = csv.writer(_Echo())

    def lines() -> Any:
        yield writer.writerow(
            [_("Client"), _("Organisation number"), _("Status"), _("Assignee"), _("Topic")]
            + [f.name for f in fields]
        )
        paginator = Paginator(clients, 500)
        for number in paginator.page_range:
            for row in _rows(paginator.page(number).object_list, fields):
                task = row["task"]
                yield writer.writerow(
                    [
                        row["client"].name,
                        row["client"].organisation_number,
                        task.get_status_display() if task else "",
                        (task.assignee.email if task and task.assignee else ""),
                        (task.topic.name if task and task.topic else ""),
                    ]
                    + [cell.display if cell else "" for cell in row["cells"]]
                )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="summary-tasks-{period.strftime("%Y-%m")}.csv"'
    )
    return response


# --- A client's tasks -------------------------------------------------------------------------------


@company_required
def client_tasks(request: FirmRequest, public_id: str) -> HttpResponse:
    """One client's summary tasks, newest month first, with each value's source."""
    client = get_object_or_404(Client, company=request.company, public_id=public_id)
    tasks = (
        SummaryTask.objects.filter(company=request.company, client=client)
        .select_related("topic", "assignee")
        .prefetch_related(
            Prefetch(
                "values",
                queryset=SummaryTaskValue.objects.select_related("field", "typed_by").order_by(
                    "field__name"
                ),
            )
        )
    )
    links = [
        link
        for link in ExternalLink.objects.filter(company=request.company, client=client)
        if link.vendor in {v.key for v in iter_vendors(Capability.STATISTICS)}
    ]
    role = request.membership.role
    page = Paginator(tasks, 12).get_page(request.GET.get("page"))
    fields = list(CustomTaskField.objects.filter(company=request.company))
    return render(
        request,
        "summarytasks/client_tasks.html",
        {
            "client": client,
            "page": page,
            "tasks": [(task, _cells(task, fields)) for task in page.object_list],
            "mapped_ids": set(
                FieldMapping.objects.filter(company=request.company).values_list(
                    "field_id", flat=True
                )
            ),
            "links": links,
            "can_fill": role in services.TASK_ROLES,
            "is_admin": role in ADMIN_ROLES,
            "statuses": TaskStatus.choices,
            "reload_jobs": {
                link.vendor: services.active_reload(request.company, link.vendor, client)
                for link in links
            },
        },
    )


def _source(value: SummaryTaskValue | None) -> dict[str, str]:
    """The vendor's and the statistic's names of an imported value, from the registry."""
    if value is None or not value.source_vendor:
        return {}
    info = REGISTRY.get(value.source_vendor)
    statistic = info.statistic(value.statistic_key) if info else None
    return {
        "vendor": info.label if info else value.source_vendor,
        "statistic": str(statistic.label) if statistic else value.statistic_key,
    }


def _cells(task: SummaryTask, fields: list[CustomTaskField]) -> list[tuple[Any, ...]]:
    by_field = {v.field_id: v for v in task.values.all()}
    return [(f, by_field.get(f.pk), _source(by_field.get(f.pk))) for f in fields]


def _task_or_404(request: FirmRequest, public_id: str) -> SummaryTask:
    return get_object_or_404(
        SummaryTask.objects.select_related("client"), company=request.company, public_id=public_id
    )


@require_POST
@company_required
def task_update(request: FirmRequest, public_id: str) -> HttpResponse:
    """Change a task's status (*Mark done*) or comment."""
    task = _task_or_404(request, public_id)
    changes: dict[str, Any] = {}
    if "status" in request.POST:
        changes["status"] = request.POST["status"]
    if "comment" in request.POST:
        changes["comment"] = request.POST["comment"]
    try:
        services.update_task(company=request.company, actor=request.user, task=task, **changes)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Task saved."))
    return redirect(
        _safe_next(request, reverse("client_summary_tasks", args=[task.client.public_id]))
    )


@require_POST
@company_required
def task_value(request: FirmRequest, public_id: str) -> HttpResponse:
    """Type a value by hand into one field of a task."""
    task = _task_or_404(request, public_id)
    field = get_object_or_404(
        CustomTaskField, company=request.company, public_id=as_uuid(request.POST.get("field"))
    )
    try:
        services.set_task_value(
            company=request.company,
            actor=request.user,
            task=task,
            field=field,
            raw=request.POST.get("value", ""),
        )
    except ValidationError as exc:
        messages.error(request, f"{field.name}: {' '.join(exc.messages)}")
    else:
        messages.success(request, _("Value saved."))
    return redirect(
        _safe_next(request, reverse("client_summary_tasks", args=[task.client.public_id]))
    )
