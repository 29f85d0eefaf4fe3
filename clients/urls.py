from django.urls import path

from clients import views

urlpatterns = [
    path("clients/", views.client_list, name="client_list"),
    path("clients/<uuid:public_id>/", views.client_detail, name="client_detail"),
    path("settings/apps/<slug:vendor>/import/", views.import_panel, name="import_panel"),
    path("settings/apps/<slug:vendor>/import/start/", views.import_start, name="import_start"),
    path(
        "settings/apps/<slug:vendor>/import/<uuid:public_id>/confirm/",
        views.import_confirm,
        name="import_confirm",
    ),
]
