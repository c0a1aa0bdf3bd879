"""Fault injection against the real services: the broker (Redis, RabbitMQ), the worker, the reporting database,
poison events, load.

The promise under test: an accepted complaint is never lost, and no event is ever counted twice.
"""

import concurrent.futures
import time

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import transaction
from django.test import Client
from django_tenants.utils import schema_context

from complaints import demo_data
from complaints.bulk import bulk_write
from complaints.models import Complaint, OutboxEvent
from complaints.signals import queue_projection
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.tenancy import connection, connections
from reporting.models import DeadLetter, ProjectionCheckpoint
from reporting.rebuild import compare_read_models
from tests.brokers import BROKERS
from tests.conftest import wait_for
from tests.factories import ComplaintFactory, api_token
from tests.reporting.helpers import stat

pytestmark = pytest.mark.pipeline


def _caught_up(schema="alpha") -> bool:
    with schema_context(schema):
        pending = (
            OutboxEvent.objects.count()
            and ProjectionCheckpoint.objects.using(READ_ALIAS).filter(id=1, pending_count=0).exists()
        )
        return bool(pending) and compare_read_models() == []


def _admin_connection():
    cfg = settings.DATABASES[WRITE_ALIAS]
    return psycopg.connect(host=cfg["HOST"], port=cfg["PORT"], user=cfg["USER"], dbname="postgres", autocommit=True)


@pytest.mark.parametrize("broker", BROKERS, indirect=True, scope="module")
def test_broker_down_while_submitting_then_the_read_side_catches_up(committed, celery_worker, broker):
    # Redis: the session's own server is stopped (the cache and the sweep's marks go with it). RabbitMQ: the
    # session's proxy to it is (tests/brokers.py); Redis stays up.
    broker.stop()
    try:
        with schema_context("alpha"):
            world = committed["alpha"]
            started = time.monotonic()
            accepted = [ComplaintFactory(actor=world.alice, category=world.categories["Billing"]) for _ in range(5)]
            # No broker retries in the request path: kombu's would sleep ~2 s per submission (10 s here).
            assert time.monotonic() - started < 2.5
            assert Complaint.objects.count() == 5
            assert stat("complaint_stats_by_day", "created_count") == 0  # nothing could be projected yet
    finally:
        broker.start()
    # The worker reconnects within a second and the sweep re-queues the tenant (events older than 2 s).
    wait_for(_caught_up, timeout=10, interval=0.25, message="catch-up within 10 s of the broker returning")
    with schema_context("alpha"):
        assert stat("complaint_stats_by_day", "created_count") == len(accepted) == 5


@pytest.mark.parametrize("broker", BROKERS, indirect=True, scope="module")
def test_worker_killed_mid_batch_and_restarted_leaves_exact_figures(committed, celery_worker, broker):
    usual_env = celery_worker.extra_env
    celery_worker.stop()
    with schema_context("alpha"):
        world = committed["alpha"]
        bulk_write(
            demo_data.generate(
                count=6000,
                months=3,
                categories=list(world.categories.values()),
                agents=[world.alice, world.bob],
                seed=3,
            )
        )
    # Many small batches, so a kill lands mid-way. On RabbitMQ with the sweep off: one message starts the
    # projection, and only RabbitMQ's redelivery of the task the killed worker had not acknowledged (late ack)
    # can finish it. Redis gives an unacknowledged task back after its visibility timeout (60 s): there the
    # sweep finishes it.
    # (The imported events are months old: only a threshold of decades keeps the sweep from re-queueing them.)
    sweep_off = {"PROJECTION_STALE_SECONDS": "1e9"} if broker.name == "rabbitmq" else {}
    celery_worker.extra_env = {**usual_env, "PROJECTION_BATCH_SIZE": "100", **sweep_off}
    if sweep_off:
        broker.purge()  # the messages queued by the import's commits
        queue_projection("alpha")
    celery_worker.start()
    try:

        def applied():
            with schema_context("alpha"):
                checkpoint = ProjectionCheckpoint.objects.using(READ_ALIAS).filter(id=1).first()
                return checkpoint and 0 < checkpoint.events_applied < 6000

        wait_for(applied, timeout=20, interval=0.01, message="the projector to be half-way")
        celery_worker.kill(9)
        with schema_context("alpha"):
            midway = ProjectionCheckpoint.objects.using(READ_ALIAS).get(id=1).events_applied
        assert 0 < midway < 6000
        celery_worker.start()
        wait_for(_caught_up, timeout=90, interval=0.5, message="catch-up after the restart")
        with schema_context("alpha"):
            assert stat("complaint_stats_by_day", "created_count") == 6000
            assert ProjectionCheckpoint.objects.using(READ_ALIAS).get(id=1).events_applied == 6000
    finally:
        celery_worker.stop()
        celery_worker.extra_env = usual_env
        celery_worker.start()


def test_reporting_database_unreachable_submissions_work_reports_503_then_catch_up(committed, celery_worker):
    name = settings.DATABASES[READ_ALIAS]["NAME"]
    with schema_context("alpha"):
        world = committed["alpha"]
        token = api_token(world.carol)
    with _admin_connection() as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
        connections[READ_ALIAS].close()
        try:
            with schema_context("alpha"):
                accepted = [ComplaintFactory(actor=world.alice, category=world.categories["Billing"]) for _ in range(3)]
                assert Complaint.objects.count() == 3
            connection.set_schema_to_public()
            response = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {token}").get(
                "/api/reports/summary/"
            )
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "reporting_unavailable"
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
            connections[READ_ALIAS].close()
    wait_for(_caught_up, timeout=60, interval=0.5, message="catch-up after the reporting database returned")
    with schema_context("alpha"):
        assert stat("complaint_stats_by_day", "created_count") == len(accepted)


def test_poison_event_is_dead_lettered_others_flow_and_admin_retry_applies_it(committed, celery_worker):
    with schema_context("alpha"):
        world = committed["alpha"]
        with transaction.atomic():  # the poison is in place before any worker can see the event
            good = ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
            event = OutboxEvent.objects.get(complaint_id=good.pk)
            broken = {**event.payload, "state": {k: v for k, v in event.payload["state"].items() if k != "status"}}
            OutboxEvent.objects.filter(pk=event.pk).update(payload=broken)
        later = [ComplaintFactory(actor=world.bob, category=world.categories["Delivery"]) for _ in range(2)]

        def dead_lettered():
            with schema_context("alpha"):
                return DeadLetter.objects.using(READ_ALIAS).filter(event_id=event.pk, dead=True).first()

        letter = wait_for(dead_lettered, timeout=30, interval=0.2, message="the dead letter")
        assert letter.attempts == settings.PROJECTION_MAX_ATTEMPTS and "KeyError" in letter.error
        wait_for(
            lambda: stat("complaint_stats_by_day", "created_count") == len(later),
            timeout=10,
            message="later events to flow past the dead letter",
        )
        # The operator fixes the payload in the admin and retries it there.
        admin = Client(HTTP_HOST="alpha.localhost")
        admin.force_login(world.ada)
        letter.payload = event.payload
        letter.save()
        response = admin.post(
            "/admin/reporting/deadletter/", {"action": "retry", "_selected_action": [letter.pk]}, follow=True
        )
        assert "1 applied" in response.content.decode()
        assert stat("complaint_stats_by_day", "created_count") == 3
        assert compare_read_models() == []


def test_concurrent_submitters_over_http_lose_and_double_nothing(committed, celery_worker, live_server_url):
    with schema_context("alpha"):
        world = committed["alpha"]
        tokens = [api_token(u) for u in (world.alice, world.bob, world.carol)]
        category = world.categories["Billing"].pk
    base = live_server_url.format(host="127.0.0.1")

    def submitter(token: str) -> list[str]:
        session = requests.Session()
        session.headers.update({"Host": "alpha.localhost", "Authorization": f"Token {token}"})
        references = []
        for _ in range(4):  # a count, not a time span: a loaded machine submits fewer in 6 s, never fewer here
            response = session.post(
                f"{base}/api/complaints/",
                json={
                    "title": "Load",
                    "description": "x",
                    "customer_name": "L",
                    "customer_email": "l@example.com",
                    "category": category,
                },
                timeout=30,
            )
            assert response.status_code == 201, response.text
            references.append(response.json()["reference"])
        return references

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        accepted = [ref for refs in pool.map(submitter, tokens * 2) for ref in refs]
    assert len(accepted) == len(set(accepted)) > 20
    with schema_context("alpha"):
        stored = list(Complaint.objects.values_list("reference", flat=True))
        assert sorted(stored) == sorted(accepted)  # every accepted complaint, exactly once
    wait_for(_caught_up, timeout=60, interval=0.5, message="drain")
    with schema_context("alpha"):
        assert stat("complaint_stats_by_day", "created_count") == len(accepted)
