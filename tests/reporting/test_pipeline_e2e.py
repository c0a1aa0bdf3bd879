"""End to end through a real Celery worker, on each broker: services -> outbox -> on_commit -> task -> read models.

The worker here runs without its safety net (the sweep re-queues only events older than an hour), so only the
on-commit hook can bring an event to the read models: these tests fail if the hook is removed, as
test_without_the_on_commit_hook_nothing_arrives shows. The sweep has its own module (test_pipeline_sweep.py).
"""

import time

import pytest
from django_tenants.utils import schema_context

from complaints import services
from reporting.rebuild import compare_read_models
from tests.brokers import BROKERS
from tests.conftest import wait_for
from tests.factories import ComplaintFactory
from tests.reporting.helpers import stat

# On each broker (tests/brokers.py).
pytestmark = [pytest.mark.pipeline, pytest.mark.parametrize("broker", BROKERS, indirect=True, scope="module")]


def test_a_submitted_complaint_reaches_the_read_models_within_5_seconds(committed, hook_only_worker):
    with schema_context("alpha"):
        world = committed["alpha"]
        ComplaintFactory(actor=world.alice, category=world.categories["Billing"], priority="high")
        wait_for(lambda: stat("complaint_stats_by_day", "created_count") == 1, timeout=5, message="projection")
        assert stat("complaint_status_counts", "count", status="new") == 1
        assert compare_read_models() == []


def test_reopen_and_recategorize_move_the_figures(committed, hook_only_worker):
    with schema_context("alpha"):
        world = committed["alpha"]
        complaint = ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
        services.complaint_assign(complaint_id=complaint.pk, actor=world.alice, assignee=world.alice)
        services.complaint_transition(complaint_id=complaint.pk, actor=world.alice, to_status="resolved")
        wait_for(lambda: stat("complaint_stats_by_day", "resolved_count") == 1, timeout=5, message="resolved")
        assert stat("agent_workload", "open_count") == 0

        services.complaint_transition(complaint_id=complaint.pk, actor=world.alice, to_status="in_progress")
        wait_for(lambda: stat("agent_performance_summary", "reopened_count") == 1, timeout=5, message="reopen")
        assert stat("complaint_stats_by_day", "resolved_count") == 0
        assert stat("agent_workload", "open_count", agent_id=world.alice.pk) == 1

        delivery = world.categories["Delivery"]
        services.complaint_recategorize(
            complaint_id=complaint.pk, actor=world.alice, category=delivery, priority="urgent"
        )
        wait_for(
            lambda: stat("complaint_stats_by_day", "created_count", category_id=delivery.pk) == 1,
            timeout=5,
            message="recategorize",
        )
        assert stat("complaint_stats_by_day", "created_count", category_id=world.categories["Billing"].pk) == 0
        assert (
            stat("complaint_status_counts", "count", status="in_progress", category_id=delivery.pk, priority="urgent")
            == 1
        )
        assert compare_read_models() == []


def test_without_the_on_commit_hook_nothing_arrives(committed, hook_only_worker, monkeypatch):
    """The negative of the tests above: with the hook's message dropped, this worker never projects."""
    monkeypatch.setattr("complaints.signals.current_app.send_task", lambda *a, **k: None)
    with schema_context("alpha"):
        world = committed["alpha"]
        ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
        time.sleep(3)  # longer than the sweep would need (0.5 s period + 2 s threshold) were it on
        assert stat("complaint_stats_by_day", "created_count") == 0
        assert stat("complaint_status_counts", "count") == 0
