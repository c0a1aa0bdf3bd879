from django.core.management import CommandError, call_command
from django.db import connections

from complaints import services
from helpdesk.databases import READ_ALIAS
from reporting.readmodel import READ_MODELS
from tests.factories import ComplaintFactory


def read_model_snapshot() -> dict:
    """Every read-model row of the current tenant (all-zero rows dropped), for before/after comparisons."""
    out = {}
    with connections[READ_ALIAS].cursor() as cursor:
        for read_model in READ_MODELS:
            cursor.execute(f"SELECT {', '.join(read_model.columns)} FROM {read_model.table}")
            out[read_model.table] = read_model.rows_by_key(cursor.fetchall())
        cursor.execute("SELECT complaint_id, version, status FROM complaint_fact ORDER BY 1")
        out["complaint_fact"] = cursor.fetchall()
    return out


def stat(table: str, column: str, **where) -> int:
    clauses = " AND ".join(f"{k} = %s" for k in where) or "true"
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(SUM({column}), 0) FROM {table} WHERE {clauses}", list(where.values()))
        return int(cursor.fetchone()[0])


def project_everything(*, timeout: float = 120.0) -> None:
    """Run the projector until the current tenant has no committed event left unapplied (dead letters aside).

    One catch_up is not always enough: a batch may be cut, and which events a run may take depends on the
    transactions open on the PostgreSQL server at that moment (other processes share it). Wait, with a deadline.
    Uses only reporting.freshness.projection_progress(), whatever the projector's batching.
    """
    from reporting import projector
    from reporting.freshness import projection_progress
    from tests.conftest import wait_for

    def caught_up() -> bool:
        projector.catch_up()
        return projection_progress()["pending_count"] == 0

    wait_for(caught_up, timeout=timeout, interval=0.1, message="the projector to apply every committed event")


def mutate_projector_sql(monkeypatch, old: str, new: str) -> None:
    """A projector whose batch statement has `old` replaced by `new` (a planted bug, to show an oracle failing);
    the statement must contain `old`, so the bug is really planted."""
    from reporting import projector, readmodel

    real = readmodel.apply_facts_sql()
    assert old in real, f"{old!r} is not in the projector's statement"
    monkeypatch.setattr(projector, "apply_facts_sql", lambda: real.replace(old, new))


def build_check_world(w, clock) -> None:
    """A few complaints in alpha touching every read model (assigned, answered, resolved, reopened, open), projected:
    the world the check's tests corrupt."""
    first = ComplaintFactory(actor=w.alice, category=w.categories["Billing"], priority="high")
    services.complaint_assign(complaint_id=first.pk, actor=w.alice, assignee=w.alice)
    clock.advance(hours=2)
    services.complaint_comment(complaint_id=first.pk, actor=w.alice, body="On it")
    clock.advance(hours=3)
    services.complaint_transition(complaint_id=first.pk, actor=w.alice, to_status="resolved")
    clock.advance(days=1)
    services.complaint_transition(complaint_id=first.pk, actor=w.alice, to_status="in_progress")
    clock.advance(hours=1)
    services.complaint_transition(complaint_id=first.pk, actor=w.alice, to_status="resolved")
    ComplaintFactory(actor=w.bob, category=w.categories["Delivery"], priority="low")
    project_everything()


def run_check(capsys) -> tuple[bool, list[str]]:
    """check_projections on alpha: whether it failed, and the lines it printed."""
    try:
        call_command("check_projections", "--schema", "alpha")
        failed = False
    except CommandError:
        failed = True
    return failed, capsys.readouterr().out.strip().splitlines()
