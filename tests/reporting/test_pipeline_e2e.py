"""End to end through a real Celery worker on Redis: services -> outbox -> on_commit -> task -> read models."""

import pytest
from django_tenants.utils import schema_context

from complaints import services
from reporting.rebuild import compare_read_models
from tests.conftest import wait_for
from tests.factories import ComplaintFactory
from tests.reporting.helpers import stat

pytestmark = pytest.mark.pipeline


def test_a_submitted_complaint_reaches_the_read_models_within_5_seconds(committed, celery_worker):
    with schema_context("alpha"):
        world = committed["alpha"]
        ComplaintFactory(actor=world.alice, category=world.categories["Billing"], priority="high")
        wait_for(lambda: stat("complaint_stats_by_day", "created_count") == 1, timeout=5, message="projection")
        assert stat("complaint_status_counts", "count", status="new") == 1
        assert compare_read_models() == []


def test_reopen_and_recategorize_move_the_figures(committed, celery_worker):
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


def test_a_lost_broker_message_is_caught_up_by_the_sweep(committed, celery_worker, monkeypatch):
    monkeypatch.setattr("complaints.signals.current_app.send_task", lambda *a, **k: None)  # the message is lost
    with schema_context("beta"):
        world = committed["beta"]
        ComplaintFactory(actor=world.dave, category=world.categories["Support"])
        wait_for(lambda: stat("complaint_stats_by_day", "created_count") == 1, timeout=8, message="sweep")
        assert compare_read_models() == []
