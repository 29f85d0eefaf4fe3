"""Request id, bad query string and tenant middleware."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, cast

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django_scopes import scope, scopes_disabled

from uku.audit import request_ip
from uku.client_ip import client_ip
from uku.logging import request_id_var
from uku.tenancy import PlanRequired, authenticate_api_token, resolve_session_membership

if TYPE_CHECKING:
    from uku.http import TenantRequest

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9\-_.]{8,64}$")


class RequestIdMiddleware:
    """Takes a sane incoming `X-Request-ID` or makes one; logs and the response carry it. Also
    sets the caller's address for the audit log (`uku.audit.request_ip`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_OK.match(incoming) else uuid.uuid4().hex
        cast("TenantRequest", request).request_id = request_id
        # Not reset afterwards: Django logs 4xx/5xx after the middleware chain returns, and those
        # lines should carry the id too. The next request sets its own.
        request_id_var.set(request_id)
        # Audit events recorded while serving this request carry the caller's address; reset
        # afterwards, so work a thread does later (no request) never inherits it.
        with request_ip(client_ip(request)):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class NulInQueryMiddleware:
    """A NUL character in the query string (`?search=%00`) answers 400, for every page and API
    route: filtering a text column on it would make PostgreSQL raise (a 500)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            from uku.api.errors import NulInQuery, error_response

            if request.path.startswith("/api/"):
                return error_response(NulInQuery())
            return HttpResponseBadRequest(str(NulInQuery.default_detail))
        return self.get_response(request)


class CompanyMiddleware:
    """Sets `request.company` / `request.membership` and runs the view inside the firm's scope.

    - `Authorization: Token uku_...` on `/api/` authenticates as the token's user inside the
      token's firm (anywhere else the header is ignored).
      An unknown or revoked token leaves the request anonymous and flags it, so the API answers 401.
    - Otherwise a logged-in user acts in the firm chosen in the session (or their first firm).
    - Any other firm's object is then simply not found (404): every tenant manager filters by the
      active scope. Without a firm no scope is active and tenant queries raise.
    - Staff in the Django admin work with scopes disabled.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, http_request: HttpRequest) -> HttpResponse:
        # This is where a request becomes a TenantRequest: the attributes it declares are set here.
        request = cast("TenantRequest", http_request)
        request.company = None
        request.membership = None
        request.api_token = None
        request.api_token_invalid = False

        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        # API tokens are for the API only: never a way into pages, least of all the admin.
        if (
            request.path.startswith("/api/")
            and scheme.lower() in ("token", "bearer")
            and credentials
        ):
            token = authenticate_api_token(credentials)
            if token is None:
                request.api_token_invalid = True
            else:
                request.user = token.user
                request.api_token = token
                request.company = token.company
                request.membership = token.membership
        elif request.user.is_authenticated:
            membership = resolve_session_membership(request)
            if membership is not None:
                request.membership = membership
                request.company = membership.company

        with ExitStack() as stack:
            if (
                request.path.startswith("/admin/")
                and request.user.is_staff
                and request.api_token is None
            ):
                stack.enter_context(scopes_disabled())
            elif request.company is not None:
                stack.enter_context(scope(company=request.company))
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, PlanRequired) and not request.path.startswith("/api/"):
            response = TemplateResponse(
                request, "plan_required.html", {"minimum": exception.minimum}, status=403
            )
            return response.render()
        return None
