"""Domain events: the only thing the read side learns from the write side.

Every complaint event carries the complaint's projection-relevant state *after* the change (`state`), plus its
version, so a projector never needs to read the write database and can replace a complaint's old contribution
with its new one. Event-specific details go in `change`.
"""

from django.utils import timezone

from complaints.contract import complaint_state
from complaints.models import Category, Complaint, EventType, OutboxEvent
from complaints.roles import user_display_name


def complaint_event_record(*, complaint: Complaint, event_type: str, actor=None, **change) -> OutboxEvent:
    """Record an event for a change just made to `complaint` (call inside the service's transaction)."""
    return OutboxEvent.objects.create(
        event_type=event_type,
        complaint_id=complaint.pk,
        complaint_version=complaint.version,
        occurred_at=complaint.updated_at,
        payload={
            "state": complaint_state(complaint),
            "change": change,
            "actor_id": actor.pk if actor else None,
        },
    )


def category_event_record(*, category: Category) -> OutboxEvent:
    return OutboxEvent.objects.create(
        event_type=EventType.CATEGORY_CHANGED,
        occurred_at=timezone.now(),
        payload={"category_id": category.pk, "name": category.name, "active": category.active},
    )


def agent_event_record(*, user) -> OutboxEvent:
    return OutboxEvent.objects.create(
        event_type=EventType.AGENT_CHANGED,
        occurred_at=timezone.now(),
        payload={"agent_id": user.pk, "name": user_display_name(user)},
    )
