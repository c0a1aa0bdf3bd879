"""Content-Security-Policy: CONTENT_SECURITY_POLICY in settings for every page, with one exception here."""

from csp.middleware import CSPMiddleware, PolicyParts

# Django's admin and Swagger UI (third-party pages) set inline style attributes. Only there is inline *style*
# allowed; inline script stays forbidden everywhere, and the product's own pages get no exception.
INLINE_STYLE_PATHS = ("/admin/", "/api/docs/")


class HelpdeskCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path.startswith(INLINE_STYLE_PATHS):
            parts.update = {**(parts.update or {}), "style-src": ["'unsafe-inline'"]}
        return parts
