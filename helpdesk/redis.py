"""One Redis client per process for what both sides keep in Redis beside the cache (the sweep's marks), and the
cache's backend."""

import redis
from django.conf import settings
from django.core.cache.backends import redis as django_redis

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _client
    if _client is None:  # one client (and connection pool) per process; short timeouts: Redis is never awaited
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
    return _client


class _CacheClient(django_redis.RedisCacheClient):
    """Django's, keeping one redis-py client per connection pool. Django builds a new client for every cache
    call, and building one (its table of ~200 response callbacks) cost about as much CPU as the GET it then sent:
    a dashboard or report answered from the cache makes two such calls. A client is safe to share: each command
    takes a connection from the pool."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[object, redis.Redis] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # Django's, not in its stubs
        if (client := self._clients.get(pool)) is None:
            client = self._clients[pool] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(django_redis.RedisCache):
    """settings.CACHES' backend: Django's Redis cache with one redis-py client per pool (see _CacheClient)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _CacheClient
