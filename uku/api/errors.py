"""One error shape for every API error: `{"code": ..., "detail": ..., "fields": {...}}`.

`code` is a stable machine-readable string (`not_found`, `permission_denied`, `invalid`,
`not_authenticated`, `plan_required`, `integration_auth_failed`, ...); `detail` is a human sentence
in the user's language; `fields` maps a field name to a list of messages; `remote` (errors from an
accounting system) carries its error code, developer message and request id.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail: Any) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(value, list):
                fields[str(key)] = [str(v) for v in value]
            elif isinstance(value, dict):
                for sub, messages in _flatten(value).items():
                    fields[f"{key}.{sub}"] = messages
            else:
                fields[str(key)] = [str(value)]
    return fields


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        non_field = fields.pop("non_field_errors", None)
        if isinstance(exc.detail, list):
            non_field = [str(d) for d in exc.detail]
        body: dict[str, Any] = {
            "code": "invalid",
            "detail": " ".join(non_field) if non_field else "The request has invalid fields.",
            "fields": fields,
        }
    else:
        codes = exc.get_codes()
        body = {
            "code": codes if isinstance(codes, str) else exc.default_code,
            "detail": str(exc.detail),
        }
        # Optional extras an exception may carry: field errors, and a remote system's diagnostics.
        for extra in ("fields", "remote"):
            if getattr(exc, extra, None):
                body[extra] = getattr(exc, extra)
    response.data = body
    return response
