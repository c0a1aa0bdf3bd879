"""The client's address, the same for the login lockout (django-axes) and the API throttles.

Behind N trusted reverse proxies (TRUSTED_PROXY_COUNT), the client is the N-th address from the right of
X-Forwarded-For: the addresses to its left were written by the client itself and cannot be trusted. With no proxy
(the default), X-Forwarded-For is ignored, so a client cannot choose its own address.
"""

from django.conf import settings


def client_ip(request, *args, **kwargs) -> str:
    request = getattr(request, "_request", request)  # a DRF Request wraps Django's
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote  # not through the expected proxies: the direct peer is the client
    return forwarded[-count]


def login_username(request, credentials=None) -> str:
    """The username a failed login is recorded under (django-axes): text, at most a username's length, so an
    absurd value can neither overflow the lockout table nor be a different key each time."""
    if credentials:
        value = credentials.get("username")
    else:
        data = getattr(request, "data", None) or request.POST
        value = data.get("username") if hasattr(data, "get") else None
    return str(value or "")[:150]
