from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from clients.models import Client, CustomerImportRow, ExternalLink
from integrations.api.serializers import SyncJobSerializer
from uku.models import User


class ExternalLinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExternalLink
        fields = ["vendor", "remote_id", "remote_name", "remote_number", "linked_at"]


class ClientSerializer(serializers.ModelSerializer[Client]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    responsible: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="email", read_only=True, allow_null=True
    )
    responsible_email = serializers.EmailField(
        write_only=True,
        required=False,
        allow_null=True,
        help_text="The responsible accountant: a member's e-mail, or null.",
    )
    links = ExternalLinkSerializer(many=True, read_only=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "organisation_number",
            "customer_number",
            "email",
            "phone",
            "address_line",
            "postal_code",
            "city",
            "invoice_email",
            "responsible",
            "responsible_email",
            "active",
            "links",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["organisation_number", "customer_number", "created_at", "updated_at"]


class ImportRowSerializer(serializers.ModelSerializer):
    remote_id = serializers.CharField()
    tripletex_id = serializers.CharField(
        source="remote_id", help_text="Deprecated alias of remote_id (Tripletex only)."
    )
    client = serializers.UUIDField(source="client.public_id", allow_null=True, default=None)
    organisation_number = serializers.CharField(source="data.organisation_number")
    email = serializers.CharField(source="data.email")

    class Meta:
        model = CustomerImportRow
        fields = [
            "remote_id",
            "tripletex_id",
            "name",
            "organisation_number",
            "email",
            "inactive",
            "classification",
            "match_rule",
            "client",
            "changes",
            "selected",
            "outcome",
            "error",
        ]


class CustomerImportSerializer(SyncJobSerializer):
    """A customer import: the preview job, its summary, and the confirm job if any."""

    confirm = serializers.SerializerMethodField()

    class Meta(SyncJobSerializer.Meta):
        fields = [*SyncJobSerializer.Meta.fields, "confirm"]

    def get_confirm(self, job) -> dict | None:
        confirm = self.context.get("confirm")
        return SyncJobSerializer(confirm).data if confirm else None


class ConfirmSerializer(serializers.Serializer):
    """`{"remote_ids": [...]}` or `{"select": "all_new"|"all"}` (`tripletex_ids` is the
    deprecated name of `remote_ids`)."""

    remote_ids = serializers.ListField(child=serializers.CharField(), required=False)
    tripletex_ids = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Deprecated: use remote_ids."
    )
    select = serializers.ChoiceField(choices=["all_new", "all"], required=False)

    def validate(self, attrs: dict) -> dict:
        ids = [*(attrs.pop("remote_ids", None) or []), *(attrs.pop("tripletex_ids", None) or [])]
        if bool(ids) == bool(attrs.get("select")):
            raise serializers.ValidationError(_("Give either remote_ids or select."))
        attrs["remote_ids"] = ids or None
        return attrs


class StartImportSerializer(serializers.Serializer):
    full = serializers.BooleanField(
        default=False,
        help_text="List every customer, not only those changed since the last import.",
    )
