"""The platform's admin (public host only): tenants, their domains and the platform's own staff."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django_tenants.admin import TenantAdminMixin

from helpdesk.admin_sites import platform_admin
from tenants.forms import TimeZoneField
from tenants.models import Domain, Tenant
from tenants.services import tenant_set_time_zone


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class TenantForm(forms.ModelForm):
    time_zone = TimeZoneField(initial="UTC")

    class Meta:
        model = Tenant
        fields = ("name", "schema_name", "time_zone")


@admin.register(Tenant, site=platform_admin)
class TenantAdmin(TenantAdminMixin, admin.ModelAdmin):
    form = TenantForm
    list_display = ("name", "schema_name", "time_zone", "created_at")
    list_filter = ("time_zone",)
    search_fields = ("name", "schema_name")
    inlines = [DomainInline]

    def save_model(self, request, obj, form, change):
        if change and "time_zone" in form.changed_data:
            # Through the service, so the tenant's read models are rebuilt in the new zone.
            new_zone, obj.time_zone = obj.time_zone, form.initial["time_zone"]
            super().save_model(request, obj, form, change)
            tenant_set_time_zone(tenant=obj, time_zone=new_zone)
        else:
            super().save_model(request, obj, form, change)


@admin.register(Domain, site=platform_admin)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain",)


# The public schema's users are the platform's staff (tenant users live in their tenant's schema).
platform_admin.register(User, UserAdmin)
platform_admin.register(Group, GroupAdmin)
