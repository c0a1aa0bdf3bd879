"""Test settings: their own databases and Redis server, so a test run never touches the demo's data."""

from helpdesk.brokers import transport_options as broker_transport_options
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.base import BASE_DIR, DATABASES, _database, env, install_secret_key

SECRET_KEY = install_secret_key(BASE_DIR / "var" / "secret_key")
METRICS_TRUST_LOOPBACK = True  # a developer's machine: no proxy in front (see base)

# Under pytest-xdist each worker (gw0, gw1, ...) has its own databases and Redis server, named after these with
# its id; the Celery workers and gunicorn that a test starts inherit PYTEST_XDIST_WORKER, so they share them.
XDIST_WORKER = env("PYTEST_XDIST_WORKER", "")
DATABASES[WRITE_ALIAS] = _database(env("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_test"))
DATABASES[READ_ALIAS] = _database(
    env("TEST_REPORTING_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_reporting_test")
)
for _alias, _config in DATABASES.items():
    _config["CONN_MAX_AGE"] = 0
    # A replica's URL (REPORTING_REPLICA_URLS, set by the replica tests) already names the worker's database.
    if XDIST_WORKER and _alias in (WRITE_ALIAS, READ_ALIAS):
        _config["NAME"] = f"{_config['NAME']}_{XDIST_WORKER}"
# A private Redis that the test session starts (tests/conftest.py), so fault tests may stop it freely. Worker gwN's
# is 10 * (N + 1) above it: never a serial run's own, and checkouts whose ports differ by less than 10 never meet.
TEST_REDIS_PORT = int(env("TEST_REDIS_PORT", "6390")) + (10 * (int(XDIST_WORKER[2:]) + 1) if XDIST_WORKER else 0)
REDIS_URL = f"redis://127.0.0.1:{TEST_REDIS_PORT}/0"
# The broker: that Redis, or the RabbitMQ vhost of the test run for the tests run on both (tests/brokers.py).
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)
# Its own Redis database: tests clear it before each test (checkpoints are reset between tests).
CACHES = {"default": {**CACHES["default"], "LOCATION": f"redis://127.0.0.1:{TEST_REDIS_PORT}/1"}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; never used outside tests
AXES_FAILURE_LIMIT = 5
DASHBOARD_POLL_SECONDS = 2.0  # the browser tests watch several polls without waiting 5 s for each
ALLOWED_HOSTS = ["*"]
WHITENOISE_USE_FINDERS = True  # the test web server serves static files without collectstatic
STATIC_ROOT = None
