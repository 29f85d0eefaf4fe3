"""What a locked-out login sees: the login page again, with a message saying why and for how long.

django-axes calls `lockout_response` (settings.AXES_LOCKOUT_CALLABLE) instead of its bare 429 page.
The same page serves the Django admin's login: it posts back to the URL it was shown on.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from uku.forms import EmailAuthenticationForm


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
