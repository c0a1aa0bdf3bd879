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


def test_bulk_writes_and_submissions_at_the_same_moment_never_share_an_id_or_a_reference(committed):
    """A bulk write (seed, import) takes its ids and references while other writers draw from the same
    sequences: here two bulk writes in small chunks and a stream of submissions, all at once."""
    from complaints import demo_data
    from complaints.bulk import bulk_write

    world = committed["alpha"]
    with schema_context("alpha"):
        categories, agents = [world.categories["Billing"]], [world.alice]
        before = Complaint.objects.count()
    start = threading.Barrier(3)
    outcomes: dict[str, str] = {}

    def seed(name: str, seed: int) -> None:
        try:
            connection.set_tenant(world.tenant)
            start.wait(timeout=30)
            complaints = demo_data.generate(count=400, months=1, categories=categories, agents=agents, seed=seed)
            bulk_write(complaints, chunk_size=5)  # 80 reservations each, racing the other writers
            outcomes[name] = "ok"
        except Exception as exc:
            outcomes[name] = repr(exc)
        finally:
            connections.close_all()

    def submit() -> None:
        try:
            connection.set_tenant(world.tenant)
            start.wait(timeout=30)
            for _ in range(60):
                ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
            outcomes["submit"] = "ok"
        except Exception as exc:
            outcomes["submit"] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=seed, args=("a", 1)), threading.Thread(target=seed, args=("b", 2))]
    threads.append(threading.Thread(target=submit))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes == {"a": "ok", "b": "ok", "submit": "ok"}
    with schema_context("alpha"):
        rows = Complaint.objects.values_list("id", "reference")
        assert len(rows) == before + 860
        assert len({pk for pk, _ in rows}) == len({ref for _, ref in rows}) == before + 860
        imported = OutboxEvent.objects.filter(event_type="ComplaintImported")
        assert imported.count() == imported.values("complaint_id").distinct().count() == 800
