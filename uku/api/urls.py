"""`/api/v1/` routes of the uku package. Other apps add theirs in `<app>/api/urls.py`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from uku.api import views

router = SimpleRouter(trailing_slash=True)
router.register("members", views.MemberViewSet, basename="member")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("me", views.MeView.as_view(), name="api-me"),
    path("invitations/", views.InvitationView.as_view(), name="api-invitations"),
    *router.urls,
]
