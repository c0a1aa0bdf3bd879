"""Test settings: their own databases and Redis server, so a test run never touches the demo's data."""

from helpdesk.brokers import transport_options as broker_transport_options
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.base import DATABASES, _database, env

DATABASES[WRITE_ALIAS] = _database(env("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_test"))
DATABASES[READ_ALIAS] = _database(
    env("TEST_REPORTING_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_reporting_test")
)
for _config in DATABASES.values():
    _config["CONN_MAX_AGE"] = 0
# A private Redis that the test session starts (tests/conftest.py), so fault tests may stop it freely.
TEST_REDIS_PORT = int(env("TEST_REDIS_PORT", "6390"))
REDIS_URL = f"redis://127.0.0.1:{TEST_REDIS_PORT}/0"
# The broker: that Redis, or the RabbitMQ vhost of the test run for the tests run on both (tests/brokers.py).
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)
# Its own Redis database: tests clear it before each test (checkpoints are reset between tests).
CACHES = {"default": {**CACHES["default"], "LOCATION": f"redis://127.0.0.1:{TEST_REDIS_PORT}/1"}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; never used outside tests
AXES_FAILURE_LIMIT = 5
ALLOWED_HOSTS = ["*"]
WHITENOISE_USE_FINDERS = True  # the test web server serves static files without collectstatic
STATIC_ROOT = None
