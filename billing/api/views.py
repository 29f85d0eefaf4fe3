"""The billing API: the product and VAT type lists (any member of the firm) and the imports
(owners and admins; the same services as Settings & Apps → Billing)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import services
from billing.api.serializers import (
    BillingActivateSerializer,
    BillingActivationSerializer,
    BillingProductSerializer,
    VatTypeSerializer,
)
from billing.models import VAT_CODE_ORDER, BillingProduct, VatType
from integrations.api.serializers import SyncJobSerializer
from integrations.api.views import raise_for
from integrations.base import IntegrationError
from uku.api.permissions import HasRole, IsCompanyMember
from uku.api.schema import ErrorSerializer
from uku.http import actor_of, firm_of
from uku.models import Role

LIST_PARAMETERS = [
    OpenApiParameter("active", bool, description="true: only active; false: only inactive"),
    OpenApiParameter("search", str, description="Part of the name, or of the number or code"),
]


class BillingNotActiveError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "billing_not_active"


def _active_filter(request: Request) -> bool | None:
    value = request.query_params.get("active")
    if value in (None, ""):
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise exceptions.ValidationError({"active": ["Use true or false."]})


class _CatalogueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsCompanyMember]
    lookup_field = "public_id"
    model: Any = None
    search_fields: tuple[str, ...] = ()

    def base_queryset(self) -> QuerySet[Any]:
        return self.model.objects.filter(company=firm_of(self.request))

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        items = self.base_queryset()
        if self.action != "list":
            return items
        active = _active_filter(self.request)
        if active is not None:
            items = items.filter(active=active)
        search = self.request.query_params.get("search", "").strip()
        if search:
            match = Q()
            for name in self.search_fields:
                match |= Q(**{f"{name}__icontains": search})
            items = items.filter(match)
        return items

    @extend_schema(parameters=LIST_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


class BillingProductViewSet(_CatalogueViewSet):
    """The firm's products and services, by name (any member of the firm)."""

    serializer_class = BillingProductSerializer
    model = BillingProduct
    search_fields = ("name", "number")

    def base_queryset(self) -> QuerySet[Any]:
        return super().base_queryset().select_related("vat_type").order_by("name", "pk")


class VatTypeViewSet(_CatalogueViewSet):
    """The firm's VAT types, by code (any member of the firm)."""

    serializer_class = VatTypeSerializer
    model = VatType
    search_fields = ("name", "number")

    def base_queryset(self) -> QuerySet[Any]:
        return super().base_queryset().order_by(*VAT_CODE_ORDER)


class _ImportView(APIView):
    """Queue an import (or join the one queued or running): 202 with the job, which is then
    readable at /api/v1/sync-jobs/{id}/. Owners and admins; billing must be active with this
    accounting system, and the system connected."""

    permission_classes = [IsCompanyMember]
    vendor = ""
    start: Any = None

    @extend_schema(request=None, responses={202: SyncJobSerializer, 409: ErrorSerializer})
    def post(self, request: Request) -> Response:
        try:
            job, _created = self.start(
                company=firm_of(request), actor=actor_of(request), vendor=self.vendor
            )
        except services.BillingNotActive as exc:
            raise BillingNotActiveError(exc.message) from None
        except (IntegrationError, DjangoPermissionDenied) as exc:
            raise_for(exc)
        return Response(SyncJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ProductImportView(_ImportView):
    """Import VAT types, then products and services."""

    start = staticmethod(services.request_product_import)


class VatTypeImportView(_ImportView):
    """Import VAT types."""

    start = staticmethod(services.request_vat_type_import)


def _activate(request: Request, vendor: str) -> Response:
    """Billing on with `vendor`, in the API's shape: the one path behind both activate routes."""
    try:
        billing = services.activate_billing(
            company=firm_of(request), actor=actor_of(request), vendor=vendor
        )
    except (IntegrationError, DjangoPermissionDenied) as exc:
        raise_for(exc)
    return Response(BillingActivationSerializer(billing).data)


def _deactivate(request: Request) -> Response:
    try:
        billing = services.deactivate_billing(company=firm_of(request), actor=actor_of(request))
    except DjangoPermissionDenied as exc:
        raise_for(exc)
    return Response(BillingActivationSerializer(billing).data)


class BillingActivationView(APIView):
    """Turn billing on with an accounting system (POST) or off (DELETE). Owners and admins; an
    accounting system needs a plan that includes it (403 `plan_required` otherwise)."""

    permission_classes = [HasRole(Role.OWNER, Role.ADMIN)]

    @extend_schema(
        summary="Turn billing on with an accounting system",
        request=BillingActivationSerializer,
        responses=BillingActivationSerializer,
    )
    def post(self, request: Request) -> Response:
        data = BillingActivationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _activate(request, data.validated_data["accounting_vendor"])

    # Answers 200 with the new state (not the 204 drf-spectacular assumes for a DELETE).
    @extend_schema(
        summary="Turn billing off", request=None, responses={200: BillingActivationSerializer}
    )
    def delete(self, request: Request) -> Response:
        return _deactivate(request)


class BillingActivateView(APIView):
    """`POST /billing/activate` `{"vendor": ...}`: the same service as the Billing page's
    Activate (and as POST `/billing/activation`)."""

    permission_classes = [HasRole(Role.OWNER, Role.ADMIN)]

    @extend_schema(
        summary="Activate billing (the Billing page's Activate)",
        request=BillingActivateSerializer,
        responses=BillingActivationSerializer,
    )
    def post(self, request: Request) -> Response:
        data = BillingActivateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _activate(request, data.validated_data["vendor"])


class BillingDeactivateView(APIView):
    """`POST /billing/deactivate`: billing off; products, VAT types and history are kept."""

    permission_classes = [HasRole(Role.OWNER, Role.ADMIN)]

    @extend_schema(
        summary="Deactivate billing, keeping products, VAT types and history",
        request=None,
        responses=BillingActivationSerializer,
    )
    def post(self, request: Request) -> Response:
        return _deactivate(request)
