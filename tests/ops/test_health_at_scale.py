"""/healthz and /metrics over many tenants: their cost does not grow with idle tenants, and what they report is
still right (a stuck tenant turns the verdict red, with or without the beat; dead letters; a stopped sweep)."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from benchmarks.scenarios.health import bench_probes, per_tenant_overview, registered_tenants
from complaints.contract import PENDING_TENANTS_KEY
from complaints.models import OutboxEvent
from helpdesk import ops
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.redis import redis_client
from reporting import projector, sweep
from reporting.models import DeadLetter
from reporting.services import dead_letter_retry
from reporting.status import stored_attention
from tests.clock import install
from tests.factories import ComplaintFactory

TOKEN = "ops-token"


@pytest.fixture
def probe(committed, settings):
    """A caught-up pair of tenants, no sweep marks, and a client with the metrics token."""
    settings.METRICS_TOKEN = TOKEN
    for schema in ("alpha", "beta"):
        with schema_context(schema):
            projector.catch_up()
    redis_client().delete(PENDING_TENANTS_KEY, sweep.BEHIND_KEY, sweep.FULL_SWEEP_KEY)
    yield Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    redis_client().delete(PENDING_TENANTS_KEY, sweep.BEHIND_KEY, sweep.FULL_SWEEP_KEY)


def _statements(client, path: str) -> tuple[int, int]:
    """Statements of one request on (write, reporting) database, the connection's search_path resets aside."""
    with (
        CaptureQueriesContext(connections[WRITE_ALIAS]) as write,
        CaptureQueriesContext(connections[READ_ALIAS]) as read,
    ):
        assert client.get(path).status_code == 200

    def work(captured):
        return len([q for q in captured if not q["sql"].startswith("SET search_path")])

    return work(write.captured_queries), work(read.captured_queries)


def _metric(text: str, name: str, tenant: str) -> float:
    prefix = f'{name}{{tenant="{tenant}"}} '
    return float(next(line for line in text.splitlines() if line.startswith(prefix))[len(prefix) :])


def test_healthz_and_metrics_cost_the_same_statements_with_2_or_12_tenants(probe):
    two = {path: _statements(probe, path) for path in ("/healthz", "/metrics")}
    with registered_tenants(template="alpha", idle=10, busy=0) as clones:
        twelve = {path: _statements(probe, path) for path in ("/healthz", "/metrics")}
        body = probe.get("/healthz").json()
        assert body["projection"] == {"tenants": 12, "tenants_lagging": 0, "max_lag_seconds": 0.0}
        assert set(body["projection_lag_seconds"]) == {"alpha", "beta", *clones}
        text = probe.get("/metrics").content.decode()
        assert _metric(text, "helpdesk_outbox_pending_events", clones[-1]) == 0.0  # every tenant still has its series
        # The way it was, one tenant after another: what this test would catch.
        ops_overview = ops._projection_overview
        ops._projection_overview = per_tenant_overview
        try:
            old = _statements(probe, "/healthz")
        finally:
            ops._projection_overview = ops_overview
    assert twelve == two
    # Domain lookup, SELECT 1 on each database, tenant list, status table; /metrics has no SELECT 1.
    assert two == {"/healthz": (3, 2), "/metrics": (2, 1)}
    assert sum(old) > sum(twelve["/healthz"]) + 10 * 3  # several statements per idle tenant


def test_an_idle_tenant_costs_the_probes_no_read_of_its_schema_and_the_sweep_no_write(probe):
    with registered_tenants(template="alpha", idle=3, busy=0) as clones:
        with (
            CaptureQueriesContext(connections[WRITE_ALIAS]) as write,
            CaptureQueriesContext(connections[READ_ALIAS]) as read,
        ):
            assert probe.get("/healthz").status_code == 200 and probe.get("/metrics").status_code == 200
        probes = [q["sql"] for q in write.captured_queries + read.captured_queries]
        assert not any(clone in sql for clone in clones for sql in probes)
        with (
            CaptureQueriesContext(connections[WRITE_ALIAS]) as write,
            CaptureQueriesContext(connections[READ_ALIAS]) as read,
        ):
            sweep.sweep_due(["alpha", "beta", *clones])  # the beat's full pass over every tenant
        swept = [q["sql"] for q in write.captured_queries + read.captured_queries]
        assert any(clones[0] in sql for sql in swept)  # it did look at them
        assert not any(sql.lstrip().upper().startswith(("UPDATE", "INSERT", "WITH", "DELETE")) for sql in swept)
        assert not set(clones) & set(stored_attention())


def test_a_stuck_tenant_turns_healthz_red_with_or_without_the_beat(probe, committed, monkeypatch):
    """Events waiting 30 s: seen live through the on-commit mark while no sweep runs (beat dead), and through the
    status table once the sweep recorded them and the marks are gone (Redis lost them)."""
    world = committed["alpha"]
    monkeypatch.setattr("complaints.signals.current_app.send_task", lambda *a, **k: None)  # no worker either
    install(monkeypatch, timezone.now() - timedelta(seconds=30))
    with schema_context("alpha"):
        ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
    monkeypatch.undo()
    with registered_tenants(template="alpha", idle=5, busy=0):
        marked_only = probe.get("/healthz")
        assert marked_only.status_code == 503 and marked_only.json()["checks"]["projection_lag"] is False
        assert marked_only.json()["projection"]["tenants_lagging"] == 1
        assert marked_only.json()["projection_lag_seconds"]["alpha"] >= 30
        assert redis_client().smembers(PENDING_TENANTS_KEY) == {b"alpha"}
        sweep.sweep_due(["alpha", "beta"])  # records alpha's figures (status table) and marks it behind
        redis_client().delete(PENDING_TENANTS_KEY, sweep.BEHIND_KEY)  # the marks lost
        stored_only = probe.get("/healthz")
        assert stored_only.status_code == 503 and stored_only.json()["projection_lag_seconds"]["alpha"] >= 30
        text = probe.get("/metrics").content.decode()
        assert _metric(text, "helpdesk_outbox_pending_events", "alpha") == 1.0
        assert _metric(text, "helpdesk_projection_lag_seconds", "alpha") >= 30
        assert _metric(text, "helpdesk_outbox_pending_events", "beta") == 0.0
        with schema_context("alpha"):
            projector.catch_up()  # a worker again: the projector publishes pending = 0
        caught_up = probe.get("/healthz")
        assert caught_up.status_code == 200 and caught_up.json()["projection_lag_seconds"]["alpha"] == 0


def test_dead_letters_show_until_retried(probe, committed, monkeypatch, settings):
    monkeypatch.setattr(projector, "_backoff_seconds", lambda attempts: 0.0)
    world = committed["beta"]
    with schema_context("beta"):
        complaint = ComplaintFactory(actor=world.dave, category=world.categories["Support"])
        good = OutboxEvent.objects.get(complaint_id=complaint.pk)
        OutboxEvent.objects.filter(pk=good.pk).update(payload={"state": {}})
        for _ in range(settings.PROJECTION_MAX_ATTEMPTS):
            projector.run_once()
        letter = DeadLetter.objects.using(READ_ALIAS).get(event_id=good.pk)
        assert letter.dead
    redis_client().delete(PENDING_TENANTS_KEY)  # from the status table alone
    text = probe.get("/metrics").content.decode()
    assert _metric(text, "helpdesk_projection_dead_letters", "beta") == 1.0
    assert _metric(text, "helpdesk_projection_dead_letters", "alpha") == 0.0
    with schema_context("beta"):
        letter.payload = good.payload
        letter.save()
        assert dead_letter_retry(dead_letter_id=letter.pk) == "applied"
    text = probe.get("/metrics").content.decode()
    assert _metric(text, "helpdesk_projection_dead_letters", "beta") == 0.0


def test_a_stopped_sweep_turns_healthz_red(probe):
    sweep.sweep_due(["alpha", "beta"])
    fresh = probe.get("/healthz")
    assert fresh.status_code == 200 and fresh.json()["checks"]["sweep"] is True
    assert 0 <= fresh.json()["sweep_age_seconds"] < 5
    cache.set(sweep.SWEPT_KEY, timezone.now() - timedelta(seconds=60), timeout=None)  # the beat died a minute ago
    stopped = probe.get("/healthz")
    assert stopped.status_code == 503 and stopped.json()["checks"] == {
        "write_database": True,
        "reporting_database": True,
        "redis": True,
        "projection_lag": True,
        "sweep": False,
    }
    text = probe.get("/metrics").content.decode()
    (age,) = [line for line in text.splitlines() if line.startswith("helpdesk_projection_sweep_age_seconds ")]
    assert float(age.split()[1]) >= 60


def test_with_redis_unable_to_say_every_tenant_is_read_live(probe, committed, monkeypatch):
    monkeypatch.setattr("reporting.health.tenants_with_work", lambda: None)
    world = committed["alpha"]
    monkeypatch.setattr("complaints.signals.queue_projection", lambda schema: None)  # the mark never made
    with schema_context("alpha"):
        ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
    text = probe.get("/metrics").content.decode()
    assert _metric(text, "helpdesk_outbox_pending_events", "alpha") == 1.0


def test_the_benchmark_scenario_runs_and_both_ways_agree(committed):
    result = bench_probes(template="alpha", idle=6, busy=2, repetitions=2)
    assert result["tenants"] == 10
    assert result["now"]["healthz"]["queries"] < result["per_tenant"]["healthz"]["queries"]
    assert result["now"]["metrics"]["queries"] < result["per_tenant"]["metrics"]["queries"]
