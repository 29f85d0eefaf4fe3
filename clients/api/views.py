"""Clients and customer imports over the API: the same services as the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from clients import importing, services
from clients.api.serializers import (
    ClientSerializer,
    ConfirmSerializer,
    CustomerImportSerializer,
    ImportRowSerializer,
    ResolveSerializer,
    SelectionSerializer,
    StartImportSerializer,
)
from clients.models import Client, CustomerImportRow
from clients.views import client_list_queryset
from integrations.api.serializers import SyncJobSerializer
from integrations.api.views import ADMINS, raise_for
from integrations.base import IntegrationError
from integrations.models import SyncJob
from uku.api.pagination import PageNumberPagination
from uku.api.permissions import IsCompanyMember
from uku.api.schema import ErrorSerializer
from uku.api.views import as_drf_error
from uku.http import actor_of, firm_of, firm_request
from uku.models import Membership


class ClientInUseError(exceptions.APIException):
    """DELETE of a client that other records depend on: archive it instead."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "client_in_use"
    default_detail = "Other records depend on this client; archive it instead."


class ClientViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The firm's clients. `?q=` searches, `?active=true|false|all` (archived clients are
    `active=false`), `?sort=name|-name|orgnr|number`, `?import=<customer import or confirm job
    id>` shows the clients of that import.

    Owners, Admins and Members create, edit, archive and restore; Owners and Admins delete;
    Billing staff read, and may change only the invoice e-mail."""

    serializer_class = ClientSerializer
    permission_classes = [IsCompanyMember]
    lookup_field = "public_id"
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self) -> QuerySet[Client]:
        if getattr(self, "swagger_fake_view", False):
            return Client.objects.none()
        request = firm_request(self.request)
        if self.action == "list":
            return client_list_queryset(request)[0]
        return Client.objects.filter(company=request.company).prefetch_related("links")

    def get_serializer_context(self) -> dict[str, Any]:
        # For a new client's default registry country (the firm's).
        return {
            **super().get_serializer_context(),
            "company": getattr(self.request._request, "company", None),
        }

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                str,
                description="Part of the name, organisation number, customer number or e-mail",
            ),
            OpenApiParameter(
                "active",
                str,
                description="`true` (the default): active clients; `false`: archived; `all`",
            ),
            OpenApiParameter(
                "sort",
                str,
                description="`name`, `orgnr` or `number`; a leading `-` sorts descending",
            ),
            OpenApiParameter(
                "import", str, description="Only the clients of this customer import (its id)"
            ),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def _service_fields(self, serializer: BaseSerializer[Any]) -> dict[str, Any]:
        """The validated data as the services take it: `responsible_email` becomes the member."""
        data = dict(serializer.validated_data)
        if "responsible_email" in data:
            email = data.pop("responsible_email")
            # Looked up among this firm's members only: the answer must not reveal whether the
            # address belongs to someone in another firm.
            membership = (
                Membership.objects.filter(company=firm_of(self.request), user__email__iexact=email)
                .select_related("user")
                .first()
                if email
                else None
            )
            if email and membership is None:
                raise exceptions.ValidationError(
                    {"responsible_email": ["No member of this firm has that e-mail."]}
                )
            data["responsible"] = membership.user if membership else None
        return data

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        """`POST /api/v1/clients/`: 201 with the client."""
        try:
            serializer.instance = services.create_client(
                company=firm_of(self.request),
                actor=actor_of(self.request),
                **self._service_fields(serializer),
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except DjangoPermissionDenied as exc:
            raise_for(exc)

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        client = serializer.instance
        assert isinstance(client, Client)  # UpdateModelMixin passes the object it updates
        try:
            serializer.instance = services.update_client(
                company=firm_of(self.request),
                actor=actor_of(self.request),
                client=client,
                **self._service_fields(serializer),
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except DjangoPermissionDenied as exc:
            raise_for(exc)

    @extend_schema(responses={204: None, 409: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete a client nothing depends on: 204. 409 `client_in_use` when it is linked to
        an accounting system or referenced by imports, billing or summary tasks."""
        client = self.get_object()
        try:
            services.delete_client(company=firm_of(request), actor=actor_of(request), client=client)
        except services.ClientInUse as exc:
            raise ClientInUseError(exc.message) from exc
        except DjangoPermissionDenied as exc:
            raise_for(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=ClientSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, public_id: str) -> Response:
        """Hide the client from the default list (`?active=false` shows it). Idempotent."""
        return self._change_state(services.archive_client)

    @extend_schema(request=None, responses=ClientSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, public_id: str) -> Response:
        """Bring an archived client back to the list. Idempotent."""
        return self._change_state(services.restore_client)

    def _change_state(self, service: Callable[..., Client]) -> Response:
        client = self.get_object()
        try:
            client = service(
                company=firm_of(self.request), actor=actor_of(self.request), client=client
            )
        except DjangoPermissionDenied as exc:
            raise_for(exc)
        return Response(self.get_serializer(client).data)


def _preview(request: Request, vendor: str, public_id: str) -> SyncJob:
    return get_object_or_404(
        SyncJob,
        company=firm_of(request),
        vendor=vendor,
        public_id=public_id,
        kind=importing.PREVIEW,
    )


class CustomerImportListView(APIView):
    """Routed for every accounting system that can list customers (`Capability.CUSTOMERS`)."""

    permission_classes = [ADMINS]
    vendor = ""

    @extend_schema(request=StartImportSerializer, responses={202: CustomerImportSerializer})
    def post(self, request: Request) -> Response:
        """Start reading customers (or join the read already running); poll the import."""
        data = StartImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job, _created = services.start_customer_import(
                company=firm_of(request),
                actor=actor_of(request),
                vendor=self.vendor,
                full=data.validated_data["full"],
            )
        except IntegrationError as exc:
            raise_for(exc)
        job.refresh_from_db()
        return Response(CustomerImportSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class CustomerImportDetailView(APIView):
    permission_classes = [ADMINS]
    vendor = ""

    @extend_schema(
        responses=CustomerImportSerializer,
        parameters=[
            OpenApiParameter(
                "classification",
                str,
                description="Only rows classified so: `new`, `existing`, `linked`, `conflict`",
            ),
            OpenApiParameter("q", str, description="Part of the customer's name or number"),
            OpenApiParameter("page", int, description="The page of rows, from 1"),
        ],
    )
    def get(self, request: Request, public_id: str) -> Response:
        """Status, progress and counts of the preview; its rows, paginated; the confirm job."""
        preview = _preview(request, self.vendor, public_id)
        confirm = (
            SyncJob.objects.filter(
                company=preview.company, kind=importing.CONFIRM, scope=str(preview.public_id)
            )
            .order_by("-created_at")
            .first()
        )
        body = CustomerImportSerializer(preview, context={"confirm": confirm}).data
        rows = importing.filter_rows(
            CustomerImportRow.objects.filter(job=preview).select_related(
                "client", "conflict_client"
            ),
            show=request.query_params.get("classification", ""),
            query=request.query_params.get("q", ""),
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        body["rows"] = paginator.get_paginated_response(
            ImportRowSerializer(page, many=True).data
        ).data
        return Response(body)


class CustomerImportConfirmView(APIView):
    permission_classes = [ADMINS]
    vendor = ""

    @extend_schema(request=ConfirmSerializer, responses={202: SyncJobSerializer})
    def post(self, request: Request, public_id: str) -> Response:
        """Import the chosen customers: `{"remote_ids": [...]}` or `{"select": "all_new"|"all"}`.
        A repeated confirm while one runs returns the running job; nothing is created twice."""
        preview = _preview(request, self.vendor, public_id)
        data = ConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job, _created = services.confirm_customer_import(
                company=firm_of(request),
                actor=actor_of(request),
                preview=preview,
                remote_ids=data.validated_data["remote_ids"],
                select=data.validated_data.get("select"),
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except IntegrationError as exc:
            raise_for(exc)
        job.refresh_from_db()
        return Response(SyncJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


# `create` and `update` are methods of a serializer class, so the answer is described inline.
SelectionResultSerializer = inline_serializer(
    "ImportSelection",
    {
        "selected": serializers.IntegerField(help_text="Customers selected."),
        "create": serializers.IntegerField(help_text="Clients confirming them would create."),
        "update": serializers.IntegerField(help_text="Clients confirming them would update."),
    },
)


def _selection_body(preview: SyncJob) -> dict[str, int]:
    counts = importing.selection_counts(importing.selected_rows(preview))
    return {"selected": counts["total"], "create": counts["create"], "update": counts["update"]}


class CustomerImportSelectionView(APIView):
    """The preview's selection, stored on the server so it spans filters, searches and pages."""

    permission_classes = [ADMINS]
    vendor = ""

    @extend_schema(responses=SelectionResultSerializer)
    def get(self, request: Request, public_id: str) -> Response:
        """How many customers are selected, and how many clients confirming them would create
        and update."""
        return Response(_selection_body(_preview(request, self.vendor, public_id)))

    @extend_schema(
        request=SelectionSerializer,
        responses={200: SelectionResultSerializer, 400: ErrorSerializer},
    )
    def post(self, request: Request, public_id: str) -> Response:
        """Change the selection (see the request body); then confirm with
        `{"select": "selected"}`. 400 while the preview is not ready or its import runs."""
        preview = _preview(request, self.vendor, public_id)
        data = SelectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            services.update_import_selection(
                company=firm_of(request),
                actor=actor_of(request),
                preview=preview,
                add=values["add"],
                remove=values["remove"],
                select_matching=values["select_matching"],
                show=values["classification"],
                query=values["q"],
                clear=values["clear"],
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except IntegrationError as exc:
            raise_for(exc)
        return Response(_selection_body(preview))


class CustomerImportResolveView(APIView):
    permission_classes = [ADMINS]
    vendor = ""

    @extend_schema(
        request=ResolveSerializer,
        responses={200: ImportRowSerializer, 400: ErrorSerializer},
    )
    def post(self, request: Request, public_id: str) -> Response:
        """Resolve a predicted conflict (a registry number another client has, or two customers
        of the preview with one number): link this customer to the client with the number,
        import it without the number, or skip it. 400 (on `remote_id`) for a customer that has no conflict to resolve."""
        preview = _preview(request, self.vendor, public_id)
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            row = services.resolve_import_conflict(
                company=firm_of(request),
                actor=actor_of(request),
                preview=preview,
                remote_id=data.validated_data["remote_id"],
                resolution=data.validated_data["resolution"],
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except IntegrationError as exc:
            raise_for(exc)
        return Response(ImportRowSerializer(row).data)
