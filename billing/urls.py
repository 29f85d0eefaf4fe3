"""URL routes of this app (included from uku/urls.py)."""

from django.urls import path

from billing import views

urlpatterns = [
    path("settings/apps/billing/", views.settings_page, name="billing_settings"),
    path("settings/apps/billing/activate/", views.activate, name="billing_activate"),
    path("settings/apps/billing/deactivate/", views.deactivate, name="billing_deactivate"),
    path(
        "settings/apps/billing/imports/vat-types/",
        views.import_vat_types,
        name="billing_import_vat_types",
    ),
    path(
        "settings/apps/billing/imports/products/",
        views.import_products,
        name="billing_import_products",
    ),
    path(
        "settings/apps/billing/imports/<uuid:public_id>/",
        views.import_job,
        name="billing_import_job",
    ),
]
