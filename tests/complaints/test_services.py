import itertools

import pytest
from django.utils import timezone

from complaints import services
from complaints.errors import DomainError, PermissionDenied, StaleComplaint
from complaints.models import (
    Category,
    Comment,
    Complaint,
    EventType,
    OutboxEvent,
    Status,
    StatusHistory,
)
from tests.factories import ComplaintFactory

ALL_MOVES = list(itertools.product(Status.values, Status.values))
# The lifecycle, written out independently of complaints.models.ALLOWED_TRANSITIONS: a change to either side
# has to be made on purpose in both.
LIFECYCLE = {
    ("new", "in_progress"),
    ("new", "on_hold"),
    ("new", "resolved"),
    ("new", "closed"),
    ("in_progress", "on_hold"),
    ("in_progress", "resolved"),
    ("on_hold", "in_progress"),
    ("on_hold", "resolved"),
    ("resolved", "closed"),
    ("resolved", "in_progress"),  # a reopen
}


def _counts():
    return (
        Complaint.objects.count(),
        StatusHistory.objects.count(),
        Comment.objects.count(),
        OutboxEvent.objects.count(),
    )


def _complaint_in(status, world):
    """A complaint brought to `status` through the services, along an allowed path."""
    paths = {
        Status.NEW: [],
        Status.IN_PROGRESS: [Status.IN_PROGRESS],
        Status.ON_HOLD: [Status.ON_HOLD],
        Status.RESOLVED: [Status.RESOLVED],
        Status.CLOSED: [Status.CLOSED],
    }
    complaint = ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
    for step in paths[status]:
        complaint = services.complaint_transition(complaint_id=complaint.pk, actor=world.alice, to_status=step)
    return complaint


def test_submit_writes_complaint_first_history_row_and_created_event(alpha):
    before = _counts()
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"], priority="high")
    assert _counts() == (before[0] + 1, before[1] + 1, before[2], before[3] + 1)
    assert complaint.reference.startswith("C-") and len(complaint.reference) == 8
    assert complaint.status == Status.NEW and complaint.version == 1
    history = StatusHistory.objects.get(complaint=complaint)
    assert (history.from_status, history.to_status, history.changed_by) == ("", Status.NEW, alpha.alice)
    event = OutboxEvent.objects.get(complaint_id=complaint.pk)
    assert event.event_type == EventType.COMPLAINT_CREATED and event.complaint_version == 1
    assert event.payload["state"]["priority"] == "high"
    assert event.payload["state"]["category_name"] == "Billing"
    assert event.tx_id > 0


def test_references_are_sequential_per_tenant(alpha):
    first = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    second = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    assert int(second.reference[2:]) == int(first.reference[2:]) + 1


def test_submit_refuses_an_inactive_category_and_writes_nothing(alpha):
    category = Category.objects.get(pk=alpha.categories["Product"].pk)  # not the shared world's instance
    category.active = False
    category.save()
    before = _counts()
    with pytest.raises(DomainError) as err:
        ComplaintFactory(actor=alpha.alice, category=category)
    assert err.value.field == "category"
    assert _counts() == before


@pytest.mark.parametrize(("from_status", "to_status"), sorted(LIFECYCLE))
def test_every_allowed_transition_moves_and_writes_history_and_event(alpha, from_status, to_status):
    complaint = _complaint_in(from_status, alpha)
    before = _counts()
    moved = services.complaint_transition(complaint_id=complaint.pk, actor=alpha.bob, to_status=to_status, note="why")
    assert moved.status == to_status and moved.version == complaint.version + 1
    assert _counts() == (before[0], before[1] + 1, before[2], before[3] + 1)
    row = StatusHistory.objects.filter(complaint=complaint).latest("changed_at", "id")
    assert (row.from_status, row.to_status, row.changed_by, row.note) == (from_status, to_status, alpha.bob, "why")
    event = OutboxEvent.objects.filter(complaint_id=complaint.pk).latest("id")
    assert event.event_type == EventType.COMPLAINT_STATUS_CHANGED
    assert event.payload["change"] == {"from_status": from_status, "to_status": to_status}


@pytest.mark.parametrize(("from_status", "to_status"), [m for m in ALL_MOVES if m not in LIFECYCLE])
def test_every_forbidden_transition_raises_and_changes_nothing(alpha, from_status, to_status):
    complaint = _complaint_in(from_status, alpha)
    before = _counts()
    with pytest.raises(DomainError) as err:
        services.complaint_transition(complaint_id=complaint.pk, actor=alpha.alice, to_status=to_status)
    assert err.value.code == "invalid_transition"
    assert _counts() == before
    complaint.refresh_from_db()
    assert complaint.status == from_status


def test_reopen_clears_resolved_at_and_counts_the_reopen(alpha):
    complaint = _complaint_in(Status.RESOLVED, alpha)
    assert complaint.resolved_at is not None
    reopened = services.complaint_transition(complaint_id=complaint.pk, actor=alpha.alice, to_status=Status.IN_PROGRESS)
    assert reopened.resolved_at is None and reopened.reopen_count == 1


def test_close_sets_closed_at_and_closed_is_final(alpha):
    complaint = _complaint_in(Status.CLOSED, alpha)
    assert complaint.closed_at is not None and complaint.allowed_transitions() == ()


def test_a_stale_version_is_refused_and_changes_nothing(alpha):
    complaint = _complaint_in(Status.NEW, alpha)
    services.complaint_transition(complaint_id=complaint.pk, actor=alpha.bob, to_status=Status.IN_PROGRESS)
    before = _counts()
    with pytest.raises(StaleComplaint):
        services.complaint_transition(
            complaint_id=complaint.pk, actor=alpha.alice, to_status=Status.ON_HOLD, expected_version=complaint.version
        )
    assert _counts() == before


def test_agent_may_take_a_complaint_but_not_give_it_to_someone_else(alpha):
    complaint = _complaint_in(Status.NEW, alpha)
    taken = services.complaint_assign(complaint_id=complaint.pk, actor=alpha.alice, assignee=alpha.alice)
    assert taken.assignee == alpha.alice and taken.assigned_at is not None
    before = _counts()
    with pytest.raises(PermissionDenied):
        services.complaint_assign(complaint_id=complaint.pk, actor=alpha.alice, assignee=alpha.bob)
    assert _counts() == before


def test_an_agent_may_not_take_or_work_a_complaint_assigned_to_another_agent(alpha):
    complaint = _complaint_in(Status.NEW, alpha)
    services.complaint_assign(complaint_id=complaint.pk, actor=alpha.bob, assignee=alpha.bob)
    before = _counts()
    attempts = {
        "take": lambda: services.complaint_assign(complaint_id=complaint.pk, actor=alpha.alice, assignee=alpha.alice),
        "move": lambda: services.complaint_transition(complaint_id=complaint.pk, actor=alpha.alice, to_status="closed"),
        "recategorize": lambda: services.complaint_recategorize(
            complaint_id=complaint.pk, actor=alpha.alice, priority="urgent"
        ),
        "edit": lambda: services.complaint_update_details(complaint_id=complaint.pk, actor=alpha.alice, title="Mine"),
    }
    for name, attempt in attempts.items():
        with pytest.raises(PermissionDenied):
            attempt()
        assert _counts() == before, f"alice's refused {name} wrote something"
    complaint.refresh_from_db()
    assert (complaint.assignee_id, complaint.status, complaint.priority) == (alpha.bob.pk, "new", "medium")


def test_an_agent_may_not_reply_publicly_on_another_agents_complaint_but_may_leave_a_note(alpha):
    """Issue 26 #10: a public reply set another agent's complaint's first response."""
    complaint = _complaint_in(Status.NEW, alpha)
    services.complaint_assign(complaint_id=complaint.pk, actor=alpha.bob, assignee=alpha.bob)
    before = _counts()
    with pytest.raises(PermissionDenied):
        services.complaint_comment(complaint_id=complaint.pk, actor=alpha.alice, body="Hi, Alice here")
    assert _counts() == before
    complaint.refresh_from_db()
    assert complaint.first_response_at is None and complaint.version == 2
    services.complaint_comment(complaint_id=complaint.pk, actor=alpha.alice, body="FYI", internal=True)
    complaint.refresh_from_db()
    assert complaint.first_response_at is None  # a note answers nobody
    services.complaint_comment(complaint_id=complaint.pk, actor=alpha.carol, body="Manager here")  # managers may
    services.complaint_comment(complaint_id=complaint.pk, actor=alpha.bob, body="Bob here")  # the assignee may
    authors = list(
        Comment.objects.filter(complaint=complaint).order_by("id").values_list("author__username", "internal")
    )
    assert authors == [("alice", True), ("carol", False), ("bob", False)]


def test_an_agent_may_reply_on_an_unassigned_complaint(alpha):
    complaint = _complaint_in(Status.NEW, alpha)
    services.complaint_comment(complaint_id=complaint.pk, actor=alpha.bob, body="On it")
    complaint.refresh_from_db()
    assert complaint.first_response_at is not None


def test_manager_may_assign_anyone_and_the_event_names_the_agent(alpha):
    complaint = _complaint_in(Status.NEW, alpha)
    services.complaint_assign(complaint_id=complaint.pk, actor=alpha.carol, assignee=alpha.bob)
    event = OutboxEvent.objects.filter(complaint_id=complaint.pk).latest("id")
    assert event.event_type == EventType.COMPLAINT_ASSIGNED
    assert event.payload["state"]["assignee_id"] == alpha.bob.pk
    assert event.payload["state"]["assignee_name"] == "Bob"


def test_first_public_reply_sets_first_response_but_an_internal_note_does_not(alpha):
    complaint = _complaint_in(Status.NEW, alpha)
    services.complaint_comment(complaint_id=complaint.pk, actor=alpha.alice, body="note", internal=True)
    complaint.refresh_from_db()
    assert complaint.first_response_at is None
    services.complaint_comment(complaint_id=complaint.pk, actor=alpha.alice, body="Hello!")
    complaint.refresh_from_db()
    first = complaint.first_response_at
    assert first is not None
    services.complaint_comment(complaint_id=complaint.pk, actor=alpha.alice, body="Again")
    complaint.refresh_from_db()
    assert complaint.first_response_at == first
    types = list(OutboxEvent.objects.filter(complaint_id=complaint.pk).values_list("event_type", flat=True))
    assert types == ["ComplaintCreated", "ComplaintCommented", "ComplaintFirstResponse", "ComplaintCommented"]
    assert Comment.objects.filter(complaint=complaint).count() == 3


def test_empty_comment_is_refused_and_writes_nothing(alpha):
    complaint = _complaint_in(Status.NEW, alpha)
    before = _counts()
    with pytest.raises(DomainError):
        services.complaint_comment(complaint_id=complaint.pk, actor=alpha.alice, body="   ")
    assert _counts() == before


def test_recategorize_changes_category_and_priority_with_one_event(alpha):
    complaint = _complaint_in(Status.NEW, alpha)
    before = _counts()
    changed = services.complaint_recategorize(
        complaint_id=complaint.pk, actor=alpha.alice, category=alpha.categories["Delivery"], priority="urgent"
    )
    assert (changed.category, changed.priority) == (alpha.categories["Delivery"], "urgent")
    assert _counts() == (before[0], before[1], before[2], before[3] + 1)
    event = OutboxEvent.objects.filter(complaint_id=complaint.pk).latest("id")
    assert event.payload["change"]["priority"] == ["medium", "urgent"]
    # No change, no event.
    services.complaint_recategorize(complaint_id=complaint.pk, actor=alpha.alice, priority="urgent")
    assert _counts() == (before[0], before[1], before[2], before[3] + 1)


def test_update_details_changes_title_with_an_event(alpha):
    complaint = _complaint_in(Status.NEW, alpha)
    changed = services.complaint_update_details(complaint_id=complaint.pk, actor=alpha.alice, title="New title")
    assert changed.title == "New title" and changed.updated_at <= timezone.now()
    assert OutboxEvent.objects.filter(complaint_id=complaint.pk).latest("id").payload["change"] == {"fields": ["title"]}


def test_only_admins_manage_categories(alpha):
    with pytest.raises(PermissionDenied):
        services.category_save(actor=alpha.carol, name="Returns")
    category = services.category_save(actor=alpha.ada, name="Returns")
    assert category.pk and OutboxEvent.objects.filter(event_type="CategoryChanged").count() == 1
    with pytest.raises(DomainError):
        services.category_save(actor=alpha.ada, name="returns")


def test_events_are_queued_only_after_commit(alpha, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("complaints.signals.current_app.send_task", lambda name, **kw: sent.append((name, kw)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
        assert sent == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [("reporting.tasks.project_tenant", {"args": ["alpha"], "headers": {"_schema_name": "alpha"}})]


def test_a_dead_broker_at_commit_time_does_not_fail_the_submission(
    alpha, django_capture_on_commit_callbacks, monkeypatch
):
    def refuse(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr("complaints.signals.current_app.send_task", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    assert Complaint.objects.filter(pk=complaint.pk).exists()


def test_complaint_update_changes_details_and_category_together_or_not_at_all(alpha):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"], title="Old title")
    retired = services.category_save(actor=alpha.ada, name="Retired", active=False)
    events = OutboxEvent.objects.count()
    with pytest.raises(DomainError):
        services.complaint_update(
            complaint_id=complaint.pk, actor=alpha.alice, title="New title", category=retired, expected_version=1
        )
    complaint.refresh_from_db()
    assert (complaint.title, complaint.category_id, complaint.version) == (
        "Old title",
        alpha.categories["Billing"].pk,
        1,
    )
    assert OutboxEvent.objects.count() == events
    updated = services.complaint_update(
        complaint_id=complaint.pk,
        actor=alpha.alice,
        title="New title",
        category=alpha.categories["Delivery"],
        priority="high",
        expected_version=1,
    )
    assert (updated.title, updated.category_id, updated.priority, updated.version) == (
        "New title",
        alpha.categories["Delivery"].pk,
        "high",
        3,
    )
    assert OutboxEvent.objects.count() == events + 2
