from django.urls import path
from rest_framework.routers import SimpleRouter

from clients.api import views

router = SimpleRouter(trailing_slash=True)
router.register("clients", views.ClientViewSet, basename="client")

urlpatterns = [
    path(
        "integrations/tripletex/customer-imports",
        views.CustomerImportListView.as_view(vendor="tripletex"),
        name="api-customer-imports",
    ),
    path(
        "integrations/tripletex/customer-imports/<uuid:public_id>/",
        views.CustomerImportDetailView.as_view(),
        name="api-customer-import",
    ),
    path(
        "integrations/tripletex/customer-imports/<uuid:public_id>/confirm",
        views.CustomerImportConfirmView.as_view(),
        name="api-customer-import-confirm",
    ),
    *router.urls,
]
