from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from clients.api import link_views, views
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
        path(
            f"integrations/{key}/customer-imports/<uuid:public_id>/selection",
            views.CustomerImportSelectionView.as_view(vendor=key),
            name=f"api-{key}-customer-import-selection",
        ),
        path(
            f"integrations/{key}/customer-imports/<uuid:public_id>/resolve",
            views.CustomerImportResolveView.as_view(vendor=key),
            name=f"api-{key}-customer-import-resolve",
        ),
    ]
# The Integration column: live customer search, link suggestions, books companies, the link.
register_capability_route("customers", Capability.CUSTOMERS)
register_capability_route("link-suggestions", Capability.CUSTOMERS)
register_capability_route("books-companies", Capability.BOOKS_ACCESS)
for vendor in iter_vendors(Capability.CUSTOMERS):
    key = vendor.key
    urlpatterns += [
        path(
            f"integrations/{key}/customers/",
            link_views.CustomerSearchView.as_view(vendor=key),
            name=f"api-{key}-customers",
        ),
        path(
            f"integrations/{key}/link-suggestions/",
            link_views.SuggestionsView.as_view(vendor=key),
            name=f"api-{key}-link-suggestions",
        ),
        path(
            f"integrations/{key}/link-suggestions/accept",
            link_views.AcceptSuggestionsView.as_view(vendor=key),
            name=f"api-{key}-link-suggestions-accept",
        ),
        path(
            f"integrations/{key}/link-suggestions/conflicts",
            link_views.ResolveConflictView.as_view(vendor=key),
            name=f"api-{key}-link-suggestions-conflicts",
        ),
    ]
for vendor in iter_vendors(Capability.BOOKS_ACCESS):
    urlpatterns.append(
        path(
            f"integrations/{vendor.key}/books-companies/",
            link_views.BooksCompaniesView.as_view(vendor=vendor.key),
            name=f"api-{vendor.key}-books-companies",
        )
    )
urlpatterns += [
    path(
        "clients/<uuid:public_id>/integration-link",
        link_views.ClientLinkView.as_view(),
        name="client-integration-link",
    ),
    path(
        "clients/<uuid:public_id>/integration-link/check",
        link_views.ClientLinkCheckView.as_view(),
        name="client-integration-link-check",
    ),
    # A client's own credentials, for vendors without accountant access.
    path(
        "clients/<uuid:public_id>/integration-connection",
        link_views.ClientConnectionView.as_view(),
        name="client-integration-connection",
    ),
    path(
        "clients/<uuid:public_id>/integration-connection/test",
        link_views.ClientConnectionTestView.as_view(),
        name="client-integration-connection-test",
    ),
]
urlpatterns += router.urls
