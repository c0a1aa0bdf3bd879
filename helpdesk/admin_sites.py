"""Two admin sites, one per kind of host, so that no URL of a tenant's host can reach the platform's models.

The tenant site (every tenant's `/admin/`) registers only models of the tenant's own schema; the platform site
(the public host's `/admin/`) registers tenants, domains and platform staff. A model that is not registered on a
site has no URL there, whoever is logged in — a stronger guarantee than permission checks on a shared site.
"""

from functools import wraps

from django.contrib.admin import AdminSite
from django.core.exceptions import SuspiciousOperation
from django_tenants.utils import get_public_schema_name


def _on_public_host(request) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.schema_name == get_public_schema_name()


class RefusesNulParameters(AdminSite):
    """A NUL in a query parameter (a list filter, a search, a page number) is a 400. PostgreSQL text cannot hold
    one, and the admin's list filters pass their values to the query as given, so it would otherwise fail as a 500
    (`?status__exact=%00`). One check for every admin page, rather than one per filter."""

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def refusing_nul(request, *args, **kwargs):
            if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
                raise SuspiciousOperation("A query parameter contains a NUL character.")
            return inner(request, *args, **kwargs)

        return refusing_nul


class TenantAdminSite(RefusesNulParameters):
    site_header = "Helpdesk administration"
    site_title = "Helpdesk admin"

    def has_permission(self, request):
        return not _on_public_host(request) and super().has_permission(request)


class PlatformAdminSite(RefusesNulParameters):
    site_header = "Helpdesk platform"
    site_title = "Helpdesk platform"

    def has_permission(self, request):
        return _on_public_host(request) and super().has_permission(request)


tenant_admin = TenantAdminSite(name="admin")
platform_admin = PlatformAdminSite(name="admin")
