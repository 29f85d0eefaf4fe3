"""`/api/v1/billing/invoices/`: the same services as the invoice pages.

Every member of the firm reads; billing staff, admins and owners write. `POST .../{id}/issue`
honours an `Idempotency-Key` header: the first answer under a key is stored and replayed for
the same key (the same status and body), so a client that lost the answer may send it again.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import exports, invoices, statuses
from billing.api.invoice_serializers import InvoiceSerializer, InvoiceSettingsSerializer
from billing.invoices import INVOICE_ROLES, InvoiceError, LineInput
from billing.models import BillingProduct, IdempotentResponse, Invoice, VatType
from clients.models import Client
from integrations.api.serializers import SyncJobSerializer
from integrations.api.views import raise_for
from uku.api.pagination import PageNumberPagination
from uku.api.permissions import IsCompanyMember
from uku.api.schema import ErrorSerializer
from uku.http import actor_of, firm_of, tenant_request
from uku.models import Company, Membership, User

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique string; the same key replays the first answer.",
)


def _raise(exc: InvoiceError | DjangoPermissionDenied) -> None:
    if isinstance(exc, InvoiceError) and not exc.details.get("field"):
        raise exceptions.ValidationError({"non_field_errors": [exc.message]}) from None
    raise_for(exc)


def _lookup(model: Any, company: Company, value: Any, field: str) -> Any:
    if value is None:
        return None
    found = model.objects.filter(company=company, public_id=value).first()
    if found is None:
        raise exceptions.ValidationError({field: ["Not found in this firm."]})
    return found


def _member(company: Company, email: str | None) -> User | None:
    if not email:
        return None
    membership = (
        Membership.objects.filter(company=company, user__email__iexact=email)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise exceptions.ValidationError(
            {"responsible": ["No member of this firm has that e-mail."]}
        )
    return membership.user


def _lines(company: Company, rows: list[dict[str, Any]]) -> list[LineInput]:
    return [
        LineInput(
            product=_lookup(
                BillingProduct, company, (row.get("product") or {}).get("public_id"), "lines"
            ),
            description=row.get("description", ""),
            quantity=row.get("quantity"),
            unit_price=row.get("unit_price"),
            vat_type=_lookup(
                VatType, company, (row.get("vat_type") or {}).get("public_id"), "lines"
            ),
            discount_percent=row.get("discount_percent"),
        )
        for row in rows
    ]


class RefreshStatusSerializer(serializers.Serializer):
    """`ids`: the invoices to update; empty or absent: every open exported invoice."""

    ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=5000)


class InvoiceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The firm's invoices, newest first. Filters: `status`, `client` (id), `issued_from`,
    `issued_to` (dates), `export_state`."""

    serializer_class = InvoiceSerializer
    permission_classes = [IsCompanyMember]
    pagination_class = PageNumberPagination
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self) -> QuerySet[Invoice]:
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        company = firm_of(self.request)
        rows = (
            Invoice.objects.filter(company=company)
            .select_related("client", "responsible")
            .prefetch_related("lines__product", "lines__vat_type", "exports", "events")
            .order_by("-issue_date", "-pk")
        )
        if self.action != "list":
            return rows
        params = self.request.query_params
        if params.get("status"):
            rows = rows.filter(status=params["status"])
        if params.get("client"):
            rows = rows.filter(client__public_id=_uuid(params["client"], "client"))
        if params.get("issued_from"):
            rows = rows.filter(issue_date__gte=_date(params["issued_from"], "issued_from"))
        if params.get("issued_to"):
            rows = rows.filter(issue_date__lte=_date(params["issued_to"], "issued_to"))
        if params.get("export_state") == "none":
            rows = rows.filter(exports__isnull=True)
        elif params.get("export_state"):
            rows = rows.filter(exports__state=params["export_state"])
        return rows

    def _writer(self) -> None:
        membership = tenant_request(self.request).membership
        if membership is None or membership.role not in INVOICE_ROLES:
            raise exceptions.PermissionDenied(
                "Only billing staff, admins and owners can change invoices."
            )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, description="Only invoices in this status (`draft`, `issued`, ...)"
            ),
            OpenApiParameter(
                "client", str, description="Only the invoices of this client (its id)"
            ),
            OpenApiParameter(
                "issued_from", str, description="Issued on or after this date (YYYY-MM-DD)"
            ),
            OpenApiParameter(
                "issued_to", str, description="Issued on or before this date (YYYY-MM-DD)"
            ),
            OpenApiParameter(
                "export_state",
                str,
                description="Only invoices whose export is in this state (`pending`, `done`, "
                "`failed`, `waiting`; `none`: never exported)",
            ),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={201: InvoiceSerializer, 400: ErrorSerializer, 403: ErrorSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._writer()
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        company = firm_of(request)
        client = _lookup(Client, company, values["client"]["public_id"], "client")
        try:
            invoice = invoices.create_draft(
                company=company,
                actor=actor_of(request),
                client=client,
                issue_date=values.get("issue_date"),
                due_date=values.get("due_date"),
                responsible=_member(company, (values.get("responsible") or {}).get("email")),
                comment=values.get("comment", ""),
                lines=_lines(company, values.get("lines", [])),
            )
        except (InvoiceError, DjangoPermissionDenied) as exc:
            _raise(exc)
        return Response(self._fresh(invoice), status=status.HTTP_201_CREATED)

    def _fresh(self, invoice: Invoice) -> dict[str, Any]:
        return dict(self.get_serializer(self.get_queryset().get(pk=invoice.pk)).data)

    @extend_schema(responses={200: InvoiceSerializer, 400: ErrorSerializer, 404: ErrorSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._writer()
        invoice = self.get_object()
        data = self.get_serializer(invoice, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        company = firm_of(request)
        changes: dict[str, Any] = {
            key: values[key] for key in ("issue_date", "due_date", "comment") if key in values
        }
        if "client" in values:
            changes["client"] = _lookup(Client, company, values["client"]["public_id"], "client")
        if "responsible" in values:
            changes["responsible"] = _member(company, (values["responsible"] or {}).get("email"))
        if "lines" in values:
            changes["lines"] = _lines(company, values["lines"])
        try:
            invoice = invoices.update_draft(
                company=company, actor=actor_of(request), invoice=invoice, **changes
            )
        except (InvoiceError, DjangoPermissionDenied) as exc:
            _raise(exc)
        return Response(self._fresh(invoice))

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not kwargs.get("partial"):
            raise exceptions.MethodNotAllowed("PUT")
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(responses={204: None, 400: ErrorSerializer, 404: ErrorSerializer})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._writer()
        invoice = self.get_object()
        try:
            invoices.delete_draft(
                company=firm_of(request), actor=actor_of(request), invoice=invoice
            )
        except (InvoiceError, DjangoPermissionDenied) as exc:
            _raise(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_HEADER],
        responses={200: InvoiceSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    @action(detail=True, methods=["post"], url_path="issue")
    def issue(self, request: Request, id: str) -> Response:
        """Issue a draft: it gets its number and its export is queued. Issuing an issued
        invoice answers the invoice unchanged. With `Idempotency-Key`, the same key replays
        the first answer (also an error)."""
        self._writer()
        company = firm_of(request)
        key = request.headers.get("Idempotency-Key", "").strip()[:200]
        if key:
            stored = IdempotentResponse.objects.filter(company=company, key=key).first()
            if stored is not None:
                return _replay(stored, request.path)
        invoice = self.get_object()
        try:
            invoice, _now = invoices.issue_invoice(
                company=company, actor=actor_of(request), invoice=invoice
            )
            response = Response(self._fresh(invoice))
        except InvoiceError as exc:
            response = Response(
                {
                    "code": "invalid",
                    "detail": exc.message,
                    "fields": {exc.details.get("field") or "non_field_errors": [exc.message]},
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        except DjangoPermissionDenied as exc:
            _raise(exc)
        if key:
            try:
                with transaction.atomic():
                    IdempotentResponse.objects.create(
                        company=company,
                        key=key,
                        request_path=request.path,
                        status_code=response.status_code,
                        body=response.data,
                    )
            except IntegrityError:
                # A concurrent request with the same key stored its answer first: replay it.
                stored = IdempotentResponse.objects.get(company=company, key=key)
                return _replay(stored, request.path)
        return response

    @extend_schema(
        request=RefreshStatusSerializer,
        responses={202: SyncJobSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    @action(detail=False, methods=["post"], url_path="refresh-status")
    def refresh_status(self, request: Request) -> Response:
        """Update status and invoice numbers from the accounting system, in the background:
        202 with the job (progress and counts at /api/v1/sync-jobs/{id}/)."""
        return _refresh_status(self, request)

    @extend_schema(
        request=None, responses={202: InvoiceSerializer, 400: ErrorSerializer, 404: ErrorSerializer}
    )
    @action(detail=True, methods=["post"], url_path="export")
    def export(self, request: Request, id: str) -> Response:
        """Retry a failed or waiting export (after the fix); an export queued, in flight or
        done is left alone. 202 with the invoice."""
        self._writer()
        invoice = self.get_object()
        try:
            exports.retry_export(company=firm_of(request), actor=actor_of(request), invoice=invoice)
        except (InvoiceError, DjangoPermissionDenied) as exc:
            _raise(exc)
        return Response(self._fresh(invoice), status=status.HTTP_202_ACCEPTED)


def _refresh_status(view: InvoiceViewSet, request: Request) -> Response:
    view._writer()
    data = RefreshStatusSerializer(data=request.data or {})
    data.is_valid(raise_exception=True)
    ids = [str(i) for i in data.validated_data.get("ids", [])]
    company = firm_of(request)
    if ids:
        known = set(
            str(i)
            for i in Invoice.objects.filter(company=company, public_id__in=ids).values_list(
                "public_id", flat=True
            )
        )
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise exceptions.ValidationError({"ids": [f"Not found in this firm: {unknown[0]}"]})
    try:
        job, _created = statuses.request_status_refresh(
            company=company, actor=actor_of(request), ids=ids
        )
    except (InvoiceError, DjangoPermissionDenied) as exc:
        _raise(exc)
    return Response(SyncJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


def _replay(stored: IdempotentResponse, path: str) -> Response:
    if stored.request_path != path:
        raise exceptions.ValidationError(
            {"Idempotency-Key": ["This key was already used for another request."]}
        )
    response = Response(stored.body, status=stored.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def _uuid(value: str, field: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise exceptions.ValidationError({field: ["Not a valid id."]}) from None


def _date(value: str, field: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise exceptions.ValidationError({field: ["Use YYYY-MM-DD."]}) from None


def _settings_data(settings: Any) -> dict[str, Any]:
    return {
        "export_invoices": settings.export_invoices,
        "default_due_days": settings.default_due_days,
        "default_vat_type": settings.default_vat_type.public_id
        if settings.default_vat_type
        else None,
        "number_prefix": settings.number_prefix,
        "next_number": settings.next_number,
        "check_status_daily": settings.check_status_daily,
        "status_check_hour": settings.status_check_hour,
        "time_zone": settings.time_zone,
    }


class InvoiceSettingsView(APIView):
    """`GET/PATCH /api/v1/billing/invoice-settings`: the same settings as Settings & Apps →
    Billing → Invoicing. Every member reads; owners and admins change them."""

    permission_classes = [IsCompanyMember]

    @extend_schema(
        summary="Read the invoicing settings", responses={200: InvoiceSettingsSerializer}
    )
    def get(self, request: Request) -> Response:
        return Response(_settings_data(invoices.settings_for(firm_of(request))))

    @extend_schema(
        summary="Change the invoicing settings",
        request=InvoiceSettingsSerializer,
        responses={200: InvoiceSettingsSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def patch(self, request: Request) -> Response:
        data = InvoiceSettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        company = firm_of(request)
        if "default_vat_type" in values:
            values["default_vat_type"] = _lookup(
                VatType, company, values["default_vat_type"], "default_vat_type"
            )
        try:
            settings = invoices.update_invoice_settings(
                company=company, actor=actor_of(request), **values
            )
        except (InvoiceError, DjangoPermissionDenied) as exc:
            _raise(exc)
        return Response(_settings_data(settings))
