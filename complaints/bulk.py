"""Set-based writing of many complaints at once (demo seeds, imports from another help desk).

Writes exactly what the services would leave behind for each complaint — the complaint, its StatusHistory,
its first public reply, and an outbox event carrying its final state — in chunked transactions: from Python
objects with COPY (seeds: write_complaints), or from rows already in the database with INSERT ... SELECT
(imports, from their staging table: write_selected), so no row of an import passes through Python twice.
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction

from complaints.contract import state_from, state_sql
from complaints.models import Category, CustomerAddress, EventType
from complaints.roles import user_display_name

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass
class Transition:
    from_status: str
    to_status: str
    at: datetime
    note: str = ""


@dataclass
class BulkComplaint:
    title: str
    description: str
    customer_name: str
    customer_email: str
    category: Category
    priority: str
    channel: str
    status: str
    created_at: datetime
    customer_phone: str = ""
    reference: str | None = None
    assignee: "User | None" = None
    assigned_at: datetime | None = None
    first_response_at: datetime | None = None
    first_response_body: str = ""
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    transitions: list[Transition] = field(default_factory=list)  # after the initial "" -> new

    @property
    def updated_at(self) -> datetime:
        times = [self.created_at, self.assigned_at, self.first_response_at, *(t.at for t in self.transitions)]
        return max(t for t in times if t is not None)

    @property
    def assignee_id(self) -> int | None:
        return self.assignee.pk if self.assignee else None

    @property
    def version(self) -> int:
        return 1 + len(self.transitions) + (1 if self.assignee else 0) + (1 if self.first_response_at else 0)


_COMPLAINT_COLS = (
    "id, reference, title, description, customer_name, customer_email, customer_phone, channel, category_id, "
    "priority, status, assignee_id, created_by_id, created_at, assigned_at, first_response_at, resolved_at, "
    "closed_at, updated_at, reopen_count, version"
)
_HISTORY_COLS = "complaint_id, from_status, to_status, changed_by_id, changed_at, note"
_COMMENT_COLS = "complaint_id, author_id, body, internal, created_at"
_EVENT_COLS = "event_type, complaint_id, complaint_version, payload, occurred_at"


def _reserve(sequence_sql: str, count: int) -> list[int]:
    """Take `count` values of a sequence in one statement. Each is ours alone, however many other writers (a
    submission, another import, a parallel seed) draw from the sequence meanwhile; they need not be consecutive.
    (Reserving a range with nextval then setval let a concurrent nextval land inside it: a duplicate key.)"""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nextval({sequence_sql}) FROM generate_series(1, %s)", [count])
        return sorted(value for (value,) in cursor.fetchall())


def bulk_write(complaints: Iterable[BulkComplaint], *, chunk_size: int = 20000) -> int:
    """Write complaints in chunks, each in one transaction. Returns how many were written."""
    written = 0
    chunk: list[BulkComplaint] = []
    for item in complaints:
        chunk.append(item)
        if len(chunk) >= chunk_size:
            written += _write_committed(chunk)
            chunk = []
    if chunk:
        written += _write_committed(chunk)
    return written


@transaction.atomic
def _write_committed(items: list[BulkComplaint]) -> int:
    return write_complaints(items)


def write_complaints(items: list[BulkComplaint]) -> int:
    """Write these complaints with everything the services would leave behind, in the caller's transaction
    (an import commits each chunk together with its progress). Returns how many were written."""
    ids = _reserve("pg_get_serial_sequence('complaints_complaint', 'id')", len(items))
    if needs_ref := sum(1 for i in items if not i.reference):
        refs = iter(_reserve("'complaints_reference_seq'", needs_ref))
        for item in items:
            item.reference = item.reference or f"C-{next(refs):06d}"
    rows = _Rows()
    names: dict[int | None, str] = {}  # display names, looked up once per assignee
    for cid, item in zip(ids, items, strict=True):
        if item.assignee_id not in names:
            names[item.assignee_id] = user_display_name(item.assignee)
        rows.add(cid, item, assignee_name=names[item.assignee_id])
    rows.copy()
    # Last, so a concurrent writer adding the same new addresses waits for this commit only briefly.
    CustomerAddress.objects.record({item.customer_email for item in items})
    return len(items)


class _Rows:
    """The rows of the four tables a chunk writes, gathered, then COPYed table by table."""

    def __init__(self):
        self.complaints: list[tuple] = []
        self.history: list[tuple] = []
        self.comments: list[tuple] = []
        self.events: list[tuple] = []

    def add(self, cid: int, item: BulkComplaint, *, assignee_name: str) -> None:
        assignee_id = item.assignee_id
        values = {
            "reference": item.reference,
            "status": item.status,
            "category_id": item.category.pk,
            "priority": item.priority,
            "assignee_id": assignee_id,
            "created_at": item.created_at,
            "assigned_at": item.assigned_at,
            "first_response_at": item.first_response_at,
            "resolved_at": item.resolved_at,
            "closed_at": item.closed_at,
            "reopen_count": item.reopen_count,
            "channel": item.channel,
        }
        self.complaints.append(
            (
                cid,
                item.reference,
                item.title,
                item.description,
                item.customer_name,
                item.customer_email,
                item.customer_phone,
                item.channel,
                item.category.pk,
                item.priority,
                item.status,
                assignee_id,
                None,
                item.created_at,
                item.assigned_at,
                item.first_response_at,
                item.resolved_at,
                item.closed_at,
                item.updated_at,
                item.reopen_count,
                item.version,
            )
        )
        self.history.append((cid, "", "new", None, item.created_at, "Submitted"))
        self.history.extend((cid, t.from_status, t.to_status, assignee_id, t.at, t.note) for t in item.transitions)
        if item.first_response_at:
            body = item.first_response_body or "Thanks, we are on it."
            self.comments.append((cid, assignee_id, body, False, item.first_response_at))
        state = state_from(values, category_name=item.category.name, assignee_name=assignee_name)
        payload = json.dumps({"state": state, "change": {}, "actor_id": None})
        self.events.append((EventType.COMPLAINT_IMPORTED.value, cid, item.version, payload, item.updated_at))

    def copy(self) -> None:
        raw = connection.cursor().cursor  # psycopg cursor, for COPY
        for sql, rows in (
            (f"COPY complaints_complaint ({_COMPLAINT_COLS}) FROM STDIN", self.complaints),
            (f"COPY complaints_statushistory ({_HISTORY_COLS}) FROM STDIN", self.history),
            (f"COPY complaints_comment ({_COMMENT_COLS}) FROM STDIN", self.comments),
            (f"COPY complaints_outboxevent ({_EVENT_COLS}) FROM STDIN", self.events),
        ):
            with raw.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)


@dataclass(frozen=True)
class TransitionSql:
    """A status move of write_selected's rows, as SQL over a row: `when` it is made, from and to (SQL values) and
    `at` (a timestamp)."""

    from_status: str
    to_status: str
    at: str
    when: str


_SELECTED = "bulk_selected"


def write_selected(source: str, params: dict, *, transitions: Sequence[TransitionSql]) -> int:
    """Write the complaints of `source` with everything the services would leave behind, in the caller's
    transaction and in the database alone (INSERT ... SELECT: nothing per row in Python). `source` is a relation
    with the complaint's columns (reference, title, description, customer_name, customer_email, customer_phone,
    channel, category_id, priority, status, assignee_id, created_at, first_response_at, resolved_at, closed_at,
    reopen_count), plus category_name, assignee_name (as the event's state shows them), first_response_body
    and an `ordinal` giving the order of ids. Its status moves are `transitions` (after the initial "" -> new),
    in order. Returns how many were written."""
    moves = [f"CASE WHEN {t.when} THEN 1 ELSE 0 END" for t in transitions]
    times = ", ".join(f"CASE WHEN {t.when} THEN {t.at} END" for t in transitions)
    with connection.cursor() as cursor:
        # The rows with what is derived from them (id, version, times), held for this transaction only.
        cursor.execute(
            f"""CREATE TEMPORARY TABLE {_SELECTED} ON COMMIT DROP AS
                SELECT nextval(pg_get_serial_sequence('complaints_complaint', 'id')) AS id, derived.*,
                       GREATEST(created_at, assigned_at, first_response_at, {times}) AS updated_at,
                       1 + {" + ".join(moves)} + (assignee_id IS NOT NULL)::int
                           + (first_response_at IS NOT NULL)::int AS version
                FROM (SELECT src.*,
                             CASE WHEN assignee_id IS NOT NULL THEN COALESCE(first_response_at, created_at) END
                                 AS assigned_at
                      FROM {source} AS src ORDER BY ordinal) AS derived""",
            params,
        )
        cursor.execute(
            f"INSERT INTO complaints_complaint ({_COMPLAINT_COLS}) "
            f"SELECT {_COMPLAINT_COLS.replace('created_by_id', 'NULL')} FROM {_SELECTED} ORDER BY id"
        )
        written = cursor.rowcount
        steps = [
            f"SELECT id, 0 AS step, '' AS from_status, 'new' AS to_status, NULL::int AS changed_by_id, "
            f"created_at AS changed_at, 'Submitted' AS note FROM {_SELECTED}"
        ]
        steps += [
            f"SELECT id, {n}, {t.from_status}, {t.to_status}, assignee_id, {t.at}, 'Imported' "
            f"FROM {_SELECTED} WHERE {t.when}"
            for n, t in enumerate(transitions, start=1)
        ]
        cursor.execute(
            f"INSERT INTO complaints_statushistory ({_HISTORY_COLS}) "
            f"SELECT id, from_status, to_status, changed_by_id, changed_at, note FROM ("
            + " UNION ALL ".join(steps)
            + ") AS moves ORDER BY id, step"
        )
        cursor.execute(
            f"INSERT INTO complaints_comment ({_COMMENT_COLS}) "
            f"SELECT id, assignee_id, first_response_body, false, first_response_at FROM {_SELECTED} "
            "WHERE first_response_at IS NOT NULL ORDER BY id"
        )
        state = state_sql(category_name="category_name", assignee_name="assignee_name")
        cursor.execute(
            f"INSERT INTO complaints_outboxevent ({_EVENT_COLS}) "
            f"SELECT %s, id, version, jsonb_build_object('state', {state}, 'change', '{{}}'::jsonb, "
            f"'actor_id', NULL), updated_at FROM {_SELECTED} ORDER BY id",
            [EventType.COMPLAINT_IMPORTED.value],
        )
        cursor.execute(f"SELECT DISTINCT customer_email FROM {_SELECTED}")
        emails = {email for (email,) in cursor.fetchall()}
        cursor.execute(f"DROP TABLE {_SELECTED}")  # a caller writing several chunks in one transaction
    CustomerAddress.objects.record(emails)
    return written
