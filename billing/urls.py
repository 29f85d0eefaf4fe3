"""URL routes of this app (included from uku/urls.py)."""

from django.urls import path

from billing import invoice_views as iv
from billing import views

urlpatterns = [
    path("settings/apps/billing/", views.settings_page, name="billing_settings"),
    path("settings/apps/billing/activate/", views.activate, name="billing_activate"),
    path("settings/apps/billing/deactivate/", views.deactivate, name="billing_deactivate"),
    path(
        "settings/apps/billing/invoicing/",
        views.invoice_settings,
        name="billing_invoice_settings",
    ),
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
    path("invoices/", iv.invoice_list, name="invoice_list"),
    path("invoices/new/", iv.invoice_new, name="invoice_new"),
    path("invoices/bulk/", iv.invoice_bulk, name="invoice_bulk"),
    path("invoices/product-defaults/", iv.product_defaults, name="invoice_product_defaults"),
    path("invoices/refresh-status/", iv.invoice_refresh_status, name="invoice_refresh_status"),
    path("invoices/status-jobs/<uuid:public_id>/", iv.status_job, name="invoice_status_job"),
    path("invoices/<uuid:public_id>/", iv.invoice_detail, name="invoice_detail"),
    path("invoices/<uuid:public_id>/edit/", iv.invoice_edit, name="invoice_edit"),
    path("invoices/<uuid:public_id>/issue/", iv.invoice_issue, name="invoice_issue"),
    path("invoices/<uuid:public_id>/retry/", iv.invoice_retry, name="invoice_retry"),
    path("invoices/<uuid:public_id>/delete/", iv.invoice_delete, name="invoice_delete"),
    path("invoices/<uuid:public_id>/print/", iv.invoice_print, name="invoice_print"),
    path("invoices/<uuid:public_id>/pdf/", iv.invoice_pdf_download, name="invoice_pdf"),
    path("invoices/<uuid:public_id>/lines/", iv.line_add, name="invoice_line_add"),
    path(
        "invoices/<uuid:public_id>/lines/<uuid:line_id>/",
        iv.line_edit,
        name="invoice_line_edit",
    ),
    path(
        "invoices/<uuid:public_id>/lines/<uuid:line_id>/remove/",
        iv.line_remove,
        name="invoice_line_remove",
    ),
    path(
        "invoices/<uuid:public_id>/lines/<uuid:line_id>/move/",
        iv.line_move,
        name="invoice_line_move",
    ),
]
