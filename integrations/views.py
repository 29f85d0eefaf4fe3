"""Settings & Apps: the integration cards, each integration's tabs, sync history, notifications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from integrations import services
from integrations.base import IntegrationError, get_vendor, iter_vendors
from integrations.forms import ConnectForm
from integrations.models import IntegrationConnection, Notification, SyncJob
from integrations.status import describe
from uku.tenancy import ADMIN_ROLES, company_required, requires_role


@dataclass(frozen=True)
class ExtraTab:
    """A tab another app adds to every connected integration's page (e.g. clients' Import)."""

    key: str
    label: Any
    template: str
    context: str  # dotted path of fn(request, vendor) -> dict


EXTRA_TABS: list[ExtraTab] = []


def register_tab(key: str, label: Any, template: str, context: str) -> None:
    """Add a tab shown once the integration is connected (call from an AppConfig.ready)."""
    EXTRA_TABS.append(ExtraTab(key, label, template, context))


@dataclass(frozen=True)
class AppCard:
    """A card another app shows in Settings & Apps (e.g. Billing)."""

    template: str
    context: str  # dotted path of fn(company) -> dict, merged into the page context


@dataclass(frozen=True)
class EnableOption:
    """A checkbox offered when an integration is enabled (e.g. "also activate billing")."""

    name: str
    label: Any
    help_text: Any
    wanted: str  # dotted path of fn(company) -> bool: offer it at all?
    apply: str  # dotted path of fn(*, company, actor, vendor) -> None, run when ticked


APP_CARDS: list[AppCard] = []
ENABLE_OPTIONS: list[EnableOption] = []


def register_app_card(template: str, context: str) -> None:
    """Show `template` among the Settings & Apps cards (call from an AppConfig.ready)."""
    APP_CARDS.append(AppCard(template, context))


def register_enable_option(name: str, label: Any, help_text: Any, wanted: str, apply: str) -> None:
    """Offer a ticked-by-default checkbox next to Enable (call from an AppConfig.ready)."""
    ENABLE_OPTIONS.append(EnableOption(name, label, help_text, wanted, apply))


def _tabs(
    connection: IntegrationConnection | None, state: Any, has_jobs: bool
) -> list[tuple[str, Any]]:
    tabs: list[tuple[str, Any]] = [("overview", _("Overview"))]
    if connection is not None and connection.enabled:
        tabs.append(("connect", _("Connect")))
        if state.state == "connected":
            tabs += [(extra.key, extra.label) for extra in EXTRA_TABS]
    if has_jobs:
        tabs.append(("history", _("History")))
    return tabs


def vendor_or_404(vendor: str) -> Any:
    try:
        return get_vendor(vendor)
    except KeyError:
        raise Http404 from None


def _connection(request: HttpRequest, vendor: str) -> IntegrationConnection | None:
    return (
        IntegrationConnection.objects.filter(company=request.company, vendor=vendor)
        .prefetch_related("credentials")
        .first()
    )


@requires_role(*ADMIN_ROLES)
def apps(request: HttpRequest) -> HttpResponse:
    """One card per registered integration, with its state."""
    today = timezone.localdate()
    connections = {
        c.vendor: c
        for c in IntegrationConnection.objects.filter(company=request.company).prefetch_related(
            "credentials"
        )
    }
    cards = [describe(request.company, v, connections.get(v.key), today) for v in iter_vendors()]
    context: dict[str, Any] = {"cards": cards, "app_cards": [c.template for c in APP_CARDS]}
    for card in APP_CARDS:
        context.update(import_string(card.context)(request.company))
    return render(request, "integrations/apps.html", context)


@requires_role(*ADMIN_ROLES)
def app_detail(request: HttpRequest, vendor: str) -> HttpResponse:
    """An integration's tabs: Overview, Connect (once enabled), History (once anything ran)."""
    info = vendor_or_404(vendor)
    connection = _connection(request, vendor)
    state = describe(request.company, info, connection, timezone.localdate())
    jobs = SyncJob.objects.filter(company=request.company, vendor=vendor)
    tabs = _tabs(connection, state, jobs.exists())
    tab = request.GET.get("tab", "overview")
    if tab not in dict(tabs):
        tab = "overview"
    context: dict[str, Any] = {"info": info, "state": state, "tabs": tabs, "tab": tab}
    for extra in EXTRA_TABS:
        if extra.key == tab:
            context["extra_template"] = extra.template
            context.update(import_string(extra.context)(request, vendor))
    if tab == "overview":
        context["enable_options"] = [
            o for o in ENABLE_OPTIONS if import_string(o.wanted)(request.company)
        ]
    if tab == "connect":
        context["form"] = ConnectForm(
            initial={"environment": connection.environment} if connection else None
        )
        context["replacing"] = request.GET.get("replace") == "1" or state.credential is None
    if tab == "history":
        context["page"] = Paginator(jobs, 25).get_page(request.GET.get("page"))
    return render(request, "integrations/app_detail.html", context)


def _detail_url(vendor: str, tab: str) -> str:
    return f"{reverse('integration_detail', args=[vendor])}?tab={tab}"


@require_POST
@requires_role(*ADMIN_ROLES)
def enable(request: HttpRequest, vendor: str) -> HttpResponse:
    info = vendor_or_404(vendor)
    services.enable_integration(company=request.company, actor=request.user, vendor=vendor)
    messages.success(request, _("%(vendor)s is enabled.") % {"vendor": info.label})
    for option in ENABLE_OPTIONS:
        if request.POST.get(option.name) and import_string(option.wanted)(request.company):
            import_string(option.apply)(company=request.company, actor=request.user, vendor=vendor)
    return redirect(_detail_url(vendor, "connect"))


@require_POST
@requires_role(*ADMIN_ROLES)
def disable(request: HttpRequest, vendor: str) -> HttpResponse:
    info = vendor_or_404(vendor)
    services.disable_integration(company=request.company, actor=request.user, vendor=vendor)
    messages.success(request, _("%(vendor)s is disabled.") % {"vendor": info.label})
    return redirect(_detail_url(vendor, "overview"))


def _add_integration_error(form: ConnectForm, exc: IntegrationError) -> None:
    field = exc.details.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


@require_POST
@requires_role(*ADMIN_ROLES)
def connect_test(request: HttpRequest, vendor: str) -> HttpResponse:
    """Test the pasted token (or the saved one) without saving; answers a fragment for htmx."""
    info = vendor_or_404(vendor)
    form = ConnectForm(request.POST)
    form.fields["employee_token"].required = False
    context: dict[str, Any] = {"info": info}
    if form.is_valid():
        token = form.cleaned_data["employee_token"]
        try:
            result = services.test_connection(
                company=request.company,
                actor=request.user,
                vendor=vendor,
                environment=form.cleaned_data["environment"],
                credentials={"employee_token": token} if token else None,
            )
            context["remote"] = result.remote
        except IntegrationError as exc:
            context["error"] = exc
        if not token:
            # A test of the saved token updates the connection's status; redraw the state line.
            context["state"] = describe(
                request.company, info, _connection(request, vendor), timezone.localdate()
            )
    else:
        context["form_errors"] = form.errors
    return render(request, "integrations/_connect_result.html", context)


@require_POST
@requires_role(*ADMIN_ROLES)
def connect_save(request: HttpRequest, vendor: str) -> HttpResponse:
    info = vendor_or_404(vendor)
    form = ConnectForm(request.POST, require_expiry=True)
    if form.is_valid():
        try:
            connection = services.save_connection(
                company=request.company,
                actor=request.user,
                vendor=vendor,
                environment=form.cleaned_data["environment"],
                credentials={"employee_token": form.cleaned_data["employee_token"]},
                expires_on=form.cleaned_data["token_expires_on"],
            )
        except IntegrationError as exc:
            _add_integration_error(form, exc)
        else:
            messages.success(
                request,
                _("Connected to “%(name)s”. The token is saved encrypted.")
                % {"name": connection.remote_company_name},
            )
            return redirect(_detail_url(vendor, "connect"))
    connection = _connection(request, vendor)
    state = describe(request.company, info, connection, timezone.localdate())
    tabs = _tabs(
        connection, state, SyncJob.objects.filter(company=request.company, vendor=vendor).exists()
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
def disconnect(request: HttpRequest, vendor: str) -> HttpResponse:
    info = vendor_or_404(vendor)
    services.disconnect(company=request.company, actor=request.user, vendor=vendor)
    messages.success(
        request, _("%(vendor)s is disconnected; the token is deleted.") % {"vendor": info.label}
    )
    return redirect(_detail_url(vendor, "connect"))


@requires_role(*ADMIN_ROLES)
def job_detail(request: HttpRequest, vendor: str, public_id: str) -> HttpResponse:
    """One sync job with its API-call log (Tripletex's code, message and request id on errors)."""
    info = vendor_or_404(vendor)
    job = get_object_or_404(SyncJob, company=request.company, vendor=vendor, public_id=public_id)
    calls = job.calls.all()[:500]
    template = "integrations/_job_progress.html" if request.htmx else "integrations/job_detail.html"
    return render(request, template, {"info": info, "job": job, "calls": calls})


# --- Notifications ----------------------------------------------------------------------------------


@company_required
def notifications(request: HttpRequest) -> HttpResponse:
    items = Notification.objects.filter(company=request.company, recipient=request.user)
    return render(
        request,
        "integrations/notifications.html",
        {"page": Paginator(items, 30).get_page(request.GET.get("page"))},
    )


@require_POST
@company_required
def notification_read(request: HttpRequest, public_id: str) -> HttpResponse:
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
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    services.mark_notifications_read(company=request.company, actor=request.user)
    return redirect("notifications")
