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
