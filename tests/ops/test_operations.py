import json
import logging
from datetime import timedelta

from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from helpdesk.databases import READ_ALIAS
from helpdesk.logging import JsonFormatter
from reporting import projector
from tests.clock import install
from tests.factories import ComplaintFactory
from tests.reporting.helpers import project_everything


def test_healthz_reports_every_dependency_and_names_no_tenant_to_anonymous_callers(committed):
    response = Client(HTTP_HOST="localhost").get("/healthz")
    body = response.json()
    assert set(body["checks"]) == {"write_database", "reporting_database", "redis", "projection_lag", "sweep"}
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["projection"] == {"tenants": 2, "tenants_lagging": 0, "max_lag_seconds": 0.0}
    assert "projection_lag_seconds" not in body and b"alpha" not in response.content


def test_healthz_details_per_tenant_need_the_metrics_token(committed, settings):
    settings.METRICS_TOKEN = "s3cret-metrics"
    response = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION="Bearer s3cret-metrics").get("/healthz")
    assert set(response.json()["projection_lag_seconds"]) == {"alpha", "beta"}
    wrong = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION="Bearer guess").get("/healthz")
    assert "projection_lag_seconds" not in wrong.json()


def test_metrics_need_the_token_or_a_local_client(committed, settings):
    remote = Client(HTTP_HOST="localhost", REMOTE_ADDR="203.0.113.9")
    assert remote.get("/metrics").status_code == 401  # no token configured: loopback only
    assert Client(HTTP_HOST="localhost").get("/metrics").status_code == 200  # the test client is 127.0.0.1
    settings.METRICS_TOKEN = "s3cret-metrics"
    assert Client(HTTP_HOST="localhost").get("/metrics").status_code == 401  # a token is set: even local needs it
    with_token = Client(HTTP_HOST="localhost", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert with_token.get("/metrics").status_code == 200


def test_metrics_flag_pipeline_figures_that_cannot_be_read(committed):
    from django.db import connections

    reporting = connections[READ_ALIAS]
    original = reporting.settings_dict["PORT"]
    reporting.close()
    reporting.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        text = Client(HTTP_HOST="localhost").get("/metrics").content.decode()
    finally:
        reporting.close()
        reporting.settings_dict["PORT"] = original
    assert "helpdesk_pipeline_up 0.0" in text
    assert "helpdesk_projection_lag_seconds{" not in text  # absent, not stale
    assert "helpdesk_request_seconds_bucket" in text


def test_healthz_is_503_only_when_the_projection_really_lags(committed, monkeypatch, settings):
    """The default threshold (10 s): a fresh pending event is fine, one that has waited 30 s is not."""
    world = committed["alpha"]
    settings.METRICS_TOKEN = "ops-token"  # per-tenant figures
    client = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION="Bearer ops-token")
    with schema_context("alpha"):
        ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
    fresh = client.get("/healthz")
    assert fresh.status_code == 200 and 0 < fresh.json()["projection_lag_seconds"]["alpha"] < 10
    # An event that occurred 30 s ago and is still not applied: a real lag of 30 s.
    install(monkeypatch, timezone.now() - timedelta(seconds=30))
    with schema_context("alpha"):
        ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
    lagging = client.get("/healthz")
    assert lagging.status_code == 503 and lagging.json()["checks"]["projection_lag"] is False
    assert lagging.json()["projection_lag_seconds"]["alpha"] >= 30
    with schema_context("alpha"):
        project_everything()
    caught_up = client.get("/healthz")
    assert caught_up.status_code == 200 and caught_up.json()["projection_lag_seconds"]["alpha"] == 0


def test_metrics_expose_latency_lag_backlog_and_dead_letters(committed):
    client = Client(HTTP_HOST="localhost")
    client.get("/healthz")
    text = client.get("/metrics").content.decode()
    for name in (
        "helpdesk_request_seconds_bucket",
        'helpdesk_projection_lag_seconds{tenant="alpha"}',
        'helpdesk_outbox_pending_events{tenant="beta"}',
        'helpdesk_projection_dead_letters{tenant="alpha"}',
        "helpdesk_pipeline_up 1.0",
    ):
        assert name in text, name
    assert Client(HTTP_HOST="alpha.localhost").get("/metrics").status_code == 404  # not on tenant hosts


def test_pipeline_logs_are_structured(committed, caplog):
    with schema_context("alpha"):
        ComplaintFactory(actor=committed["alpha"].alice, category=committed["alpha"].categories["Billing"])
        with caplog.at_level(logging.INFO, logger="reporting.projector"):
            projector.catch_up()
    record = next(r for r in caplog.records if r.getMessage() == "projected events")
    line = json.loads(JsonFormatter().format(record))
    assert line["tenant"] == "alpha" and line["applied"] == 1 and line["outcome"] == "ok"
    assert {"first_event_id", "last_event_id", "duration_ms"} <= set(line)
