"""One Redis client per process for what both sides keep in Redis beside the cache (the sweep's marks)."""

import redis
from django.conf import settings

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _client
    if _client is None:  # one client (and connection pool) per process; short timeouts: Redis is never awaited
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
    return _client
