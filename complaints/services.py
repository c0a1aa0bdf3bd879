"""Commands of the write side: every change of a complaint goes through here (only complaints.bulk, for seeds and
imports, writes complaint rows itself, leaving what these would; tests/complaints/test_contract.py checks it).

Each service owns its transaction, locks the complaint it changes (the lock is also the transaction's first write,
which keeps a complaint's events in transaction-id order), writes the audit row and the domain event in that same
transaction, and returns the model.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from complaints import clock
from complaints.errors import DomainError, PermissionDenied, StaleComplaint
from complaints.events import category_event_record, complaint_event_record
from complaints.models import (
    ALLOWED_TRANSITIONS,
    DESCRIPTION_MAX_LENGTH,
    Category,
    Channel,
    Comment,
    Complaint,
    CustomerAddress,
    EventType,
    Priority,
    Status,
    StatusHistory,
)
from helpdesk.access import ASSIGN_ANY, MANAGE_CATEGORIES, WORK_COMPLAINTS

User = get_user_model()


def _next_reference() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('complaints_reference_seq')")
        (number,) = cursor.fetchone()
    return f"C-{number:06d}"


def _lock(complaint_id: int, expected_version: int | None) -> Complaint:
    try:
        complaint = (
            Complaint.objects.select_for_update(of=("self",))
            .select_related("category", "assignee")
            .get(pk=complaint_id)
        )
    except Complaint.DoesNotExist:
        raise DomainError("No such complaint.", code="not_found") from None
    if expected_version is not None and complaint.version != expected_version:
        raise StaleComplaint()
    return complaint


def _touch(complaint: Complaint, now) -> None:
    complaint.version += 1
    complaint.updated_at = now


def _require_may_work(complaint: Complaint, actor) -> None:
    """Agents work unassigned complaints and their own; someone else's complaint is a manager's to reassign."""
    if complaint.assignee_id not in (None, actor.pk) and not actor.has_perm(ASSIGN_ANY):
        raise PermissionDenied("This complaint is assigned to someone else: ask a manager to reassign it.")


def _require_description_fits(description: str) -> None:
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise DomainError(
            f"Keep the description to {DESCRIPTION_MAX_LENGTH:,} characters (it has {len(description):,}).",
            field="description",
        )


def _require_active_category(category: Category) -> None:
    if not category.active:
        raise DomainError(f"The category '{category.name}' is no longer in use.", field="category")


@transaction.atomic
def complaint_submit(
    *,
    actor,
    title: str,
    description: str,
    customer_name: str,
    customer_email: str,
    category: Category,
    priority: str = Priority.MEDIUM,
    channel: str = Channel.WEB,
    customer_phone: str = "",
) -> Complaint:
    _require_active_category(category)
    _require_description_fits(description)
    if priority not in Priority.values:
        raise DomainError(f"Unknown priority '{priority}'.", field="priority")
    if channel not in Channel.values:
        raise DomainError(f"Unknown channel '{channel}'.", field="channel")
    now = clock.now()
    complaint = Complaint.objects.create(
        reference=_next_reference(),
        title=title,
        description=description,
        customer_name=customer_name,
        customer_email=customer_email,
        customer_phone=customer_phone,
        channel=channel,
        category=category,
        priority=priority,
        status=Status.NEW,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    StatusHistory.objects.create(
        complaint=complaint, from_status="", to_status=Status.NEW, changed_by=actor, changed_at=now, note="Submitted"
    )
    CustomerAddress.objects.record([customer_email])
    complaint_event_record(complaint=complaint, event_type=EventType.COMPLAINT_CREATED, actor=actor)
    return complaint


@transaction.atomic
def complaint_transition(
    *, complaint_id: int, actor, to_status: str, note: str = "", expected_version: int | None = None
) -> Complaint:
    """Move a complaint along its lifecycle. A move that the lifecycle does not allow changes nothing."""
    complaint = _lock(complaint_id, expected_version)
    _require_may_work(complaint, actor)
    from_status = complaint.status
    if to_status not in Status.values:
        raise DomainError(f"Unknown status '{to_status}'.", field="status")
    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        raise DomainError(
            f"A complaint cannot move from {Status(from_status).label} to {Status(to_status).label}.",
            field="status",
            code="invalid_transition",
        )
    now = clock.now()
    complaint.status = to_status
    if to_status == Status.RESOLVED:
        complaint.resolved_at = now
    elif to_status == Status.CLOSED:
        complaint.closed_at = now
    elif from_status == Status.RESOLVED and to_status == Status.IN_PROGRESS:
        complaint.resolved_at = None  # a reopen: the complaint is no longer resolved
        complaint.reopen_count += 1
    _touch(complaint, now)
    complaint.save()
    StatusHistory.objects.create(
        complaint=complaint, from_status=from_status, to_status=to_status, changed_by=actor, changed_at=now, note=note
    )
    complaint_event_record(
        complaint=complaint,
        event_type=EventType.COMPLAINT_STATUS_CHANGED,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
    )
    return complaint


@transaction.atomic
def complaint_assign(*, complaint_id: int, actor, assignee, expected_version: int | None = None) -> Complaint:
    """Assign to an agent. Agents may only take a complaint themselves; managers may assign anyone."""
    if assignee is not None and assignee != actor and not actor.has_perm(ASSIGN_ANY):
        raise PermissionDenied("Only managers can assign complaints to someone else.")
    if assignee is None and not actor.has_perm(ASSIGN_ANY):
        raise PermissionDenied("Only managers can unassign complaints.")
    if assignee is not None and (not assignee.is_active or not assignee.has_perm(WORK_COMPLAINTS)):
        raise DomainError(f"{assignee.username} cannot work complaints.", field="assignee")
    complaint = _lock(complaint_id, expected_version)
    _require_may_work(complaint, actor)
    if not complaint.is_open:
        raise DomainError("Only open complaints can be assigned.", field="assignee")
    if complaint.assignee_id == (assignee.pk if assignee else None):
        return complaint
    previous = complaint.assignee_id
    now = clock.now()
    complaint.assignee = assignee
    complaint.assigned_at = now if assignee else None
    _touch(complaint, now)
    complaint.save()
    complaint_event_record(
        complaint=complaint,
        event_type=EventType.COMPLAINT_ASSIGNED,
        actor=actor,
        previous_assignee_id=previous,
    )
    return complaint


@transaction.atomic
def complaint_comment(*, complaint_id: int, actor, body: str, internal: bool = False) -> Comment:
    """Add a public reply or an internal note. The first public staff reply sets first_response_at.

    A public reply speaks to the customer for whoever works the complaint (and may set its first response), so it
    follows the rule of working it: the assignee's, an unassigned complaint's, or a manager's. An internal note is
    open to every agent: colleagues may leave what they know on a complaint without answering for it."""
    if not body.strip():
        raise DomainError("Write something first.", field="body")
    complaint = _lock(complaint_id, None)
    if not internal:
        _require_may_work(complaint, actor)
    if complaint.status == Status.CLOSED:
        raise DomainError("Closed complaints take no more comments.", field="body")
    now = clock.now()
    comment = Comment.objects.create(complaint=complaint, author=actor, body=body, internal=internal, created_at=now)
    first_response = not internal and complaint.first_response_at is None
    if first_response:
        complaint.first_response_at = now
    _touch(complaint, now)
    complaint.save()
    complaint_event_record(
        complaint=complaint,
        event_type=EventType.COMPLAINT_FIRST_RESPONSE if first_response else EventType.COMPLAINT_COMMENTED,
        actor=actor,
        comment_id=comment.pk,
        internal=internal,
    )
    return comment


@transaction.atomic
def complaint_recategorize(
    *,
    complaint_id: int,
    actor,
    category: Category | None = None,
    priority: str | None = None,
    expected_version: int | None = None,
) -> Complaint:
    complaint = _lock(complaint_id, expected_version)
    _require_may_work(complaint, actor)
    if priority is not None and priority not in Priority.values:
        raise DomainError(f"Unknown priority '{priority}'.", field="priority")
    changes: dict[str, list[int] | list[str]] = {}
    if category is not None and category.pk != complaint.category_id:
        _require_active_category(category)
        changes["category"] = [complaint.category_id, category.pk]
        complaint.category = category
    if priority is not None and priority != complaint.priority:
        changes["priority"] = [complaint.priority, priority]
        complaint.priority = priority
    if not changes:
        return complaint
    _touch(complaint, clock.now())
    complaint.save()
    complaint_event_record(complaint=complaint, event_type=EventType.COMPLAINT_RECATEGORIZED, actor=actor, **changes)
    return complaint


@transaction.atomic
def complaint_update_details(
    *,
    complaint_id: int,
    actor,
    title: str | None = None,
    description: str | None = None,
    expected_version: int | None = None,
) -> Complaint:
    complaint = _lock(complaint_id, expected_version)
    _require_may_work(complaint, actor)
    changed = []
    if title is not None and title != complaint.title:
        if not title.strip():
            raise DomainError("A title is required.", field="title")
        complaint.title = title
        changed.append("title")
    if description is not None and description != complaint.description:
        _require_description_fits(description)
        complaint.description = description
        changed.append("description")
    if not changed:
        return complaint
    _touch(complaint, clock.now())
    complaint.save()
    complaint_event_record(
        complaint=complaint, event_type=EventType.COMPLAINT_DETAILS_CHANGED, actor=actor, fields=changed
    )
    return complaint


@transaction.atomic
def complaint_update(
    *,
    complaint_id: int,
    actor,
    title: str | None = None,
    description: str | None = None,
    category: Category | None = None,
    priority: str | None = None,
    expected_version: int | None = None,
) -> Complaint:
    """Edit details and category/priority in one go: both changes or neither, against one expected version."""
    complaint = complaint_update_details(
        complaint_id=complaint_id, actor=actor, title=title, description=description, expected_version=expected_version
    )
    version = None if expected_version is None else complaint.version  # our own first step moved it
    return complaint_recategorize(
        complaint_id=complaint_id, actor=actor, category=category, priority=priority, expected_version=version
    )


@transaction.atomic
def category_save(*, actor, name: str, active: bool = True, category_id: int | None = None) -> Category:
    """Create or rename/(de)activate a category. Admins only. A name that differs from another category's only in
    case is refused, also when two admins (or imports) create it at the same moment: the database's unique index
    on the folded name decides, and the loser gets the same DomainError as a plain clash."""
    if actor is not None and not actor.has_perm(MANAGE_CATEGORIES):
        raise PermissionDenied("Only admins manage categories.")
    name = name.strip()
    if not name:
        raise DomainError("A name is required.", field="name")
    clash = Category.objects.filter(name__iexact=name)
    if category_id is not None:
        clash = clash.exclude(pk=category_id)
    exists_already = DomainError(f"A category named '{name}' exists already.", field="name", code="exists")
    if clash.exists():
        raise exists_already
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction stays usable after a clash
            if category_id is None:
                category = Category.objects.create(name=name, active=active)
            else:
                category = Category.objects.select_for_update().get(pk=category_id)
                category.name, category.active = name, active
                category.save()
    except IntegrityError:
        raise exists_already from None
    category_event_record(category=category)
    return category
