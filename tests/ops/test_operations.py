import json
import logging

from django.test import Client
from django_tenants.utils import schema_context

from helpdesk.logging import JsonFormatter
from reporting import projector
from tests.factories import ComplaintFactory


def test_healthz_reports_every_dependency(committed):
    response = Client(HTTP_HOST="localhost").get("/healthz")
    body = response.json()
    assert set(body["checks"]) == {"write_database", "reporting_database", "redis", "projection_lag"}
    assert response.status_code == 200 and body["status"] == "ok"
    assert set(body["projection_lag_seconds"]) == {"alpha", "beta"}


def test_healthz_is_503_when_the_projection_lags(committed, settings):
    settings.PROJECTION_LAG_WARNING_SECONDS = -1  # any pending event counts as lagging
    with schema_context("alpha"):
        ComplaintFactory(actor=committed["alpha"].alice, category=committed["alpha"].categories["Billing"])
    response = Client(HTTP_HOST="alpha.localhost").get("/healthz")
    assert response.status_code == 503 and response.json()["checks"]["projection_lag"] is False


def test_metrics_expose_latency_lag_backlog_and_dead_letters(committed):
    client = Client(HTTP_HOST="localhost")
    client.get("/healthz")
    text = client.get("/metrics").content.decode()
    for name in (
        "helpdesk_request_seconds_bucket",
        'helpdesk_projection_lag_seconds{tenant="alpha"}',
        'helpdesk_outbox_pending_events{tenant="beta"}',
        'helpdesk_projection_dead_letters{tenant="alpha"}',
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
