"""Settings & Apps: the integration cards, each integration's tabs, sync history, notifications."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from integrations import jobs, services
from integrations.base import Capability, IntegrationError, VendorInfo, get_vendor, iter_vendors
from integrations.forms import ConnectForm, HistoryFilterForm
from integrations.jobs import describe_result, job_label, place_link
from integrations.models import IntegrationConnection, Notification, SyncJob
from integrations.status import describe, live_facts
from uku.http import FirmRequest
from uku.permissions import require
from uku.tenancy import ADMIN_ROLES, company_required, requires_role


@dataclass(frozen=True)
class ExtraTab:
    """A tab another app adds to a connected integration's page (e.g. clients' Import), shown
    only for vendors that have `capability`."""

    key: str
    label: Any
    template: str
    context: str  # dotted path of fn(request, vendor) -> dict
    capability: Capability | None = None


EXTRA_TABS: list[ExtraTab] = []


def register_tab(
    key: str, label: Any, template: str, context: str, capability: Capability | None = None
) -> None:
    """Add a tab shown once the integration is connected, for the vendors that can do
    `capability` (call from an AppConfig.ready)."""
    EXTRA_TABS.append(ExtraTab(key, label, template, context, capability))


def _extra_tabs(info: VendorInfo) -> list[ExtraTab]:
    return [t for t in EXTRA_TABS if t.capability is None or info.can(t.capability)]


@dataclass(frozen=True)
class AppCard:
    """A card another app shows in Settings & Apps (e.g. Billing)."""

    template: str
    context: str  # dotted path of fn(company) -> dict, merged into the page context


APP_CARDS: list[AppCard] = []


def register_app_card(template: str, context: str) -> None:
    """Show `template` among the Settings & Apps cards (call from an AppConfig.ready)."""
    APP_CARDS.append(AppCard(template, context))


def _tabs(
    info: VendorInfo, connection: IntegrationConnection | None, state: Any, has_jobs: bool
) -> list[tuple[str, Any]]:
    tabs: list[tuple[str, Any]] = [("overview", _("Overview"))]
    if connection is not None and connection.enabled:
        tabs.append(("connect", _("Connect")))
        if state.state == "connected":
            tabs += [(extra.key, extra.label) for extra in _extra_tabs(info)]
    if has_jobs:
        tabs.append(("history", _("History")))
    return tabs


def vendor_or_404(vendor: str) -> Any:
    try:
        return get_vendor(vendor)
    except KeyError:
        raise Http404 from None


def _connection(request: FirmRequest, vendor: str) -> IntegrationConnection | None:
    return (
        IntegrationConnection.objects.filter(
            company=request.company, vendor=vendor, client__isnull=True
        )
        .prefetch_related("credentials")
        .first()
    )


@requires_role(*ADMIN_ROLES)
def apps(request: FirmRequest) -> HttpResponse:
    """One card per registered integration, with its state."""
    today = timezone.localdate()
    connections = {
        c.vendor: c
        for c in IntegrationConnection.objects.filter(
            company=request.company, client__isnull=True
        ).prefetch_related("credentials")
    }
    cards = [describe(request.company, v, connections.get(v.key), today) for v in iter_vendors()]
    cards = [replace(card, facts=tuple(live_facts(request.company, card, today))) for card in cards]
    context: dict[str, Any] = {"cards": cards, "app_cards": [c.template for c in APP_CARDS]}
    for card in APP_CARDS:
        context.update(import_string(card.context)(request.company))
    return render(request, "integrations/apps.html", context)


@requires_role(*ADMIN_ROLES)
def app_detail(request: FirmRequest, vendor: str) -> HttpResponse:
    """An integration's tabs: Overview, Connect (once enabled), History (once anything ran)."""
    info = vendor_or_404(vendor)
    connection = _connection(request, vendor)
    state = describe(request.company, info, connection, timezone.localdate())
    jobs = SyncJob.objects.filter(company=request.company, vendor=vendor)
    tabs = _tabs(info, connection, state, jobs.exists())
    tab = request.GET.get("tab", "overview")
    if tab not in dict(tabs):
        tab = "overview"
    context: dict[str, Any] = {"info": info, "state": state, "tabs": tabs, "tab": tab}
    for extra in _extra_tabs(info):
        if extra.key == tab:
            context["extra_template"] = extra.template
            context.update(import_string(extra.context)(request, vendor))
    if tab == "overview":
        context["enable_options"] = services.enable_options(request.company)
        context["facts"] = live_facts(request.company, state, timezone.localdate())
    if tab == "connect" and state.state == "connected":
        context["next_step"] = _next_step(info)
    if tab == "connect":
        context["form"] = ConnectForm(
            vendor=info,
            initial={"environment": connection.environment} if connection else None,
        )
        context["replacing"] = request.GET.get("replace") == "1" or state.credential is None
    if tab == "history":
        context.update(_history(request, jobs))
    return render(request, "integrations/app_detail.html", context)


def with_call_counts(jobs: QuerySet[SyncJob]) -> QuerySet[SyncJob]:
    """`jobs` with `failed_calls` (API calls that got no answer or an error status) counted in
    the same query, so History shows them per row without a query per job."""
    return jobs.annotate(
        failed_calls=Count(
            "calls", filter=Q(calls__status__isnull=True) | Q(calls__status__gte=400)
        )
    )


def _history(request: FirmRequest, jobs: QuerySet[SyncJob]) -> dict[str, Any]:
    """History's rows: filtered by kind, status and start date (in the firm's time zone),
    newest first, 25 a page."""
    kinds = sorted(
        {
            (kind, job_label(kind))
            for kind in jobs.order_by().values_list("kind", flat=True).distinct()
        },
        key=lambda pair: pair[1],
    )
    form = HistoryFilterForm(request.GET or None, kinds=kinds)
    # The start a person sees (`SyncJob.start_time`), in SQL, so the date filter agrees with it.
    rows = jobs.annotate(shown_start=Coalesce("started_at", "created_at"))
    if form.is_valid():
        data = form.cleaned_data
        if data["kind"]:
            rows = rows.filter(kind=data["kind"])
        if data["status"]:
            rows = rows.filter(status=data["status"])
        if data["date_from"]:
            rows = rows.filter(shown_start__date__gte=data["date_from"])
        if data["date_to"]:
            rows = rows.filter(shown_start__date__lte=data["date_to"])
    page = Paginator(with_call_counts(rows.order_by("-created_at", "-pk")), 25).get_page(
        request.GET.get("page")
    )
    return {"page": page, "history_filters": form, "filtered": form.filtered()}


def _next_step(info: VendorInfo) -> tuple[Any, str] | None:
    """What to do once connected: the first tab another app adds (Import, for a vendor with
    customers), else the Overview. Shown on the Connect tab after saving."""
    extra = _extra_tabs(info)
    if extra:
        return extra[0].label, _detail_url(info.key, extra[0].key)
    return None


def _detail_url(vendor: str, tab: str) -> str:
    return f"{reverse('integration_detail', args=[vendor])}?tab={tab}"


@require_POST
@requires_role(*ADMIN_ROLES)
def enable(request: FirmRequest, vendor: str) -> HttpResponse:
    info = vendor_or_404(vendor)
    services.enable_integration(
        company=request.company,
        actor=request.user,
        vendor=vendor,
        options=[o.name for o in services.ENABLE_OPTIONS if request.POST.get(o.name)],
    )
    messages.success(request, _("%(vendor)s is enabled.") % {"vendor": info.label})
    return redirect(_detail_url(vendor, "connect"))


@require_POST
@requires_role(*ADMIN_ROLES)
def disable(request: FirmRequest, vendor: str) -> HttpResponse:
    info = vendor_or_404(vendor)
    services.disable_integration(company=request.company, actor=request.user, vendor=vendor)
    messages.success(request, _("%(vendor)s is disabled.") % {"vendor": info.label})
    return redirect(_detail_url(vendor, "overview"))


def _add_integration_error(form: ConnectForm, exc: IntegrationError) -> None:
    field = exc.details.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


@require_POST
@requires_role(*ADMIN_ROLES)
def connect_test(request: FirmRequest, vendor: str) -> HttpResponse:
    """Test the credentials typed in (or, with none, the saved ones) without saving; answers a
    fragment for htmx."""
    info = vendor_or_404(vendor)
    form = ConnectForm(request.POST, vendor=info, saved=True)
    context: dict[str, Any] = {"info": info, "form": form}
    if form.is_valid():
        credentials = form.credentials()
        context["tested_saved"] = credentials is None
        try:
            result = services.test_connection(
                company=request.company,
                actor=request.user,
                vendor=vendor,
                environment=form.cleaned_data["environment"],
                credentials=credentials,
            )
            context["remote"] = result.remote
        except IntegrationError as exc:
            context["error"] = exc
            _add_integration_error(form, exc)
        if credentials is None:
            # A test of the saved credentials updates the connection's status; redraw it.
            context["state"] = describe(
                request.company, info, _connection(request, vendor), timezone.localdate()
            )
    return render(request, "integrations/_connect_result.html", context)


@require_POST
@requires_role(*ADMIN_ROLES)
def connect_save(request: FirmRequest, vendor: str) -> HttpResponse:
    """Test and save. With htmx a refusal answers only the errors (next to their fields), so
    nothing the admin pasted is emptied: secrets are never rendered back, not even on error."""
    info = vendor_or_404(vendor)
    form = ConnectForm(request.POST, vendor=info)
    if form.is_valid():
        try:
            connection = services.save_connection(
                company=request.company,
                actor=request.user,
                vendor=vendor,
                environment=form.cleaned_data["environment"],
                credentials=form.credentials() or {},
                expires_on=form.cleaned_data.get("token_expires_on"),
            )
        except IntegrationError as exc:
            _add_integration_error(form, exc)
        else:
            messages.success(
                request,
                _("Connected to “%(name)s”. The credentials are saved encrypted.")
                % {"name": connection.remote_company_name},
            )
            target = _detail_url(vendor, "connect")
            if request.htmx:
                return HttpResponse(status=204, headers={"HX-Redirect": target})
            return redirect(target)
    if request.htmx:
        # 422, which htmx is configured to swap (templates/base.html): the errors land next to
        # their fields while the inputs keep what was typed.
        return render(
            request,
            "integrations/_connect_result.html",
            {"info": info, "form": form, "save_failed": True},
            status=422,
        )
    current = _connection(request, vendor)
    state = describe(request.company, info, current, timezone.localdate())
    tabs = _tabs(
        info,
        current,
        state,
        SyncJob.objects.filter(company=request.company, vendor=vendor).exists(),
    )
    return render(
        request,
        "integrations/app_detail.html",
        {
            "info": info,
            "state": state,
            "tabs": tabs,
            "tab": "connect",
            "form": form,
            "replacing": True,
        },
        status=400,
    )


@require_POST
@requires_role(*ADMIN_ROLES)
def disconnect(request: FirmRequest, vendor: str) -> HttpResponse:
    info = vendor_or_404(vendor)
    services.disconnect(company=request.company, actor=request.user, vendor=vendor)
    messages.success(
        request, _("%(vendor)s is disconnected; the token is deleted.") % {"vendor": info.label}
    )
    return redirect(_detail_url(vendor, "connect"))


@company_required
def job_detail(request: FirmRequest, vendor: str, public_id: str) -> HttpResponse:
    """One sync job: its result with counts, retries and failed calls, and its API-call log (the
    vendor's code, message and request id on errors). Owners and admins see every job, others
    the jobs they started (their notification links here). As the progress poll (htmx) it
    answers the bar; the poll that sees the job finish marks its notification read, since the
    person watched it end."""
    info = vendor_or_404(vendor)
    job = get_object_or_404(
        with_call_counts(SyncJob.objects.filter(company=request.company, vendor=vendor)),
        public_id=public_id,
    )
    if job.requested_by_id != request.user.pk:
        require(request.company, request.user, roles=ADMIN_ROLES)
    if request.htmx:
        services.mark_job_seen(company=request.company, actor=request.user, job=job)
        return render(request, "integrations/_job_progress.html", {"info": info, "job": job})
    calls = job.calls.all()[:500]
    return render(
        request,
        "integrations/job_detail.html",
        {
            "info": info,
            "job": job,
            "calls": calls,
            "result": describe_result(job),
            "place": place_link(job),
        },
    )


@require_POST
@company_required
def job_resume(request: FirmRequest, vendor: str, public_id: str) -> HttpResponse:
    """Resume a stalled job now (the sweeper would within a minute)."""
    vendor_or_404(vendor)
    job = get_object_or_404(SyncJob, company=request.company, vendor=vendor, public_id=public_id)
    if jobs.resume(job=job, actor=request.user):
        messages.info(request, _("The job is resuming from its last saved step."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("integration_job", args=[vendor, job.public_id])
    return redirect(target)


@require_POST
@company_required
def job_cancel(request: FirmRequest, vendor: str, public_id: str) -> HttpResponse:
    """Cancel a queued, retrying or running job (see `jobs.cancel`), then back to `next`."""
    vendor_or_404(vendor)
    job = get_object_or_404(SyncJob, company=request.company, vendor=vendor, public_id=public_id)
    if jobs.cancel(job=job, actor=request.user):
        messages.info(request, _("The job is cancelled. What it had saved is kept."))
    else:
        messages.warning(request, _("The job had already ended, so there was nothing to cancel."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("integration_job", args=[vendor, job.public_id])
    return redirect(target)


# --- Notifications ----------------------------------------------------------------------------------


@company_required
def notifications(request: FirmRequest) -> HttpResponse:
    items = Notification.objects.filter(company=request.company, recipient=request.user)
    return render(
        request,
        "integrations/notifications.html",
        {"page": Paginator(items, 30).get_page(request.GET.get("page"))},
    )


@company_required
def notifications_menu(request: FirmRequest) -> HttpResponse:
    """The bell's dropdown (htmx): the person's five latest notifications."""
    items = Notification.objects.filter(company=request.company, recipient=request.user)[:5]
    return render(request, "integrations/_notification_menu.html", {"items": items})


@require_POST
@company_required
def notification_read(request: FirmRequest, public_id: str) -> HttpResponse:
    notification = get_object_or_404(
        Notification, company=request.company, recipient=request.user, public_id=public_id
    )
    services.mark_notifications_read(
        company=request.company, actor=request.user, public_ids=[str(notification.public_id)]
    )
    if notification.link and request.POST.get("follow"):
        return redirect(notification.link)
    return redirect("notifications")


@require_POST
@company_required
def notifications_read_all(request: FirmRequest) -> HttpResponse:
    services.mark_notifications_read(company=request.company, actor=request.user)
    return redirect("notifications")
