"""Dashboards and reports from a real streaming replica of the reporting database (reporting.replicas).

The module creates a hot standby of this machine's PostgreSQL (scripts/replica.sh: pg_createcluster on a free
port, pg_basebackup -R from 127.0.0.1:5432), serves the test databases through gunicorn with
REPORTING_REPLICA_URLS pointing at it, and removes it at the end. That a read came from the replica is proved by
the replica's own statistics (pg_stat_user_tables counts the scans made on that server), never by the router's word.
The replica copies the whole cluster, so under pytest-xdist it also holds the other worker's databases: each
worker's server is pointed at its own database on it, and each module that needs one creates its own.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings
from django_tenants.utils import schema_context

from helpdesk import launchers
from helpdesk.databases import READ_ALIAS
from tests.conftest import OUTPUT, ROOT, WORKER_SUFFIX, wait_for
from tests.factories import ComplaintFactory, api_token
from tests.world import PASSWORD

pytestmark = pytest.mark.pipeline

BOUND = 4.0  # REPORTING_REPLICA_MAX_LAG_SECONDS of the server under test: a paused replica serves this long
RETRY = 0.5  # REPORTING_REPLICA_RETRY_SECONDS: a stopped replica is tried again this soon
PG_VERSION = subprocess.run(["pg_config", "--version"], capture_output=True, text=True).stdout.split()[1].split(".")[0]


class Replica:
    """A hot standby of the test cluster, on its own port."""

    def __init__(self, port: int):
        self.name = f"helpdesk_test_replica_{os.getpid()}"
        self.port = port
        self.database = settings.DATABASES[READ_ALIAS]["NAME"]

    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def query(self, sql: str, database: str | None = None):
        """One statement on a fresh connection (statistics are read as of now, not a cached snapshot)."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database or self.database, autocommit=True
        ) as conn:
            row = conn.execute(sql).fetchone()
            assert row is not None
            return row[0]

    def scans(self, schema: str) -> int:
        """Table and index scans made on the replica itself in the tenant's read models."""
        return self.query(
            "SELECT COALESCE(SUM(COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0)), 0) FROM pg_stat_user_tables "
            f"WHERE schemaname = '{schema}'"
        )

    def catch_up(self) -> None:
        """Wait until the replica has replayed everything the primary had written when this was called."""
        with psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres") as primary:
            row = primary.execute("SELECT pg_current_wal_lsn()").fetchone()
        assert row is not None
        lsn = row[0]
        wait_for(
            lambda: self.query(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn", "postgres"),
            timeout=60,
            interval=0.1,
            message="the replica to replay the primary's writes",
        )

    def pg_ctl(self, action: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, self.name, action, "-m", "fast"]
            if action == "stop"
            else ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, self.name, action],
            check=True,
            timeout=60,
        )


@pytest.fixture(scope="module")
def replica(django_db_setup):
    made = Replica(launchers.free_port())
    subprocess.run([ROOT / "scripts/replica.sh", "create", made.name, str(made.port)], check=True, timeout=600)
    yield made
    log = Path(f"/var/log/postgresql/postgresql-{PG_VERSION}-{made.name}.log")
    if log.exists():  # kept for a failure's post-mortem
        shutil.copy(log, OUTPUT / f"replica{WORKER_SUFFIX}.log")
    subprocess.run([ROOT / "scripts/replica.sh", "remove", made.name], check=False, timeout=120)


@pytest.fixture(scope="module")
def replica_server(replica, django_db_setup):
    """gunicorn on the test databases, reading dashboards and reports from the replica."""
    port = launchers.free_port()
    metrics_dir = OUTPUT / f"prometheus-{port}"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir()
    log_path = OUTPUT / f"gunicorn-replica{WORKER_SUFFIX}.log"
    log_path.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
        "HELPDESK_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "REPORTING_REPLICA_URLS": replica.url(),
        "REPORTING_REPLICA_MAX_LAG_SECONDS": str(BOUND),
        "REPORTING_REPLICA_RETRY_SECONDS": str(RETRY),
    }
    proc = launchers.start_gunicorn(["-c", "helpdesk/gunicorn.conf.py"], port=port, env=env, log_path=log_path)
    yield f"http://127.0.0.1:{port}", log_path
    launchers.stop(proc)


@pytest.fixture
def manager(committed, replica_server):
    """carol's API session on the replica-reading server, and a way to submit committed complaints in alpha."""
    base, log_path = replica_server
    with schema_context("alpha"):
        token = api_token(committed["alpha"].carol)
    session = requests.Session()
    session.headers.update({"Host": "alpha.localhost", "Authorization": f"Token {token}"})
    session.base = base  # type: ignore[attr-defined]
    session.log_path = log_path  # type: ignore[attr-defined]
    return session


def _logged_in(base: str, username: str) -> requests.Session:
    """A browser's session (cookie and CSRF token) on alpha, as `username`."""
    browser = requests.Session()
    browser.headers["Host"] = "alpha.localhost"
    browser.get(f"{base}/login/", timeout=30)
    answer = browser.post(
        f"{base}/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    return browser


def _submit(world, count: int) -> None:
    with schema_context("alpha"):
        for _ in range(count):
            ComplaintFactory(actor=world.alice, category=world.categories["Billing"])


def _report(session) -> dict:
    response = session.get(f"{session.base}/api/reports/daily/?period=7", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _received(answer: dict) -> int:
    return sum(day["received"] for day in answer["days"])


def _wait_received(session, count: int) -> dict:
    return wait_for(
        lambda: (answer := _report(session)) and _received(answer) == count and answer,
        timeout=30,
        interval=0.2,
        message=f"{count} complaints in the report",
    )


def test_figures_are_read_from_the_replica_and_metrics_show_its_lag(committed, celery_worker, manager, replica):
    _submit(committed["alpha"], 3)
    _wait_received(manager, 3)  # projected on the primary, replayed on the replica (or read from the primary)
    replica.catch_up()
    before = replica.scans("alpha")
    for _ in range(3):
        assert _received(_report(manager)) == 3
    # The replica's own counters moved: it answered (its statistics reach the view when each backend ends).
    wait_for(lambda: replica.scans("alpha") > before, timeout=10, interval=0.1, message="scans on the replica")
    browser = _logged_in(manager.base, "carol")
    before = replica.scans("alpha")
    page = browser.get(f"{manager.base}/dashboard/?period=30", timeout=30)
    assert page.status_code == 200 and "Last updated" in page.text
    live = browser.get(f"{manager.base}/dashboard/figures/?period=90", timeout=30)
    assert live.status_code == 200 and live.headers["ETag"]
    csv = browser.get(f"{manager.base}/dashboard/?period=7&csv=daily", timeout=30)
    assert csv.status_code == 200 and sum(int(row.split(",")[1]) for row in csv.text.splitlines()[1:]) == 3
    wait_for(lambda: replica.scans("alpha") > before, timeout=10, interval=0.1, message="the pages' scans")
    metrics = requests.get(f"{manager.base}/metrics", timeout=30).text
    assert f'helpdesk_reporting_replica_up{{replica="127.0.0.1:{replica.port}"}} 1.0' in metrics
    lag_line = next(line for line in metrics.splitlines() if line.startswith("helpdesk_reporting_replica_lag_seconds{"))
    assert float(lag_line.split()[-1]) < BOUND


def test_paused_replay_shows_its_age_then_falls_back_within_the_bound(committed, celery_worker, manager, replica):
    _submit(committed["alpha"], 2)
    _wait_received(manager, 2)
    replica.catch_up()
    replica.query("SELECT pg_wal_replay_pause()")
    paused = time.monotonic()
    try:
        _submit(committed["alpha"], 1)
        seen_old = []
        deadline = time.monotonic() + BOUND + 15
        while True:
            answer = _report(manager)
            since_pause = time.monotonic() - paused
            if _received(answer) == 3:  # from the primary (or a resumed replica): fresh
                assert answer["lag_seconds"] is not None and answer["lag_seconds"] < BOUND
                break
            # From the paused replica: the figures of before, saying how old they are, never beyond the bound.
            assert _received(answer) == 2
            assert answer["lag_seconds"] >= since_pause - 1.0, (answer["lag_seconds"], since_pause)
            assert answer["lag_seconds"] <= BOUND + 1.0, answer
            seen_old.append(answer["lag_seconds"])
            assert time.monotonic() < deadline, "never fell back to the primary"
            time.sleep(0.2)
        assert seen_old, "the paused replica never answered (was it within the bound at all?)"
        assert time.monotonic() - paused < BOUND + 5  # fell back once the replica was too far behind

        def replay_lag() -> float:
            metrics = requests.get(f"{manager.base}/metrics", timeout=30).text
            line = next(x for x in metrics.splitlines() if x.startswith("helpdesk_reporting_replica_lag_seconds{"))
            return float(line.split()[-1])

        # Its figures were already too old (its last confirmation predates its replay position); its replay lag
        # passes the bound too as the pause goes on, and metrics say so.
        wait_for(lambda: replay_lag() > BOUND, timeout=BOUND + 5, interval=0.2, message="replay lag over the bound")
        # The operator's view says the same: the replica holds an older checkpoint and is passed over.
        status = _projection_status(replica)
        replica_part = status.split(f"replica 127.0.0.1:{replica.port}: replay lag ", 1)[1]
        assert f"(bound {BOUND:g} s: passed over)" in replica_part.splitlines()[0]
        held, on_primary = next(line.split()[1:3] for line in replica_part.splitlines() if line.startswith("alpha "))
        assert int(held) < int(on_primary), status
    finally:
        replica.query("SELECT pg_wal_replay_resume()")


def _projection_status(replica: Replica) -> str:
    """`manage.py projection_status --schema alpha` as an operator runs it, with the replica configured."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
        "REPORTING_REPLICA_URLS": replica.url(),
        "REPORTING_REPLICA_MAX_LAG_SECONDS": str(BOUND),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "projection_status", "--schema", "alpha"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_projection_status_shows_each_replica_and_what_it_holds(committed, celery_worker, manager, replica):
    _submit(committed["alpha"], 2)
    _wait_received(manager, 2)
    replica.catch_up()
    status = _projection_status(replica)
    primary_line = next(line for line in status.splitlines() if line.startswith("alpha "))
    replica_part = status.split(f"replica 127.0.0.1:{replica.port}: replay lag ", 1)[1]
    assert f"(bound {BOUND:g} s: serving)" in replica_part.splitlines()[0]
    held, on_primary = next(line.split()[1:3] for line in replica_part.splitlines() if line.startswith("alpha "))
    assert held == on_primary == primary_line.split()[1]  # caught up: the same checkpoint on both


def test_stopped_replica_leaves_dashboards_answering_and_is_used_again_when_back(
    committed, celery_worker, manager, replica
):
    _submit(committed["alpha"], 2)
    _wait_received(manager, 2)
    replica.pg_ctl("stop")
    try:
        for _ in range(4):
            assert _received(_report(manager)) == 2  # from the primary, no 5xx
        health = requests.get(f"{manager.base}/healthz", timeout=30).json()
        assert health["reporting_replicas"] == {"configured": 1, "serving": 0}
        assert f"replica 127.0.0.1:{replica.port}: not serving (" in _projection_status(replica)
    finally:
        replica.pg_ctl("start")
    wait_for(lambda: replica.query("SELECT pg_is_in_recovery()"), timeout=30, message="the replica back")
    replica.catch_up()
    before = replica.scans("alpha")

    def served_by_replica() -> bool:
        assert _received(_report(manager)) == 2
        return replica.scans("alpha") > before

    wait_for(served_by_replica, timeout=30, interval=0.3, message="the replica used again")


def test_promoted_replica_is_refused_with_a_log_line(committed, celery_worker, manager, replica):
    # Last in the module: the replica is read-write afterwards (and removed at the end of the module).
    _submit(committed["alpha"], 1)
    replica.catch_up()
    replica.query("SELECT pg_promote()")
    wait_for(lambda: not replica.query("SELECT pg_is_in_recovery()"), timeout=30, message="the promotion")
    _submit(committed["alpha"], 1)  # the primary moves on; the promoted copy never sees it
    answer = _wait_received(manager, 2)
    assert answer["lag_seconds"] < BOUND
    log = manager.log_path.read_text()
    assert f"reporting replica 127.0.0.1:{replica.port} is not in recovery (promoted?): refused" in log


def test_a_malformed_replica_url_stops_the_start_with_its_reason():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
        "REPORTING_REPLICA_URLS": "postgres://postgres@127.0.0.1:5432/ok, mysql://root:s3cret@db:3306/reporting",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    reason = done.stderr.strip().splitlines()[-1]
    assert "REPORTING_REPLICA_URLS: replica 2 ('mysql://db:3306/reporting') is not a PostgreSQL URL" in reason
    assert "s3cret" not in done.stderr
