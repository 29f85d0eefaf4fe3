"""`/api/v1/` routes of billing: the lists under `billing/`, and each accounting system's import
endpoints next to its other routes (`integrations/tripletex/product-imports`, ...)."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from billing.api import views
from integrations.base import REGISTRY

router = SimpleRouter(trailing_slash=True)
router.register("billing/products", views.BillingProductViewSet, basename="billing-product")
router.register("billing/vat-types", views.VatTypeViewSet, basename="billing-vat-type")

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "billing/activation", views.BillingActivationView.as_view(), name="api-billing-activation"
    ),
]
for key in REGISTRY:
    urlpatterns += [
        path(
            f"integrations/{key}/product-imports",
            views.ProductImportView.as_view(vendor=key),
            name=f"api-{key}-product-imports",
        ),
        path(
            f"integrations/{key}/vat-type-imports",
            views.VatTypeImportView.as_view(vendor=key),
            name=f"api-{key}-vat-type-imports",
        ),
    ]
urlpatterns += router.urls
