"""Two admin sites, one per kind of host, so that no URL of a tenant's host can reach the platform's models.

The tenant site (every tenant's `/admin/`) registers only models of the tenant's own schema; the platform site
(the public host's `/admin/`) registers tenants, domains and platform staff. A model that is not registered on a
site has no URL there, whoever is logged in — a stronger guarantee than permission checks on a shared site.
"""

from django.contrib.admin import AdminSite
from django_tenants.utils import get_public_schema_name


def _on_public_host(request) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.schema_name == get_public_schema_name()


class TenantAdminSite(AdminSite):
    site_header = "Helpdesk administration"
    site_title = "Helpdesk admin"

    def has_permission(self, request):
        return not _on_public_host(request) and super().has_permission(request)


class PlatformAdminSite(AdminSite):
    site_header = "Helpdesk platform"
    site_title = "Helpdesk platform"

    def has_permission(self, request):
        return _on_public_host(request) and super().has_permission(request)


tenant_admin = TenantAdminSite(name="admin")
platform_admin = PlatformAdminSite(name="admin")
