"""The platform's admin (public host only): tenants, their domains and the platform's own staff."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django_tenants.admin import TenantAdminMixin

from helpdesk.admin_sites import platform_admin
from tenants.models import Domain, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant, site=platform_admin)
class TenantAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ("name", "schema_name", "created_at")
    search_fields = ("name", "schema_name")
    inlines = [DomainInline]


@admin.register(Domain, site=platform_admin)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain",)


# The public schema's users are the platform's staff (tenant users live in their tenant's schema).
platform_admin.register(User, UserAdmin)
platform_admin.register(Group, GroupAdmin)
