"""Pages of the firm shell: home, firm switch, firm settings, members, invitations, API tokens,
the audit log, the health check, and the error pages."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_GET, require_POST
from rest_framework import exceptions as drf_exceptions

from uku import audit, services
from uku.api.errors import RequestTooLarge, ServerError, error_response
from uku.forms import (
    ApiTokenForm,
    AuditFilterForm,
    CompanyForm,
    InviteForm,
    MembershipForm,
    SignupForm,
)
from uku.http import FirmRequest
from uku.models import ApiToken, AuditEvent, Invitation, Membership, Role, User
from uku.tenancy import ADMIN_ROLES, SESSION_KEY, company_required, memberships_of, requires_role


@company_required
def home(request: FirmRequest) -> HttpResponse:
    """The dashboard: the getting-started steps until they are done, then the firm's work, each
    item linking to where it is dealt with (`uku.dashboard`)."""
    from uku import dashboard  # the apps' models: imported when used, not at URL loading

    admin = request.membership.role in ADMIN_ROLES
    board = dashboard.build(request.company, admin=admin)
    return render(request, "uku/home.html", {"board": board})


@login_required
def no_company(request: HttpRequest) -> HttpResponse:
    if getattr(request, "company", None) is not None:
        return redirect("home")
    return render(request, "uku/no_company.html")


@require_POST
@login_required
def switch_company(request: HttpRequest) -> HttpResponse:
    """Make another of the user's firms current. Someone else's firm is a 404."""
    wanted = request.POST.get("company", "")
    for membership in memberships_of(request.user):
        if str(membership.company.public_id) == wanted:
            request.session[SESSION_KEY] = wanted
            messages.success(request, _("Switched to %(firm)s.") % {"firm": membership.company})
            target = request.POST.get("next", "")
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                target = reverse("home")
            return redirect(target)
    raise Http404


@requires_role(*ADMIN_ROLES)
def company_settings(request: FirmRequest) -> HttpResponse:
    form = CompanyForm(request.POST or None, instance=request.company)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Firm details saved."))
        return redirect("company_settings")
    return render(request, "uku/company_settings.html", {"form": form})


# --- Members ------------------------------------------------------------------------------------


@company_required
def members(request: FirmRequest) -> HttpResponse:
    is_admin = request.membership.role in ADMIN_ROLES
    invite_form = InviteForm(request.POST or None) if is_admin else None
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied
        if invite_form is not None and invite_form.is_valid():
            try:
                services.invite_member(
                    company=request.company, actor=request.user, **invite_form.cleaned_data
                )
            except ValidationError as exc:
                invite_form.add_error("email", exc.message_dict.get("email", exc.messages))
            except PermissionDenied as exc:
                invite_form.add_error("role", str(exc))
            except services.InvitationNotSent as exc:
                invite_form.add_error("email", str(exc))
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.")
                    % {"email": invite_form.cleaned_data["email"]},
                )
                return redirect("members")
    member_list = Membership.objects.filter(company=request.company).select_related("user")
    invitations = Invitation.objects.filter(company=request.company, accepted_at__isnull=True)
    return render(
        request,
        "uku/members.html",
        {
            "members": member_list,
            "invitations": invitations,
            "invite_form": invite_form,
            "is_admin": is_admin,
            "roles": Role.choices,
        },
    )


@company_required
def member_edit(request: FirmRequest, public_id: str) -> HttpResponse:
    """Change a member's role (owners/admins) or External ID (owners/admins, or yourself)."""
    membership = get_object_or_404(
        Membership.objects.select_related("user"), public_id=public_id, company=request.company
    )
    is_admin = request.membership.role in ADMIN_ROLES
    if not is_admin and membership.pk != request.membership.pk:
        raise PermissionDenied
    form = MembershipForm(request.POST or None, instance=membership)
    if not is_admin:
        form.fields["role"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.update_membership(
                company=request.company,
                actor=request.user,
                membership=membership,
                role=form.cleaned_data["role"] if is_admin else None,
                external_id=form.cleaned_data["external_id"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error("role", exc.messages)
        except PermissionDenied as exc:
            form.add_error("role", str(exc))
        else:
            messages.success(request, _("Saved %(member)s.") % {"member": membership.user})
            return redirect("members")
    return render(request, "uku/member_edit.html", {"form": form, "member": membership})


@require_POST
@requires_role(*ADMIN_ROLES)
def member_remove(request: FirmRequest, public_id: str) -> HttpResponse:
    membership = get_object_or_404(
        Membership.objects.select_related("user"), public_id=public_id, company=request.company
    )
    try:
        services.remove_member(company=request.company, actor=request.user, membership=membership)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("%(member)s was removed.") % {"member": membership.user})
    return redirect("members")


@require_POST
@requires_role(*ADMIN_ROLES)
def invitation_cancel(request: FirmRequest, public_id: str) -> HttpResponse:
    invitation = get_object_or_404(Invitation, public_id=public_id, company=request.company)
    invitation.delete()
    messages.success(request, _("Invitation to %(email)s cancelled.") % {"email": invitation.email})
    return redirect("members")


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the invitation e-mail: sign in (or create an account) and join the firm."""
    invitation = services.find_invitation(token)
    if invitation is None:
        return render(request, "uku/invitation_invalid.html", status=404)
    existing = User.objects.filter(email__iexact=invitation.email).first()
    if request.user.is_authenticated:
        if request.user.email.lower() != invitation.email.lower():
            return render(
                request, "uku/invitation_wrong_user.html", {"invitation": invitation}, status=403
            )
        if request.method == "POST":
            services.accept_invitation(invitation=invitation, user=request.user)
            request.session[SESSION_KEY] = str(invitation.company.public_id)
            messages.success(request, _("Welcome to %(firm)s.") % {"firm": invitation.company})
            return redirect("home")
        return render(request, "uku/invitation_accept.html", {"invitation": invitation})
    if existing is not None:
        messages.info(request, _("Sign in as %(email)s to accept.") % {"email": existing.email})
        return redirect(f"{reverse('login')}?next={request.path}")
    form = SignupForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        user = User.objects.create_user(
            invitation.email, form.cleaned_data["password"], name=form.cleaned_data["name"]
        )
        services.accept_invitation(invitation=invitation, user=user)
        login(request, user, backend="uku.auth.EmailBackend")
        request.session[SESSION_KEY] = str(invitation.company.public_id)
        return redirect("home")
    return render(request, "uku/invitation_signup.html", {"invitation": invitation, "form": form})


# --- API tokens -----------------------------------------------------------------------------------


@company_required
def api_tokens(request: FirmRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _row, new_token = services.create_api_token(
            company=request.company,
            actor=request.user,
            name=form.cleaned_data["name"],
            expires_in_days=form.cleaned_data["expires_in_days"],
        )
        form = ApiTokenForm()
    tokens = ApiToken.objects.filter(company=request.company, user=request.user)
    response = render(
        request, "uku/api_tokens.html", {"form": form, "tokens": tokens, "new_token": new_token}
    )
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@company_required
def api_token_revoke(request: FirmRequest, public_id: str) -> HttpResponse:
    token = get_object_or_404(
        ApiToken, public_id=public_id, company=request.company, user=request.user
    )
    services.revoke_api_token(company=request.company, actor=request.user, token=token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api_tokens")


# --- Audit log ----------------------------------------------------------------------------------

AUDIT_EVENTS_PER_PAGE = 50


def _audit_events(request: FirmRequest) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.filter(company=request.company)
    if form.is_valid():
        data = form.cleaned_data
        events = audit.filter_events(
            events,
            actor=data["actor"],
            action=data["action"],
            object_type=data["object_type"],
            object_query=data["object"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
    elif form.is_bound:
        events = events.none()  # a filter that is not understood shows nothing, and says why
    return form, events.order_by("-created_at", "-pk")


@require_GET
@requires_role(*ADMIN_ROLES)
def audit_log(request: FirmRequest) -> HttpResponseBase:
    """Who did what, when: the firm's audit events, newest first, with filters and paging;
    `?format=csv` downloads every event the filters match."""
    form, events = _audit_events(request)
    if request.GET.get("format") == "csv":
        return _audit_csv(events)
    page = Paginator(events, AUDIT_EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.action_shown = audit.action_label(event.action)  # type: ignore[attr-defined]
        event.type_shown = audit.object_type_label(event.object_type)  # type: ignore[attr-defined]
        event.details_shown = audit.describe_details(event.details)  # type: ignore[attr-defined]
    keep = request.GET.copy()
    keep.pop("page", None)
    keep.pop("format", None)
    csv_query = keep.copy()
    csv_query["format"] = "csv"
    return render(
        request,
        "uku/audit_log.html",
        {
            "filters": form,
            "page": page,
            "total": page.paginator.count,
            "query_string": keep.urlencode(),
            "csv_query": csv_query.urlencode(),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _audit_csv(events: QuerySet[AuditEvent]) -> StreamingHttpResponse:
    """The filtered events as CSV, every one (not a page), streamed in chunks of 500."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(
            [
                _("Time"),
                _("Actor"),
                _("Action"),
                _("Action key"),
                _("Object type"),
                _("Object id"),
                _("Object"),
                _("Details"),
                _("IP address"),
            ]
        )
        # Keyset pages (not OFFSET): new events arriving while it streams shift nothing.
        last: tuple | None = None
        while True:
            chunk = events
            if last is not None:
                chunk = chunk.filter(
                    Q(created_at__lt=last[0]) | Q(created_at=last[0], pk__lt=last[1])
                )
            rows = list(chunk[:500])
            if not rows:
                return
            for event in rows:
                yield writer.writerow(
                    [
                        timezone.localtime(event.created_at).isoformat(timespec="seconds"),
                        event.actor_label or _("System"),
                        audit.action_label(event.action),
                        event.action,
                        audit.object_type_label(event.object_type),
                        event.object_id,
                        _csv_safe(event.object_label),
                        _csv_safe(audit.describe_details(event.details)),
                        event.ip or "",
                    ]
                )
            last = (rows[-1].created_at, rows[-1].pk)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-log-{timezone.localdate().isoformat()}.csv"'
    )
    return response


def _csv_safe(text: str) -> str:
    """A text a spreadsheet will not run as a formula (a client named "=HYPERLINK(...)")."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- Operations -----------------------------------------------------------------------------------


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker reachable? 200 with details, or 503 naming what is down."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        from uku.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )


# --- Error pages: the HTML pages, or the API's error shape under /api/ ---------------------------
# Django answers these itself (an unknown URL, a body too large read outside a DRF view, an
# unhandled exception after it has been logged), so DRF's exception handler never sees them.


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return error_response(RequestTooLarge())
        return error_response(drf_exceptions.ParseError())
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return error_response(drf_exceptions.PermissionDenied())
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return error_response(drf_exceptions.NotFound())
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return error_response(ServerError())
    return defaults.server_error(request)
