"""The OpenAPI schema: every operation documents the errors it can answer, in the error shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.plumbing import ComponentRegistry
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The one error shape of every API error (component `Error`)."""

    code = serializers.CharField(
        help_text=(
            "Stable machine-readable code: `invalid`, `parse_error`, `not_authenticated`, "
            "`permission_denied`, `plan_required`, `not_found`, `method_not_allowed`, "
            "`request_too_large`, `throttled`, `server_error`, ..."
        )
    )
    detail = serializers.CharField(help_text="What happened, in the user's language.")
    # The metaclass removes declared fields from the class namespace, so this does not shadow
    # Serializer.fields.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per field, for `invalid` (a nested field is `parent.child`).",
    )
    remote = serializers.DictField(
        required=False,
        help_text="An accounting system's own diagnostics: its error code, message, request id.",
    )


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, adding the error answers an operation can give.

    Which errors apply follows from the operation: 400 when it takes a body or query parameters
    or changes state, 401 and 403 unless it is open to anonymous callers, 404 when its path names
    an object, 413 when it takes a body, 429 always (throttling). An answer a view declares itself with
    `@extend_schema(responses={409: ErrorSerializer, ...})` is kept as declared.
    """

    def get_operation(
        self,
        path: str,
        path_regex: str,
        path_prefix: str,
        method: str,
        registry: ComponentRegistry,
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error = {
            "content": {
                "application/json": {
                    "schema": self.resolve_serializer(ErrorSerializer, "response").ref
                }
            }
        }
        responses = operation.setdefault("responses", {})
        for status, description in self._error_statuses(operation):
            responses.setdefault(str(status), {"description": description, **error})
        return operation

    def _error_statuses(self, operation: dict[str, Any]) -> list[tuple[int, str]]:
        has_body = "requestBody" in operation
        has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
        changes_state = self.method not in ("GET", "HEAD", "OPTIONS")
        anonymous_allowed = not operation.get("security") or {} in operation["security"]
        statuses: list[tuple[int, str]] = []
        if has_body or has_query or changes_state:
            statuses.append((400, "Invalid input: malformed JSON, or field errors in `fields`."))
        if not anonymous_allowed:
            statuses.append((401, "No valid credentials (an API token or a session)."))
            statuses.append(
                (403, "Not allowed: the member's role or the firm's plan does not permit it.")
            )
        if "{" in self.path:
            statuses.append((404, "No such object in the current firm."))
        if has_body:
            statuses.append((413, "The request body is larger than the server accepts."))
        statuses.append((429, "Too many requests; retry after the `Retry-After` seconds."))
        return statuses
