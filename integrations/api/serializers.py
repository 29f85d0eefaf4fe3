from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from integrations.models import Environment, Notification, SyncJob, SyncJobCall
from integrations.validators import validate_token_expiry


class TokenInfoSerializer(serializers.Serializer):
    last4 = serializers.CharField()
    expires_on = serializers.DateField(allow_null=True)
    days_left = serializers.IntegerField(allow_null=True)
    set_at = serializers.DateTimeField()
    set_by = serializers.EmailField(allow_null=True)


class IntegrationSerializer(serializers.Serializer):
    """A registered integration and the firm's connection to it. Never contains a token."""

    key = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    required_plan = serializers.CharField()
    state = serializers.ChoiceField(
        choices=["plan_required", "not_enabled", "not_connected", "connected", "error"]
    )
    status_text = serializers.CharField()
    enabled = serializers.BooleanField()
    environment = serializers.ChoiceField(choices=Environment.choices, allow_null=True)
    remote_company_name = serializers.CharField(allow_blank=True)
    remote_company_id = serializers.CharField(allow_blank=True)
    last_success_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    token = TokenInfoSerializer(allow_null=True)


def represent(state) -> dict:  # type: ignore[no-untyped-def]
    connection, credential = state.connection, state.credential
    return {
        "key": state.vendor.key,
        "label": state.vendor.label,
        "description": str(state.vendor.description),
        "required_plan": state.vendor.required_plan,
        "state": state.state,
        "status_text": state.headline,
        "enabled": bool(connection and connection.enabled),
        "environment": connection.environment if connection else None,
        "remote_company_name": connection.remote_company_name if connection else "",
        "remote_company_id": connection.remote_company_id if connection else "",
        "last_success_at": connection.last_success_at if connection else None,
        "last_error": connection.last_error if connection else "",
        "token": (
            {
                "last4": credential.last4,
                "expires_on": credential.expires_on,
                "days_left": state.days_left,
                "set_at": credential.set_at,
                "set_by": credential.set_by.email if credential.set_by else None,
            }
            if credential
            else None
        ),
    }


class ConnectionWriteSerializer(serializers.Serializer):
    environment = serializers.ChoiceField(choices=Environment.choices)
    # trim_whitespace off: the adapter cleans credentials, identically for the UI and the API.
    employee_token = serializers.CharField(write_only=True, trim_whitespace=False)
    token_expires_on = serializers.DateField()

    def validate_token_expires_on(self, value: date) -> date:
        try:
            validate_token_expiry(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value


class ConnectionTestSerializer(serializers.Serializer):
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    employee_token = serializers.CharField(
        write_only=True, trim_whitespace=False, required=False, allow_blank=True
    )


class ConnectionTestResultSerializer(serializers.Serializer):
    company_name = serializers.CharField()
    company_id = serializers.CharField()
    employee_name = serializers.CharField(allow_blank=True)
    job = serializers.UUIDField()


class SyncJobCallSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncJobCall
        fields = [
            "at",
            "method",
            "path",
            "status",
            "duration_ms",
            "error_code",
            "developer_message",
            "request_id",
        ]


class SyncJobSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    requested_by = serializers.EmailField(source="requested_by.email", default=None)
    percent = serializers.IntegerField(allow_null=True)
    stalled = serializers.BooleanField(source="is_stalled", read_only=True)

    class Meta:
        model = SyncJob
        fields = [
            "id",
            "vendor",
            "kind",
            "scope",
            "status",
            "progress_done",
            "progress_total",
            "percent",
            "counts",
            "error",
            "error_details",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "stalled",
            "resumes",
        ]


class SyncJobDetailSerializer(SyncJobSerializer):
    calls = SyncJobCallSerializer(many=True, read_only=True)

    class Meta(SyncJobSerializer.Meta):
        fields = [*SyncJobSerializer.Meta.fields, "calls"]


class NotificationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "level", "text", "link", "created_at", "read_at"]
