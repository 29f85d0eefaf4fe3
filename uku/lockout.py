"""What a locked-out login sees: the login page again, with a message saying why and for how long.

django-axes calls `lockout_response` (settings.AXES_LOCKOUT_CALLABLE) instead of its bare 429 page.
The same page serves the Django admin's login: it posts back to the URL it was shown on.
`record_lockout` (connected to axes' `user_locked_out` in `UkuConfig.ready`) puts the lock-out on
the audit log of the account's firms.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_scopes import scopes_disabled

from uku.forms import EmailAuthenticationForm
from uku.models import AuditEvent, User


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The login name axes counts failures against: the e-mail, trimmed and lower-cased.

    Logins are case-insensitive, so without this `Owner@x.no` and `owner@x.no` would be two
    separate counters and an attacker could dodge the per-account lock by changing case.
    """
    raw = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD) or ""
    if not raw and request is not None and hasattr(request, "POST"):
        raw = request.POST.get(settings.AXES_USERNAME_FORM_FIELD, "")
    return str(raw).strip().lower()


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The login page with a lock-out message, answered with 429 and a Retry-After header."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    message = ngettext(
        "Too many failed log-in attempts. For your security, logging in is blocked for %(minutes)d "
        "minute. Try again later, or reset your password.",
        "Too many failed log-in attempts. For your security, logging in is blocked for %(minutes)d "
        "minutes. Try again later, or reset your password.",
        minutes,
    ) % {"minutes": minutes}
    form = EmailAuthenticationForm(
        request, initial={"username": lockout_username(request, credentials)}
    )
    response = render(
        request,
        "registration/login.html",
        {
            "form": form,
            "lockout_message": message,
            "next": request.POST.get("next", "") if request.method == "POST" else "",
            "title": _("Log in"),
        },
        status=429,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


def record_lockout(
    sender: object, request: HttpRequest | None = None, username: str | None = None, **kwargs: Any
) -> None:
    """An `auth.locked_out` audit event in each firm of the locked account, once per lock-out.

    axes signals a lock-out on every attempt made while it lasts; an event already recorded for
    the account within the cool-off time is that same lock-out, so it is not repeated. A lock-out
    of an address, or of a name that is no user, has no firm to tell (see
    `uku.auth.record_for_firms_of`).
    """
    from uku.auth import record_for_firms_of

    login = (username or "").strip().lower()
    if not login:
        return
    user = User.objects.filter(email__iexact=login).first()
    if user is None:
        return
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    with scopes_disabled():
        already = AuditEvent.objects.filter(
            actor=user, action="auth.locked_out", created_at__gte=since
        ).exists()
    if already:
        return
    record_for_firms_of(
        user,
        "auth.locked_out",
        login=login,
        request=request,
        details={
            "minutes": max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)),
            "failures": getattr(request, "axes_failures_since_start", None),
        },
    )
