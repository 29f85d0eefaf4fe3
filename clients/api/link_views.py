"""The Integration column over the API: live customer search, books companies, a client's link,
and link suggestions. The same services (`clients.linking`) as the pages."""

from __future__ import annotations

from typing import Any, NoReturn

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clients import linking
from clients.api.serializers import ExternalLinkSerializer
from clients.models import Client
from integrations import services as integration_services
from integrations.api.serializers import ConnectionTestResultSerializer, ConnectionTestSerializer
from integrations.api.views import raise_for
from integrations.base import Capability, IntegrationError, get_vendor
from integrations.models import IntegrationConnection
from uku.api.permissions import HasRole
from uku.api.schema import ErrorSerializer
from uku.api.views import as_drf_error
from uku.http import actor_of, firm_of

LINKERS = HasRole(*linking.LINK_ROLES)
# What the linking services raise on purpose; anything else is a bug and a 500.
SERVICE_ERRORS = (
    linking.LinkTaken,
    DjangoValidationError,
    DjangoPermissionDenied,
    IntegrationError,
)


class LinkTakenError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "link_taken"
    fields: dict[str, list[str]] | None = None  # added to the body by uku.api.errors


def _raise(exc: Exception) -> NoReturn:
    """A linking service's error in the API's one error shape."""
    if isinstance(exc, linking.LinkTaken):
        error = LinkTakenError(exc.message)
        error.fields = {"client": [str(exc.other.public_id)]}
        raise error from None
    if isinstance(exc, DjangoValidationError):
        raise as_drf_error(exc) from None
    if isinstance(exc, IntegrationError | DjangoPermissionDenied):
        raise_for(exc)
    raise exc


class CustomerResultSerializer(serializers.Serializer):
    remote_id = serializers.CharField()
    name = serializers.CharField()
    customer_number = serializers.CharField()
    organisation_number = serializers.CharField()
    email = serializers.CharField()
    inactive = serializers.BooleanField()
    linked_client = serializers.UUIDField(allow_null=True)


class CustomerSearchView(APIView):
    """Routed for every vendor with `Capability.CUSTOMERS`."""

    permission_classes = [LINKERS]
    vendor = ""
    # Reads the vendor live: its refusals (400) and outages (503) are documented answers.
    calls_accounting_system = True

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "search",
                str,
                description="Part of the name, customer number or organisation number",
            ),
            OpenApiParameter("page", int, description="The page of 20 customers, from 1"),
        ],
        responses=inline_serializer(
            "CustomerSearchPage",
            {
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": CustomerResultSerializer(many=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        """The vendor's customers matching `search` (name, customer number or organisation
        number), read live, 20 a page. `count` is the vendor's estimate when it gives one."""
        try:
            page = max(int(request.query_params.get("page") or 1), 1)
        except ValueError:
            raise exceptions.ValidationError({"page": [_("A page number.")]}) from None
        try:
            found = linking.search_customers(
                company=firm_of(request),
                actor=actor_of(request),
                vendor=self.vendor,
                query=request.query_params.get("search", ""),
                page=page,
            )
        except SERVICE_ERRORS as exc:
            _raise(exc)
        result = found.page
        shown = (result.page - 1) * result.page_size + len(result.customers)
        count = result.total if result.total is not None else shown + int(result.has_next)
        url = request.build_absolute_uri()
        return Response(
            {
                "count": max(count, shown),
                "next": _page_url(request, url, page + 1) if result.has_next else None,
                "previous": _page_url(request, url, page - 1) if page > 1 else None,
                "results": [
                    {
                        "remote_id": c.id,
                        "name": c.name,
                        "customer_number": c.customer_number,
                        "organisation_number": c.organisation_number,
                        "email": c.email,
                        "inactive": c.inactive,
                        "linked_client": (
                            str(found.linked[c.id].public_id) if c.id in found.linked else None
                        ),
                    }
                    for c in result.customers
                ],
            }
        )


def _page_url(request: Request, url: str, page: int) -> str:
    from rest_framework.utils.urls import replace_query_param

    return str(replace_query_param(url, "page", page))


class BooksCompaniesView(APIView):
    """Routed for every vendor with `Capability.BOOKS_ACCESS`."""

    permission_classes = [LINKERS]
    vendor = ""
    # Reads the vendor live: its refusals (400) and outages (503) are documented answers.
    calls_accounting_system = True

    @extend_schema(
        responses=inline_serializer(
            "BooksCompany",
            {
                "remote_id": serializers.CharField(),
                "name": serializers.CharField(),
                "organisation_number": serializers.CharField(),
                "linked_client": serializers.UUIDField(allow_null=True),
            },
            many=True,
        )
    )
    def get(self, request: Request) -> Response:
        """The client companies the firm's login can open, and the client linked to each."""
        try:
            companies = linking.books_companies(
                company=firm_of(request), actor=actor_of(request), vendor=self.vendor
            )
        except SERVICE_ERRORS as exc:
            _raise(exc)
        return Response(
            [
                {
                    "remote_id": books.id,
                    "name": books.name,
                    "organisation_number": books.organisation_number,
                    "linked_client": str(client.public_id) if client else None,
                }
                for books, client in companies
            ]
        )


class LinkWriteSerializer(serializers.Serializer):
    vendor = serializers.CharField()
    remote_id = serializers.CharField(max_length=64)
    books_company_id = serializers.CharField(
        max_length=64, required=False, allow_blank=True, allow_null=True
    )


def _vendor_key(value: str) -> str:
    try:
        return get_vendor(value).key
    except KeyError:
        raise exceptions.ValidationError({"vendor": [_("Unknown accounting system.")]}) from None


def _firm_client(request: Request, public_id: str) -> Client:
    """The client of the request's firm with `public_id`; another firm's client is a 404, the
    same answer as one that does not exist."""
    return get_object_or_404(Client, company=firm_of(request), public_id=public_id)


class _ClientAttachmentView(APIView):
    """What ties one client to an accounting system, at `clients/<public_id>/...`: `PUT` makes
    or replaces it, `DELETE ?vendor=` removes it (204, also when there was none).

    The flow is shared: DRF checks `permission_classes` first (403), then the client is looked
    up in the request's firm only (404 for another firm's), then the body (`write_serializer`)
    or the `vendor` parameter (`vendor_key`) is validated (400), and the service runs; the
    errors the services raise on purpose come out in the API's error shape. A subclass sets
    `permission_classes` and `write_serializer` and implements `save` and `remove`. It also
    overrides `put` and `delete`, only to give them its `extend_schema` and docstring before
    calling the base's: the schema takes an operation's summary from the handler's own
    docstring (`uku.api.schema.AutoSchema`).
    """

    write_serializer: type[serializers.Serializer]

    def vendor_key(self, value: str) -> str:
        """The vendor key from the request (400 when it names none this view accepts)."""
        return _vendor_key(value)

    def save(self, request: Request, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        """Make or replace the attachment from the validated body and return the answer's body.
        May raise a DRF `ValidationError` (400) or any of `SERVICE_ERRORS` (mapped by `_raise`)."""
        raise NotImplementedError

    def remove(self, request: Request, client: Client, vendor: str) -> None:
        """Remove the client's attachment to `vendor`. Idempotent: none to remove is no error.
        May raise any of `SERVICE_ERRORS`."""
        raise NotImplementedError

    def put(self, request: Request, public_id: str) -> Response:
        client = _firm_client(request, public_id)
        data = self.write_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            body = self.save(request, client, data.validated_data)
        except SERVICE_ERRORS as exc:
            _raise(exc)
        return Response(body)

    def delete(self, request: Request, public_id: str) -> Response:
        client = _firm_client(request, public_id)
        vendor = self.vendor_key(request.query_params.get("vendor", ""))
        try:
            self.remove(request, client, vendor)
        except SERVICE_ERRORS as exc:
            _raise(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClientLinkView(_ClientAttachmentView):
    """`PUT` links (or relinks) a client to a customer; `DELETE ?vendor=` unlinks."""

    permission_classes = [LINKERS]
    write_serializer = LinkWriteSerializer

    @extend_schema(request=LinkWriteSerializer, responses=ExternalLinkSerializer)
    def put(self, request: Request, public_id: str) -> Response:
        """Link the client to `remote_id` of `vendor` and resolve its books (by organisation
        number, or `books_company_id`). 409 `link_taken` when another client holds it; its id is
        in `fields.client`."""
        return super().put(request, public_id)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "vendor", str, required=True, description="The accounting system's key"
            )
        ],
        responses={204: None},
    )
    def delete(self, request: Request, public_id: str) -> Response:
        """Remove the client's link to `vendor` (204 also when there was none)."""
        return super().delete(request, public_id)

    def save(self, request: Request, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        link = linking.link_client(
            company=firm_of(request),
            actor=actor_of(request),
            client=client,
            vendor=self.vendor_key(data["vendor"]),
            remote_id=data["remote_id"],
            books_company_id=data.get("books_company_id") or None,
        )
        return dict(ExternalLinkSerializer(link).data)

    def remove(self, request: Request, client: Client, vendor: str) -> None:
        linking.unlink_client(
            company=firm_of(request), actor=actor_of(request), client=client, vendor=vendor
        )


class LinkCheckSerializer(serializers.Serializer):
    vendor = serializers.CharField()


class ClientLinkCheckView(APIView):
    """Check a client's link against the accounting system now."""

    permission_classes = [LINKERS]

    @extend_schema(
        request=LinkCheckSerializer,
        responses={200: ExternalLinkSerializer, 400: ErrorSerializer},
    )
    def post(self, request: Request, public_id: str) -> Response:
        """Read the linked customer live: deleted or inactive marks the link `stale` (fix:
        relink or unlink), found active clears it; books no longer reachable become
        `access_lost`. 400 (on `vendor`) when the client is not linked there."""
        client = _firm_client(request, public_id)
        data = LinkCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vendor = _vendor_key(data.validated_data["vendor"])
        try:
            link = linking.check_link(
                company=firm_of(request), actor=actor_of(request), client=client, vendor=vendor
            )
        except SERVICE_ERRORS as exc:
            _raise(exc)
        return Response(ExternalLinkSerializer(link).data)


class SuggestionsView(APIView):
    """Routed for every vendor with `Capability.CUSTOMERS`."""

    permission_classes = [LINKERS]
    vendor = ""
    # Reads the vendor live: its refusals (400) and outages (503) are documented answers.
    calls_accounting_system = True

    @extend_schema(
        responses=inline_serializer(
            "LinkSuggestions",
            {
                "results": inline_serializer(
                    "LinkSuggestion",
                    {
                        "client": serializers.UUIDField(),
                        "client_name": serializers.CharField(),
                        "remote_id": serializers.CharField(),
                        "remote_name": serializers.CharField(),
                        "rule": serializers.ChoiceField(choices=["orgnr", "email"]),
                    },
                    many=True,
                ),
                "conflicts": inline_serializer(
                    "LinkConflict",
                    {
                        "client": serializers.UUIDField(),
                        "client_name": serializers.CharField(),
                        "organisation_number": serializers.CharField(),
                        "customers": inline_serializer(
                            "LinkConflictCustomer",
                            {
                                "remote_id": serializers.CharField(),
                                "remote_name": serializers.CharField(),
                                "customer_number": serializers.CharField(),
                                "linked_client": serializers.UUIDField(allow_null=True),
                            },
                            many=True,
                        ),
                    },
                    many=True,
                ),
            },
        )
    )
    def get(self, request: Request) -> Response:
        """A customer for each unlinked client whose organisation number or e-mail matches
        uniquely (read live from the vendor), and the `conflicts`: unlinked clients whose
        organisation number several customers have. Resolve one with `link-suggestions/conflicts`
        (link one of them, import the others as clients of their own)."""
        try:
            proposals, conflicts = linking.suggestions_and_conflicts(
                company=firm_of(request), vendor=self.vendor, actor=actor_of(request)
            )
        except SERVICE_ERRORS as exc:
            _raise(exc)
        return Response(
            {
                "conflicts": [
                    {
                        "client": str(conflict.client.public_id),
                        "client_name": conflict.client.name,
                        "organisation_number": conflict.client.organisation_number,
                        "customers": [
                            {
                                "remote_id": c.id,
                                "remote_name": c.name,
                                "customer_number": c.customer_number,
                                "linked_client": (
                                    str(conflict.holders[c.id].public_id)
                                    if c.id in conflict.holders
                                    else None
                                ),
                            }
                            for c in conflict.customers
                        ],
                    }
                    for conflict in conflicts
                ],
                "results": [
                    {
                        "client": str(p.client.public_id),
                        "client_name": p.client.name,
                        "remote_id": p.customer.id,
                        "remote_name": p.customer.name,
                        "rule": str(p.rule),
                    }
                    for p in proposals
                ],
            }
        )


class AcceptSerializer(serializers.Serializer):
    clients = serializers.ListField(child=serializers.CharField(), required=False)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("clients")) == bool(attrs.get("all")):
            raise serializers.ValidationError(_('Give either "clients" or "all": true.'))
        return attrs


class AcceptSuggestionsView(APIView):
    permission_classes = [LINKERS]
    vendor = ""

    @extend_schema(
        request=AcceptSerializer,
        responses=inline_serializer(
            "AcceptedSuggestions",
            {
                "linked": serializers.IntegerField(),
                "skipped": inline_serializer(
                    "SkippedSuggestion",
                    {"client": serializers.CharField(), "reason": serializers.CharField()},
                    many=True,
                ),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        """Accept the suggestions of `clients` (ids), or `all`; skipped ones say why
        (`no_suggestion`, `link_taken`)."""
        data = AcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = linking.accept_suggestions(
                company=firm_of(request),
                actor=actor_of(request),
                vendor=self.vendor,
                clients=data.validated_data.get("clients"),
                accept_all=data.validated_data["all"],
            )
        except SERVICE_ERRORS as exc:
            _raise(exc)
        return Response(result)


class ConflictChoiceSerializer(serializers.Serializer):
    client = serializers.UUIDField(help_text="The unlinked client with the shared number.")
    link = serializers.CharField(
        required=False, allow_blank=True, help_text="The customer to link to the client."
    )
    import_as_clients = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="Customers to import as clients of their own (without the number).",
    )


class ResolveConflictView(APIView):
    """Routed for every vendor with `Capability.CUSTOMERS`."""

    permission_classes = [LINKERS]
    vendor = ""

    @extend_schema(
        request=ConflictChoiceSerializer,
        responses={
            200: inline_serializer(
                "ResolvedConflict",
                {
                    "linked": inline_serializer(
                        "ResolvedLink",
                        {"client": serializers.UUIDField(), "remote_id": serializers.CharField()},
                        allow_null=True,
                    ),
                    "imported": inline_serializer(
                        "ImportedCustomer",
                        {
                            "client": serializers.UUIDField(),
                            "remote_id": serializers.CharField(),
                            "name": serializers.CharField(),
                        },
                        many=True,
                    ),
                    "skipped": inline_serializer(
                        "SkippedCustomer",
                        {"remote_id": serializers.CharField(), "reason": serializers.CharField()},
                        many=True,
                    ),
                },
            ),
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        """Resolve a conflict of `link-suggestions`: link one of the customers with the
        client's organisation number to the client, and/or import others as clients of their
        own (linked to them, without the number). 409 `link_taken` when `link` is another
        client's; 404 for another firm's client."""
        data = ConflictChoiceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        client = get_object_or_404(
            Client, company=firm_of(request), public_id=data.validated_data["client"]
        )
        try:
            result = linking.resolve_link_conflict(
                company=firm_of(request),
                actor=actor_of(request),
                vendor=self.vendor,
                client=client,
                link=data.validated_data.get("link") or None,
                import_as_clients=data.validated_data["import_as_clients"],
            )
        except SERVICE_ERRORS as exc:
            _raise(exc)
        return Response(result)


# --- A client's own connection (vendors with Capability.CLIENT_CREDENTIALS) ----------------------


class ClientConnectionTestSerializer(ConnectionTestSerializer):
    """`{"vendor": ..., "environment": ..., "credentials": {...}}`; the fields are the vendor's
    `credential_fields` (whitespace around them is stripped, control characters refused)."""

    vendor = serializers.CharField()


class ClientConnectionSerializer(serializers.Serializer):
    """A client's own connection: never a secret, only the last four characters of the key."""

    vendor = serializers.CharField()
    environment = serializers.CharField()
    status = serializers.CharField()
    company_name = serializers.CharField(allow_blank=True)
    last4 = serializers.CharField(allow_blank=True)
    public_fields = serializers.DictField(child=serializers.CharField())


def _client_connection_vendor(value: str) -> str:
    key = _vendor_key(value)
    if not get_vendor(key).can(Capability.CLIENT_CREDENTIALS):
        raise exceptions.ValidationError(
            {
                "vendor": [
                    _("%(vendor)s is connected for the whole firm.")
                    % {"vendor": get_vendor(key).label}
                ]
            }
        )
    return key


def _connection_body(connection: IntegrationConnection) -> dict[str, Any]:
    credential = connection.active_credential
    return dict(
        ClientConnectionSerializer(
            {
                "vendor": connection.vendor,
                "environment": connection.environment,
                "status": connection.status,
                "company_name": connection.remote_company_name,
                "last4": credential.last4 if credential else "",
                "public_fields": credential.public_fields if credential else {},
            }
        ).data
    )


class ClientConnectionView(_ClientAttachmentView):
    """`PUT` tests and saves a client's own credentials (its books open only with them);
    `DELETE ?vendor=` removes them."""

    permission_classes = [HasRole(*integration_services.CLIENT_CREDENTIAL_ROLES)]
    write_serializer = ClientConnectionTestSerializer

    @extend_schema(
        summary="Save a client's own credentials",
        description="Tests the credentials against the accounting system and saves them "
        "encrypted for this client (vendors that connect per client). The answer never holds "
        "the secret, only its last four characters.",
        request=ClientConnectionTestSerializer,
        responses=ClientConnectionSerializer,
    )
    def put(self, request: Request, public_id: str) -> Response:
        return super().put(request, public_id)

    @extend_schema(
        summary="Remove a client's own credentials",
        description="Forgets the client's saved credentials for the vendor. Idempotent.",
        parameters=[
            OpenApiParameter(
                "vendor",
                str,
                required=True,
                description="The accounting system whose credentials to remove (its key, as "
                "in `GET /api/v1/integrations/`).",
            )
        ],
        responses={204: None},
    )
    def delete(self, request: Request, public_id: str) -> Response:
        return super().delete(request, public_id)

    def vendor_key(self, value: str) -> str:
        return _client_connection_vendor(value)

    def save(self, request: Request, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        vendor = self.vendor_key(data["vendor"])
        if data["credentials"] is None:
            first = get_vendor(vendor).credential_fields[0]
            raise exceptions.ValidationError(
                {"credentials": [_("Enter the %(field)s.") % {"field": str(first.label)}]}
            )
        connection = integration_services.save_connection(
            company=firm_of(request),
            actor=actor_of(request),
            vendor=vendor,
            environment=data.get("environment") or get_vendor(vendor).default_environment,
            credentials=data["credentials"],
            client=client,
        )
        return _connection_body(connection)

    def remove(self, request: Request, client: Client, vendor: str) -> None:
        integration_services.disconnect(
            company=firm_of(request), actor=actor_of(request), vendor=vendor, client=client
        )


class ClientConnectionTestView(APIView):
    """Test a client's own credentials (in the body, or the saved ones); saves nothing."""

    permission_classes = [HasRole(*integration_services.CLIENT_CREDENTIAL_ROLES)]

    @extend_schema(
        summary="Test a client's own credentials",
        request=ClientConnectionTestSerializer,
        responses=ConnectionTestResultSerializer,
    )
    def post(self, request: Request, public_id: str) -> Response:
        client = _firm_client(request, public_id)
        data = ClientConnectionTestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vendor = _client_connection_vendor(data.validated_data["vendor"])
        try:
            connection = integration_services.get_connection(firm_of(request), vendor, client)
            result = integration_services.test_connection(
                company=firm_of(request),
                actor=actor_of(request),
                vendor=vendor,
                environment=data.validated_data.get("environment") or connection.environment,
                credentials=data.validated_data["credentials"],
                client=client,
            )
        except SERVICE_ERRORS as exc:
            _raise(exc)
        return Response(
            {
                "company_name": result.remote.name,
                "company_id": result.remote.id,
                "employee_name": result.remote.employee_name,
                "job": result.job.public_id,
            }
        )
