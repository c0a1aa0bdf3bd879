from django.core.exceptions import DisallowedHost
from django.http import HttpResponseNotFound
from django.utils import timezone
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name, get_tenant_domain_model

from helpdesk.tenancy import connection


class CaseInsensitiveTenantMiddleware(TenantMainMiddleware):
    """Host names are case-insensitive (RFC 4343): `DEMO.LOCALHOST` is demo's host. Domains are stored lowercase.

    The tenant is looked up without first switching the connection to public when its path already ends in public
    (a tenant's schema, then public): the tenants' tables live in public only (`tenants` is a shared app), so the
    lookup finds them there either way, and a request to the tenant the connection served last then sets no
    search_path at all (the switch to public and back cost two round trips a request; helpdesk/tenant_backend)."""

    @staticmethod
    def hostname_from_request(request):
        return TenantMainMiddleware.hostname_from_request(request).lower()

    def process_request(self, request):
        if connection.schema_name == get_public_schema_name() or not connection.include_public_schema:
            return super().process_request(request)
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return HttpResponseNotFound()
        domain_model = get_tenant_domain_model()
        try:
            tenant = self.get_tenant(domain_model, hostname)
        except domain_model.DoesNotExist:
            connection.set_schema_to_public()  # as the default lookup leaves it
            return self.no_tenant_found(request, hostname)
        tenant.domain_url = hostname
        request.tenant = tenant
        connection.set_tenant(request.tenant)
        self.setup_url_routing(request)
        return None


class TenantTimeZoneMiddleware:
    """Pages show timestamps in the tenant's own zone (after the tenant middleware, which sets request.tenant)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        timezone.activate(getattr(tenant, "time_zone", None) or "UTC")
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
