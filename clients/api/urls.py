from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from clients.api import views
from integrations.api.views import register_capability_route
from integrations.base import Capability, iter_vendors

router = SimpleRouter(trailing_slash=True)
router.register("clients", views.ClientViewSet, basename="client")

urlpatterns: list[URLPattern | URLResolver] = []
register_capability_route("customer-imports", Capability.CUSTOMERS)
# The customer import of every accounting system that can list customers.
for vendor in iter_vendors(Capability.CUSTOMERS):
    key = vendor.key
    urlpatterns += [
        path(
            f"integrations/{key}/customer-imports",
            views.CustomerImportListView.as_view(vendor=key),
            name=f"api-{key}-customer-imports",
        ),
        path(
            f"integrations/{key}/customer-imports/<uuid:public_id>/",
            views.CustomerImportDetailView.as_view(vendor=key),
            name=f"api-{key}-customer-import",
        ),
        path(
            f"integrations/{key}/customer-imports/<uuid:public_id>/confirm",
            views.CustomerImportConfirmView.as_view(vendor=key),
            name=f"api-{key}-customer-import-confirm",
        ),
    ]
urlpatterns += router.urls
