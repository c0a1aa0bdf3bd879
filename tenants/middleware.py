from django_tenants.middleware.main import TenantMainMiddleware


class CaseInsensitiveTenantMiddleware(TenantMainMiddleware):
    """Host names are case-insensitive (RFC 4343): `DEMO.LOCALHOST` is demo's host. Domains are stored lowercase."""

    @staticmethod
    def hostname_from_request(request):
        return TenantMainMiddleware.hostname_from_request(request).lower()
