from __future__ import annotations

from rest_framework import serializers

from billing.models import BillingProduct, VatType


class VatTypeSerializer(serializers.ModelSerializer):
    """A VAT type. `number` is the Norwegian VAT code; `remote_id` the accounting system's id."""

    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = VatType
        fields = ["id", "number", "name", "percentage", "active", "vendor", "remote_id"]


class VatTypeBriefSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = VatType
        fields = ["id", "number", "name", "percentage"]


class BillingProductSerializer(serializers.ModelSerializer):
    """A product or service; `unit_price` excludes VAT."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    vat_type = VatTypeBriefSerializer(allow_null=True, read_only=True)

    class Meta:
        model = BillingProduct
        fields = [
            "id",
            "name",
            "number",
            "description",
            "unit_price",
            "vat_type",
            "active",
            "vendor",
            "remote_id",
            "updated_at",
        ]


class BillingActivationSerializer(serializers.Serializer):
    """Billing's state: on or off, and the accounting system products and invoices go through
    ("" for none)."""

    active = serializers.BooleanField(read_only=True)
    accounting_vendor = serializers.CharField(allow_blank=True, max_length=40)
    activated_at = serializers.DateTimeField(read_only=True, allow_null=True)


class BillingActivateSerializer(serializers.Serializer):
    """`POST /billing/activate`: `{"vendor": "tripletex"}` ("" for no accounting system)."""

    vendor = serializers.CharField(allow_blank=True, max_length=40)
