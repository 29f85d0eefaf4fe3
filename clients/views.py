"""The client list and details, and the customer Import tab of an integration."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients import importing, services
from clients.forms import BillingSettingsForm, RegistryNumberForm
from clients.models import Client, CustomerImportRow, ExternalLink, ImportClassification
from integrations.base import IntegrationError
from integrations.models import SyncJob, SyncJobStatus
from integrations.views import vendor_or_404
from uku.http import FirmRequest
from uku.tenancy import ADMIN_ROLES, company_required, requires_role

SORTS = {
    "name": "name",
    "-name": "-name",
    "orgnr": "organisation_number",
    "-orgnr": "-organisation_number",
    "number": "customer_number",
    "-number": "-customer_number",
    "updated": "-updated_at",
}


def client_list_queryset(request: FirmRequest) -> tuple[QuerySet[Client], dict[str, Any]]:
    """The firm's clients filtered, searched and sorted by the query string (shared with the API)."""
    params = request.GET
    clients = Client.objects.filter(company=request.company).select_related("responsible")
    clients = clients.search(params.get("q", ""))
    active = params.get("active", "true")
    if active in ("true", "false"):
        clients = clients.filter(active=active == "true")
    import_job = None
    if params.get("import"):
        job_id = _uuid_or_none(params["import"])
        import_job = (
            SyncJob.objects.filter(company=request.company, public_id=job_id).first()
            if job_id is not None
            else None
        )
        if import_job is None:
            clients = clients.none()
        elif import_job.kind == importing.PREVIEW:  # the customer import's id, as the API gives it
            clients = clients.filter(
                last_import__company=request.company,
                last_import__kind=importing.CONFIRM,
                last_import__scope=str(import_job.public_id),
            )
        else:
            clients = clients.filter(last_import=import_job)
    sort = params.get("sort", "name")
    clients = clients.order_by(SORTS.get(sort, "name"), "pk")
    clients = clients.prefetch_related(
        Prefetch("links", queryset=ExternalLink.objects.filter(company=request.company))
    )
    return clients, {
        "q": params.get("q", ""),
        "active": active,
        "sort": sort,
        "import_job": import_job,
    }


def _uuid_or_none(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


@company_required
def client_list(request: FirmRequest) -> HttpResponse:
    clients, filters = client_list_queryset(request)
    page = Paginator(clients, 50).get_page(request.GET.get("page"))
    return render(request, "clients/list.html", {"page": page, **filters})


@company_required
def client_detail(request: FirmRequest, public_id: str) -> HttpResponse:
    client = get_object_or_404(
        Client.objects.select_related("responsible"), company=request.company, public_id=public_id
    )
    # Two forms on the page; the registry one posts with its prefix.
    posted_registry = request.method == "POST" and "registry-registry_country" in request.POST
    posted_billing = request.method == "POST" and not posted_registry
    form = BillingSettingsForm(request.POST if posted_billing else None, instance=client)
    registry_form = RegistryNumberForm(
        request.POST if posted_registry else None, instance=client, prefix="registry"
    )
    posted, saved = (
        (registry_form, _("Registry number saved."))
        if posted_registry
        else (form, _("Billing settings saved."))
    )
    if request.method == "POST" and posted.is_valid():
        try:
            services.update_client(
                company=request.company, actor=request.user, client=client, **posted.cleaned_data
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                posted.add_error(field if field in posted.fields else None, errors)
        else:
            messages.success(request, saved)
            return redirect("client_detail", public_id=client.public_id)
    if posted_registry:
        # The invalid values stay in the form only: the details show what is saved.
        client.refresh_from_db()
    links = ExternalLink.objects.filter(company=request.company, client=client)
    return render(
        request,
        "clients/detail.html",
        {"client": client, "form": form, "registry_form": registry_form, "links": links},
    )


# --- The Import tab -----------------------------------------------------------------------------------


def import_context(request: FirmRequest, vendor: str) -> dict[str, Any]:
    """What the Import tab shows: the latest preview, its rows (filtered, paginated) and the
    confirm job of that preview with its summary."""
    jobs = SyncJob.objects.filter(company=request.company, vendor=vendor)
    preview = jobs.filter(kind=importing.PREVIEW).order_by("-created_at").first()
    confirm = (
        jobs.filter(kind=importing.CONFIRM, scope=str(preview.public_id))
        .order_by("-created_at")
        .first()
        if preview
        else None
    )
    context: dict[str, Any] = {"preview": preview, "confirm": confirm, "vendor": vendor}
    if preview and preview.status == SyncJobStatus.SUCCEEDED:
        rows = CustomerImportRow.objects.filter(job=preview).select_related("client")
        shown = request.GET.get("show", "")
        if shown in ImportClassification.values:
            rows = rows.filter(classification=shown)
        elif shown == "inactive":
            rows = rows.filter(inactive=True)
        if query := request.GET.get("q", "").strip():
            rows = rows.filter(name__icontains=query)
        context.update(
            rows=Paginator(rows, 50).get_page(request.GET.get("page")),
            show=shown,
            q=query,
            pending=CustomerImportRow.objects.filter(job=preview, outcome="").count(),
        )
    context["busy"] = any(j is not None and j.is_active for j in (preview, confirm))
    return context


@requires_role(*ADMIN_ROLES)
def import_panel(request: FirmRequest, vendor: str) -> HttpResponse:
    """The Import tab's content alone (htmx polls it while a job runs)."""
    vendor_or_404(vendor)
    return render(request, "clients/_import_panel.html", import_context(request, vendor))


@require_POST
@requires_role(*ADMIN_ROLES)
def import_start(request: FirmRequest, vendor: str) -> HttpResponse:
    vendor_or_404(vendor)
    try:
        services.start_customer_import(
            company=request.company,
            actor=request.user,
            vendor=vendor,
            full=request.POST.get("full") == "1",
        )
    except IntegrationError as exc:
        messages.error(request, exc.message)
    return redirect(f"/settings/apps/{vendor}/?tab=import")


@require_POST
@requires_role(*ADMIN_ROLES)
def import_confirm(request: FirmRequest, vendor: str, public_id: str) -> HttpResponse:
    vendor_or_404(vendor)
    preview = get_object_or_404(
        SyncJob, company=request.company, vendor=vendor, public_id=public_id, kind=importing.PREVIEW
    )
    select = request.POST.get("select") or None
    try:
        services.confirm_customer_import(
            company=request.company,
            actor=request.user,
            preview=preview,
            remote_ids=request.POST.getlist("remote_id"),
            select=select if select != "some" else None,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except IntegrationError as exc:
        messages.error(request, exc.message)
    return redirect(f"/settings/apps/{vendor}/?tab=import")
