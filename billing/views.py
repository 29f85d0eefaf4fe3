"""Settings & Apps → Billing: the Overview (activate, deactivate, accounting system) and the
Products tab (import buttons, the running import's progress, the last import's summary, and the
product and VAT type lists)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import invoices, services
from billing.forms import ActivateBillingForm, ProductSearchForm
from billing.invoice_forms import BillingInvoiceSettingsForm
from billing.models import VAT_CODE_ORDER, BillingProduct, VatType
from integrations import services as integration_services
from integrations.base import IntegrationError
from integrations.models import SyncJob
from uku.http import FirmRequest
from uku.nordic import nordic
from uku.tenancy import ADMIN_ROLES, requires_role

PRODUCTS_PER_PAGE = 25
SORTS: dict[str, tuple[Any, ...]] = {  # names in Norwegian order: Æ, Ø, Å after Z (uku.nordic)
    "name": (nordic("name").asc(), "pk"),
    "-name": (nordic("name").desc(), "-pk"),
    "number": ("number", nordic("name").asc(), "pk"),
    "-number": ("-number", nordic("name").asc(), "pk"),
    "price": ("unit_price", nordic("name").asc(), "pk"),
    "-price": ("-unit_price", nordic("name").asc(), "pk"),
}


def _url(tab: str) -> str:
    return f"{reverse('billing_settings')}?tab={tab}"


def _products(request: FirmRequest) -> tuple[ProductSearchForm, QuerySet[BillingProduct]]:
    form = ProductSearchForm(request.GET or None)
    query = show = sort = ""
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        show = form.cleaned_data["show"]
        sort = form.cleaned_data["sort"]
    products = BillingProduct.objects.filter(company=request.company).select_related("vat_type")
    if show != "all":
        products = products.filter(active=show != "inactive")
    if query:
        products = products.filter(Q(name__icontains=query) | Q(number__icontains=query))
    return form, products.order_by(*SORTS.get(sort or "name", SORTS["name"]))


def _catalogue(request: FirmRequest) -> dict[str, Any]:
    form, products = _products(request)
    page = Paginator(products, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    keep = request.GET.copy()
    keep.pop("page", None)
    keep.pop("fragment", None)
    keep["tab"] = "products"
    return {
        "search": form,
        "page": page,
        "query_string": keep.urlencode(),
        # The pager's and the sortable headers' links (templates/includes/): without `fragment`,
        # so following one loads the whole page.
        "pager_query": keep.urlencode(),
        "sort": request.GET.get("sort") if request.GET.get("sort") in SORTS else "name",
        "filtered": bool(request.GET.get("q")) or request.GET.get("show") in ("inactive", "all"),
        "vat_types": VatType.objects.filter(company=request.company).order_by(
            "-active", *VAT_CODE_ORDER
        ),
    }


@requires_role(*ADMIN_ROLES)
def settings_page(request: FirmRequest) -> HttpResponse:
    """Billing's tabs: Overview always, Products once billing is active and its accounting
    system is connected."""
    company = request.company
    billing = services.billing_settings_of(company)
    active = bool(billing and billing.active)
    vendor = billing.accounting_vendor if billing else ""
    connection = services.accounting_connection(company, vendor) if active else None
    tabs = ["overview"] + (["products"] if connection is not None else [])
    tab = request.GET.get("tab", "overview")
    if tab not in tabs:
        tab = "overview"
    context: dict[str, Any] = {
        "billing": billing,
        "active": active,
        "card": services.billing_card(company),
        "vendor": vendor,
        "vendor_label": services.vendor_label(vendor),
        "connection": connection,
        "tabs": tabs,
        "tab": tab,
        "form": ActivateBillingForm(initial={"accounting_vendor": vendor} if billing else None),
        "invoice_settings_form": _invoice_settings_form(company),
    }
    if tab == "products":
        context.update(_catalogue(request))
        if request.htmx and request.GET.get("fragment") == "catalogue":
            return render(request, "billing/_catalogue.html", context)
        job = services.last_import_job(company, vendor)
        context.update({"job": job, "summary": services.import_summary(job)})
    return render(request, "billing/settings.html", context)


@require_POST
@requires_role(*ADMIN_ROLES)
def activate(request: FirmRequest) -> HttpResponse:
    form = ActivateBillingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an accounting system from the list."))
        return redirect(_url("overview"))
    vendor = form.cleaned_data["accounting_vendor"]
    try:
        services.activate_billing(company=request.company, actor=request.user, vendor=vendor)
    except IntegrationError as exc:
        messages.error(request, exc.message)
        return redirect(_url("overview"))
    label = services.vendor_label(vendor)
    if label:
        text = _("Billing is active, with %(vendor)s as the accounting system.") % {"vendor": label}
    else:
        text = _("Billing is active, without an accounting system.")
    messages.success(request, text)
    connected = services.accounting_connection(request.company, vendor)
    return redirect(_url("products" if connected else "overview"))


def _invoice_settings_form(company: Any, data: Any = None) -> BillingInvoiceSettingsForm:
    settings = invoices.settings_for(company) if data is None else None
    initial = (
        {
            "export_invoices": settings.export_invoices,
            "default_due_days": settings.default_due_days,
            "default_vat_type": settings.default_vat_type.public_id
            if settings.default_vat_type
            else None,
            "number_prefix": settings.number_prefix,
            "next_number": settings.next_number,
            "check_status_daily": settings.check_status_daily,
            "status_check_hour": settings.status_check_hour,
            "time_zone": settings.time_zone,
        }
        if settings
        else None
    )
    return BillingInvoiceSettingsForm(data, company=company, initial=initial)


@require_POST
@requires_role(*ADMIN_ROLES)
def invoice_settings(request: FirmRequest) -> HttpResponse:
    """Billing's invoicing settings: export on/off, default due days and VAT type, numbers."""
    form = _invoice_settings_form(request.company, request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("Check the invoicing settings: %(errors)s")
            % {"errors": " ".join(str(e) for errors in form.errors.values() for e in errors)},
        )
        return redirect(_url("overview"))
    try:
        invoices.update_invoice_settings(
            company=request.company, actor=request.user, **form.cleaned_data
        )
    except IntegrationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The invoicing settings are saved."))
    return redirect(_url("overview"))


@require_POST
@requires_role(*ADMIN_ROLES)
def deactivate(request: FirmRequest) -> HttpResponse:
    services.deactivate_billing(company=request.company, actor=request.user)
    messages.success(
        request, _("Billing is deactivated. Products and VAT types are kept for when you return.")
    )
    return redirect(_url("overview"))


def _start_import(request: FirmRequest, start: Any, what: str) -> HttpResponse:
    company = request.company
    billing = services.billing_settings_of(company)
    vendor = billing.accounting_vendor if billing else ""
    try:
        _job, created = start(company=company, actor=request.user, vendor=vendor)
    except IntegrationError as exc:  # a plan below the vendor's raises PlanRequired: its page
        messages.error(request, exc.message)
        return redirect(_url("products"))
    if created:
        messages.info(request, _("%(what)s started. It runs in the background.") % {"what": what})
    else:
        messages.info(
            request, _("%(what)s is already running; showing its progress.") % {"what": what}
        )
    return redirect(_url("products"))


@require_POST
@requires_role(*ADMIN_ROLES)
def import_vat_types(request: FirmRequest) -> HttpResponse:
    return _start_import(request, services.request_vat_type_import, _("The VAT type import"))


@require_POST
@requires_role(*ADMIN_ROLES)
def import_products(request: FirmRequest) -> HttpResponse:
    return _start_import(request, services.request_product_import, _("The product import"))


@requires_role(*ADMIN_ROLES)
def import_job(request: FirmRequest, public_id: str) -> HttpResponse:
    """One import's progress (polled by htmx) or, when it has ended, its summary. When it ends
    the product and VAT type lists are told to reload (`HX-Trigger`)."""
    job: SyncJob = get_object_or_404(
        SyncJob.objects.select_related("requested_by"),
        company=request.company,
        kind__in=services.IMPORT_KINDS,
        public_id=public_id,
    )
    if not request.htmx:
        return redirect(_url("products"))
    # The poll saw it: the person watched it finish, so no notification for it.
    integration_services.mark_job_seen(company=request.company, actor=request.user, job=job)
    response = render(
        request,
        "billing/_import_job.html",
        {"job": job, "summary": services.import_summary(job)},
    )
    if not job.is_active:
        response["HX-Trigger"] = "billing-import-finished"
    return response
