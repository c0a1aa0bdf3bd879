"""The public schema (no tenant host): tenant provisioning admin and health only."""

from django.contrib import admin
from django.urls import path

from helpdesk import ops

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", ops.healthz, name="healthz"),
    path("metrics", ops.metrics, name="metrics"),
]

handler404 = "helpdesk.errors.not_found"
handler500 = "helpdesk.errors.server_failure"
