"""Set-based SQL for every read model, over any relation with the complaint-fact columns.

Run over `complaint_fact` in the reporting database it rebuilds the read models; run over the write side's
`complaints_complaint` it computes the same figures on the fly (the single-database way), which is what
check_projections compares against and what the benchmark times. Mirrors reporting.contributions.
"""

from reporting.contributions import OPEN_STATUSES, TARGET_SECONDS
from reporting.tables import READ_TABLES_BY_KIND

WRITE_SOURCE = "complaints_complaint"
FACT_SOURCE = "complaint_fact"

_OPEN = "(" + ", ".join(f"'{s}'" for s in sorted(OPEN_STATUSES)) + ")"
_TARGET = "CASE priority " + " ".join(f"WHEN '{p}' THEN {s}" for p, s in TARGET_SECONDS.items()) + " ELSE 0 END"


def _day(col: str) -> str:
    return f"({col} AT TIME ZONE 'UTC')::date"


def _secs(start: str, end: str) -> str:
    return f"trunc(extract(epoch FROM {end} - {start}))::bigint"


def _sql(src: str) -> dict[str, str]:
    res, fr = _secs("created_at", "resolved_at"), _secs("created_at", "first_response_at")
    return {
        "stats": f"""
            SELECT day, category_id, priority, SUM(c)::int, SUM(r)::int, SUM(w)::int, SUM(rs)::bigint,
                   SUM(f)::int, SUM(fs)::bigint
            FROM (
                SELECT {_day("created_at")} AS day, category_id, priority, 1 c, 0 r, 0 w, 0::bigint rs, 0 f,
                       0::bigint fs FROM {src}
                UNION ALL
                SELECT {_day("resolved_at")}, category_id, priority, 0, 1,
                       CASE WHEN {res} <= {_TARGET} THEN 1 ELSE 0 END, {res}, 0, 0
                FROM {src} WHERE resolved_at IS NOT NULL
                UNION ALL
                SELECT {_day("first_response_at")}, category_id, priority, 0, 0, 0, 0, 1, {fr}
                FROM {src} WHERE first_response_at IS NOT NULL
            ) x GROUP BY 1, 2, 3""",
        "agent": f"""
            SELECT day, agent_id, category_id, priority, SUM(a)::int, SUM(r)::int, SUM(o)::int, SUM(rs)::bigint,
                   SUM(f)::int, SUM(fs)::bigint
            FROM (
                SELECT {_day("assigned_at")} AS day, assignee_id AS agent_id, category_id, priority,
                       1 a, 0 r, 0 o, 0::bigint rs, 0 f, 0::bigint fs
                FROM {src} WHERE assignee_id IS NOT NULL AND assigned_at IS NOT NULL
                UNION ALL
                SELECT {_day("resolved_at")}, assignee_id, category_id, priority, 0, 1, 0, {res}, 0, 0
                FROM {src} WHERE assignee_id IS NOT NULL AND resolved_at IS NOT NULL
                UNION ALL
                SELECT {_day("first_response_at")}, assignee_id, category_id, priority, 0, 0, 0, 0, 1, {fr}
                FROM {src} WHERE assignee_id IS NOT NULL AND first_response_at IS NOT NULL
                UNION ALL
                SELECT {_day("created_at")}, assignee_id, category_id, priority, 0, 0, reopen_count, 0, 0, 0
                FROM {src} WHERE assignee_id IS NOT NULL AND reopen_count > 0
            ) x GROUP BY 1, 2, 3, 4""",
        "workload": f"""
            SELECT COALESCE(assignee_id, 0), category_id, priority, COUNT(*)::int
            FROM {src} WHERE status IN {_OPEN} GROUP BY 1, 2, 3""",
        "backlog": f"""
            SELECT {_day("created_at")}, category_id, priority, COUNT(*)::int
            FROM {src} WHERE status IN {_OPEN} GROUP BY 1, 2, 3""",
        "category": f"""
            SELECT category_id, priority, COUNT(*)::int,
                   (COUNT(*) FILTER (WHERE status IN {_OPEN}))::int,
                   (COUNT(*) FILTER (WHERE status IN ('resolved', 'closed')))::int
            FROM {src} GROUP BY 1, 2""",
        "status": f"SELECT status, category_id, priority, COUNT(*)::int FROM {src} GROUP BY 1, 2, 3",
    }


def aggregate_select(kind: str, *, source: str) -> str:
    return _sql(source)[kind]


def aggregate_insert(kind: str) -> str:
    """INSERT ... SELECT that fills one read model from complaint_fact (used by the rebuild)."""
    table = READ_TABLES_BY_KIND[kind]
    columns = ", ".join(table.keys + table.values)
    return f"INSERT INTO {table.name} ({columns}) {aggregate_select(kind, source=FACT_SOURCE)}"


def rows_by_key(kind: str, rows) -> dict[tuple, tuple]:
    """Index rows of one read model by key, dropping rows whose values are all zero (a projector leaves those
    behind when a complaint moves away; they mean nothing)."""
    nkeys = len(READ_TABLES_BY_KIND[kind].keys)
    return {tuple(r[:nkeys]): tuple(r[nkeys:]) for r in rows if any(r[nkeys:])}
