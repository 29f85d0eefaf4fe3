"""Serializers of `/api/v1/billing/invoices/`. Ids are public UUIDs; `responsible` is a
member's e-mail; money is a decimal string."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billing import exports
from billing.invoices import COMMENT_MAX_LENGTH, NEXT_NUMBER_MAX
from billing.models import Invoice, InvoiceEvent, InvoiceExport, InvoiceLine


class InvoiceLineSerializer(serializers.ModelSerializer[InvoiceLine]):
    """A line. Blank `description`, `unit_price` and `vat_type` are taken from the product
    (then the firm's default VAT type). Amounts are computed: net half-up to 2 decimals."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    # `default=None`: a line without a product (or VAT type) shows null rather than no key.
    product = serializers.UUIDField(
        required=False, allow_null=True, default=None, source="product.public_id"
    )
    vat_type = serializers.UUIDField(
        required=False, allow_null=True, default=None, source="vat_type.public_id"
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=4, required=False)
    unit_price = serializers.DecimalField(
        max_digits=16, decimal_places=4, required=False, allow_null=True
    )
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, min_value=0, max_value=100
    )

    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "position",
            "product",
            "description",
            "quantity",
            "unit_price",
            "vat_type",
            "discount_percent",
            "vat_percentage",
            "net_amount",
            "vat_amount",
        ]
        read_only_fields = ["position", "vat_percentage", "net_amount", "vat_amount"]


class InvoiceExportSerializer(serializers.ModelSerializer[InvoiceExport]):
    """The invoice in one accounting system. `state`: pending, in_flight, done, failed,
    waiting (the client is not linked). `error` says what went wrong and what to do."""

    error = serializers.CharField(source="last_error", read_only=True)
    text = serializers.SerializerMethodField()

    class Meta:
        model = InvoiceExport
        fields = [
            "vendor",
            "state",
            "remote_id",
            "remote_number",
            "error",
            "error_fix",
            "attempts",
            "warnings",
            "text",
            "remote_invoice_number",
            "remote_state",
            "status_checked_at",
            "exported_at",
        ]
        read_only_fields = fields

    def get_text(self, export: InvoiceExport) -> str:
        return str(exports.export_display(export)["text"])


class InvoiceEventSerializer(serializers.ModelSerializer[InvoiceEvent]):
    class Meta:
        model = InvoiceEvent
        fields = ["at", "source", "kind", "old", "new", "text"]
        read_only_fields = fields


class TotalsSerializer(serializers.Serializer):
    net = serializers.DecimalField(max_digits=16, decimal_places=2)
    vat = serializers.DecimalField(max_digits=16, decimal_places=2)
    gross = serializers.DecimalField(max_digits=16, decimal_places=2)
    vat_by_rate = serializers.ListField(child=serializers.DictField())


class InvoiceSerializer(serializers.ModelSerializer[Invoice]):
    """An invoice. Only drafts change (PATCH, DELETE); `lines` in a PATCH replace every line."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    client = serializers.UUIDField(source="client.public_id")
    client_name = serializers.CharField(source="client.name", read_only=True)
    responsible = serializers.EmailField(
        source="responsible.email", required=False, allow_null=True, default=None,
        help_text="A member's e-mail, or null.",
    )  # fmt: skip
    lines = InvoiceLineSerializer(many=True, required=False)
    totals = serializers.SerializerMethodField()
    exports = InvoiceExportSerializer(many=True, read_only=True)
    history = InvoiceEventSerializer(many=True, read_only=True, source="events")
    issue_date = serializers.DateField(required=False)
    due_date = serializers.DateField(required=False)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "status",
            "client",
            "client_name",
            "issue_date",
            "due_date",
            "currency",
            "responsible",
            "comment",
            "lines",
            "totals",
            "outstanding_amount",
            "exports",
            "history",
            "issued_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "number",
            "status",
            "outstanding_amount",
            "issued_at",
            "created_at",
            "updated_at",
        ]

    def get_totals(self, invoice: Invoice) -> dict[str, Any]:
        from billing.invoices import invoice_totals

        totals = invoice_totals(invoice)
        return TotalsSerializer(
            {
                "net": totals.net,
                "vat": totals.vat,
                "gross": totals.gross,
                "vat_by_rate": [
                    {"percentage": str(r.percentage), "net": str(r.net), "vat": str(r.vat)}
                    for r in totals.by_rate
                ],
            }
        ).data


class RetrySerializer(serializers.Serializer):
    pass


class InvoiceSettingsSerializer(serializers.Serializer):
    """Billing's invoicing settings. `default_vat_type` is a VAT type id or null; the next
    issued invoice is numbered `number_prefix` + `next_number`."""

    export_invoices = serializers.BooleanField(required=False)
    default_due_days = serializers.IntegerField(required=False, min_value=0, max_value=365)
    default_vat_type = serializers.UUIDField(required=False, allow_null=True)
    number_prefix = serializers.CharField(required=False, allow_blank=True, max_length=16)
    next_number = serializers.IntegerField(required=False, min_value=1, max_value=NEXT_NUMBER_MAX)
    check_status_daily = serializers.BooleanField(required=False)
    status_check_hour = serializers.IntegerField(required=False, min_value=0, max_value=23)
    time_zone = serializers.CharField(required=False, max_length=64)
