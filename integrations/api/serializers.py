from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

from integrations.base import VendorInfo
from integrations.models import Notification, SyncJob, SyncJobCall
from integrations.validators import validate_token_expiry

# Some declared fields are named like attributes of DRF's Field (`label`, `required`,
# `help_text`) or Serializer (`fields`). DRF's SerializerMetaclass moves declared fields out of the
# class namespace into `_declared_fields`, so they shadow nothing at run time; the stubs see plain
# class attributes, hence the `type: ignore[assignment]` on those lines.


class TokenInfoSerializer(serializers.Serializer):
    last4 = serializers.CharField()
    expires_on = serializers.DateField(allow_null=True)
    days_left = serializers.IntegerField(allow_null=True)
    set_at = serializers.DateTimeField()
    set_by = serializers.EmailField(allow_null=True)


class CredentialFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    kind = serializers.ChoiceField(choices=["secret", "text", "choice"])
    required = serializers.BooleanField()  # type: ignore[assignment]
    help_text = serializers.CharField(allow_blank=True)  # type: ignore[assignment]
    choices = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class ChoiceSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class SavedCredentialsSerializer(serializers.Serializer):
    """What may be shown of saved credentials: non-secret values, and for secrets only that they
    are set (the first one's last four characters)."""

    last4 = serializers.CharField(allow_blank=True)
    fields = serializers.DictField(child=serializers.CharField())  # type: ignore[assignment]
    expires_on = serializers.DateField(allow_null=True)
    days_left = serializers.IntegerField(allow_null=True)
    set_at = serializers.DateTimeField()
    set_by = serializers.EmailField(allow_null=True)


class IntegrationSerializer(serializers.Serializer):
    """A registered integration, what it needs to connect and can do, and the firm's connection
    to it. Never contains a secret."""

    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    description = serializers.CharField()
    required_plan = serializers.CharField()
    capabilities = serializers.ListField(child=serializers.CharField())
    credential_fields = CredentialFieldSerializer(many=True)
    environments = ChoiceSerializer(many=True)
    credentials_expire = serializers.BooleanField()
    connection_id = serializers.UUIDField(allow_null=True)
    state = serializers.ChoiceField(
        choices=["plan_required", "not_enabled", "not_connected", "connected", "error"]
    )
    status_text = serializers.CharField()
    enabled = serializers.BooleanField()
    environment = serializers.CharField(allow_null=True)
    remote_company_name = serializers.CharField(allow_blank=True)
    remote_company_id = serializers.CharField(allow_blank=True)
    last_success_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    token = TokenInfoSerializer(allow_null=True, help_text="Deprecated: see `credentials`.")
    credentials = SavedCredentialsSerializer(allow_null=True)


def describe_vendor(info: VendorInfo) -> dict:
    return {
        "key": info.key,
        "label": info.label,
        "description": str(info.description),
        "required_plan": info.required_plan,
        "capabilities": sorted(str(c) for c in info.capabilities),
        "credential_fields": [
            {
                "name": f.name,
                "label": str(f.label),
                "kind": str(f.kind),
                "required": f.required,
                "help_text": str(f.help_text),
                "choices": [[key, str(label)] for key, label in f.choices],
            }
            for f in info.credential_fields
        ],
        "environments": [{"key": key, "label": str(label)} for key, label in info.environments],
        "credentials_expire": info.credentials_expire,
    }


def represent(state) -> dict:
    connection, credential = state.connection, state.credential
    return {
        **describe_vendor(state.vendor),
        "connection_id": connection.public_id if connection else None,
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
        "credentials": (
            {
                "last4": credential.last4,
                "fields": dict(credential.public_fields),
                "expires_on": credential.expires_on,
                "days_left": state.days_left,
                "set_at": credential.set_at,
                "set_by": credential.set_by.email if credential.set_by else None,
            }
            if credential
            else None
        ),
    }


class EnableSerializer(serializers.Serializer):
    """Options offered when enabling (see `services.ENABLE_OPTIONS`)."""

    activate_billing = serializers.BooleanField(
        required=False, help_text="Also activate billing with this accounting system."
    )


class ConnectionTestSerializer(serializers.Serializer):
    """`{"environment": ..., "credentials": {...}}`: the fields are the vendor's
    `credential_fields`. Without credentials, the saved ones are tested. Tripletex's older body,
    `{"employee_token": ...}`, is still accepted (deprecated)."""

    environment = serializers.CharField(required=False)
    # trim_whitespace off: the adapter cleans credentials, identically for the UI and the API.
    credentials = serializers.DictField(
        child=serializers.CharField(trim_whitespace=False, allow_blank=True),
        required=False,
        write_only=True,
    )
    employee_token = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        required=False,
        allow_blank=True,
        help_text="Deprecated: use credentials.employee_token.",
    )

    def validate(self, attrs: dict) -> dict:
        credentials = dict(attrs.pop("credentials", None) or {})
        if attrs.get("employee_token"):
            credentials.setdefault("employee_token", attrs.pop("employee_token"))
        attrs.pop("employee_token", None)
        attrs["credentials"] = credentials if any(v.strip() for v in credentials.values()) else None
        return attrs


class ConnectionWriteSerializer(ConnectionTestSerializer):
    """Test and save: `{"environment": ..., "credentials": {...}, "expires_on": ...}`
    (`expires_on` for vendors whose credentials expire; `token_expires_on` is its deprecated
    alias)."""

    environment = serializers.CharField()
    expires_on = serializers.DateField(required=False, allow_null=True)
    token_expires_on = serializers.DateField(
        required=False, allow_null=True, help_text="Deprecated: use expires_on."
    )

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        alias = attrs.pop("token_expires_on", None)
        # Errors are reported under the name the caller used.
        key = "token_expires_on" if attrs.get("expires_on") is None and alias else "expires_on"
        if attrs.get("expires_on") is None:
            attrs["expires_on"] = alias
        vendor: VendorInfo = self.context["vendor"]
        if attrs["credentials"] is None:
            first = vendor.credential_fields[0]
            raise serializers.ValidationError(
                {"credentials": [_("Enter the %(field)s.") % {"field": str(first.label)}]}
            )
        if vendor.credentials_expire:
            if attrs["expires_on"] is None:
                raise serializers.ValidationError({key: [_("Enter the date the token expires.")]})
            try:
                validate_token_expiry(attrs["expires_on"])
            except DjangoValidationError as exc:
                raise serializers.ValidationError({key: exc.messages}) from exc
        return attrs


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
    requested_by = serializers.EmailField(
        source="requested_by.email", default=None, allow_null=True
    )
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
