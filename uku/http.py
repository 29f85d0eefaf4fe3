"""Typed requests: what uku's middleware puts on a request, for views and API views to rely on.

`uku.middleware.CompanyMiddleware` sets the firm, the membership and the API token on every
request; `RequestIdMiddleware` the request id; django-htmx's middleware `htmx`. These classes
declare those attributes, so views read `request.company` with a real type instead of an
`attr-defined` ignore:

- `TenantRequest`: any request that went through the middleware (the firm may be missing).
- `FirmRequest`: a request inside a firm, signed in. A view behind `uku.tenancy.company_required`
  or `requires_role` takes one; the decorators check it (`is_firm_request`) before the view runs.
- DRF views get a `rest_framework.request.Request` wrapping the Django request; `firm_request`,
  `firm_of` and `actor_of` (and `tenant_request`, where no firm is needed) read the firm and the acting user from it, after the view's permission
  classes (`uku.api.permissions.IsCompanyMember` at least, the default) have let it through.

These are annotations only: no request is ever constructed from these classes.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, TypeGuard, cast

from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.request import Request

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from uku.models import ApiToken, Company, Membership, User


class TenantRequest(HttpRequest):
    """A request after uku's middleware: firm, membership and token set, each possibly None."""

    request_id: str
    company: Company | None
    membership: Membership | None
    api_token: ApiToken | None
    api_token_invalid: bool
    htmx: HtmxDetails


class FirmRequest(TenantRequest):
    """A signed-in request inside a firm: `company` and the user's `membership` in it are set.

    The middleware sets both together (a firm is chosen through a membership), so inside a firm
    the membership is never None.
    """

    user: User
    company: Company
    membership: Membership


def is_firm_request(request: HttpRequest) -> TypeGuard[FirmRequest]:
    """True when `request` is signed in and inside a firm (as `CompanyMiddleware` resolved it)."""
    return request.user.is_authenticated and getattr(request, "company", None) is not None


def tenant_request(request: Request) -> TenantRequest:
    """The Django request under DRF's `request`, where the firm may be missing.

    Every request passes through `CompanyMiddleware`, which sets what `TenantRequest` declares.
    """
    return cast(TenantRequest, request._request)


def firm_request(request: Request) -> FirmRequest:
    """The Django request under DRF's `request`, inside a firm.

    Raises DRF's `PermissionDenied` when there is no firm; the default permission class
    (`IsCompanyMember`) refuses such a request before any view code runs, so this only guards
    a view that opted out of it.
    """
    django_request = request._request
    if not is_firm_request(django_request):
        raise exceptions.PermissionDenied("You are not a member of any firm.")
    return django_request


def firm_of(request: Request) -> Company:
    """The firm an API request acts in (see `firm_request`)."""
    return firm_request(request).company


def actor_of(request: Request) -> User:
    """The signed-in user an API request acts as: what services take as `actor`.

    DRF's authentication sets the same user on the Django request (`Request.user`'s setter does),
    so this is `request.user`, typed as uku's `User`.
    """
    return firm_request(request).user


def as_uuid(value: object) -> uuid.UUID | None:
    """The UUID *value* spells, or None when it spells none.

    Ids in URLs, forms and JSON bodies come from users; one that is not a UUID names no object. Check
    it with this before it reaches a UUID column's lookup, which raises instead of matching nothing.
    """
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
