"""Resolving the current firm for a request, and the checks built on it.

The one middleware (`uku.middleware.CompanyMiddleware`) calls `resolve_request_company`, sets
`request.company` and `request.membership`, and runs the view inside `scope(company=...)`. A request
with no firm runs with NO scope: any tenant query then raises (fail closed). Never activate
`scope(company=None)`: django-scopes treats None as "no filter".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils import timezone
from django_scopes import scopes_disabled

from uku.http import FirmRequest, is_firm_request
from uku.models import ApiToken, Membership
from uku.permissions import ADMIN_ROLES, PlanRequired

__all__ = [  # ADMIN_ROLES and PlanRequired live in uku.permissions; kept importable here
    "ADMIN_ROLES",
    "PlanRequired",
]

SESSION_KEY = "uku_company"
P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)


def memberships_of(user: Any) -> list[Membership]:
    """Every firm the user belongs to, ordered by firm name (one query)."""
    if not getattr(user, "is_authenticated", False):
        return []
    with scopes_disabled():
        return list(
            Membership.objects.filter(user=user).select_related("company").order_by("company__name")
        )


def resolve_session_membership(request: HttpRequest) -> Membership | None:
    """The membership for the firm chosen in the session, else the user's first firm."""
    memberships = memberships_of(request.user)
    wanted = request.session.get(SESSION_KEY)
    for membership in memberships:
        if str(membership.company.public_id) == wanted:
            return membership
    return memberships[0] if memberships else None


def authenticate_api_token(raw: str) -> ApiToken | None:
    """The live token for `raw` (user, firm and `.membership` loaded), or None when it is unknown,
    revoked, expired, or its user is inactive or no longer in the token's firm.

    `last_used_at` is touched at most once a minute, so a busy script does not write on every call.
    """
    raw = raw.strip()
    if not raw.startswith(ApiToken.PREFIX):
        return None
    with scopes_disabled():
        token = (
            ApiToken.objects.select_related("user", "company")
            .filter(
                token_hash=ApiToken.hash(raw),
                revoked_at__isnull=True,
                expires_at__gt=timezone.now(),
                user__is_active=True,
            )
            .first()
        )
        if token is None:
            return None
        # The user must still belong to the firm the token was issued in.
        membership = Membership.objects.filter(company=token.company, user=token.user).first()
        if membership is None:
            return None
        membership.company = token.company
        token.membership = membership
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return token


# A view behind these decorators takes a `FirmRequest` first and returns a response; the
# decorated function takes any `HttpRequest` (what Django passes) with the same other arguments.
FirmView = Callable[Concatenate[FirmRequest, P], R]
PlainView = Callable[Concatenate[HttpRequest, P], R | HttpResponseRedirect]


def has_role(request: FirmRequest, *roles: str) -> bool:
    """Whether the current member's role in the request's firm is one of `roles`."""
    return request.membership.role in roles


def company_required(view: FirmView[P, R]) -> PlainView[P, R]:
    """Login required, and a current firm; a user with no firm is sent to the no-firm page."""

    @functools.wraps(view)
    def wrapper(
        request: HttpRequest, *args: P.args, **kwargs: P.kwargs
    ) -> R | HttpResponseRedirect:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_firm_request(request):
            return redirect("no_company")
        return view(request, *args, **kwargs)

    return wrapper


def requires_role(*roles: str) -> Callable[[FirmView[P, R]], PlainView[P, R]]:
    """View decorator: the member's role must be one of `roles` (403 otherwise)."""

    def decorator(view: FirmView[P, R]) -> PlainView[P, R]:
        @functools.wraps(view)
        def wrapper(request: FirmRequest, *args: P.args, **kwargs: P.kwargs) -> R:
            if request.membership.role not in roles:
                raise PermissionDenied("role")
            return view(request, *args, **kwargs)

        return company_required(wrapper)

    return decorator


def requires_plan(minimum: str) -> Callable[[FirmView[P, R]], PlainView[P, R]]:
    """View decorator: the firm's plan must be at least `minimum` (an explanatory 403 otherwise)."""

    def decorator(view: FirmView[P, R]) -> PlainView[P, R]:
        @functools.wraps(view)
        def wrapper(request: FirmRequest, *args: P.args, **kwargs: P.kwargs) -> R:
            if not request.company.has_plan(minimum):
                raise PlanRequired(minimum)
            return view(request, *args, **kwargs)

        return company_required(wrapper)

    return decorator
