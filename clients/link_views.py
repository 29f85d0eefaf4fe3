"""The Integration column's pages: the inline link picker (htmx) and Suggested links.

Each view validates, calls one service of `clients.linking`, and renders. With htmx the picker
lives inside the client list's cell (`_integration_cell.html` <-> `_link_picker.html`, swapped as
a whole); without JavaScript the same views render full pages and redirect back to the list.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from clients import linking
from clients.models import Client, ExternalLink
from integrations.base import Capability, IntegrationError, VendorInfo, iter_vendors
from uku.http import FirmRequest
from uku.tenancy import company_required, requires_role

_NOTHING_CONNECTED = _lazy(
    "No accounting system is connected. An owner or admin connects one in Settings & Apps."
)


def _client(request: FirmRequest, public_id: str) -> Client:
    return get_object_or_404(
        Client.objects.prefetch_related("links"), company=request.company, public_id=public_id
    )


def _htmx(request: FirmRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _vendor(request: FirmRequest, vendors: list[VendorInfo], client: Client) -> VendorInfo:
    """The vendor asked for, else the one the client is linked in, else the first one."""
    wanted = request.POST.get("vendor") or request.GET.get("vendor")
    if not wanted:
        linked = {link.vendor for link in client.links.all()}
        wanted = next((v.key for v in vendors if v.key in linked), vendors[0].key)
    for vendor in vendors:
        if vendor.key == wanted:
            return vendor
    raise Http404


def _page_number(request: FirmRequest) -> int:
    try:
        return max(int(request.GET.get("page") or 1), 1)
    except ValueError:
        return 1


def _results_context(
    request: FirmRequest, client: Client, vendor: VendorInfo, current: ExternalLink | None
) -> dict[str, Any]:
    """A page of the live customer search, or the error that prevented it."""
    query = request.GET.get("q", "").strip()
    context: dict[str, Any] = {"q": query, "search_error": "", "results": [], "result_page": None}
    try:
        found = linking.search_customers(
            company=request.company,
            actor=request.user,
            vendor=vendor.key,
            query=query,
            page=_page_number(request),
        )
    except IntegrationError as exc:
        context["search_error"] = exc.message
        return context
    context["result_page"] = found.page
    context["results"] = [
        {
            "customer": customer,
            "holder": found.linked.get(customer.id),
            "checked": current is not None and current.remote_id == customer.id,
        }
        for customer in found.page.customers
    ]
    return context


def _picker_context(
    request: FirmRequest, client: Client, *, error: str = "", vendor: VendorInfo | None = None
) -> dict[str, Any]:
    vendors = linking.linkable_vendors(request.company)
    if not vendors:  # nothing connected (any more): the picker says what to do
        return {"client": client, "vendors": [], "vendor": None, "error": error}
    vendor = vendor or _vendor(request, vendors, client)
    current = next((link for link in client.links.all() if link.vendor == vendor.key), None)
    books: list[Any] | None = None
    books_error = ""
    if vendor.can(Capability.BOOKS_ACCESS):
        try:
            books = [
                company
                for company, _holder in linking.books_companies(
                    company=request.company, actor=request.user, vendor=vendor.key
                )
            ]
        except IntegrationError as exc:
            books, books_error = [], exc.message
    return {
        "client": client,
        "vendors": vendors,
        "vendor": vendor,
        "current": current,
        "books_companies": books,
        "books_error": books_error,
        "error": error,
        **_results_context(request, client, vendor, current),
    }


def _cell(request: FirmRequest, client: Client, **extra: Any) -> HttpResponse:
    return render(
        request,
        "clients/_integration_cell.html",
        {
            "client": client,
            "link_vendors": linking.linkable_vendors(request.company),
            "can_link": linking.can_link(
                request.company, request.user, getattr(request, "membership", None)
            ),
            **extra,
        },
    )


def _picker(request: FirmRequest, client: Client, **extra: Any) -> HttpResponse:
    template = "clients/_link_picker.html" if _htmx(request) else "clients/link_page.html"
    return render(request, template, _picker_context(request, client, **extra))


@require_http_methods(["GET", "POST"])
@requires_role(*linking.LINK_ROLES)
def client_link(request: FirmRequest, public_id: str) -> HttpResponse:
    """GET: the picker. POST: save the chosen customer (and books company), then the cell."""
    client = _client(request, public_id)
    if request.method == "GET":
        return _picker(request, client)
    vendors = linking.linkable_vendors(request.company)
    if not vendors:
        return _picker(request, client)
    vendor = _vendor(request, vendors, client)
    remote_id = request.POST.get("remote_id", "").strip()
    if not remote_id:
        return _picker(request, client, vendor=vendor, error=_("Choose a customer first."))
    try:
        link = linking.link_client(
            company=request.company,
            actor=request.user,
            client=client,
            vendor=vendor.key,
            remote_id=remote_id,
            books_company_id=request.POST.get("books_company_id") or None,
        )
    except linking.LinkTaken as exc:
        return _picker(request, client, vendor=vendor, error=exc.message)
    except ValidationError as exc:
        return _picker(request, client, vendor=vendor, error=" ".join(exc.messages))
    except IntegrationError as exc:
        return _picker(request, client, vendor=vendor, error=exc.message)
    saved = _("%(client)s is linked to %(customer)s.") % {
        "client": client.name,
        "customer": link.remote_name,
    }
    if not _htmx(request):
        messages.success(request, saved)
        return redirect("client_list")
    client = _client(request, public_id)  # the links as saved
    return _cell(request, client, saved=saved)


@requires_role(*linking.LINK_ROLES)
def client_link_search(request: FirmRequest, public_id: str) -> HttpResponse:
    """The picker's result list alone (the debounced search and its pages)."""
    client = _client(request, public_id)
    vendors = linking.linkable_vendors(request.company)
    if not vendors:
        return render(
            request,
            "clients/_link_results.html",
            {"client": client, "search_error": _NOTHING_CONNECTED},
        )
    vendor = _vendor(request, vendors, client)
    current = next((link for link in client.links.all() if link.vendor == vendor.key), None)
    context = {"client": client, "vendor": vendor, "current": current}
    context.update(_results_context(request, client, vendor, current))
    return render(request, "clients/_link_results.html", context)


@company_required
def client_link_cell(request: FirmRequest, public_id: str) -> HttpResponse:
    """The cell as it is (the picker's Cancel)."""
    return _cell(request, _client(request, public_id))


@require_POST
@requires_role(*linking.LINK_ROLES)
def client_unlink(request: FirmRequest, public_id: str) -> HttpResponse:
    client = _client(request, public_id)
    vendor = request.POST.get("vendor", "")
    if vendor not in {v.key for v in iter_vendors(Capability.CUSTOMERS)}:
        raise Http404
    linking.unlink_client(company=request.company, actor=request.user, client=client, vendor=vendor)
    done = _("%(client)s is no longer linked.") % {"client": client.name}
    if not _htmx(request):
        messages.success(request, done)
        return redirect("client_list")
    return _cell(request, _client(request, public_id), saved=done)


@require_POST
@requires_role(*linking.LINK_ROLES)
def client_link_check(request: FirmRequest, public_id: str) -> HttpResponse:
    """Check the client's link now (deleted or inactive customer, lost books), then the cell."""
    client = _client(request, public_id)
    vendor = request.POST.get("vendor", "")
    if vendor not in {v.key for v in iter_vendors(Capability.CUSTOMERS)}:
        raise Http404
    try:
        link = linking.check_link(
            company=request.company, actor=request.user, client=client, vendor=vendor
        )
    except ValidationError as exc:
        done = " ".join(exc.messages)
    except IntegrationError as exc:
        done = exc.message
    else:
        done = link.stale_reason or _("The link is fine.")
    if not _htmx(request):
        messages.info(request, done)
        return redirect("client_list")
    return _cell(request, _client(request, public_id), saved=done)


@require_http_methods(["GET", "POST"])
@requires_role(*linking.LINK_ROLES)
def link_suggestions(request: FirmRequest, vendor: str) -> HttpResponse:
    """Suggested links for `vendor`: GET lists them, POST accepts the selected ones or all."""
    info = next((v for v in linking.linkable_vendors(request.company) if v.key == vendor), None)
    if info is None:
        raise Http404
    if request.method == "POST" and request.POST.get("conflict"):
        return _resolve_conflict(request, vendor)
    if request.method == "POST":
        accept_all = request.POST.get("accept") == "all"
        chosen = request.POST.getlist("client")
        if not accept_all and not chosen:
            messages.error(request, _("Select at least one suggestion, or accept all."))
            return redirect("link_suggestions", vendor=vendor)
        try:
            result = linking.accept_suggestions(
                company=request.company,
                actor=request.user,
                vendor=vendor,
                clients=chosen,
                accept_all=accept_all,
            )
        except IntegrationError as exc:
            messages.error(request, exc.message)
            return redirect("link_suggestions", vendor=vendor)
        count = result["linked"]
        messages.success(
            request,
            ngettext("%(count)d client linked.", "%(count)d clients linked.", count)
            % {"count": count},
        )
        if skipped := len(result["skipped"]):
            messages.warning(
                request,
                ngettext(
                    "%(count)d suggestion no longer held and was skipped.",
                    "%(count)d suggestions no longer held and were skipped.",
                    skipped,
                )
                % {"count": skipped},
            )
        return redirect("link_suggestions", vendor=vendor)
    error = ""
    proposals: list[linking.Suggestion] = []
    conflicts: list[linking.LinkConflict] = []
    try:
        proposals, conflicts = linking.suggestions_and_conflicts(
            company=request.company, vendor=vendor, actor=request.user
        )
    except IntegrationError as exc:
        error = exc.message
    return render(
        request,
        "clients/suggestions.html",
        {
            "vendor": info,
            "suggestions": proposals,
            "conflicts": [
                {
                    "conflict": conflict,
                    "customers": [
                        {"customer": c, "holder": conflict.holders.get(c.id)}
                        for c in conflict.customers
                    ],
                }
                for conflict in conflicts
            ],
            "error": error,
        },
    )


def _resolve_conflict(request: FirmRequest, vendor: str) -> HttpResponse:
    """One conflict's choice: the customer to link (`link`), those to import (`import`)."""
    client = get_object_or_404(
        Client, company=request.company, public_id=_uuid_or_404(request.POST["conflict"])
    )
    try:
        result = linking.resolve_link_conflict(
            company=request.company,
            actor=request.user,
            vendor=vendor,
            client=client,
            link=request.POST.get("link") or None,
            import_as_clients=request.POST.getlist("import"),
        )
    except linking.LinkTaken as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except IntegrationError as exc:
        messages.error(request, exc.message)
    else:
        if result["linked"]:
            messages.success(request, _("%(client)s is linked.") % {"client": client.name})
        if count := len(result["imported"]):
            messages.success(
                request,
                ngettext(
                    "%(count)d customer imported as its own client.",
                    "%(count)d customers imported as clients of their own.",
                    count,
                )
                % {"count": count},
            )
        if result["skipped"]:
            messages.warning(request, _("Some customers were linked meanwhile and were skipped."))
    return redirect("link_suggestions", vendor=vendor)


def _uuid_or_404(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise Http404 from exc
