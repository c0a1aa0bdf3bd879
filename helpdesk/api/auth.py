"""API tokens: issued once on a correct username and password, stored only as a hash, revocable.

django-rest-knox keeps a salted digest of each token (never the token itself), so neither the admin nor a database
dump shows a usable token; a token expires after REST_KNOX's TOKEN_TTL and can be revoked by its owner (logout) or
by the tenant's admin (users admin › "Revoke API tokens").
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from knox.settings import knox_settings
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from helpdesk.client import client_ip


def api_token_create(*, user) -> tuple[str, AuthToken]:
    """A new token for `user`; the returned string is the only time it exists in clear. The user's expired
    tokens are deleted here (TokenAuthentication no longer looks for them on every request)."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    instance, token = AuthToken.objects.create(user=user, expiry=knox_settings.TOKEN_TTL)
    return token, instance


def api_tokens_revoke(*, user) -> int:
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


class TokenThrottle(AnonRateThrottle):
    """Per tenant and client address (see helpdesk.client); a cache outage lets requests through rather than
    failing them — the login lockout (django-axes, in the database) still holds."""

    scope = "token"

    def get_ident(self, request):
        return client_ip(request)

    def get_cache_key(self, request, view):
        tenant = getattr(request, "tenant", None)
        return f"throttle_{self.scope}_{getattr(tenant, 'schema_name', '-')}_{self.get_ident(request)}"

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache (Redis) is down: do not turn a login into a 500
            return True


class ObtainToken(APIView):
    """POST username and password, get a new API token for `Authorization: Token …` (shown only this once)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=AuthTokenSerializer,
        responses=inline_serializer(
            "TokenResponse", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
        ),
    )
    def post(self, request):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, instance = api_token_create(user=serializer.validated_data["user"])
        return Response({"token": token, "expiry": instance.expiry})


class RevokeTokenInput(serializers.Serializer):
    all = serializers.BooleanField(default=False, help_text="Revoke every token of the caller, not only this one.")


class RevokeToken(APIView):
    """Revoke the token this request is authenticated with (or, with `all`, every token of the caller)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=RevokeTokenInput, responses={204: None})
    def post(self, request):
        data = RevokeTokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["all"]:
            api_tokens_revoke(user=request.user)
        elif isinstance(request.auth, AuthToken):
            request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
