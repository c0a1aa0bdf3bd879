"""The projector on committed data, called directly (no worker): exactly-once, rebuild, poison events."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from complaints import services
from complaints.models import OutboxEvent
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.tenancy import connection
from reporting import projector
from reporting.models import DeadLetter, ProjectionCheckpoint
from reporting.rebuild import compare_read_models, rebuild_read_models
from reporting.services import dead_letter_retry
from tests.factories import ComplaintFactory
from tests.reporting.helpers import read_model_snapshot, stat


@pytest.fixture
def in_alpha(committed, settings):
    settings.PROJECTION_MAX_ATTEMPTS = 3
    with schema_context("alpha"):
        yield committed["alpha"]


def _work(world, n=3):
    complaints = [ComplaintFactory(actor=world.alice, category=world.categories["Billing"]) for _ in range(n)]
    services.complaint_assign(complaint_id=complaints[0].pk, actor=world.alice, assignee=world.alice)
    services.complaint_comment(complaint_id=complaints[0].pk, actor=world.alice, body="On it")
    services.complaint_transition(complaint_id=complaints[0].pk, actor=world.alice, to_status="resolved")
    return complaints


def test_projection_equals_the_on_the_fly_truth(in_alpha):
    _work(in_alpha)
    result = projector.catch_up()
    assert result.applied == OutboxEvent.objects.count()
    assert compare_read_models() == []
    assert stat("complaint_stats_by_day", "created_count") == 3
    assert stat("complaint_stats_by_day", "resolved_count") == 1
    checkpoint = ProjectionCheckpoint.objects.using(READ_ALIAS).get()
    assert checkpoint.pending_count == 0 and checkpoint.caught_up_at is not None


def test_running_the_projector_again_changes_nothing(in_alpha):
    """A task that runs again (a crash after the projection commit, before the ack) counts nothing twice."""
    _work(in_alpha)
    projector.catch_up()
    before = read_model_snapshot()
    again = projector.catch_up()
    assert again.applied == 0
    assert read_model_snapshot() == before


def test_events_delivered_twice_are_skipped_by_version(in_alpha):
    _work(in_alpha)
    projector.catch_up()
    before = read_model_snapshot()
    # Rewind the checkpoint as if every event were delivered a second time.
    ProjectionCheckpoint.objects.using(READ_ALIAS).update(applied_snapshot="", batch_snapshot="")
    again = projector.catch_up()
    assert (again.applied, again.skipped) == (0, OutboxEvent.objects.count())
    assert read_model_snapshot() == before


def test_rebuild_then_later_events_apply_exactly_once(in_alpha):
    complaints = _work(in_alpha)
    stats = rebuild_read_models()
    assert stats["complaints"] == 3
    assert compare_read_models() == []
    assert projector.catch_up().applied == 0  # everything before the rebuild is in it
    services.complaint_transition(complaint_id=complaints[0].pk, actor=in_alpha.alice, to_status="in_progress")
    ComplaintFactory(actor=in_alpha.bob, category=in_alpha.categories["Delivery"])
    assert projector.catch_up().applied == 2
    assert compare_read_models() == []
    assert stat("agent_performance_summary", "reopened_count") == 1


def test_event_of_a_transaction_that_commits_late_is_not_skipped(in_alpha, worlds):
    """An event with a lower id whose transaction is still open must not be passed by the checkpoint, nor hold
    back the events committed after it."""
    import psycopg
    from django.conf import settings as dj
    from psycopg.types.json import Jsonb

    cfg = dj.DATABASES[WRITE_ALIAS]
    slow = psycopg.connect(host=cfg["HOST"], port=cfg["PORT"], user=cfg["USER"], dbname=cfg["NAME"])
    try:
        slow.execute("SET search_path = alpha")
        first = ComplaintFactory(actor=in_alpha.alice, category=in_alpha.categories["Billing"])
        # The slow transaction writes an event and stays open while a later transaction commits.
        state = OutboxEvent.objects.get(complaint_id=first.pk).payload["state"]
        slow.execute(
            "INSERT INTO complaints_outboxevent (event_type, complaint_id, complaint_version, payload, occurred_at) "
            "VALUES ('ComplaintDetailsChanged', %s, 2, %s, now())",
            [first.pk, Jsonb({"state": {**state, "priority": "urgent"}, "change": {}})],
        )
        ComplaintFactory(actor=in_alpha.alice, category=in_alpha.categories["Billing"])
        projector.catch_up()
        # Both committed complaints are applied, the slow transaction's event is not: it is still invisible.
        assert stat("complaint_stats_by_day", "created_count") == 2
        assert stat("complaint_stats_by_day", "created_count", priority="urgent") == 0
        slow.commit()
    finally:
        slow.close()
    projector.catch_up()
    assert stat("complaint_stats_by_day", "created_count") == 2
    assert stat("complaint_stats_by_day", "created_count", priority="urgent") == 1


def _poison(world):
    return OutboxEvent.objects.create(
        event_type="ComplaintCreated",
        complaint_id=999999,
        complaint_version=1,
        occurred_at=timezone.now(),
        payload={"state": {"reference": "C-X"}},
    )


def test_a_poison_event_is_retried_with_backoff_then_dead_lettered_and_later_events_flow(in_alpha, monkeypatch):
    monkeypatch.setattr(projector, "_backoff_seconds", lambda attempts: 0.0)
    poison = _poison(in_alpha)
    ComplaintFactory(actor=in_alpha.alice, category=in_alpha.categories["Billing"])
    first = projector.run_once()
    assert first.retry_after == 0.0 and first.applied == 0
    letter = DeadLetter.objects.using(READ_ALIAS).get(event_id=poison.pk)
    assert (letter.attempts, letter.dead) == (1, False) and "KeyError" in letter.error
    projector.run_once()
    last = projector.run_once()  # third attempt: PROJECTION_MAX_ATTEMPTS = 3
    letter.refresh_from_db()
    assert (letter.attempts, letter.dead) == (3, True)
    assert last.dead_lettered == 1 and last.applied >= 1
    assert stat("complaint_stats_by_day", "created_count") == 1  # the good complaint went through
    assert compare_read_models() == []


def test_a_failing_event_waits_for_its_backoff(in_alpha):
    _poison(in_alpha)
    projector.run_once()
    waiting = projector.run_once()
    assert waiting.retry_after == 0.5 and waiting.applied == 0
    assert DeadLetter.objects.using(READ_ALIAS).get().attempts == 1  # no attempt burnt while waiting


def test_admin_retry_applies_a_fixed_dead_letter_once(in_alpha, monkeypatch):
    monkeypatch.setattr(projector, "_backoff_seconds", lambda attempts: 0.0)
    complaint = ComplaintFactory(actor=in_alpha.alice, category=in_alpha.categories["Billing"])
    good = OutboxEvent.objects.get(complaint_id=complaint.pk)
    broken = dict(good.payload, state={k: v for k, v in good.payload["state"].items() if k != "priority"})
    OutboxEvent.objects.filter(pk=good.pk).update(payload=broken)
    for _ in range(3):
        projector.run_once()
    letter = DeadLetter.objects.using(READ_ALIAS).get(event_id=good.pk)
    assert letter.dead and stat("complaint_stats_by_day", "created_count") == 0
    assert dead_letter_retry(dead_letter_id=letter.pk) == "failed"  # cause not fixed yet
    letter.payload = good.payload  # the operator fixes the payload
    letter.save()
    assert dead_letter_retry(dead_letter_id=letter.pk) == "applied"
    assert dead_letter_retry(dead_letter_id=letter.pk) == "applied"  # idempotent: already resolved
    assert stat("complaint_stats_by_day", "created_count") == 1


def test_a_later_event_supersedes_a_dead_letter(in_alpha, monkeypatch):
    monkeypatch.setattr(projector, "_backoff_seconds", lambda attempts: 0.0)
    complaint = ComplaintFactory(actor=in_alpha.alice, category=in_alpha.categories["Billing"])
    created = OutboxEvent.objects.get(complaint_id=complaint.pk)
    OutboxEvent.objects.filter(pk=created.pk).update(payload={"state": {}})
    for _ in range(3):
        projector.run_once()
    services.complaint_transition(complaint_id=complaint.pk, actor=in_alpha.alice, to_status="in_progress")
    projector.catch_up()
    assert compare_read_models() == []  # the later event carried the whole state
    letter = DeadLetter.objects.using(READ_ALIAS).get(event_id=created.pk)
    before = read_model_snapshot()
    # The README promises "superseded": the later event already carried newer state, so nothing is applied
    # (not even parsed: the letter's payload is still broken).
    assert dead_letter_retry(dead_letter_id=letter.pk) == "superseded"
    assert read_model_snapshot() == before
    letter.refresh_from_db()
    assert letter.resolution == "superseded" and letter.resolved_at is not None
    connection.set_schema_to_public()
