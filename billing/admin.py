"""Staff views of billing data (the admin runs with scopes disabled, see uku.middleware)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing.models import BillingProduct, BillingSettings, VatType
from uku.templatetags.uku_tags import money


@admin.register(BillingSettings)
class BillingSettingsAdmin(admin.ModelAdmin):
    list_display = ["company", "active", "accounting_vendor", "activated_at", "updated_at"]
    list_filter = ["active", "accounting_vendor"]
    search_fields = ["company__name"]
    raw_id_fields = ["company", "activated_by"]


@admin.register(VatType)
class VatTypeAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "percentage", "active", "company", "vendor", "remote_id"]
    list_filter = ["active", "vendor"]
    search_fields = ["number", "name", "company__name", "remote_id"]
    raw_id_fields = ["company"]
    readonly_fields = ["public_id", "created_at", "updated_at"]


@admin.register(BillingProduct)
class BillingProductAdmin(admin.ModelAdmin):
    list_display = ["name", "number", "price", "vat_type", "active", "company", "vendor"]
    list_filter = ["active", "vendor"]
    search_fields = ["name", "number", "company__name", "remote_id"]
    raw_id_fields = ["company", "vat_type"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
    list_select_related = ["vat_type", "company"]

    @admin.display(description=_("unit price excluding VAT"), ordering="unit_price")
    def price(self, product: BillingProduct) -> str:
        """With its currency ("NOK 1,200.00"): products are priced in NOK (see the model)."""
        return money(product.unit_price, "NOK")
