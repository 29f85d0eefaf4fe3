"""The firm-level API: who am I, members and invitations."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from uku import services
from uku.api.permissions import HasRole, IsCompanyMember
from uku.api.serializers import InvitationCreateSerializer, MemberSerializer, MeSerializer
from uku.http import actor_of, firm_of, tenant_request
from uku.models import Membership, Role
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
