"""Rebuild every read model of the current tenant from the write side, and check them against it."""

import time

from django.db import transaction
from django.utils import timezone

from complaints import contract
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.tenancy import connections
from reporting import projector
from reporting.facts import FACT_COLUMNS, FACT_FIELDS, FACT_TABLE
from reporting.freshness import read_models_time_zone
from reporting.models import ProjectionCheckpoint
from reporting.readmodel import READ_MODELS, RULES
from reporting.status import publish
from tenants.selectors import tenant_time_zone

_FACT_COLUMNS = ", ".join(FACT_COLUMNS)
_FACT_SELECT = f"SELECT {_FACT_COLUMNS} FROM {contract.COMPLAINTS}"


def rebuild_read_models(*, unless_in_current_zone: bool = False) -> dict:
    """Rebuild from one consistent snapshot of the write side, in one reporting transaction, with the days of the
    tenant's current time zone (which the checkpoint then names: the projector goes on in that zone).

    With `unless_in_current_zone` (a zone change's rebuild), nothing is done when the checkpoint, read under its
    lock, already names the current zone: an earlier rebuild has built it, or the zone came back meanwhile.

    Readers keep seeing the old figures until the commit (DELETE, not TRUNCATE, so they are never blocked) and
    then the new ones: a dashboard never sees a half-built table. The checkpoint's applied snapshot becomes the
    very snapshot the write side was copied under: the projector then applies exactly the events of the
    transactions that snapshot did not see (and any overlap would be a no-op by complaint version).
    """
    started = time.monotonic()
    write = connections[WRITE_ALIAS]
    read = connections[READ_ALIAS]
    zone = tenant_time_zone(read.schema_name)
    with transaction.atomic(using=WRITE_ALIAS), transaction.atomic(using=READ_ALIAS):
        with write.cursor() as wc:
            wc.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # The first statement fixes the transaction's snapshot: every copy below reads under it.
            wc.execute("SELECT pg_current_snapshot()::text")
            (snapshot,) = wc.fetchone()
            checkpoint, _ = ProjectionCheckpoint.objects.using(READ_ALIAS).select_for_update().get_or_create(id=1)
            if unless_in_current_zone and checkpoint.time_zone == zone:
                return {"complaints": 0, "seconds": time.monotonic() - started, "time_zone": zone, "rebuilt": False}
            with read.cursor() as rc:
                for table in (FACT_TABLE, "category_dim", "agent_dim", *(m.table for m in READ_MODELS)):
                    rc.execute(f"DELETE FROM {table}")
                # Stream the facts and the names straight from one database into the other.
                copies = [(_FACT_SELECT, f"{FACT_TABLE} ({_FACT_COLUMNS})")] + [
                    (select, f"{name} ({', '.join((key, *values))})")
                    for name, (select, _, _, key, values) in _DIMENSIONS.items()
                ]
                for select, target in copies:
                    with (
                        wc.cursor.copy(f"COPY ({select}) TO STDOUT") as out,
                        rc.cursor.copy(f"COPY {target} FROM STDIN") as into,
                    ):
                        for block in out:
                            into.write(block)
                for read_model in READ_MODELS:
                    rc.execute(read_model.insert_sql(), {"tz": zone})
                rc.execute(f"SELECT COUNT(*) FROM {FACT_TABLE}")
                (facts,) = rc.fetchone()
                rc.execute(f"ANALYZE {FACT_TABLE}")
        now = timezone.now()
        checkpoint.applied_snapshot, checkpoint.batch_snapshot = snapshot, ""
        checkpoint.last_tx_id = checkpoint.last_event_id = 0
        checkpoint.applied_at = checkpoint.rebuilt_at = checkpoint.caught_up_at = now
        checkpoint.time_zone = zone
        checkpoint.save()
        publish()
    return {"complaints": facts, "seconds": time.monotonic() - started, "time_zone": zone, "rebuilt": True}


def check_read_models() -> list[str]:
    """compare_read_models() with the same notion of "applied" as the projector, exactly.

    The write side is read under one snapshot; holding the checkpoint lock, the events that snapshot sees and
    the checkpoint has not applied yet are applied first (by the projector's own code) and then everything is
    compared, all in a reporting transaction that is rolled back: a difference is never mere lag, and the check
    changes nothing. The tenant's projector waits while it runs.
    """
    with transaction.atomic(using=WRITE_ALIAS), transaction.atomic(using=READ_ALIAS):
        with connections[WRITE_ALIAS].cursor() as wc:
            wc.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        projector.lock_checkpoint()
        projector.catch_up(time_budget=float("inf"))  # applies up to this transaction's snapshot, no further
        differences = compare_read_models()
        transaction.set_rollback(True, using=READ_ALIAS)
    return differences


def compare_read_models() -> list[str]:
    """Recompute every figure on the fly from the write tables and list every difference from the read side:
    each read model, each complaint's fact row, and the category and agent names. The figures are computed
    with the write side's published rules (RULES), and the days of the
    zone the read models say they are built with (a pending zone change is projection_status's business)."""
    differences = []
    zone = read_models_time_zone()
    with connections[WRITE_ALIAS].cursor() as wc, connections[READ_ALIAS].cursor() as rc:
        for read_model in READ_MODELS:
            wc.execute(read_model.select_sql(source=contract.COMPLAINTS, rules=RULES), {"tz": zone})
            truth = read_model.rows_by_key(wc.fetchall())
            rc.execute(f"SELECT {', '.join(read_model.columns)} FROM {read_model.table}")
            projected = read_model.rows_by_key(rc.fetchall())
            differences += _differences(read_model.table, read_model.keys, read_model.measures, truth, projected)
        differences += _fact_differences(wc, rc)
        for name, (write_sql, used_sql, read_sql, key, values) in _DIMENSIONS.items():
            wc.execute(write_sql)
            truth = {(row[0],): tuple(row[1:]) for row in wc.fetchall()}
            wc.execute(used_sql)
            used = set(wc.fetchall())
            rc.execute(read_sql)
            projected = {(row[0],): tuple(row[1:]) for row in rc.fetchall()}
            # A dimension row must name what the write side names; rows are only required for ids that
            # complaints use (the projector learns other names only when they change).
            truth = {k: v for k, v in truth.items() if k in used or k in projected}
            differences += _differences(name, (key,), values, truth, projected)
    return differences


# Per dimension table: its rows on the write side, the ids complaints use, its rows here, key, values.
_DIMENSIONS = {
    "category_dim": (
        f"SELECT category_id, name, active FROM {contract.CATEGORIES}",
        f"SELECT DISTINCT category_id FROM {contract.COMPLAINTS}",
        "SELECT category_id, name, active FROM category_dim",
        "category_id",
        ("name", "active"),
    ),
    "agent_dim": (
        f"SELECT agent_id, name FROM {contract.AGENTS}",
        f"SELECT DISTINCT assignee_id FROM {contract.COMPLAINTS} WHERE assignee_id IS NOT NULL",
        "SELECT agent_id, name FROM agent_dim",
        "agent_id",
        ("name",),
    ),
}
_FACT_CHUNK = 50_000


def _fact_differences(wc, rc) -> list[str]:
    """Each complaint's fact row against the complaint itself, in id ranges (memory stays flat at 1 M)."""
    differences: list[str] = []
    wc.execute(f"SELECT MIN(complaint_id), MAX(complaint_id) FROM {contract.COMPLAINTS}")
    rc.execute(f"SELECT MIN(complaint_id), MAX(complaint_id) FROM {FACT_TABLE}")
    bounds = [b for b in (*wc.fetchone(), *rc.fetchone()) if b is not None]
    if not bounds:
        return differences
    low, high = min(bounds), max(bounds)
    while low <= high:
        window = [low, low + _FACT_CHUNK]
        wc.execute(f"{_FACT_SELECT} WHERE complaint_id >= %s AND complaint_id < %s", window)
        truth = {(row[0],): tuple(row[1:]) for row in wc.fetchall()}
        rc.execute(f"SELECT {_FACT_COLUMNS} FROM {FACT_TABLE} WHERE complaint_id >= %s AND complaint_id < %s", window)
        projected = {(row[0],): tuple(row[1:]) for row in rc.fetchall()}
        differences += _differences(FACT_TABLE, ("complaint_id",), FACT_FIELDS, truth, projected)
        low += _FACT_CHUNK
    return differences


def _differences(name: str, keys: tuple, values: tuple, truth: dict, projected: dict) -> list[str]:
    """One line per key whose values differ, naming the table, the key and both sides."""
    lines = []
    for key in sorted(truth.keys() | projected.keys(), key=repr):
        expected, got = truth.get(key), projected.get(key)
        if expected != got:
            lines.append(
                f"{name} {dict(zip(keys, key, strict=True))}: "
                f"expected {dict(zip(values, expected, strict=True)) if expected else 'nothing'} "
                f"got {dict(zip(values, got, strict=True)) if got else 'nothing'}"
            )
    return lines
