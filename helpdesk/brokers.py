"""The Celery broker: Redis (the default) or RabbitMQ (`CELERY_BROKER_URL=amqp://...`), and how each is used.

Whichever carries the tasks, a publish happens in on_commit after the complaint is safe, so it must never hold a
request for long on a dead broker: one connection attempt with a 1 s timeout, no retries (kombu's would sleep
through ~2 s per submission). The events are committed; the sweep re-queues them once the broker is back.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

AMQP_SCHEMES = {"amqp", "amqps", "pyamqp"}
REDIS_SCHEMES = {"redis", "rediss"}


def transport_options(url: str) -> dict:
    """Celery's broker_transport_options for the broker at `url`. Any other kind of broker is refused at start:
    kombu would only fail at the first publish, which on_commit swallows (the sweep could never catch up)."""
    scheme = urlsplit(url).scheme
    if scheme not in AMQP_SCHEMES | REDIS_SCHEMES:
        given = f"{scheme}://" if scheme else "no scheme"  # never the rest: it may hold a password
        raise ImproperlyConfigured(f"CELERY_BROKER_URL must start with redis:// or amqp://, not {given}")
    options: dict = {"max_retries": 0}  # a publish to a dead broker fails at once; see the module's docstring
    if scheme in AMQP_SCHEMES:
        return options | {
            # Publisher confirms: each publish waits for the broker's ack, so a message the broker refused
            # (nack) raises in the sender instead of vanishing, and "queued" in our logs means stored.
            "confirm_publish": True,
            "connect_timeout": 1,
            # A broker that accepts the connection but never answers (overloaded, half-open) fails the
            # handshake or the confirm after this long instead of hanging the request.
            "read_timeout": 2,
            "write_timeout": 2,
        }
    return options | {
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
        # Redis has no acks: a task taken by a worker that dies is given to another after this long.
        "visibility_timeout": 60,
    }
