"""The public schema (no tenant host): tenant provisioning admin and health only."""

from django.urls import path

from helpdesk import ops
from helpdesk.admin_sites import platform_admin

urlpatterns = [
    path("admin/", platform_admin.urls),
    path("healthz", ops.healthz, name="healthz"),
    path("metrics", ops.metrics, name="metrics"),
]

handler400 = "helpdesk.errors.bad_request"
handler403 = "helpdesk.errors.forbidden"
handler404 = "helpdesk.errors.not_found"
handler500 = "helpdesk.errors.server_failure"
