from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from integrations.api.views import VendorRouteNotFoundView
from uku import views
from uku.forms import EmailAuthenticationForm, ThrottledPasswordResetForm

auth_patterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(success_url="/"),
        name="password_change",
    ),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(form_class=ThrottledPasswordResetForm),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

api_patterns: list[URLPattern | URLResolver] = [
    path("", include("uku.api.urls")),
    path("", include("integrations.api.urls")),
    path("", include("clients.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("summarytasks.api.urls")),
    # Last: a vendor path nothing matched, answered "<vendor> cannot ..." when that is why.
    path(
        "integrations/<slug:vendor>/<path:rest>",
        VendorRouteNotFoundView.as_view(),
        name="api-vendor-route-not-found",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include(auth_patterns)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("no-firm/", views.no_company, name="no_company"),
    path("firm/switch/", views.switch_company, name="switch_company"),
    path("firm/settings/", views.company_settings, name="company_settings"),
    path("members/", views.members, name="members"),
    path("members/<uuid:public_id>/", views.member_edit, name="member_edit"),
    path("members/<uuid:public_id>/remove/", views.member_remove, name="member_remove"),
    path("invitations/<uuid:public_id>/cancel/", views.invitation_cancel, name="invitation_cancel"),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("api-tokens/", views.api_tokens, name="api_tokens"),
    path("api-tokens/<uuid:public_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("audit-log/", views.audit_log, name="audit_log"),
    # Billing's own settings page (/settings/apps/billing/) before the integrations' vendor route.
    path("", include("billing.urls")),
    path("", include("clients.urls")),
    path("", include("summarytasks.urls")),
    path("", include("integrations.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

# The HTML error pages, or the API's error shape for /api/ paths.
handler400 = "uku.views.bad_request"
handler403 = "uku.views.permission_denied"
handler404 = "uku.views.page_not_found"
handler500 = "uku.views.server_error"
