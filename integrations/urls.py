from django.urls import path

from integrations import views

urlpatterns = [
    path("settings/apps/", views.apps, name="integrations"),
    path("settings/apps/<slug:vendor>/", views.app_detail, name="integration_detail"),
    path("settings/apps/<slug:vendor>/enable/", views.enable, name="integration_enable"),
    path("settings/apps/<slug:vendor>/disable/", views.disable, name="integration_disable"),
    path("settings/apps/<slug:vendor>/connect/test/", views.connect_test, name="integration_test"),
    path("settings/apps/<slug:vendor>/connect/", views.connect_save, name="integration_connect"),
    path(
        "settings/apps/<slug:vendor>/disconnect/", views.disconnect, name="integration_disconnect"
    ),
    path(
        "settings/apps/<slug:vendor>/history/<uuid:public_id>/",
        views.job_detail,
        name="integration_job",
    ),
    path(
        "settings/apps/<slug:vendor>/history/<uuid:public_id>/resume/",
        views.job_resume,
        name="integration_job_resume",
    ),
    path(
        "settings/apps/<slug:vendor>/history/<uuid:public_id>/cancel/",
        views.job_cancel,
        name="integration_job_cancel",
    ),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/menu/", views.notifications_menu, name="notifications_menu"),
    path("notifications/<uuid:public_id>/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
]
