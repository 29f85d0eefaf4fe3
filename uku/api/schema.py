"""The OpenAPI schema: every operation documents the errors it can answer, in the error shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.plumbing import ComponentRegistry, get_doc, get_view_model
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


# Summaries of the standard actions of a model viewset that does not document them itself.
STANDARD_SUMMARIES = {
    "list": "List the firm's {plural}",
    "create": "Create a {singular}",
    "retrieve": "Read one {singular}",
    "update": "Replace a {singular}",
    "partial_update": "Change fields of a {singular}",
    "destroy": "Delete a {singular}",
}
# Path parameters every object route shares.
PATH_PARAMETER_DESCRIPTIONS = {
    "public_id": "The object's public id (a UUID, as the API returns it in `id`).",
    "id": "The object's public id (a UUID, as the API returns it in `id`).",
    "vendor": "The accounting system's key, as /api/v1/integrations/ lists them.",
}


def first_sentence(text: str) -> str:
    """The first sentence of a docstring (up to the first full stop or blank line), without
    the full stop: an operation's summary."""
    paragraph = text.strip().split("\n\n")[0].replace("\n", " ")
    if ". " in paragraph:
        paragraph = paragraph.split(". ")[0]
    return paragraph.rstrip(".").strip()


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, adding the error answers an operation can give, and a
    summary for every operation and a description for every path parameter.

    The summary is the `@extend_schema(summary=...)` a view declares; else the first sentence of
    the action's (or HTTP method's) own docstring; else, for a model viewset's standard action,
    "List the firm's clients", "Read one client", ...; else the first sentence of the view's
    docstring. Query parameters are described where they are declared
    (`OpenApiParameter(..., description=...)`); tests/uku/test_api_schema.py holds every
    operation and parameter to it.

    Which errors apply follows from the operation: 400 when it takes a body or query parameters
    or changes state, 401 and 403 unless it is open to anonymous callers, 404 when its path names
    an object, 413 and 415 when it takes a body, 429 always (throttling), and 400 and 503 when the
    view reads the accounting system live (`calls_accounting_system = True`: the vendor refused
    the request, or is down or slow). An answer a view declares itself with
    `@extend_schema(responses={409: ErrorSerializer, ...})` is kept as declared.
    """

    def get_summary(self) -> str | None:
        action = getattr(self.view, "action", None) or self.method.lower()
        handler = getattr(self.view.__class__, action, None)
        # A handler inherited from DRF's mixins says nothing about this API.
        own = get_doc(handler) if handler is not None and _defined_here(handler) else ""
        if own:
            return first_sentence(own)
        model = get_view_model(self.view, emit_warnings=False)
        if action in STANDARD_SUMMARIES and model is not None:
            meta = model._meta
            return STANDARD_SUMMARIES[action].format(
                singular=meta.verbose_name, plural=meta.verbose_name_plural
            )
        view_doc = get_doc(self.view.__class__)
        return first_sentence(view_doc) if view_doc else None

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
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "path" and not parameter.get("description"):
                known = PATH_PARAMETER_DESCRIPTIONS.get(parameter["name"])
                if known:
                    parameter["description"] = known
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
        calls_remote = getattr(self.view, "calls_accounting_system", False)
        if has_body or has_query or changes_state or calls_remote:
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
            statuses.append((415, "The body's Content-Type is not one the operation accepts."))
        statuses.append((429, "Too many requests; retry after the `Retry-After` seconds."))
        if calls_remote:
            statuses.append(
                (503, "The accounting system is unavailable or too slow; try again later.")
            )
        return statuses


def _defined_here(handler: Any) -> bool:
    """Whether `handler` is this project's code, not a DRF generic it inherits."""
    return not str(getattr(handler, "__module__", "")).startswith("rest_framework")
