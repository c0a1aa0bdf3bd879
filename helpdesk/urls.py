"""URLs of a tenant's host (e.g. demo.localhost)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from helpdesk import ops

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", ops.healthz, name="healthz"),
]
