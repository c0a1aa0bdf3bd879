"""Set-based writing of many complaints at once (demo seeds, imports from another help desk).

Writes exactly what the services would leave behind for each complaint — the complaint, its StatusHistory,
its first public reply, and an outbox event carrying its final state — with COPY, in chunked transactions.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction

from complaints.contract import complaint_state
from complaints.models import Category, Complaint, CustomerAddress, EventType

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
    def version(self) -> int:
        return 1 + len(self.transitions) + (1 if self.assignee else 0) + (1 if self.first_response_at else 0)


_COMPLAINT_COLS = (
    "id, reference, title, description, customer_name, customer_email, customer_phone, channel, category_id, "
    "priority, status, assignee_id, created_by_id, created_at, assigned_at, first_response_at, resolved_at, "
    "closed_at, updated_at, reopen_count, version"
)


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
            written += _write_chunk(chunk)
            chunk = []
    if chunk:
        written += _write_chunk(chunk)
    return written


@transaction.atomic
def _write_chunk(items: list[BulkComplaint]) -> int:
    ids = _reserve("pg_get_serial_sequence('complaints_complaint', 'id')", len(items))
    needs_ref = sum(1 for i in items if not i.reference)
    refs = iter(_reserve("'complaints_reference_seq'", needs_ref) if needs_ref else [])
    raw = connection.cursor().cursor  # psycopg cursor, for COPY
    history: list[tuple] = []
    complaints, comments, events = [], [], []
    for offset, item in enumerate(items):
        cid = ids[offset]
        if not item.reference:
            item.reference = f"C-{next(refs):06d}"
        assignee_id = item.assignee.pk if item.assignee else None
        complaints.append(
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
        history.append((cid, "", "new", None, item.created_at, "Submitted"))
        for t in item.transitions:
            history.append((cid, t.from_status, t.to_status, assignee_id, t.at, t.note))
        if item.first_response_at:
            comments.append(
                (cid, assignee_id, item.first_response_body or "Thanks, we are on it.", False, item.first_response_at)
            )
        model = Complaint(
            pk=cid,
            reference=item.reference,
            channel=item.channel,
            status=item.status,
            category=item.category,
            priority=item.priority,
            assignee=item.assignee,
            created_at=item.created_at,
            assigned_at=item.assigned_at,
            first_response_at=item.first_response_at,
            resolved_at=item.resolved_at,
            closed_at=item.closed_at,
            reopen_count=item.reopen_count,
        )
        payload = {"state": complaint_state(model), "change": {}, "actor_id": None}
        events.append((EventType.COMPLAINT_IMPORTED.value, cid, item.version, json.dumps(payload), item.updated_at))
    copies = (
        (f"COPY complaints_complaint ({_COMPLAINT_COLS}) FROM STDIN", complaints),
        (
            "COPY complaints_statushistory (complaint_id, from_status, to_status, changed_by_id, changed_at, note) "
            "FROM STDIN",
            history,
        ),
        ("COPY complaints_comment (complaint_id, author_id, body, internal, created_at) FROM STDIN", comments),
        (
            "COPY complaints_outboxevent (event_type, complaint_id, complaint_version, payload, occurred_at) "
            "FROM STDIN",
            events,
        ),
    )
    for sql, rows in copies:
        with raw.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    # Last, so a concurrent writer adding the same new addresses waits for this commit only briefly.
    CustomerAddress.objects.record({item.customer_email for item in items})
    return len(items)
