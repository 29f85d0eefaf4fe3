"""One error shape for every API error: `{"code": ..., "detail": ..., "fields": {...}}`.

`code` is a stable machine-readable string (`not_found`, `permission_denied`, `invalid`,
`not_authenticated`, `plan_required`, `integration_auth_failed`, ...); `detail` is a human sentence
in the user's language; `fields` maps a field name to a list of messages; `remote` (errors from an
accounting system) carries its error code, developer message and request id.

Errors raised inside a DRF view go through `exception_handler`; errors Django answers itself (an
unknown `/api/` path, a body too large read by a middleware, an unhandled exception) go through the
`handler400/403/404/500` views in `uku.views`, which use `error_response` for `/api/` paths.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

security_log = logging.getLogger("django.security.RequestDataTooBig")


class RequestTooLarge(exceptions.APIException):
    """The body is over `DATA_UPLOAD_MAX_MEMORY_SIZE`: 413, not the 400 Django answers."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = _("The request body is too large. Send less data in one request.")


class NulInQuery(exceptions.APIException):
    """A query string with a NUL character: no field can hold one (PostgreSQL refuses it in
    text), so the request is refused before any view filters on it."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_detail = _("The query string contains a NUL character, which no field accepts.")


class ServerError(exceptions.APIException):
    """An unhandled exception: only a generic sentence, never the exception or a traceback."""

    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_code = "server_error"
    default_detail = _(
        "Something went wrong on our side. We have logged the error; please try again in a minute."
    )


def error_response(exc: exceptions.APIException) -> JsonResponse:
    """`exc` in the error shape as a plain Django response, for views outside DRF."""
    return JsonResponse(
        {"code": exc.default_code, "detail": str(exc.detail)}, status=exc.status_code
    )


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
    elif isinstance(exc, RequestDataTooBig):
        # Raised while DRF reads the body; Django would log it and answer an HTML 400.
        security_log.warning("%s", exc)
        exc = RequestTooLarge()
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
