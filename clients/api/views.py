"""Clients and customer imports over the API: the same services as the pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
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
from uku.api.views import as_drf_error
from uku.http import actor_of, firm_of, firm_request
from uku.models import Membership


class ClientViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Client],
):
    """The firm's clients. `?q=` searches, `?active=true|false|all`, `?sort=name|-name|orgnr|number`,
    `?import=<customer import or confirm job id>` shows the clients of that import."""

    serializer_class = ClientSerializer
    permission_classes = [IsCompanyMember]
    lookup_field = "public_id"
    http_method_names = ["get", "patch"]

    def get_queryset(self) -> QuerySet[Client]:
        if getattr(self, "swagger_fake_view", False):
            return Client.objects.none()
        request = firm_request(self.request)
        if self.action == "list":
            return client_list_queryset(request)[0]
        return Client.objects.filter(company=request.company).prefetch_related("links")

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str),
            OpenApiParameter("active", str),
            OpenApiParameter("sort", str),
            OpenApiParameter("import", str),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def perform_update(self, serializer: BaseSerializer[Client]) -> None:
        assert serializer.instance is not None  # an update always has its object
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
        try:
            serializer.instance = services.update_client(
                company=firm_of(self.request),
                actor=actor_of(self.request),
                client=serializer.instance,
                **data,
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc


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
            OpenApiParameter("classification", str),
            OpenApiParameter("q", str),
            OpenApiParameter("page", int),
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
        rows = CustomerImportRow.objects.filter(job=preview).select_related("client")
        if value := request.query_params.get("classification"):
            rows = rows.filter(classification=value)
        if value := request.query_params.get("q"):
            rows = rows.filter(name__icontains=value)
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
