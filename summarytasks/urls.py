from django.urls import path

from summarytasks import views

urlpatterns = [
    path("summary-tasks/", views.month_view, name="summary_month"),
    path(
        "clients/<uuid:public_id>/summary-tasks/",
        views.client_tasks,
        name="client_summary_tasks",
    ),
    path("summary-tasks/<uuid:public_id>/", views.task_update, name="summary_task_update"),
    path("summary-tasks/<uuid:public_id>/value/", views.task_value, name="summary_task_value"),
    path(
        "settings/apps/<slug:vendor>/summary/settings/",
        views.settings_save,
        name="summary_settings_save",
    ),
    path(
        "settings/apps/<slug:vendor>/summary/fields/",
        views.mapping_save,
        name="summary_mapping_save",
    ),
    path(
        "settings/apps/<slug:vendor>/summary/fields/new/",
        views.field_create,
        name="summary_field_create",
    ),
    path(
        "settings/apps/<slug:vendor>/summary/reload/",
        views.reload_start,
        name="summary_reload",
    ),
]
