"""Optimistic concurrency under real contention: many agents acting on one complaint at the same moment."""

import threading

from django_tenants.utils import schema_context

from complaints import services
from complaints.errors import StaleComplaint
from complaints.models import Complaint, OutboxEvent, StatusHistory
from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connection, connections
from tests import oracle
from tests.factories import ComplaintFactory
from tests.reporting.helpers import project_everything, stat

TARGETS = ("in_progress", "on_hold", "resolved", "closed")


def test_twenty_threads_moving_one_complaint_from_one_version_exactly_one_wins(committed):
    world = committed["alpha"]
    with schema_context("alpha"):
        complaint = ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
    assert complaint.version == 1
    start = threading.Barrier(20)
    outcomes: dict[int, str] = {}

    def attempt(i: int) -> None:
        try:
            connection.set_tenant(world.tenant)  # this thread's own connection
            start.wait(timeout=30)
            services.complaint_transition(
                complaint_id=complaint.pk, actor=world.alice, to_status=TARGETS[i % 4], expected_version=1
            )
            outcomes[i] = "won"
        except StaleComplaint:
            outcomes[i] = "stale"
        except Exception as exc:  # anything else is a failure the assertion below shows
            outcomes[i] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["stale"] * 19 + ["won"], outcomes
    winner = TARGETS[next(i for i, outcome in outcomes.items() if outcome == "won") % 4]

    with schema_context("alpha"):
        moved = Complaint.objects.get(pk=complaint.pk)
        assert (moved.status, moved.version) == (winner, 2)
        assert list(StatusHistory.objects.filter(complaint=moved).values_list("from_status", "to_status")) == [
            ("", "new"),
            ("new", winner),
        ]
        assert list(OutboxEvent.objects.filter(complaint_id=moved.pk).values_list("event_type", flat=True)) == [
            "ComplaintCreated",
            "ComplaintStatusChanged",
        ]
        project_everything()
        assert stat("complaint_status_counts", "count") == 1
        assert stat("complaint_status_counts", "count", status=winner) == 1
        assert stat("complaint_stats_by_day", "created_count") == 1
        with connections[READ_ALIAS].cursor() as cursor:
            stored = oracle.stored_read_models(cursor)
        assert oracle.read_model_differences(oracle.read_models(oracle.snapshot()), stored) == []
