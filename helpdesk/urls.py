"""URLs of a tenant's host (e.g. demo.localhost)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from complaints.views import PasswordChange
from helpdesk import ops
from helpdesk.admin_sites import tenant_admin
from tenants.views import time_zone_settings

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="complaints:list"), name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", PasswordChange.as_view(), name="password_change"),
    path("complaints/", include("complaints.urls")),
    path("dashboard/", include("reporting.urls")),
    path("api/", include("helpdesk.api.urls")),
    path("settings/time-zone/", time_zone_settings, name="tenant_time_zone"),
    path("admin/", tenant_admin.urls),
    path("healthz", ops.healthz, name="healthz"),
]

handler400 = "helpdesk.errors.bad_request"
handler403 = "helpdesk.errors.forbidden"
handler404 = "helpdesk.errors.not_found"
handler500 = "helpdesk.errors.server_failure"
