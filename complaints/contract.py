"""What the write side publishes to the read side. reporting/ depends on this module alone, never on the
write side's models or table names, so a rename here is a change to one module (and its contract tests, in
tests/complaints/test_contract.py), not a silent break on the other side.

It publishes four things: how new events are announced (the projector task's name, the pending-tenants key), the
outbox (table, columns, event types, and the `state` a complaint event carries), the rules the figures are held to
(open statuses, resolution targets), and the queries a rebuild or check may run against the write tables, each a
relation whose columns are named as the read side knows them.
"""

from collections.abc import Mapping
from datetime import datetime

from django.contrib.auth import get_user_model

from complaints.models import OPEN_STATUSES as _OPEN_STATUSES
from complaints.models import RESOLUTION_TARGET_HOURS, Category, Complaint, EventType, OutboxEvent
from complaints.roles import user_display_name

# How the write side tells the read side that a tenant has new events, after each commit: the projector task,
# sent by this name (the write side never imports the read side), and a Redis set of the tenants marked since the
# read side's sweep last looked (it pops the set).
PROJECT_TASK = "reporting.tasks.project_tenant"
PENDING_TENANTS_KEY = "projection:pending-tenants"

# The event stream: one row per domain event, in (tx_id, id) order.
OUTBOX_TABLE = OutboxEvent._meta.db_table
OUTBOX_COLUMNS = ("id", "tx_id", "event_type", "complaint_id", "complaint_version", "payload", "occurred_at")
CATEGORY_CHANGED = EventType.CATEGORY_CHANGED.value  # payload: category_id, name, active
AGENT_CHANGED = EventType.AGENT_CHANGED.value  # payload: agent_id, name
# Every other event is a complaint's: complaint_id, complaint_version and payload["state"], the complaint's
# STATE_FIELDS after the change (datetimes as ISO 8601), plus "category_name" and "assignee_name".
STATE_FIELDS = (
    "reference",
    "status",
    "category_id",
    "priority",
    "assignee_id",
    "created_at",
    "assigned_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "reopen_count",
    "channel",
)

# The rules the write side promises (check_projections holds the read side to these, not to its own copy).
OPEN_STATUSES = frozenset(str(s) for s in _OPEN_STATUSES)
RESOLUTION_TARGET_SECONDS = {str(p): hours * 3600 for p, hours in RESOLUTION_TARGET_HOURS.items()}


def complaint_state(complaint: Complaint) -> dict:
    return state_from(
        {name: getattr(complaint, name) for name in STATE_FIELDS},
        category_name=complaint.category.name,
        assignee_name=user_display_name(complaint.assignee),
    )


def state_from(values: Mapping[str, object], *, category_name: str, assignee_name: str) -> dict:
    """An event's `state` from the STATE_FIELDS values (a bulk writer has them without a model instance)."""
    state = {}
    for name in STATE_FIELDS:
        value = values[name]
        state[name] = value.isoformat() if isinstance(value, datetime) else value
    state["category_name"] = category_name
    state["assignee_name"] = assignee_name
    return state


def state_sql(*, category_name: str, assignee_name: str) -> str:
    """The event `state` built in the database (jsonb) over a relation with a column per STATE_FIELDS name, as
    state_from gives it for the same values (a set-based writer's events; timestamps in ISO 8601 as well)."""
    pairs = ", ".join(f"'{name}', {name}" for name in STATE_FIELDS)
    return f"jsonb_build_object({pairs}, 'category_name', {category_name}, 'assignee_name', {assignee_name})"


# Relations a rebuild or check may read, as SQL. COMPLAINTS has a column per STATE_FIELDS name plus
# complaint_id and version; the other two give each category's and each agent's name as the write side shows it.
COMPLAINTS = (
    f"(SELECT id AS complaint_id, version, {', '.join(STATE_FIELDS)} FROM {Complaint._meta.db_table}) AS complaints"
)
CATEGORIES = f"(SELECT id AS category_id, name, active FROM {Category._meta.db_table}) AS categories"
# An agent's display name is the full name, else the username (complaints.roles.user_display_name).
AGENTS = (
    "(SELECT id AS agent_id, COALESCE(NULLIF(TRIM(first_name || ' ' || last_name), ''), username) AS name "
    f"FROM {get_user_model()._meta.db_table}) AS agents"
)
