"""Benchmark settings: their own databases and Redis database, plus the on-the-fly endpoints to compare with."""

from helpdesk.brokers import transport_options as broker_transport_options
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.base import BASE_DIR, DATABASES, _database, env, install_secret_key

SECRET_KEY = install_secret_key(BASE_DIR / "var" / "secret_key")

DATABASES[WRITE_ALIAS] = _database(env("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_bench"))
DATABASES[READ_ALIAS] = _database(
    env("BENCH_REPORTING_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_reporting_bench")
)
REDIS_URL = env("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# The benchmark's Redis database, or its own RabbitMQ vhost for the runs on RabbitMQ (benchmarks/brokers.py).
CELERY_BROKER_URL = env("BENCH_CELERY_BROKER_URL", REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)
CACHES = {"default": {**CACHES["default"], "LOCATION": REDIS_URL}}  # noqa: F405
ROOT_URLCONF = "benchmarks.urls"  # the tenant URLs and /bench/onthefly/... (the single-database way)
ALLOWED_HOSTS = ["*"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
