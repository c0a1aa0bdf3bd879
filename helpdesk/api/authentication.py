"""How an API request is authenticated (settings.REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES): knox's tokens,
with one query less per request. Apart from helpdesk.api.auth, which imports DRF's views: DRF imports this module
while it loads them."""

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from knox.signals import token_expired


class TokenAuthentication(auth.TokenAuthentication):
    """knox's, checking the expiry of the presented token only. knox's also loads every other token of the user
    on each request to delete the expired ones: one query more on every API call. An expired token is refused
    either way; the others are deleted when their owner is given a new one (helpdesk.api.auth.api_token_create)."""

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of TokenAuthentication: knox's (drf-spectacular matches the exact class)."""

    target_class = "helpdesk.api.authentication.TokenAuthentication"
