"""Queries of the write side (real time): what the staff UI and the complaints API show."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from complaints.models import Category, Comment, Complaint, StatusHistory
from helpdesk.access import WORK_COMPLAINTS

SORTABLE = {
    "reference": "id",
    "title": "title",
    "status": "status",
    "priority": "priority",
    "category": "category__name",
    "assignee": "assignee__username",
    "created": "created_at",
    "updated": "updated_at",
}


def complaint_list(
    *,
    user,
    status: str = "",
    category: int | None = None,
    priority: str = "",
    assignee: str = "",
    q: str = "",
    sort: str = "-created",
) -> QuerySet[Complaint]:
    qs = Complaint.objects.select_related("category", "assignee")
    if status == "open":
        qs = qs.filter(status__in=["new", "in_progress", "on_hold"])
    elif status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category_id=category)
    if priority:
        qs = qs.filter(priority=priority)
    if assignee == "mine":
        qs = qs.filter(assignee=user)
    elif assignee == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    elif assignee.isdigit():
        qs = qs.filter(assignee_id=int(assignee))
    if q := q.strip():
        qs = qs.filter(
            Q(reference__iexact=q)
            | Q(title__icontains=q)
            | Q(customer_name__icontains=q)
            | Q(customer_email__icontains=q)
        )
    field = SORTABLE.get(sort.lstrip("-"), "created_at")
    direction = "-" if sort.startswith("-") else ""
    return qs.order_by(f"{direction}{field}", f"{direction}id")


def complaint_get(*, complaint_id: int) -> Complaint:
    """Raises Complaint.DoesNotExist (a 404) for an id of another tenant: its rows are not in this schema."""
    return Complaint.objects.select_related("category", "assignee", "created_by").get(pk=complaint_id)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "status" | "reply" | "note"
    who: str
    text: str
    from_status: str = ""
    to_status: str = ""


def complaint_timeline(*, complaint: Complaint) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(
            at=h.changed_at,
            kind="status",
            who=h.changed_by.username if h.changed_by else "system",
            text=h.note,
            from_status=h.get_from_status_display(),
            to_status=h.get_to_status_display(),
        )
        for h in StatusHistory.objects.filter(complaint=complaint).select_related("changed_by")
    ]
    entries += [
        TimelineEntry(
            at=c.created_at,
            kind="note" if c.internal else "reply",
            who=c.author.username if c.author else "system",
            text=c.body,
        )
        for c in Comment.objects.filter(complaint=complaint).select_related("author")
    ]
    return sorted(entries, key=lambda e: e.at)


def category_choices() -> QuerySet[Category]:
    return Category.objects.filter(active=True).order_by("name")


def agent_choices() -> QuerySet:
    """Active users who can work complaints."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__permissions__codename=WORK_COMPLAINTS.split(".")[1]) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )
