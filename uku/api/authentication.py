"""DRF authentication on top of `CompanyMiddleware`, which has already resolved the user and firm.

Keeping the token lookup in the middleware means the UI and the API share one way of deciding the
current firm, and the view (template rendering included) runs inside the firm's scope either way.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from uku.http import tenant_request
from uku.models import ApiToken, User


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token uku_...` (or `Bearer`). A bad token is a 401, never a fallback."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        django_request = tenant_request(request)
        if django_request.api_token_invalid:
            raise exceptions.AuthenticationFailed(
                "The API token is invalid, has expired or has been revoked."
            )
        token = django_request.api_token
        if token is None:
            return None
        return (token.user, token)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "uku.api.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A personal API token: `Token uku_...`. Create one under API tokens.",
        }
