"""Domain events: the only thing the read side learns from the write side.

Every complaint event carries the complaint's projection-relevant state *after* the change (`state`), plus its
version, so a projector never needs to read the write database and can replace a complaint's old contribution
with its new one. Event-specific details go in `change`.
"""

from datetime import datetime

from django.utils import timezone

from complaints.models import Category, Complaint, EventType, OutboxEvent
from complaints.roles import user_display_name


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def complaint_state(complaint: Complaint) -> dict:
    return {
        "reference": complaint.reference,
        "status": complaint.status,
        "category_id": complaint.category_id,
        "category_name": complaint.category.name,
        "priority": complaint.priority,
        "assignee_id": complaint.assignee_id,
        "assignee_name": user_display_name(complaint.assignee),
        "created_at": _iso(complaint.created_at),
        "assigned_at": _iso(complaint.assigned_at),
        "first_response_at": _iso(complaint.first_response_at),
        "resolved_at": _iso(complaint.resolved_at),
        "closed_at": _iso(complaint.closed_at),
        "reopen_count": complaint.reopen_count,
    }


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
