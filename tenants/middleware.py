from django.utils import timezone
from django_tenants.middleware.main import TenantMainMiddleware


class CaseInsensitiveTenantMiddleware(TenantMainMiddleware):
    """Host names are case-insensitive (RFC 4343): `DEMO.LOCALHOST` is demo's host. Domains are stored lowercase."""

    @staticmethod
    def hostname_from_request(request):
        return TenantMainMiddleware.hostname_from_request(request).lower()


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
