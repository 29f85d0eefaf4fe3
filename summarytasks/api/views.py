"""The summary tasks API: settings, statistics catalogue, custom fields, field mapping and
reload per vendor with work statistics (owners and admins change them, every member reads), and
the tasks (every member reads; owners, admins and members fill them in)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.models import Client
from integrations.api.serializers import SyncJobSerializer
from integrations.api.views import raise_for
from integrations.base import IntegrationError
from summarytasks import schedule, services
from summarytasks.api.serializers import (
    CustomTaskFieldSerializer,
    FieldMappingSerializer,
    ReloadSerializer,
    StatisticSerializer,
    SummarySettingsSerializer,
    SummaryTaskSerializer,
    SummaryTaskUpdateSerializer,
)
from summarytasks.models import CustomTaskField, SummaryTask, SummaryTaskValue
from uku.api.permissions import HasRole, IsCompanyMember
from uku.api.schema import ErrorSerializer
from uku.api.views import as_drf_error
from uku.http import actor_of, as_uuid, firm_of
from uku.models import Membership
from uku.permissions import ADMIN_ROLES

ADMIN_WRITE = HasRole(*ADMIN_ROLES)


def _settings_data(company: Any, vendor: str) -> dict[str, Any]:
    row = services.summary_settings(company, vendor)
    today = schedule.firm_today(company.country)
    return {
        "task_title": row.task_title,
        "topic": row.topic.name if row.topic else "",
        "import_day": row.import_day,
        "recurrence": "monthly",
        "next_import": schedule.next_import(today, row.import_day, company.country)[0],
    }


class _VendorView(APIView):
    vendor = ""

    def get_permissions(self) -> list[Any]:
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [IsCompanyMember()]
        return [ADMIN_WRITE()]


class SummarySettingsView(_VendorView):
    """The vendor's summary task settings: task title, topic, import day (recurrence is always
    monthly). Every member reads; owners and admins change them."""

    @extend_schema(summary="Read the summary task settings", responses=SummarySettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(
            SummarySettingsSerializer(_settings_data(firm_of(request), self.vendor)).data
        )

    @extend_schema(
        summary="Change the summary task settings",
        request=SummarySettingsSerializer,
        responses={200: SummarySettingsSerializer, 400: ErrorSerializer},
    )
    def put(self, request: Request) -> Response:
        data = SummarySettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.save_summary_settings(
                company=firm_of(request),
                actor=actor_of(request),
                vendor=self.vendor,
                **data.validated_data,
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except (IntegrationError, DjangoPermissionDenied) as exc:
            raise_for(exc)
        return Response(
            SummarySettingsSerializer(_settings_data(firm_of(request), self.vendor)).data
        )


class StatisticsView(_VendorView):
    """The statistics the vendor can count per client and month (common ones first; the others
    are behind "Show more")."""

    @extend_schema(responses=StatisticSerializer(many=True))
    def get(self, request: Request) -> Response:
        info = services.statistics_vendor(self.vendor)
        items = sorted(info.statistics, key=lambda s: not s.common)
        return Response(
            StatisticSerializer(
                [
                    {
                        "key": s.key,
                        "label": str(s.label),
                        "definition": str(s.definition),
                        "common": s.common,
                    }
                    for s in items
                ],
                many=True,
            ).data
        )


class FieldMappingView(_VendorView):
    """Which custom task field each statistic fills (`null`: not imported)."""

    def _data(self, request: Request) -> dict[str, Any]:
        info = services.statistics_vendor(self.vendor)
        current = services.field_mapping(firm_of(request), self.vendor)
        return {
            "mapping": {
                s.key: (str(current[s.key].public_id) if s.key in current else None)
                for s in info.statistics
            }
        }

    @extend_schema(
        summary="Read which field each statistic fills", responses=FieldMappingSerializer
    )
    def get(self, request: Request) -> Response:
        return Response(self._data(request))

    @extend_schema(
        summary="Map statistics to custom task fields",
        request=FieldMappingSerializer,
        responses={200: FieldMappingSerializer, 400: ErrorSerializer},
    )
    def put(self, request: Request) -> Response:
        data = FieldMappingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        company = firm_of(request)
        wanted = data.validated_data["mapping"]
        ids = [v for v in wanted.values() if v is not None]
        fields = {
            f.public_id: f
            for f in CustomTaskField.objects.filter(company=company, public_id__in=ids)
        }
        if missing := [str(i) for i in ids if i not in fields]:
            raise exceptions.ValidationError({"mapping": [f"No custom task field {missing[0]}."]})
        try:
            services.save_field_mapping(
                company=company,
                actor=actor_of(request),
                vendor=self.vendor,
                mapping={k: (fields[v] if v is not None else None) for k, v in wanted.items()},
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except (IntegrationError, DjangoPermissionDenied) as exc:
            raise_for(exc)
        return Response(self._data(request))


class ReloadView(_VendorView):
    """*Reload data*: back-fill the last 12 months of every linked client (or of `client_id`)
    and overwrite the mapped values. 202 with the job (`/api/v1/sync-jobs/{id}/`); asking again
    while it runs answers the same job. Owners and admins."""

    @extend_schema(
        summary="Reload data: back-fill the last 12 months",
        request=ReloadSerializer,
        responses={202: SyncJobSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = ReloadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        company = firm_of(request)
        client = None
        if client_id := data.validated_data.get("client_id"):
            client = Client.objects.filter(company=company, public_id=client_id).first()
            if client is None:
                raise exceptions.NotFound("No such client.")
        try:
            job, _created = services.reload_work_statistics(
                company=company, actor=actor_of(request), vendor=self.vendor, client=client
            )
        except (IntegrationError, DjangoPermissionDenied) as exc:
            raise_for(exc)
        return Response(SyncJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class CustomTaskFieldViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The firm's custom task fields. Every member reads; owners and admins add and change."""

    serializer_class = CustomTaskFieldSerializer
    lookup_field = "public_id"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_permissions(self) -> list[Any]:
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [IsCompanyMember()]
        return [ADMIN_WRITE()]

    def get_queryset(self) -> QuerySet[CustomTaskField]:
        if getattr(self, "swagger_fake_view", False):
            return CustomTaskField.objects.none()
        return CustomTaskField.objects.filter(company=firm_of(self.request))

    def perform_create(self, serializer: Any) -> None:
        try:
            serializer.instance = services.create_task_field(
                company=firm_of(self.request),
                actor=actor_of(self.request),
                name=serializer.validated_data["name"],
                type=serializer.validated_data.get("type", "whole_number"),
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except DjangoPermissionDenied as exc:
            raise_for(exc)

    def perform_update(self, serializer: Any) -> None:
        try:
            serializer.instance = services.update_task_field(
                company=firm_of(self.request),
                actor=actor_of(self.request),
                field=serializer.instance,
                **serializer.validated_data,
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except DjangoPermissionDenied as exc:
            raise_for(exc)


def _period(text: str) -> date:
    try:
        year, month = (int(p) for p in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise exceptions.ValidationError({"period": ["Use YYYY-MM."]}) from None


class SummaryTaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The firm's summary tasks with their values (`?period=YYYY-MM`, `?client=<id>`). Every
    member reads; owners, admins and members change status, assignee, comment and values."""

    serializer_class = SummaryTaskSerializer
    lookup_field = "public_id"
    permission_classes = [IsCompanyMember]

    def get_queryset(self) -> QuerySet[SummaryTask]:
        if getattr(self, "swagger_fake_view", False):
            return SummaryTask.objects.none()
        company = firm_of(self.request)
        tasks = (
            SummaryTask.objects.filter(company=company)
            .select_related("client", "topic", "assignee")
            .prefetch_related(
                Prefetch(
                    "values",
                    queryset=SummaryTaskValue.objects.select_related("field", "typed_by").order_by(
                        "field__name"
                    ),
                )
            )
            .order_by("-period", "client__name", "pk")
        )
        if self.action == "list":
            params = self.request.query_params
            if period := params.get("period"):
                tasks = tasks.filter(period=_period(period))
            if client := params.get("client"):
                try:
                    tasks = tasks.filter(client__public_id=client)
                except DjangoValidationError:
                    raise exceptions.ValidationError({"client": ["Not a client id."]}) from None
        return tasks

    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, description="The month, YYYY-MM"),
            OpenApiParameter("client", str, description="A client's id"),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=SummaryTaskUpdateSerializer,
        responses={200: SummaryTaskSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def partial_update(self, request: Request, public_id: str | None = None) -> Response:
        task = self.get_object()
        data = SummaryTaskUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        company, actor = firm_of(request), actor_of(request)
        changes = dict(data.validated_data)
        values = changes.pop("values", {})
        if "assignee" in changes and changes["assignee"] is not None:
            membership = (
                Membership.objects.filter(company=company, user__email__iexact=changes["assignee"])
                .select_related("user")
                .first()
            )
            if membership is None:
                raise exceptions.ValidationError(
                    {"assignee": ["No member of this firm has that e-mail."]}
                )
            changes["assignee"] = membership.user
        # The keys are custom task field ids; one that is not even a UUID names no field (and must
        # not reach the UUID column's lookup, which would raise instead of matching nothing).
        keys = {key: as_uuid(key) for key in values}
        by_id = (
            {
                f.public_id: f
                for f in CustomTaskField.objects.filter(
                    company=company, public_id__in=[k for k in keys.values() if k is not None]
                )
            }
            if values
            else {}
        )
        if unknown := [key for key, parsed in keys.items() if parsed not in by_id]:
            raise exceptions.ValidationError({"values": [f"No custom task field {unknown[0]}."]})
        fields = {key: by_id[parsed] for key, parsed in keys.items() if parsed is not None}
        try:
            with transaction.atomic():
                services.update_task(company=company, actor=actor, task=task, **changes)
                for key, raw in values.items():
                    services.set_task_value(
                        company=company, actor=actor, task=task, field=fields[key], raw=raw
                    )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except DjangoPermissionDenied as exc:
            raise_for(exc)
        return Response(SummaryTaskSerializer(self.get_queryset().get(pk=task.pk)).data)
