"""The integrations API: the same services as Settings & Apps, for scripts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import jobs, services
from integrations.api.serializers import (
    ConnectionTestResultSerializer,
    ConnectionTestSerializer,
    ConnectionWriteSerializer,
    EnableSerializer,
    IntegrationSerializer,
    NotificationSerializer,
    SyncJobDetailSerializer,
    SyncJobSerializer,
    represent,
)
from integrations.base import (
    AuthError,
    Capability,
    CapabilityMissing,
    IntegrationError,
    RateLimited,
    TransientError,
    get_vendor,
)
from integrations.base import iter_vendors as vendors
from integrations.models import IntegrationConnection, Notification, SyncJob
from integrations.status import describe
from uku.api.permissions import HasRole, IsCompanyMember, PlanRequiredError
from uku.api.schema import ErrorSerializer
from uku.http import actor_of, firm_of
from uku.models import Plan, Role
from uku.tenancy import PlanRequired

ADMINS = HasRole(Role.OWNER, Role.ADMIN)


class IntegrationAPIError(exceptions.APIException):
    """An accounting system refused or failed; the body keeps the vendor's diagnostics."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    # Optional extras the error handler (uku.api.errors) adds to the body when set.
    fields: dict[str, list[str]] | None = None
    remote: dict[str, str] | None = None


def raise_for(exc: IntegrationError | DjangoPermissionDenied) -> None:
    """Translate a service error into the API's one error shape."""
    if isinstance(exc, PlanRequired):
        raise PlanRequiredError(
            f"This needs the {Plan(exc.minimum).label} plan or higher."
        ) from None
    if isinstance(exc, DjangoPermissionDenied):
        raise exceptions.PermissionDenied(str(exc) or None) from None
    field = exc.details.get("field")
    if field and not isinstance(exc, AuthError):
        raise exceptions.ValidationError({field: [exc.message]}) from None
    error = IntegrationAPIError(exc.message)
    if field:
        error.fields = {field: [exc.message]}
    remote = {
        k: str(v)
        for k, v in exc.details.items()
        if k in ("code", "request_id", "developer_message")
    }
    if remote:
        error.remote = remote  # Tripletex's own diagnostics, to quote when asking their support
    if isinstance(exc, CapabilityMissing):
        code = "capability_missing"
    elif isinstance(exc, AuthError):
        error.default_code, code = "integration_auth_failed", "integration_auth_failed"
    elif isinstance(exc, RateLimited):
        error.status_code, code = status.HTTP_429_TOO_MANY_REQUESTS, "integration_rate_limited"
    elif isinstance(exc, TransientError):
        error.status_code, code = status.HTTP_503_SERVICE_UNAVAILABLE, "integration_unavailable"
    else:
        code = "integration_error"
    error.detail = exceptions.ErrorDetail(exc.message, code=code)
    raise error from None


def _state(request: Request, vendor: str) -> dict[str, Any]:
    connection = (
        IntegrationConnection.objects.filter(
            company=firm_of(request), vendor=vendor, client__isnull=True
        )
        .prefetch_related("credentials")
        .first()
    )
    info = get_vendor(vendor)
    return represent(describe(firm_of(request), info, connection, timezone.localdate()))


class IntegrationListView(APIView):
    """Every registered integration with the firm's state. Owners and admins."""

    permission_classes = [ADMINS]

    @extend_schema(responses=IntegrationSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response([_state(request, v.key) for v in vendors()])


class _VendorView(APIView):
    permission_classes = [ADMINS]
    vendor = ""

    def call(self, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(
                company=firm_of(self.request),
                actor=actor_of(self.request),
                vendor=self.vendor,
                **kwargs,
            )
        except (IntegrationError, DjangoPermissionDenied) as exc:
            raise_for(exc)


class EnableView(_VendorView):
    @extend_schema(request=EnableSerializer, responses=IntegrationSerializer)
    def post(self, request: Request) -> Response:
        """Enable the integration; `{"activate_billing": true}` (and any other offered option)
        is applied in the same transaction, as the page's checkbox is."""
        data = EnableSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        chosen = [o.name for o in services.ENABLE_OPTIONS if data.validated_data.get(o.name)]
        self.call(services.enable_integration, options=chosen)
        return Response(_state(request, self.vendor))


class DisableView(_VendorView):
    """Disable the integration (owners and admins): nothing syncs until it is enabled again; the
    saved token, links and job history are kept."""

    @extend_schema(
        summary="Disable the integration, keeping its token and history",
        request=None,
        responses=IntegrationSerializer,
    )
    def post(self, request: Request) -> Response:
        self.call(services.disable_integration)
        return Response(_state(request, self.vendor))


class ConnectionView(_VendorView):
    @extend_schema(request=ConnectionWriteSerializer, responses=IntegrationSerializer)
    def put(self, request: Request) -> Response:
        """Test and save credentials for an environment, making it active. Secrets are never
        returned."""
        data = ConnectionWriteSerializer(
            data=request.data, context={"vendor": get_vendor(self.vendor)}
        )
        data.is_valid(raise_exception=True)
        self.call(
            services.save_connection,
            environment=data.validated_data["environment"],
            credentials=data.validated_data["credentials"],
            expires_on=data.validated_data["expires_on"],
        )
        return Response(_state(request, self.vendor))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        """Disconnect: delete the saved credentials. Links and history stay."""
        self.call(services.disconnect)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionTestView(_VendorView):
    @extend_schema(request=ConnectionTestSerializer, responses=ConnectionTestResultSerializer)
    def post(self, request: Request) -> Response:
        """Test credentials (in the body) or the saved ones; saves nothing."""
        data = ConnectionTestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        connection = services.get_connection(firm_of(request), self.vendor)
        result = self.call(
            services.test_connection,
            environment=data.validated_data.get("environment") or connection.environment,
            credentials=data.validated_data["credentials"],
        )
        return Response(
            {
                "company_name": result.remote.name,
                "company_id": result.remote.id,
                "employee_name": result.remote.employee_name,
                "job": result.job.public_id,
            }
        )


class SyncJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background syncs of the firm, newest first; a job's detail includes its API calls."""

    permission_classes = [ADMINS]
    lookup_field = "public_id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SyncJob.objects.none()
        jobs = SyncJob.objects.filter(company=firm_of(self.request)).select_related("requested_by")
        for param in ("vendor", "kind", "status"):
            if value := self.request.query_params.get(param):
                jobs = jobs.filter(**{param: value})
        if self.action == "retrieve":
            jobs = jobs.prefetch_related("calls")
        return jobs

    def get_serializer_class(self):
        return SyncJobDetailSerializer if self.action == "retrieve" else SyncJobSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "vendor", str, description="Only jobs of this accounting system (its key)"
            ),
            OpenApiParameter(
                "kind", str, description="Only jobs of this kind (`customer_import_preview`, ...)"
            ),
            OpenApiParameter(
                "status",
                str,
                description="Only jobs in this status (`queued`, `running`, `succeeded`, "
                "`failed`, `cancelled`)",
            ),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: SyncJobSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsCompanyMember])
    def resume(self, request: Request, public_id: str | None = None) -> Response:
        """Resume a stalled job now (its worker died): owners, admins and the person who started
        it, as on the page. 409 when the job is not stalled (alive, queued, ended, or taken over
        meanwhile)."""
        job = self.get_object()
        try:
            resumed = jobs.resume(job=job, actor=actor_of(request))
        except DjangoPermissionDenied as exc:
            raise_for(exc)
        if not resumed:
            raise JobNotStalled
        job.refresh_from_db()
        return Response(SyncJobSerializer(job).data)

    @extend_schema(request=None, responses={200: SyncJobSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsCompanyMember])
    def cancel(self, request: Request, public_id: str | None = None) -> Response:
        """Cancel a queued, retrying or running job of a cancellable kind (the customer import's
        preview and confirm): owners, admins and the person who started it. It never runs again;
        a running one stops at its next progress report, keeping what it had committed. 409
        `job_not_cancellable` when it has ended or its kind cannot be cancelled."""
        job = self.get_object()
        try:
            cancelled = jobs.cancel(job=job, actor=actor_of(request))
        except DjangoPermissionDenied as exc:
            raise_for(exc)
        if not cancelled:
            raise JobNotCancellable
        return Response(SyncJobSerializer(job).data)


class JobNotCancellable(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "job_not_cancellable"
    default_detail = _(
        "The job cannot be cancelled: it has ended, or it is not of a kind that can."
    )


class JobNotStalled(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "job_not_stalled"
    default_detail = _("The job is not stalled: it is running, queued or has ended.")


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The current member's notifications in this firm (`?unread=1` for unread only)."""

    permission_classes = [IsCompanyMember]
    serializer_class = NotificationSerializer
    lookup_field = "public_id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        items = Notification.objects.filter(
            company=firm_of(self.request), recipient=actor_of(self.request)
        )
        if self.request.query_params.get("unread") in ("1", "true"):
            items = items.filter(read_at__isnull=True)
        return items

    @extend_schema(
        summary="List the member's notifications",
        parameters=[OpenApiParameter("unread", bool, description="1: only the unread ones")],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Mark one notification read", request=None, responses=NotificationSerializer
    )
    @action(detail=True, methods=["post"])
    def read(self, request: Request, public_id: str | None = None) -> Response:
        notification = self.get_object()
        services.mark_notifications_read(
            company=firm_of(request),
            actor=actor_of(request),
            public_ids=[str(notification.public_id)],
        )
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)

    @extend_schema(summary="Mark every notification read", request=None, responses={200: None})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        count = services.mark_notifications_read(company=firm_of(request), actor=actor_of(request))
        return Response({"marked_read": count})


# The first path segment of each vendor route that needs a capability ("customer-imports"),
# so that asking a vendor without it says so instead of a bare 404.
CAPABILITY_ROUTES: dict[str, Capability] = {}


def register_capability_route(segment: str, capability: Capability) -> None:
    """Declare that `/integrations/{vendor}/{segment}...` exists only for vendors with
    `capability` (call from the app's `api/urls.py`, next to the routes)."""
    CAPABILITY_ROUTES[segment] = capability


class VendorRouteNotFoundView(APIView):
    """Any `/integrations/{vendor}/...` path no route matched: a 404 in the error shape that
    says "<vendor> cannot <do it>" when the vendor lacks the capability behind the path."""

    permission_classes = [IsCompanyMember]
    schema = None  # not an operation

    def _answer(self, request: Request, vendor: str, rest: str) -> Response:
        try:
            info = get_vendor(vendor)
        except KeyError:
            raise exceptions.NotFound(
                _("There is no accounting system “%(key)s”.") % {"key": vendor}
            ) from None
        capability = CAPABILITY_ROUTES.get(rest.strip("/").split("/")[0])
        if capability is None or info.can(capability):
            raise exceptions.NotFound()
        error = CapabilityMissing(info, capability)
        return Response(
            {"code": "capability_missing", "detail": error.message},
            status=status.HTTP_404_NOT_FOUND,
        )

    def get(self, request: Request, vendor: str, rest: str) -> Response:
        return self._answer(request, vendor, rest)

    post = put = patch = delete = get
