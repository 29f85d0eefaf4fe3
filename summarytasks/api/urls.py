from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from integrations.api.views import register_capability_route
from integrations.base import Capability, iter_vendors
from summarytasks.api import views

router = SimpleRouter(trailing_slash=True)
router.register("custom-task-fields", views.CustomTaskFieldViewSet, basename="customtaskfield")
router.register("summary-tasks", views.SummaryTaskViewSet, basename="summarytask")

urlpatterns: list[URLPattern | URLResolver] = []
for segment in ("summary-settings", "statistics", "field-mapping", "reload"):
    register_capability_route(segment, Capability.STATISTICS)
for vendor in iter_vendors(Capability.STATISTICS):
    key = vendor.key
    urlpatterns += [
        path(
            f"integrations/{key}/summary-settings",
            views.SummarySettingsView.as_view(vendor=key),
            name=f"api-{key}-summary-settings",
        ),
        path(
            f"integrations/{key}/statistics/",
            views.StatisticsView.as_view(vendor=key),
            name=f"api-{key}-statistics",
        ),
        path(
            f"integrations/{key}/field-mapping",
            views.FieldMappingView.as_view(vendor=key),
            name=f"api-{key}-field-mapping",
        ),
        path(
            f"integrations/{key}/reload",
            views.ReloadView.as_view(vendor=key),
            name=f"api-{key}-reload",
        ),
    ]
urlpatterns += router.urls
