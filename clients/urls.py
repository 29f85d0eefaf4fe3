from django.urls import path

from clients import views

urlpatterns = [
    path("clients/", views.client_list, name="client_list"),
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/<uuid:public_id>/", views.client_detail, name="client_detail"),
    path("clients/<uuid:public_id>/archive/", views.client_archive, name="client_archive"),
    path("clients/<uuid:public_id>/restore/", views.client_restore, name="client_restore"),
    path("clients/<uuid:public_id>/delete/", views.client_delete, name="client_delete"),
    path("settings/apps/<slug:vendor>/import/", views.import_panel, name="import_panel"),
    path("settings/apps/<slug:vendor>/import/start/", views.import_start, name="import_start"),
    path(
        "settings/apps/<slug:vendor>/import/<uuid:public_id>/confirm/",
        views.import_confirm,
        name="import_confirm",
    ),
]
