from django.urls import path

from clients import link_views, views

urlpatterns = [
    path("clients/", views.client_list, name="client_list"),
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/<uuid:public_id>/", views.client_detail, name="client_detail"),
    path("clients/<uuid:public_id>/archive/", views.client_archive, name="client_archive"),
    path("clients/<uuid:public_id>/restore/", views.client_restore, name="client_restore"),
    path("clients/<uuid:public_id>/delete/", views.client_delete, name="client_delete"),
    path("clients/<uuid:public_id>/integration/", link_views.client_link, name="client_link"),
    path(
        "clients/<uuid:public_id>/connection/<slug:vendor>/",
        views.client_own_connection,
        name="client_own_connection",
    ),
    path(
        "clients/<uuid:public_id>/integration/search/",
        link_views.client_link_search,
        name="client_link_search",
    ),
    path(
        "clients/<uuid:public_id>/integration/cell/",
        link_views.client_link_cell,
        name="client_link_cell",
    ),
    path(
        "clients/<uuid:public_id>/integration/unlink/",
        link_views.client_unlink,
        name="client_unlink",
    ),
    path(
        "clients/<uuid:public_id>/integration/check/",
        link_views.client_link_check,
        name="client_link_check",
    ),
    path(
        "clients/suggested-links/<slug:vendor>/",
        link_views.link_suggestions,
        name="link_suggestions",
    ),
    path("settings/apps/<slug:vendor>/import/", views.import_panel, name="import_panel"),
    path("settings/apps/<slug:vendor>/import/start/", views.import_start, name="import_start"),
    path(
        "settings/apps/<slug:vendor>/import/<uuid:public_id>/confirm/",
        views.import_confirm,
        name="import_confirm",
    ),
    path(
        "settings/apps/<slug:vendor>/import/<uuid:public_id>/select/",
        views.import_select,
        name="import_select",
    ),
    path(
        "settings/apps/<slug:vendor>/import/<uuid:public_id>/resolve/",
        views.import_resolve,
        name="import_resolve",
    ),
]
