"""The invoice pages: the list, a new draft (also from a client's page), drafts for many
clients, the draft editor (lines with htmx), the issued invoice with its export state, the
print view and the PDF. Views validate, call one service in `billing.invoices` or
`billing.exports`, and render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import exports, invoices, statuses
from billing.invoice_forms import (
    BulkDraftForm,
    InvoiceFilterForm,
    InvoiceHeaderForm,
    LineForm,
    NewInvoiceForm,
)
from billing.invoices import INVOICE_ROLES, InvoiceError
from billing.models import BillingProduct, Invoice, InvoiceExport, InvoiceLine
from billing.pdf import invoice_pdf
from integrations import services as integration_services
from integrations.base import get_vendor
from integrations.models import SyncJob
from uku.http import FirmRequest, as_uuid
from uku.tenancy import company_required, has_role, requires_role

INVOICES_PER_PAGE = 25


def _invoices(request: FirmRequest) -> tuple[InvoiceFilterForm, QuerySet[Invoice]]:
    form = InvoiceFilterForm(request.GET or None, company=request.company)
    first_export = InvoiceExport.objects.filter(invoice=OuterRef("pk"))
    rows = (
        Invoice.objects.filter(company=request.company)
        .select_related("client")
        .annotate(
            export_state=Subquery(first_export.values("state")[:1]),
            remote_invoice_number=Subquery(first_export.values("remote_invoice_number")[:1]),
        )
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            rows = rows.filter(status=data["status"])
        if data["client"]:
            rows = rows.filter(client=data["client"])
        if data["date_from"]:
            rows = rows.filter(issue_date__gte=data["date_from"])
        if data["date_to"]:
            rows = rows.filter(issue_date__lte=data["date_to"])
        if data["export"] == "none":
            rows = rows.filter(exports__isnull=True)
        elif data["export"]:
            rows = rows.filter(exports__state=data["export"])
    return form, rows.order_by("-issue_date", "-pk")


@company_required
def invoice_list(request: FirmRequest) -> HttpResponse:
    form, rows = _invoices(request)
    totals = rows.aggregate(
        count=Count("pk"), net=Sum("net_total"), vat=Sum("vat_total"), gross=Sum("gross_total")
    )
    page = Paginator(rows, INVOICES_PER_PAGE).get_page(request.GET.get("page"))
    exports_by_invoice = {
        e.invoice_id: e
        for e in InvoiceExport.objects.filter(invoice__in=list(page.object_list)).select_related(
            "invoice__client"
        )
    }
    for invoice in page.object_list:
        invoice.export_shown = exports.export_display(exports_by_invoice.get(invoice.pk))  # type: ignore[attr-defined]
    keep = request.GET.copy()
    keep.pop("page", None)
    keep.pop("job", None)
    vendor = statuses.status_vendor(request.company)
    job = None
    if as_uuid(request.GET.get("job", "")) is not None:
        job = SyncJob.objects.filter(
            company=request.company, kind=statuses.STATUS_JOB, public_id=request.GET["job"]
        ).first()
    return render(
        request,
        "billing/invoice_list.html",
        {
            "filters": form,
            "page": page,
            "totals": totals,
            "query_string": keep.urlencode(),
            "pager_query": keep.urlencode(),
            "filtered": any(keep.values()),
            "can_write": has_role(request, *INVOICE_ROLES),
            "status_vendor_label": get_vendor(vendor).label if vendor else "",
            "status_job": job,
        },
    )


@require_POST
@requires_role(*INVOICE_ROLES)
def invoice_refresh_status(request: FirmRequest) -> HttpResponse:
    """*Update status*: a background job for the selected invoices (all open ones if none)."""
    ids = [i for i in request.POST.getlist("selected") if as_uuid(i) is not None]
    known = [
        str(i)
        for i in Invoice.objects.filter(company=request.company, public_id__in=ids).values_list(
            "public_id", flat=True
        )
    ]
    try:
        job, _created = statuses.request_status_refresh(
            company=request.company, actor=request.user, ids=known
        )
    except InvoiceError as exc:
        messages.error(request, exc.message)
        return redirect("invoice_list")
    return redirect(f"{reverse('invoice_list')}?job={job.public_id}")


@company_required
def status_job(request: FirmRequest, public_id: str) -> HttpResponse:
    """htmx: a status update's progress, then its result (updated, unchanged, not found)."""
    job = get_object_or_404(
        SyncJob, company=request.company, kind=statuses.STATUS_JOB, public_id=public_id
    )
    # The person watched it finish: no notification for it (integrations.services.mark_job_seen).
    integration_services.mark_job_seen(company=request.company, actor=request.user, job=job)
    return render(request, "billing/_status_job.html", {"status_job": job})


@requires_role(*INVOICE_ROLES)
def invoice_new(request: FirmRequest) -> HttpResponse:
    """A new draft: GET picks the client (`?client=` preselects it, as the client page's
    *New invoice* does), POST creates the draft and opens the editor."""
    form = NewInvoiceForm(request.POST or None, company=request.company, initial=request.GET)
    if request.method == "POST" and form.is_valid():
        try:
            invoice = invoices.create_draft(
                company=request.company, actor=request.user, client=form.cleaned_data["client"]
            )
        except InvoiceError as exc:
            form.add_error(exc.details.get("field") or None, exc.message)
        else:
            return redirect("invoice_detail", invoice.public_id)
    return render(request, "billing/invoice_new.html", {"form": form})


@requires_role(*INVOICE_ROLES)
def invoice_bulk(request: FirmRequest) -> HttpResponse:
    """Drafts for many clients at once, each with the same lines (a monthly fee)."""
    company = request.company
    form = BulkDraftForm(request.POST or None, company=company)
    line_forms = [
        LineForm(request.POST or None, company=company, prefix=f"line{n}") for n in range(3)
    ]
    if request.method == "POST" and form.is_valid():
        filled = [f for f in line_forms if _line_posted(request, f.prefix or "")]
        if all(f.is_valid() for f in filled):
            try:
                made = invoices.create_drafts_for_clients(
                    company=company,
                    actor=request.user,
                    clients=form.cleaned_data["clients"],
                    lines=[f.line_input() for f in filled],
                    issue_date=form.cleaned_data["issue_date"],
                    comment=form.cleaned_data["comment"],
                )
            except InvoiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, _("%(count)d drafts were created.") % {"count": len(made)}
                )
                return redirect(f"{reverse('invoice_list')}?status=draft")
    return render(request, "billing/invoice_bulk.html", {"form": form, "line_forms": line_forms})


def _line_posted(request: FirmRequest, prefix: str) -> bool:
    return bool(request.POST.get(f"{prefix}-product") or request.POST.get(f"{prefix}-description"))


def _invoice(request: FirmRequest, public_id: str) -> Invoice:
    return get_object_or_404(
        Invoice.objects.select_related("client", "responsible"),
        company=request.company,
        public_id=public_id,
    )


def _detail_context(request: FirmRequest, invoice: Invoice, **extra: Any) -> dict[str, Any]:
    export = invoice.exports.first()
    context = {
        "invoice": invoice,
        "lines": list(invoice.lines.select_related("product", "vat_type")),
        "totals": invoices.invoice_totals(invoice),
        "export": export,
        "export_shown": exports.export_display(export),
        "can_write": has_role(request, *INVOICE_ROLES),
        "line_form": LineForm(company=request.company, prefix="new"),
        "events": list(invoice.events.select_related("actor")),
    }
    if invoice.is_draft and context["can_write"]:
        context["header_form"] = InvoiceHeaderForm(
            company=request.company,
            initial={
                "issue_date": invoice.issue_date,
                "due_date": invoice.due_date,
                "responsible": invoice.responsible,
                "comment": invoice.comment,
            },
        )
    context.update(extra)
    return context


@company_required
def invoice_detail(request: FirmRequest, public_id: str) -> HttpResponse:
    invoice = _invoice(request, public_id)
    context = _detail_context(request, invoice)
    if request.htmx and request.GET.get("fragment") == "export":
        return render(request, "billing/_export_state.html", context)
    return render(request, "billing/invoice_detail.html", context)


def _lines_response(request: FirmRequest, invoice: Invoice, **extra: Any) -> HttpResponse:
    invoice.refresh_from_db()
    context = _detail_context(request, invoice, **extra)
    if request.htmx:
        return render(request, "billing/_invoice_lines.html", context)
    return redirect("invoice_detail", invoice.public_id)


def _service_error(request: FirmRequest, invoice: Invoice, exc: InvoiceError) -> HttpResponse:
    if request.htmx:
        response = _lines_response(request, invoice, line_error=exc.message)
        response.status_code = 422
        return response
    messages.error(request, exc.message)
    return redirect("invoice_detail", invoice.public_id)


@require_POST
@requires_role(*INVOICE_ROLES)
def invoice_edit(request: FirmRequest, public_id: str) -> HttpResponse:
    invoice = _invoice(request, public_id)
    form = InvoiceHeaderForm(request.POST, company=request.company)
    if not form.is_valid():
        return render(
            request,
            "billing/invoice_detail.html",
            _detail_context(request, invoice, header_form=form),
            status=422,
        )
    try:
        invoices.update_draft(
            company=request.company, actor=request.user, invoice=invoice, **form.cleaned_data
        )
    except InvoiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The draft is saved."))
    return redirect("invoice_detail", invoice.public_id)


@require_POST
@requires_role(*INVOICE_ROLES)
def line_add(request: FirmRequest, public_id: str) -> HttpResponse:
    invoice = _invoice(request, public_id)
    form = LineForm(request.POST, company=request.company, prefix="new")
    if not form.is_valid():
        response = _lines_response(request, invoice, line_form=form)
        response.status_code = 422
        return response
    try:
        invoices.add_line(
            company=request.company, actor=request.user, invoice=invoice, data=form.line_input()
        )
    except InvoiceError as exc:
        return _service_error(request, invoice, exc)
    return _lines_response(request, invoice)


def _line(request: FirmRequest, public_id: str, line_id: str) -> tuple[Invoice, InvoiceLine]:
    invoice = _invoice(request, public_id)
    line = get_object_or_404(
        InvoiceLine, company=request.company, invoice=invoice, public_id=line_id
    )
    return invoice, line


@require_POST
@requires_role(*INVOICE_ROLES)
def line_edit(request: FirmRequest, public_id: str, line_id: str) -> HttpResponse:
    invoice, line = _line(request, public_id, line_id)
    form = LineForm(request.POST, company=request.company, prefix=f"l{line.public_id.hex[:8]}")
    if not form.is_valid():
        response = _lines_response(request, invoice, line_error=_("Check the line's numbers."))
        response.status_code = 422
        return response
    try:
        invoices.update_line(
            company=request.company, actor=request.user, line=line, data=form.line_input()
        )
    except InvoiceError as exc:
        return _service_error(request, invoice, exc)
    return _lines_response(request, invoice)


@require_POST
@requires_role(*INVOICE_ROLES)
def line_remove(request: FirmRequest, public_id: str, line_id: str) -> HttpResponse:
    invoice, line = _line(request, public_id, line_id)
    try:
        invoices.remove_line(company=request.company, actor=request.user, line=line)
    except InvoiceError as exc:
        return _service_error(request, invoice, exc)
    return _lines_response(request, invoice)


@require_POST
@requires_role(*INVOICE_ROLES)
def line_move(request: FirmRequest, public_id: str, line_id: str) -> HttpResponse:
    invoice, line = _line(request, public_id, line_id)
    offset = -1 if request.POST.get("direction") == "up" else 1
    try:
        invoices.move_line(company=request.company, actor=request.user, line=line, offset=offset)
    except InvoiceError as exc:
        return _service_error(request, invoice, exc)
    return _lines_response(request, invoice)


@requires_role(*INVOICE_ROLES)
def product_defaults(request: FirmRequest) -> HttpResponse:
    """htmx: the new-line fields filled from the picked product (description, price, VAT)."""
    prefix = request.GET.get("prefix", "new")
    if prefix not in ("new", "line0", "line1", "line2"):
        prefix = "new"
    product = None
    product_id = request.GET.get(f"{prefix}-product", "")
    if product_id:
        product = (
            BillingProduct.objects.filter(company=request.company, public_id=product_id)
            .select_related("vat_type")
            .first()
            if as_uuid(product_id) is not None
            else None
        )
    initial: dict[str, Any] = {"quantity": request.GET.get(f"{prefix}-quantity") or 1}
    if product is not None:
        initial.update(
            product=product,
            description=product.name,
            unit_price=product.unit_price,
            vat_type=product.vat_type,
        )
    form = LineForm(company=request.company, prefix=prefix, initial=initial)
    return render(request, "billing/_line_fields.html", {"form": form})


@require_POST
@requires_role(*INVOICE_ROLES)
def invoice_issue(request: FirmRequest, public_id: str) -> HttpResponse:
    invoice = _invoice(request, public_id)
    try:
        invoice, issued_now = invoices.issue_invoice(
            company=request.company, actor=request.user, invoice=invoice
        )
    except InvoiceError as exc:
        messages.error(request, exc.message)
    except PermissionDenied:
        raise
    else:
        if issued_now:
            messages.success(
                request, _("Invoice %(number)s is issued.") % {"number": invoice.number}
            )
    return redirect("invoice_detail", invoice.public_id)


@require_POST
@requires_role(*INVOICE_ROLES)
def invoice_retry(request: FirmRequest, public_id: str) -> HttpResponse:
    invoice = _invoice(request, public_id)
    try:
        exports.retry_export(company=request.company, actor=request.user, invoice=invoice)
    except InvoiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, _("The export is queued again."))
    return redirect("invoice_detail", invoice.public_id)


@require_POST
@requires_role(*INVOICE_ROLES)
def invoice_delete(request: FirmRequest, public_id: str) -> HttpResponse:
    invoice = _invoice(request, public_id)
    try:
        invoices.delete_draft(company=request.company, actor=request.user, invoice=invoice)
    except InvoiceError as exc:
        messages.error(request, exc.message)
        return redirect("invoice_detail", invoice.public_id)
    messages.success(request, _("The draft is deleted."))
    return redirect("invoice_list")


@company_required
def invoice_print(request: FirmRequest, public_id: str) -> HttpResponse:
    invoice = _invoice(request, public_id)
    return render(request, "billing/invoice_print.html", _detail_context(request, invoice))


@company_required
def invoice_pdf_download(request: FirmRequest, public_id: str) -> HttpResponse:
    invoice = _invoice(request, public_id)
    pdf = invoice_pdf(invoice, request.company)
    name = invoice.number or "draft"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="invoice-{name}.pdf"'
    return response
