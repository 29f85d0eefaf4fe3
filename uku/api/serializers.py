from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from uku.models import ApiToken, AuditEvent, Company, Membership, Role
from uku.validators import EMAIL_MAX_LENGTH


class CompanySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Company
        fields = ["id", "name", "country", "organisation_number", "plan"]


class FirmMembershipSerializer(serializers.ModelSerializer):
    """A firm the current user belongs to, with their role there."""

    id = serializers.UUIDField(source="company.public_id", read_only=True)
    name = serializers.CharField(source="company.name", read_only=True)
    plan = serializers.CharField(source="company.plan", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "name", "plan", "role"]


class MeSerializer(serializers.Serializer):
    user = serializers.SerializerMethodField()
    firms = FirmMembershipSerializer(many=True)
    current_firm = CompanySerializer(allow_null=True)
    role = serializers.ChoiceField(choices=Role.choices, allow_null=True)

    def get_user(self, obj: dict) -> dict[str, str]:
        user = obj["user"]
        return {"email": user.email, "name": user.name}


class MemberSerializer(serializers.ModelSerializer[Membership]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "name", "role", "external_id", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"role": {"required": False}, "external_id": {"required": False}}


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class ApiTokenSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class AuditEventSerializer(serializers.ModelSerializer):
    """One audit event: who (`actor`: e-mail as it was, null for the system) did `action` (a
    stable key such as `connection.replaced`) to which object, when, from which address."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    actor = serializers.SerializerMethodField()
    action_label = serializers.SerializerMethodField()
    object = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor", "action", "action_label", "object", "details", "ip"]
        read_only_fields = fields

    def get_actor(self, event: AuditEvent) -> str | None:
        return event.actor_label or None

    def get_action_label(self, event: AuditEvent) -> str:
        from uku.audit import action_label

        return action_label(event.action)

    @extend_schema_field(
        inline_serializer(
            "AuditObject",
            {
                "type": serializers.CharField(help_text="integration, client, invoice, ..."),
                "id": serializers.CharField(help_text="Its id (a vendor key for integrations)"),
                "label": serializers.CharField(help_text="Its name when the event happened"),
            },
        )
    )
    def get_object(self, event: AuditEvent) -> dict[str, str]:
        return {"type": event.object_type, "id": event.object_id, "label": event.object_label}
