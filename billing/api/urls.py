"""`/api/v1/` routes of billing: the lists under `billing/`, and each accounting system's import
endpoints next to its other routes (`integrations/tripletex/product-imports`, ...)."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from billing.api import invoice_views, views
from integrations.api.views import register_capability_route
from integrations.base import Capability, iter_vendors

router = SimpleRouter(trailing_slash=True)
router.register("billing/products", views.BillingProductViewSet, basename="billing-product")
router.register("billing/vat-types", views.VatTypeViewSet, basename="billing-vat-type")
# The invoice paths are a public contract (api-contract.txt): `.../{id}/issue` without a slash;
# either form is accepted.
invoice_router = SimpleRouter()
invoice_router.trailing_slash = "/?"
invoice_router.register(
    "billing/invoices", invoice_views.InvoiceViewSet, basename="billing-invoice"
)

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "billing/activation", views.BillingActivationView.as_view(), name="api-billing-activation"
    ),
    path("billing/activate", views.BillingActivateView.as_view(), name="api-billing-activate"),
    path(
        "billing/deactivate", views.BillingDeactivateView.as_view(), name="api-billing-deactivate"
    ),
    path(
        "billing/invoice-settings",
        invoice_views.InvoiceSettingsView.as_view(),
        name="api-billing-invoice-settings",
    ),
]
# Each accounting system's imports, for the systems that can list what is imported.
register_capability_route("product-imports", Capability.PRODUCTS)
register_capability_route("vat-type-imports", Capability.VAT_TYPES)
for vendor in iter_vendors(Capability.PRODUCTS):
    urlpatterns.append(
        path(
            f"integrations/{vendor.key}/product-imports",
            views.ProductImportView.as_view(vendor=vendor.key),
            name=f"api-{vendor.key}-product-imports",
        )
    )
for vendor in iter_vendors(Capability.VAT_TYPES):
    urlpatterns.append(
        path(
            f"integrations/{vendor.key}/vat-type-imports",
            views.VatTypeImportView.as_view(vendor=vendor.key),
            name=f"api-{vendor.key}-vat-type-imports",
        )
    )
urlpatterns += router.urls
urlpatterns += invoice_router.urls
