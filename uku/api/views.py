"""The firm-level API: who am I, members, invitations and the audit log."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from uku import audit, services
from uku.api.permissions import HasRole, IsCompanyMember
from uku.api.schema import ErrorSerializer
from uku.api.serializers import (
    AuditEventSerializer,
    InvitationCreateSerializer,
    MemberSerializer,
    MeSerializer,
)
from uku.http import actor_of, firm_of, tenant_request
from uku.models import AuditEvent, Membership, Role
from uku.tenancy import memberships_of


def as_drf_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A service's Django ValidationError as a DRF one (field errors kept)."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError(exc.messages)


class InvitationNotSentError(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "email_not_sent"
    default_detail = "The invitation e-mail could not be sent, so no invitation was made."


class MeView(APIView):
    """The authenticated user, their firms, the current firm and their role in it."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        tenant = tenant_request(request)
        membership = tenant.membership
        data = {
            "user": request.user,
            "firms": memberships_of(request.user),
            "current_firm": tenant.company,
            "role": membership.role if membership else None,
        }
        return Response(MeSerializer(data).data)


class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Membership],
):
    """Members of the current firm. Everyone may list; owners and admins change and remove."""

    serializer_class = MemberSerializer
    lookup_field = "public_id"
    http_method_names = ["get", "patch", "delete"]

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.action in ("list", "retrieve"):
            return [IsCompanyMember()]
        if self.action == "partial_update":
            return [IsCompanyMember()]  # members may set their own External ID; the service checks
        return [HasRole(Role.OWNER, Role.ADMIN)()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no firm
            return Membership.objects.none()
        return Membership.objects.filter(company=firm_of(self.request)).select_related("user")

    def perform_update(self, serializer: BaseSerializer[Membership]) -> None:
        assert serializer.instance is not None  # an update always has its object
        try:
            serializer.instance = services.update_membership(
                company=firm_of(self.request),
                actor=actor_of(self.request),
                membership=serializer.instance,
                role=serializer.validated_data.get("role"),
                external_id=serializer.validated_data.get("external_id"),
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc) or None) from exc

    def perform_destroy(self, instance: Membership) -> None:
        try:
            services.remove_member(
                company=firm_of(self.request),
                actor=actor_of(self.request),
                membership=instance,
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc) or None) from exc


class InvitationView(APIView):
    """Invite someone by e-mail (owners and admins)."""

    permission_classes = [HasRole(Role.OWNER, Role.ADMIN)]

    @extend_schema(request=InvitationCreateSerializer, responses={201: None})
    def post(self, request: Request) -> Response:
        serializer = InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            issued = services.invite_member(
                company=firm_of(request),
                actor=actor_of(request),
                **serializer.validated_data,
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc) or None) from exc
        except services.InvitationNotSent as exc:
            raise InvitationNotSentError(str(exc)) from exc
        return Response(
            {
                "id": str(issued.invitation.public_id),
                "email": issued.invitation.email,
                "role": issued.invitation.role,
                "expires_at": issued.invitation.expires_at,
            },
            status=status.HTTP_201_CREATED,
        )


AUDIT_PARAMETERS = [
    OpenApiParameter(
        "actor",
        str,
        description=(
            "Part of the e-mail address of the person who acted (case-insensitive), or `system` "
            "for what uku did by itself (exports, daily status checks)."
        ),
    ),
    OpenApiParameter(
        "action",
        str,
        description=(
            "An action key, such as `connection.replaced`, or a prefix ending in a dot, such as "
            "`invoice.`. Keys: " + ", ".join(f"`{key}`" for key in audit.ACTIONS) + "."
        ),
    ),
    OpenApiParameter(
        "object_type",
        str,
        enum=list(audit.OBJECT_TYPES),
        description="The kind of object the event is about.",
    ),
    OpenApiParameter(
        "object_id",
        str,
        description=(
            "The object's id: a client's, invoice's, member's, token's or job's id, or a vendor "
            "key (`tripletex`) for an integration."
        ),
    ),
    OpenApiParameter(
        "date_from",
        date,
        description="Events on or after this day (YYYY-MM-DD, in the server's time zone).",
    ),
    OpenApiParameter(
        "date_to",
        date,
        description="Events on or before this day (YYYY-MM-DD, in the server's time zone).",
    ),
    OpenApiParameter("page", int, description="The page number, from 1."),
    OpenApiParameter("page_size", int, description="Events per page (default 50, at most 500)."),
]


def _date_param(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise exceptions.ValidationError({name: ["Enter a date as YYYY-MM-DD."]}) from None


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[AuditEvent]):
    """The firm's audit log, newest first: owners and admins."""

    serializer_class = AuditEventSerializer
    permission_classes = [HasRole(Role.OWNER, Role.ADMIN)]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        params = self.request.query_params
        object_type = params.get("object_type", "")
        if object_type and object_type not in audit.OBJECT_TYPES:
            raise exceptions.ValidationError(
                {"object_type": [f"Choose one of: {', '.join(audit.OBJECT_TYPES)}."]}
            )
        action = params.get("action", "")
        if action and action not in audit.ACTIONS and not action.endswith("."):
            raise exceptions.ValidationError({"action": ["Unknown action key."]})
        date_from, date_to = (
            _date_param(self.request, "date_from"),
            _date_param(self.request, "date_to"),
        )
        if date_from and date_to and date_to < date_from:
            raise exceptions.ValidationError({"date_to": ["The end date is before the start."]})
        events = AuditEvent.objects.filter(company=firm_of(self.request))
        return audit.filter_events(
            events,
            actor=params.get("actor", ""),
            action=action,
            object_type=object_type,
            object_id=params.get("object_id", ""),
            date_from=date_from,
            date_to=date_to,
        ).order_by("-created_at", "-pk")

    @extend_schema(
        summary="The audit log",
        description=(
            "Who did what to which object of the firm, and when: integrations enabled and "
            "disabled, credentials saved, replaced and removed (never their values), imports "
            "confirmed, client links changed, summary task settings and mappings saved, reloads "
            "requested, invoices issued, exported, retried and status updates requested, members "
            "invited, changed and removed, API tokens created and revoked, failed log-ins and "
            "lock-outs. Newest first, paginated. Owners and admins only."
        ),
        parameters=AUDIT_PARAMETERS,
        responses={200: AuditEventSerializer(many=True), 400: ErrorSerializer},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)
