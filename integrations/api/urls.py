"""`/api/v1/` routes of the integration core. Each registered vendor gets literal paths
(`integrations/tripletex/...`), which keeps the public contract readable in the schema."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from integrations.api import views
from integrations.base import REGISTRY

router = SimpleRouter(trailing_slash=True)
router.register("sync-jobs", views.SyncJobViewSet, basename="syncjob")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns: list[URLPattern | URLResolver] = [
    path("integrations/", views.IntegrationListView.as_view(), name="api-integrations")
]
for key in REGISTRY:
    urlpatterns += [
        path(
            f"integrations/{key}/enable",
            views.EnableView.as_view(vendor=key),
            name=f"api-{key}-enable",
        ),
        path(
            f"integrations/{key}/disable",
            views.DisableView.as_view(vendor=key),
            name=f"api-{key}-disable",
        ),
        path(
            f"integrations/{key}/connection",
            views.ConnectionView.as_view(vendor=key),
            name=f"api-{key}-connection",
        ),
        path(
            f"integrations/{key}/connection/test",
            views.ConnectionTestView.as_view(vendor=key),
            name=f"api-{key}-connection-test",
        ),
    ]
urlpatterns += router.urls
