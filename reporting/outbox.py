"""Reading a tenant's outbox by snapshot (PgQ's batches): which committed events a checkpoint has not applied.

A checkpoint stores the write database's snapshot (`pg_current_snapshot()`) its last batch was taken under. The
events still to apply are those of transactions visible now and not visible in that snapshot: either running when
it was taken (its xip list) or started after it (tx_id >= its xmax). See reporting.projector and the README.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connections

from complaints import contract
from helpdesk.databases import WRITE_ALIAS
from reporting.models import ProjectionCheckpoint

OUTBOX = contract.OUTBOX_TABLE


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    tx_id: int
    event_type: str
    complaint_id: int | None
    complaint_version: int | None
    payload: dict
    occurred_at: datetime


EMPTY_SNAPSHOT = "1:1:"  # sees no transaction at all: nothing applied yet


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A PostgreSQL snapshot (`pg_snapshot` as text): transactions below xmin are finished, those from xmax on
    had not started, and those listed in xip were still running when it was taken."""

    xmin: int
    xmax: int
    xip: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> "Snapshot":
        xmin, xmax, xip = (text or EMPTY_SNAPSHOT).split(":")
        return cls(int(xmin), int(xmax), tuple(int(x) for x in xip.split(",") if x))

    def sees(self, tx_id: int) -> bool:
        """Whether a (committed) transaction's rows are visible in this snapshot."""
        return tx_id < self.xmin or (tx_id < self.xmax and tx_id not in self.xip)


def current_snapshot() -> str:
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        return cursor.fetchone()[0]


_COLUMNS = ", ".join(contract.OUTBOX_COLUMNS)


def fetch_events(
    *, limit: int, applied: str = EMPTY_SNAPSHOT, target: str | None = None, after_tx: int = 0, after_id: int = 0
) -> list[Event]:
    """The events of transactions visible in `target` (default: now) and not in `applied`, in (tx_id, id)
    order after (after_tx, after_id), at most `limit`.

    Such a transaction either was running when `applied` was taken (it is in its xip list) or started after it
    (tx_id >= its xmax): two index scans on (tx_id, id), however old the oldest transaction on the server is."""
    target = target or current_snapshot()
    done, upto = Snapshot.parse(applied), Snapshot.parse(target)
    late = [tx for tx in done.xip if upto.sees(tx)]  # running at `applied`, committed by `target`
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute(
            f"""SELECT {_COLUMNS} FROM (
                    (SELECT {_COLUMNS} FROM {OUTBOX}
                     WHERE tx_id = ANY(%(late)s::bigint[]) AND (tx_id, id) > (%(after_tx)s, %(after_id)s)
                     ORDER BY tx_id, id LIMIT %(limit)s)
                    UNION ALL
                    (SELECT {_COLUMNS} FROM {OUTBOX}
                     WHERE tx_id >= %(start)s AND tx_id < %(stop)s AND (tx_id, id) > (%(after_tx)s, %(after_id)s)
                       AND pg_visible_in_snapshot(tx_id::text::xid8, %(target)s::pg_snapshot)
                     ORDER BY tx_id, id LIMIT %(limit)s)
                ) AS batch
                ORDER BY tx_id, id LIMIT %(limit)s""",
            {
                "late": late,
                "start": done.xmax,
                "stop": upto.xmax,
                "target": target,
                "after_tx": after_tx,
                "after_id": after_id,
                "limit": limit,
            },
        )
        rows = cursor.fetchall()
    # Django registers a text loader for jsonb, so raw queries get the JSON as a string.
    return [
        Event(
            event_id,
            tx_id,
            kind,
            complaint_id,
            version,
            json.loads(payload) if isinstance(payload, str) else payload,
            at,
        )
        for event_id, tx_id, kind, complaint_id, version, payload, at in rows
    ]


def unapplied_condition(checkpoint: ProjectionCheckpoint) -> tuple[str, list]:
    """SQL over the outbox (and its parameters) that holds for the events the checkpoint has not applied; on a
    committed row, that is the exact complement of what the projector has applied."""
    done = Snapshot.parse(checkpoint.applied_snapshot)
    sql, params = "(tx_id = ANY(%s::bigint[]) OR tx_id >= %s)", [list(done.xip), done.xmax]
    if checkpoint.batch_snapshot:
        sql += " AND NOT (pg_visible_in_snapshot(tx_id::text::xid8, %s::pg_snapshot) AND (tx_id, id) <= (%s, %s))"
        params += [checkpoint.batch_snapshot, checkpoint.last_tx_id, checkpoint.last_event_id]
    return sql, params


def pending_summary(checkpoint: ProjectionCheckpoint) -> tuple[int, datetime | None]:
    """(count, oldest occurred_at) of committed events the checkpoint has not applied yet."""
    condition, params = unapplied_condition(checkpoint)
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MIN(occurred_at) FROM {OUTBOX} WHERE {condition}", params)
        count, oldest = cursor.fetchone()
    return count, oldest


def position_after(*, tx_id: int, event_id: int) -> dict:
    """Checkpoint fields meaning "every event up to (tx_id, event_id) in (tx_id, id) order is applied": every
    transaction below tx_id, plus a batch in progress of tx_id's own events up to event_id."""
    return {
        "applied_snapshot": f"{max(tx_id, 1)}:{max(tx_id, 1)}:",
        "batch_snapshot": f"{max(tx_id, 1) + 1}:{max(tx_id, 1) + 1}:",
        "last_tx_id": tx_id,
        "last_event_id": event_id,
    }
