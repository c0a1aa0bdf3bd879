import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django_tenants.utils import get_public_schema_name
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from helpdesk import launchers
from helpdesk.databases import BOTH_ALIASES
from helpdesk.tenancy import connection, connections
from tests.world import PASSWORD, build_world, reset_tenant_data

# Hypothesis: `make test` must give the same verdict every run, so the default profile is derandomized and keeps
# no example database; HYPOTHESIS_PROFILE=explore (`make fuzz`) searches randomly and longer.
_HYPOTHESIS_COMMON: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}
hypothesis_settings.register_profile("ci", derandomize=True, database=None, max_examples=20, **_HYPOTHESIS_COMMON)
hypothesis_settings.register_profile("explore", max_examples=300, **_HYPOTHESIS_COMMON)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.brokers"]  # the `broker` fixture: pipeline tests on Redis and on RabbitMQ
OUTPUT = ROOT / "test-output"
OUTPUT.mkdir(exist_ok=True)
# Under pytest-xdist, each worker's own log and schedule files (its databases and Redis: helpdesk/settings/test.py).
WORKER_SUFFIX = f"-{os.environ['PYTEST_XDIST_WORKER']}" if os.environ.get("PYTEST_XDIST_WORKER") else ""


# The files that take longest (from `--durations`): under pytest-xdist, which hands out whole files (--dist
# loadfile, pyproject.toml) in collection order, they go first, so that none starts while the others are done.
LONGEST_FILES = (
    "tests/ops/test_benchmark_small.py",
    "tests/browser/test_dashboard.py",
    "tests/ops/test_faults.py",
    "tests/reporting/test_replicas.py",
    "tests/reporting/test_properties.py",
    "tests/reporting/test_freshness_under_open_transactions.py",
)


def _longest_first(item) -> int:
    path = item.nodeid.split("::")[0]
    return LONGEST_FILES.index(path) if path in LONGEST_FILES else len(LONGEST_FILES)


def pytest_collection_modifyitems(items):
    if WORKER_SUFFIX:
        items.sort(key=_longest_first)  # stable: every other file keeps its place
    # Every database test declares both aliases; otherwise writes to `reporting` would escape the test's
    # transaction (or be refused). One place, so no test can forget.
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None and "db" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.django_db(databases=BOTH_ALIASES), append=False)
        elif marker is not None and "databases" not in marker.kwargs:
            item.add_marker(pytest.mark.django_db(*marker.args, databases=BOTH_ALIASES, **marker.kwargs), append=False)


class RedisControl:
    """The test session's own redis-server (see helpdesk.settings.test), which fault tests stop and start."""

    def __init__(self, port: int):
        self.port = port

    def ping(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.exceptions.ConnectionError:
            return False

    def start(self):
        if not self.ping():
            subprocess.run(
                [
                    "redis-server",
                    "--daemonize",
                    "yes",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(OUTPUT),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 10
        while not self.ping():
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.1)

    def stop(self):
        try:
            redis.Redis(port=self.port).shutdown(nosave=True)
        except redis.exceptions.ConnectionError:
            pass
        while self.ping():
            time.sleep(0.1)


@pytest.fixture(scope="session")
def redis_server():
    control = RedisControl(settings.TEST_REDIS_PORT)
    control.start()
    yield control
    control.stop()


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker, redis_server):
    """Fresh test databases (both), migrated, with the two persona tenants. Our own setup rather than
    pytest-django's, so that a real Celery worker and a real HTTP server can share the very same databases."""
    OUTPUT.mkdir(exist_ok=True)
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    with django_db_blocker.unblock():
        call_command("setup_databases", drop=True, verbosity=0)
        worlds = build_world()
        connection.set_schema_to_public()
    return worlds


@pytest.fixture(autouse=True)
def _empty_cache(redis_server):
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session")
def worlds(django_db_setup):
    return django_db_setup


@pytest.fixture
def alpha(worlds, db):
    """Tenant alpha's world, with the connections pointed at its schema for the test."""
    worlds["alpha"].activate()
    yield worlds["alpha"]
    connection.set_schema_to_public()


@pytest.fixture
def beta(worlds, db):
    yield worlds["beta"]
    connection.set_schema_to_public()


@pytest.fixture
def committed(worlds, django_db_blocker):
    """Real commits (on_commit runs, other processes see the data): tenant data is emptied before and after."""
    with django_db_blocker.unblock():
        # Fresh connections: a fault test before this one may have had the server end them (test_faults).
        for alias in BOTH_ALIASES:
            connections[alias].close()
        reset_tenant_data(worlds)
        connection.set_schema_to_public()
        try:
            yield worlds
        finally:
            connection.set_schema_to_public()
            reset_tenant_data(worlds)
            connection.set_schema_to_public()


@pytest.fixture
def queued_rebuilds(monkeypatch):
    """The tenant rebuilds queued (a zone change's), recorded instead of sent: tests run the task by hand."""
    calls = []
    monkeypatch.setattr("reporting.tasks.rebuild_tenant.apply_async", lambda args, **kw: calls.append(tuple(args)))
    return calls


@pytest.fixture
def client_for():
    """client_for(world, user=None) -> a test client on the world's host, logged in as `user` if given."""

    def make(world, user=None, **kwargs):
        client = Client(HTTP_HOST=world.domain, **kwargs)
        if user is not None:
            world.activate()
            client.force_login(user)
        return client

    return make


@pytest.fixture
def password():
    return PASSWORD


def _start_worker(log_path: Path, extra_env: dict | None = None) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
        "PROJECTION_SWEEP_SECONDS": "0.5",
        **(extra_env or {}),
    }
    return launchers.start_celery_worker(
        env=env,
        log_path=log_path,
        concurrency=2,
        schedule=OUTPUT / f"celerybeat-schedule{WORKER_SUFFIX}",
        name=f"test-{os.getpid()}@%h",
    )


class WorkerControl:
    """A real Celery worker (with beat) on Redis, which tests may kill and restart."""

    def __init__(self):
        self.log_path = OUTPUT / f"celery-worker{WORKER_SUFFIX}.log"
        self.proc: subprocess.Popen | None = None
        self.extra_env: dict = {}

    def start(self):
        self.proc = _start_worker(self.log_path, self.extra_env)

    def kill(self, sig=9):
        assert self.proc is not None, "the worker was never started"
        os.killpg(self.proc.pid, sig)
        self.proc.wait(timeout=30)

    def stop(self):
        if self.proc:
            launchers.stop(self.proc)


def start_worker(broker, extra_env: dict | None = None) -> WorkerControl:
    """A fresh worker on `broker`; tasks left in the queue by earlier tests are dropped first."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    broker.purge()
    control = WorkerControl()
    control.extra_env = {**broker.worker_env, **(extra_env or {})}
    control.start()
    return control


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, redis_server, broker):
    """Per module, so tests that drive the projector directly never race a worker."""
    control = start_worker(broker)
    yield control
    control.stop()


@pytest.fixture(scope="module")
def hook_only_worker(django_db_setup, redis_server, broker):
    """A worker whose sweep never re-queues a tenant (threshold of an hour): events reach the read models only
    through the on-commit hook or an explicit refresh, so tests of those fail without them."""
    control = start_worker(broker, {"PROJECTION_STALE_SECONDS": "3600"})
    yield control
    control.stop()


def wait_for(predicate, *, timeout: float = 5.0, interval: float = 0.05, message: str = "condition"):
    """Poll until predicate() is truthy; returns its value or fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def someone_waits_on_a_lock() -> bool:
    """Whether a session of this test database waits on a lock (a row, an index entry, an advisory lock): how race
    tests know the second party is stuck behind the first, without sleeping."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction the view is otherwise frozen
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.fixture
def public_schema():
    connection.set_schema_to_public()
    return get_public_schema_name()


@pytest.fixture(scope="module")
def live_server_env() -> dict[str, str]:
    """Settings of the module's HTTP server beyond the test settings (a module overrides this fixture)."""
    return {}


@pytest.fixture(scope="module")
def live_server_url(django_db_setup, live_server_env):
    """The real HTTP stack (gunicorn + the test settings and databases); tenant hosts are *.localhost."""
    port = launchers.free_port()
    metrics_dir = OUTPUT / f"prometheus-{port}"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
        "HELPDESK_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        **live_server_env,
    }
    try:
        proc = launchers.start_gunicorn(
            ["-c", "helpdesk/gunicorn.conf.py"], port=port, env=env, log_path=OUTPUT / f"gunicorn{WORKER_SUFFIX}.log"
        )
    except launchers.DidNotStart as exc:
        pytest.fail(str(exc))
    yield f"http://{{host}}:{port}"
    launchers.stop(proc)
