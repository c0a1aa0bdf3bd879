"""Imports of every shape reach the read models exactly (against the independent oracle), by the set-based
batch and event by event alike; an import stopped part-way (Ctrl-C, a lost database, SIGKILL) leaves whole
chunks only, and running the same file again finishes it without writing a row twice."""

import io
import os
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections
from django_tenants.utils import schema_context

from complaints import bulk
from complaints.models import Comment, Complaint, ImportRun, OutboxEvent, StatusHistory
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from reporting import projector
from reporting.freshness import projection_progress
from reporting.readmodel import READ_MODELS
from reporting.rebuild import compare_read_models
from tenants.models import Tenant
from tests import oracle
from tests.complaints.test_importing import write
from tests.conftest import wait_for
from tests.reporting.helpers import project_everything, read_model_snapshot

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Pacific/Chatham")
# Around the 2025 DST changes in Europe and America, so local days differ from UTC days near midnight.
START = datetime(2025, 3, 25, tzinfo=UTC)


def every_shape(count: int, *, seed: int = 24, prefix: str = "S") -> list[dict]:
    """Rows of every status, with new and existing (case-variant) categories, new and existing agents, reopened
    complaints and timestamps written in several zones' offsets."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        zone = ZoneInfo(rng.choice(ZONES))
        created = START + timedelta(hours=rng.uniform(0, 24 * 20))
        status = rng.choice(["new", "in_progress", "on_hold", "resolved", "closed", "closed"])
        assignee = rng.choice(["", "alice", "bob", "migrated.agent", "ops-2"]) if status != "new" else ""
        first = created + timedelta(hours=rng.uniform(0.1, 30)) if assignee and rng.random() < 0.8 else None
        resolved = None
        if status == "resolved" or (status == "closed" and rng.random() < 0.7):
            resolved = created + timedelta(hours=rng.uniform(1, 200))
        closed = (resolved or created) + timedelta(hours=rng.uniform(0, 48)) if status == "closed" else None

        def stamp(moment, zone=zone):
            return moment.astimezone(zone).isoformat() if moment else ""

        rows.append(
            {
                "reference": f"{prefix}-{i}",
                "created_at": stamp(created),
                "first_response_at": stamp(first),
                "resolved_at": stamp(resolved),
                "closed_at": stamp(closed),
                "status": status,
                "category": rng.choice(["Billing", "BILLING", "Delivery", "Imported returns", "Imported warranty"]),
                "priority": rng.choice(["low", "medium", "high", "urgent"]),
                "assignee": assignee,
                "channel": rng.choice(["", "web", "email", "phone", "api"]),
                "title": f"Complaint {i}",
                "description": "",
                "customer_name": "Customer",
                "customer_email": f"c{i % 7}@example.com",
                "customer_phone": "",
                "reopen_count": str(rng.choice([0, 0, 0, 1, 2])) if status != "new" else "",
            }
        )
    return rows


def oracle_differences() -> list[str]:
    with connections[READ_ALIAS].cursor() as cursor:
        return oracle.read_model_differences(oracle.read_models(oracle.snapshot()), oracle.stored_read_models(cursor))


def forget_projections() -> None:
    """The tenant's read side emptied, checkpoint included: the projector then applies every event again."""
    tables = ["complaint_fact", "category_dim", "agent_dim", "projection_checkpoint", *(m.table for m in READ_MODELS)]
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")


def import_file(path, **options) -> str:
    out = io.StringIO()
    call_command("import_complaints", path, schema="alpha", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def whole_complaints() -> int:
    """How many complaints there are, after checking that each has its history and its one event."""
    count = Complaint.objects.count()
    assert StatusHistory.objects.filter(from_status="").count() == count
    assert OutboxEvent.objects.filter(event_type="ComplaintImported").count() == count
    assert OutboxEvent.objects.exclude(complaint_id=None).values("complaint_id").distinct().count() == count
    return count


def test_every_shape_reaches_the_read_models_as_the_oracle_says_by_batch_and_event_by_event(committed, tmp_path):
    Tenant.objects.filter(schema_name="alpha").update(time_zone="America/New_York")
    path = write(tmp_path, every_shape(160))
    out = import_file(path, chunk_rows=50)
    assert "imported 160 complaints (0 bad rows skipped, 2 categories and 2 agents created)" in out
    assert "Billing (existing): also matched BILLING" in out
    with schema_context("alpha"):
        complaints = Complaint.objects.all()
        assert {c.status for c in complaints} == {"new", "in_progress", "on_hold", "resolved", "closed"}
        assert sum(c.reopen_count for c in complaints) > 0
        assert ImportRun.objects.get().finished_at is not None
        assert oracle_differences() == []
        assert compare_read_models() == []
        call_command("check_projections", schema="alpha", stdout=io.StringIO())  # exits non-zero on a difference
        by_batch = read_model_snapshot()
        # Event by event: the same events, one per projector transaction.
        forget_projections()
        assert projector.catch_up(time_budget=float("inf"), batch_size=1).applied == OutboxEvent.objects.count()
        assert projection_progress()["pending_count"] == 0
        assert read_model_snapshot() == by_batch
        assert oracle_differences() == []


def test_reopen_count_must_be_a_small_whole_number(committed, tmp_path):
    rows = every_shape(3)
    rows[1]["reopen_count"], rows[2]["reopen_count"] = "-1", "²"
    errors = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_complaints", write(tmp_path, rows), schema="alpha", stderr=errors)
    err = errors.getvalue()
    assert "line 3: reopen_count: must be a whole number from 0 to 9,999" in err
    assert "line 4: reopen_count: must be a whole number from 0 to 9,999" in err


def _interrupt(exc_type):
    """A write_selected that stops the import on its third chunk, as Ctrl-C or a lost server would."""
    real, calls = bulk.write_selected, []

    def write_selected(source, params, **options):
        calls.append(params)
        if len(calls) == 3:
            if exc_type is KeyboardInterrupt:
                raise KeyboardInterrupt
            with connections[WRITE_ALIAS].cursor() as cursor:  # the server ends this session mid-transaction
                cursor.execute("SELECT pg_backend_pid()")
                (pid,) = cursor.fetchone()
            with psycopg.connect(_dsn(), autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [pid])
        return real(source, params, **options)

    return write_selected


def _import_locks() -> int:
    with psycopg.connect(_dsn(), autocommit=True) as other:
        (count,) = other.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone() or (0,)
        return count


def _dsn() -> str:
    db = settings.DATABASES[WRITE_ALIAS]
    return f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={db['NAME']}"


@pytest.mark.parametrize(
    "fault,message",
    [(KeyboardInterrupt, "interrupted; "), (Exception, "database error: ")],
    ids=["ctrl-c", "database-lost"],
)
def test_an_interrupted_import_keeps_whole_chunks_and_the_same_file_finishes_it(
    committed, tmp_path, monkeypatch, fault, message
):
    path = write(tmp_path, every_shape(9))
    monkeypatch.setattr("complaints.importing.write_selected", _interrupt(fault))
    with pytest.raises(CommandError) as stopped:
        import_file(path, chunk_rows=2)
    assert str(stopped.value).startswith(message)
    assert "stopped after 4 of 9 rows: run the same command with the same file to finish it" in str(stopped.value)
    for alias in (WRITE_ALIAS, READ_ALIAS):
        connections[alias].close()  # the lost session, if the server ended it
    with schema_context("alpha"):
        run = ImportRun.objects.get()
        assert (run.rows_written, run.finished_at) == (4, None)
        assert whole_complaints() == 4  # two chunks, each whole; nothing of the third
        project_everything()
        assert oracle_differences() == []  # what is there is consistent, on both sides
    monkeypatch.undo()
    out = import_file(path, chunk_rows=2)
    assert f"continued import #{run.pk}: 4 rows were written before" in out
    assert "imported 9 complaints" in out
    with schema_context("alpha"):
        assert whole_complaints() == 9
        assert sorted(Complaint.objects.values_list("reference", flat=True)) == sorted(f"S-{i}" for i in range(9))
        assert ImportRun.objects.get().finished_at is not None
        assert Comment.objects.count() == Complaint.objects.exclude(first_response_at=None).count()
        assert oracle_differences() == []
        assert compare_read_models() == []


def test_committed_chunks_reach_the_read_models_while_the_import_still_writes(committed, tmp_path, monkeypatch):
    """The command projects each committed chunk while the next ones are written (not all of them at the end)."""
    real, calls = bulk.write_selected, []

    def facts() -> int:
        with connections[READ_ALIAS].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM complaint_fact")
            return cursor.fetchone()[0]

    def write_selected(source, params, **options):
        calls.append(params)
        if len(calls) == 3:  # two chunks committed: the read side shows them before the third is written
            wait_for(lambda: facts() == 4, timeout=30, message="the first two chunks on the read side")
        return real(source, params, **options)

    monkeypatch.setattr("complaints.importing.write_selected", write_selected)
    assert "imported 9 complaints" in import_file(write(tmp_path, every_shape(9)), chunk_rows=2)
    with schema_context("alpha"):
        assert facts() == 9
        assert oracle_differences() == []


def test_a_killed_import_process_leaves_whole_chunks_and_a_rerun_finishes_it(committed, tmp_path):
    path = write(tmp_path, every_shape(3000, prefix="K"))
    process = subprocess.Popen(
        [sys.executable, "manage.py", "import_complaints", path, "--schema", "alpha", "--chunk-rows", "100"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with schema_context("alpha"):
            wait_for(
                lambda: ImportRun.objects.filter(rows_written__gt=0).exists(),
                timeout=60,
                message="the import's first chunk to commit",
            )
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    # Its server session ends once the server sees the client gone (taking the import's lock with it).
    wait_for(lambda: not _import_locks(), timeout=30, message="the killed import's session to end")
    with schema_context("alpha"):
        run = ImportRun.objects.get()
        assert run.finished_at is None and 0 < run.rows_written < 3000
        assert whole_complaints() == run.rows_written
    out = import_file(path)
    assert f"continued import #{run.pk}" in out and "imported 3,000 complaints" in out
    with schema_context("alpha"):
        assert whole_complaints() == 3000
        assert compare_read_models() == []


def test_a_second_import_into_the_same_tenant_waits_its_turn_with_one_line(committed, tmp_path):
    with psycopg.connect(_dsn(), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtext('complaints_import:alpha'))")
        with pytest.raises(CommandError, match="^another import into this help desk is running"):
            import_file(write(tmp_path, every_shape(2)))
    with schema_context("alpha"):
        assert Complaint.objects.count() == 0 and not ImportRun.objects.exists()
    assert "imported 2 complaints" in import_file(write(tmp_path, every_shape(2)))  # the lock is gone with it
