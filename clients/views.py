"""The client list, New client, the client page (edit, archive, restore, delete), and the
customer Import tab of an integration."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients import importing, linking, services
from clients.forms import BillingSettingsForm, ClientDetailsForm, ClientForm
from clients.models import Client, CustomerImportRow, ExternalLink, ImportClassification
from integrations import services as integration_services
from integrations.base import Capability, IntegrationError, get_vendor, iter_vendors
from integrations.jobs import is_cancellable
from integrations.models import ConnectionStatus, IntegrationConnection, SyncJob, SyncJobStatus
from integrations.views import vendor_or_404
from uku.http import FirmRequest
from uku.nordic import nordic
from uku.tenancy import ADMIN_ROLES, company_required, has_role, requires_role

SORTS: dict[str, Any] = {
    "name": nordic("name").asc(),  # Æ, Ø, Å after Z (uku.nordic)
    "-name": nordic("name").desc(),
    "orgnr": "organisation_number",
    "-orgnr": "-organisation_number",
    "number": "customer_number",
    "-number": "-customer_number",
    "updated": "-updated_at",
}


def client_list_queryset(request: FirmRequest) -> tuple[QuerySet[Client], dict[str, Any]]:
    """The firm's clients filtered, searched and sorted by the query string (shared with the API)."""
    params = request.GET
    clients: QuerySet[Client] = (
        Client.objects.filter(company=request.company)
        .select_related("responsible")
        .search(params.get("q", ""))
    )
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
    link = params.get("link", "")
    clients = linking.filter_by_link(clients, request.company, link)
    sort = params.get("sort", "name")
    clients = clients.order_by(SORTS.get(sort, SORTS["name"]), "pk")
    clients = clients.prefetch_related(
        Prefetch("links", queryset=ExternalLink.objects.filter(company=request.company))
    )
    return clients, {
        "q": params.get("q", ""),
        "active": active,
        "sort": sort,
        "link": link if link in linking.LINK_FILTERS else "",
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
    return render(
        request,
        "clients/list.html",
        {
            "page": page,
            "can_create": has_role(request, *services.EDIT_ROLES),
            **filters,
            "link_vendors": linking.linkable_vendors(request.company),
            "can_link": linking.can_link(request.company, request.user, request.membership),
        },
    )


def _form_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """A service's ValidationError shown on the form's fields (others above the form)."""
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _client_or_404(request: FirmRequest, public_id: str) -> Client:
    return get_object_or_404(
        Client.objects.select_related("responsible"), company=request.company, public_id=public_id
    )


@requires_role(*services.EDIT_ROLES)
def client_create(request: FirmRequest) -> HttpResponse:
    """New client: a client entered by hand, not imported from an accounting system."""
    company = request.company
    form = ClientForm(
        request.POST or None,
        instance=Client(company=company, registry_country=company.country),
        company=company,
    )
    if request.method == "POST" and form.is_valid():
        try:
            client = services.create_client(
                company=company, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Client %(name)s created.") % {"name": client.name})
            return redirect("client_detail", public_id=client.public_id)
    return render(request, "clients/new.html", {"form": form})


@company_required
def client_detail(request: FirmRequest, public_id: str) -> HttpResponse:
    """The client page: the Edit form (every field; Owners, Admins and Members), Billing →
    Settings (everyone, Billing staff included), the accounting-system links, and Archive /
    Restore and Delete."""
    client = _client_or_404(request, public_id)
    company = request.company
    can_edit = has_role(request, *services.EDIT_ROLES)
    # Two forms on the page; the Edit form posts with its prefix.
    posted_details = request.method == "POST" and "client-name" in request.POST
    posted_billing = request.method == "POST" and not posted_details
    if posted_details and not can_edit:
        raise PermissionDenied("role")
    form = BillingSettingsForm(request.POST if posted_billing else None, instance=client)
    details_form = ClientDetailsForm(
        request.POST if posted_details else None, instance=client, prefix="client", company=company
    )
    posted, saved = (
        (details_form, _("Client details saved."))
        if posted_details
        else (form, _("Billing settings saved."))
    )
    if request.method == "POST" and posted.is_valid():
        try:
            services.update_client(
                company=company, actor=request.user, client=client, **posted.cleaned_data
            )
        except ValidationError as exc:
            _form_errors(posted, exc)
        else:
            messages.success(request, saved)
            return redirect("client_detail", public_id=client.public_id)
    if request.method == "POST":
        # The invalid values stay in the form only: the page shows what is saved.
        client.refresh_from_db()
    links = ExternalLink.objects.filter(company=company, client=client)
    return render(
        request,
        "clients/detail.html",
        {
            "client": client,
            "form": form,
            "details_form": details_form,
            "links": links,
            "own_connections": own_connections(request, client),
            "can_connect_own": has_role(request, *integration_services.CLIENT_CREDENTIAL_ROLES),
            "can_edit": can_edit,
            "can_delete": has_role(request, *services.DELETE_ROLES),
        },
    )


@require_POST
@requires_role(*services.EDIT_ROLES)
def client_archive(request: FirmRequest, public_id: str) -> HttpResponse:
    client = _client_or_404(request, public_id)
    services.archive_client(company=request.company, actor=request.user, client=client)
    messages.success(
        request,
        _("%(name)s is archived.") % {"name": client.name},
    )
    return redirect("client_detail", public_id=client.public_id)


@require_POST
@requires_role(*services.EDIT_ROLES)
def client_restore(request: FirmRequest, public_id: str) -> HttpResponse:
    client = _client_or_404(request, public_id)
    services.restore_client(company=request.company, actor=request.user, client=client)
    messages.success(request, _("%(name)s is restored to the client list.") % {"name": client.name})
    return redirect("client_detail", public_id=client.public_id)


@requires_role(*services.DELETE_ROLES)
def client_delete(request: FirmRequest, public_id: str) -> HttpResponse:
    """Delete, after a confirmation page; refused (with the reason and Archive offered) when
    something depends on the client."""
    client = _client_or_404(request, public_id)
    error = ""
    if request.method == "POST":
        try:
            services.delete_client(company=request.company, actor=request.user, client=client)
        except services.ClientInUse as exc:
            error = exc.message
        else:
            messages.success(request, _("Client %(name)s deleted.") % {"name": client.name})
            return redirect("client_list")
    dependents = services.client_dependents(client)
    return render(
        request,
        "clients/delete.html",
        {
            "client": client,
            "dependents": dependents,
            "error": error,
            "can_edit": has_role(request, *services.EDIT_ROLES),
        },
        status=409 if error else 200,
    )


# --- The Import tab -----------------------------------------------------------------------------------


def _review_filters(request: FirmRequest) -> tuple[str, str, str]:
    """The review's filter, search and page, from the query string or (after a POST) the form."""
    data = request.POST if request.method == "POST" else request.GET
    return data.get("show", ""), data.get("q", "").strip(), data.get("page", "")


def import_context(request: FirmRequest, vendor: str) -> dict[str, Any]:
    """What the Import tab shows: the latest preview, its rows (filtered, paginated), the stored
    selection and what confirming it would do, and the confirm job of that preview with its
    summary (its own rows only)."""
    jobs = SyncJob.objects.filter(company=request.company, vendor=vendor)
    preview = jobs.filter(kind=importing.PREVIEW).order_by("-created_at").first()
    confirm = (
        jobs.filter(kind=importing.CONFIRM, scope=str(preview.public_id))
        .order_by("-created_at")
        .first()
        if preview
        else None
    )
    context: dict[str, Any] = {
        "preview": preview,
        "confirm": confirm,
        "vendor": vendor,
        "vendor_label": get_vendor(vendor).label,
    }
    if preview and preview.status == SyncJobStatus.SUCCEEDED:
        shown, query, page = _review_filters(request)
        rows = importing.filter_rows(
            CustomerImportRow.objects.filter(job=preview).select_related(
                "client", "conflict_client"
            ),
            show=shown,
            query=query,
        )
        page_rows = Paginator(rows, 50).get_page(page)
        # Which holders of a conflicting number are linked already (then "link" is no choice).
        holders = {row.conflict_client_id for row in page_rows if row.conflict_client_id}
        linked_holders = set(
            ExternalLink.objects.filter(
                company=request.company, vendor=vendor, client_id__in=holders
            ).values_list("client_id", flat=True)
        )
        selectable = set(
            importing.selectable(preview)
            .filter(pk__in=[row.pk for row in page_rows])
            .values_list("pk", flat=True)
        )
        for row in page_rows:
            row.can_select = row.pk in selectable  # type: ignore[attr-defined]
            row.can_link = bool(  # type: ignore[attr-defined]
                row.conflict_client_id
                and row.conflict_client_id not in linked_holders
                and row.match_rule != "link"
            )
        matching_selectable = importing.selectable(preview).filter(pk__in=rows.values("pk"))
        context.update(
            rows=page_rows,
            show=shown,
            q=query,
            # The pager keeps the tab, filter and search, also in a panel redrawn after a POST.
            pager_query=urlencode({"tab": "import", "show": shown, "q": query}),
            pending=importing.not_imported(preview).count(),
            selected=importing.selection_counts(importing.selected_rows(preview)),
            all_new=importing.selection_counts(importing.new_rows(preview)),
            all_rows=importing.selection_counts(importing.selectable(preview)),
            matching=matching_selectable.count(),
            conflicts=CustomerImportRow.objects.filter(
                job=preview, classification=ImportClassification.CONFLICT, resolution=""
            )
            .exclude(outcome__in=["created", "updated", "unchanged"])
            .count(),
        )
    context["busy"] = any(j is not None and j.is_active for j in (preview, confirm))
    context["cancellable"] = next(
        (j for j in (confirm, preview) if j is not None and is_cancellable(j)), None
    )
    return context


def _back_to_review(request: FirmRequest, vendor: str) -> HttpResponse:
    """After a change to the review: the panel again (htmx) or the tab with the same filter."""
    if request.headers.get("HX-Request") == "true":
        return render(request, "clients/_import_panel.html", import_context(request, vendor))
    shown, query, page = _review_filters(request)
    params = urlencode({"tab": "import", "show": shown, "q": query, "page": page})
    return redirect(f"/settings/apps/{vendor}/?{params}")


def _import_preview(request: FirmRequest, vendor: str, public_id: str) -> SyncJob:
    vendor_or_404(vendor)
    return get_object_or_404(
        SyncJob, company=request.company, vendor=vendor, public_id=public_id, kind=importing.PREVIEW
    )


@requires_role(*ADMIN_ROLES)
def import_panel(request: FirmRequest, vendor: str) -> HttpResponse:
    """The Import tab's content alone (htmx polls it while a job runs). The poll that sees a job
    of the person's finish marks its notification read: they watched it end."""
    vendor_or_404(vendor)
    context = import_context(request, vendor)
    if request.htmx:
        for job in (context["preview"], context["confirm"]):
            if job is not None:
                integration_services.mark_job_seen(
                    company=request.company, actor=request.user, job=job
                )
    return render(request, "clients/_import_panel.html", context)


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


def _page_choice(request: FirmRequest) -> tuple[list[str], list[str]]:
    """The page's checkboxes as posted: (checked, shown but unchecked). Without JavaScript the
    selection changes only when a form is posted, so every post carries the page's boxes."""
    shown = request.POST.getlist("row")
    checked = request.POST.getlist("remote_id")
    return checked, [r for r in shown if r not in set(checked)]


@require_POST
@requires_role(*ADMIN_ROLES)
def import_select(request: FirmRequest, vendor: str, public_id: str) -> HttpResponse:
    """Change the stored selection: one checkbox (htmx, answered with the counts alone), the
    page's boxes, every customer matching the filter (`op=matching`) or none (`op=none`)."""
    preview = _import_preview(request, vendor, public_id)
    op = request.POST.get("op", "")
    # "Select all matching" and "Clear" decide for every row; the page's boxes only otherwise.
    checked, unchecked = ([], []) if op in ("matching", "none") else _page_choice(request)
    shown, query, _page = _review_filters(request)
    try:
        services.update_import_selection(
            company=request.company,
            actor=request.user,
            preview=preview,
            add=checked,
            remove=unchecked,
            select_matching=op == "matching",
            show=shown,
            query=query,
            clear=op == "none",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except IntegrationError as exc:
        messages.error(request, exc.message)
    if op == "toggle" and request.headers.get("HX-Request") == "true":
        context = import_context(request, vendor)
        return render(request, "clients/_import_selection.html", {**context, "oob": True})
    return _back_to_review(request, vendor)


@require_POST
@requires_role(*ADMIN_ROLES)
def import_resolve(request: FirmRequest, vendor: str, public_id: str) -> HttpResponse:
    """The admin's choice for one conflicting customer (link / without number / skip / undo)."""
    preview = _import_preview(request, vendor, public_id)
    # One button per choice inside the review's form: "<remote id>|<resolution>".
    remote_id, _sep, resolution = request.POST.get("resolve", "").partition("|")
    try:
        row = services.resolve_import_conflict(
            company=request.company,
            actor=request.user,
            preview=preview,
            remote_id=remote_id,
            resolution=resolution,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except IntegrationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(name)s: %(choice)s.") % {"name": row.name, "choice": row.get_resolution_display()},
        )
    return _back_to_review(request, vendor)


@require_POST
@requires_role(*ADMIN_ROLES)
def import_confirm(request: FirmRequest, vendor: str, public_id: str) -> HttpResponse:
    preview = _import_preview(request, vendor, public_id)
    select = request.POST.get("select") or None
    try:
        if select in (None, "some", "selected"):
            # The page's boxes first (they are the selection without JavaScript), then the
            # stored selection, which spans every filter and page.
            checked, unchecked = _page_choice(request)
            if checked or unchecked:
                services.update_import_selection(
                    company=request.company,
                    actor=request.user,
                    preview=preview,
                    add=checked,
                    remove=unchecked,
                )
            select = "selected"
        services.confirm_customer_import(
            company=request.company, actor=request.user, preview=preview, select=select
        )
        # The selection is the job's now; the tab shows its progress.
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except IntegrationError as exc:
        messages.error(request, exc.message)
    return redirect(f"/settings/apps/{vendor}/?tab=import")


def own_connections(request: FirmRequest, client: Client) -> list[dict[str, Any]]:
    """For each vendor whose books open only with the client's own credentials
    (`Capability.CLIENT_CREDENTIALS`) and that the firm has enabled: the client's own
    connection, if saved (never its secret: the last four characters of the key)."""
    found = []
    for info in iter_vendors(Capability.CLIENT_CREDENTIALS):
        if not IntegrationConnection.objects.filter(
            company=request.company, vendor=info.key, client__isnull=True, enabled=True
        ).exists():
            continue
        connection = (
            IntegrationConnection.objects.filter(
                company=request.company, vendor=info.key, client=client
            )
            .exclude(status=ConnectionStatus.NOT_CONNECTED)
            .first()
        )
        found.append(
            {
                "info": info,
                "connection": connection,
                "credential": connection.active_credential if connection else None,
            }
        )
    return found


@require_POST
@requires_role(*integration_services.CLIENT_CREDENTIAL_ROLES)
def client_own_connection(request: FirmRequest, public_id: str, vendor: str) -> HttpResponse:
    """The client page's *Test connection*, *Save* and *Remove* of the client's own
    credentials (`action` = test, save or remove). The secrets typed are never shown back."""
    client = _client_or_404(request, public_id)
    info = vendor_or_404(vendor)
    if not info.can(Capability.CLIENT_CREDENTIALS):
        raise Http404
    action = request.POST.get("action", "")
    common: dict[str, Any] = {
        "company": request.company,
        "actor": request.user,
        "vendor": info.key,
        "client": client,
    }
    try:
        if action == "remove":
            integration_services.disconnect(**common)
            messages.success(request, _("The client's own connection was removed."))
        else:
            environment = request.POST.get("environment") or info.default_environment
            credentials = {f.name: request.POST.get(f.name, "") for f in info.credential_fields}
            if action == "save":
                connection = integration_services.save_connection(
                    environment=environment, credentials=credentials, **common
                )
                name = connection.remote_company_name
            else:
                name = integration_services.test_connection(
                    environment=environment, credentials=credentials, **common
                ).remote.name
                messages.info(request, _("Connection works: %(company)s.") % {"company": name})
                return redirect("client_detail", public_id=client.public_id)
            messages.success(request, _("Saved. Connected to %(company)s.") % {"company": name})
    except IntegrationError as exc:
        messages.error(request, exc.message)
    return redirect("client_detail", public_id=client.public_id)
