from django.db import connections

from reporting.readmodel import READ_MODELS


def read_model_snapshot() -> dict:
    """Every read-model row of the current tenant (all-zero rows dropped), for before/after comparisons."""
    out = {}
    with connections["reporting"].cursor() as cursor:
        for read_model in READ_MODELS:
            cursor.execute(f"SELECT {', '.join(read_model.columns)} FROM {read_model.table}")
            out[read_model.table] = read_model.rows_by_key(cursor.fetchall())
        cursor.execute("SELECT complaint_id, version, status FROM complaint_fact ORDER BY 1")
        out["complaint_fact"] = cursor.fetchall()
    return out


def stat(table: str, column: str, **where) -> int:
    clauses = " AND ".join(f"{k} = %s" for k in where) or "true"
    with connections["reporting"].cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(SUM({column}), 0) FROM {table} WHERE {clauses}", list(where.values()))
        return int(cursor.fetchone()[0])


def project_everything(*, timeout: float = 120.0) -> None:
    """Run the projector until every committed event of the current tenant is applied (or dead-lettered).

    The projector only reads events below the oldest transaction still running on the PostgreSQL server, so a
    long transaction of another process sharing the server (another test run, a benchmark) holds it back for a
    while: wait for that, with a deadline, rather than assume one catch_up is enough.
    """
    from reporting import projector
    from reporting.models import ProjectionCheckpoint
    from tests.conftest import wait_for

    def caught_up() -> bool:
        projector.catch_up()
        checkpoint = ProjectionCheckpoint.objects.using("reporting").get(id=1)
        pending, _ = projector.pending_summary(checkpoint)
        return pending == 0

    wait_for(caught_up, timeout=timeout, interval=0.1, message="the projector to apply every committed event")
