"""Set-based SQL for every read model, over any relation with the complaint-fact columns.

Run over `complaint_fact` in the reporting database it rebuilds the read models; run over the write side's
`complaints_complaint` it computes the same figures on the fly (the single-database way), which is what
check_projections compares against and what the benchmark times. Mirrors reporting.contributions.
"""

from dataclasses import dataclass

from complaints import models as write_models
from reporting import contributions
from reporting.days import local_day_sql
from reporting.tables import READ_TABLES_BY_KIND

WRITE_SOURCE = "complaints_complaint"
FACT_SOURCE = "complaint_fact"


@dataclass(frozen=True)
class Rules:
    """Which statuses are open and each priority's resolution target, as SQL fragments."""

    open_statuses: frozenset[str]
    target_seconds: dict[str, int]

    @property
    def open_sql(self) -> str:
        return "(" + ", ".join(f"'{s}'" for s in sorted(self.open_statuses)) + ")"

    @property
    def target_sql(self) -> str:
        whens = " ".join(f"WHEN '{p}' THEN {s}" for p, s in self.target_seconds.items())
        return f"CASE priority {whens} ELSE 0 END"


# The projector's own rules: the rebuild must agree with the projector.
PROJECTION_RULES = Rules(contributions.OPEN_STATUSES, contributions.TARGET_SECONDS)
# The write side's published rules: what check_projections holds the read side to, so a wrong constant in the
# projector shows up as a difference instead of being shared by both sides of the comparison.
WRITE_SIDE_RULES = Rules(
    frozenset(str(s) for s in write_models.OPEN_STATUSES),
    {str(p): h * 3600 for p, h in write_models.RESOLUTION_TARGET_HOURS.items()},
)


def _secs(start: str, end: str) -> str:
    return f"trunc(extract(epoch FROM {end} - {start}))::bigint"


def _where(*conditions: str) -> str:
    kept = [c for c in conditions if c]
    return f"WHERE {' AND '.join(kept)}" if kept else ""


def _agent_sql(src: str, window, res: str, fr: str) -> str:
    return f"""
            SELECT day, agent_id, category_id, priority, SUM(a)::int AS assigned_count,
                   SUM(r)::int AS resolved_count, SUM(o)::int AS reopened_count,
                   SUM(rs)::bigint AS resolution_seconds_sum, SUM(f)::int AS first_response_count,
                   SUM(fs)::bigint AS first_response_seconds_sum
            FROM (
                SELECT {local_day_sql("assigned_at")} AS day, assignee_id AS agent_id, category_id, priority,
                       1 a, 0 r, 0 o, 0::bigint rs, 0 f, 0::bigint fs
                FROM {src} {_where("assignee_id IS NOT NULL AND assigned_at IS NOT NULL", window("assigned_at"))}
                UNION ALL
                SELECT {local_day_sql("resolved_at")}, assignee_id, category_id, priority, 0, 1, 0, {res}, 0, 0
                FROM {src} {_where("assignee_id IS NOT NULL AND resolved_at IS NOT NULL", window("resolved_at"))}
                UNION ALL
                SELECT {local_day_sql("first_response_at")}, assignee_id, category_id, priority, 0, 0, 0, 0, 1, {fr}
                FROM {src} {
        _where("assignee_id IS NOT NULL AND first_response_at IS NOT NULL", window("first_response_at"))
    }
                UNION ALL
                SELECT {local_day_sql("created_at")}, assignee_id, category_id, priority, 0, 0, reopen_count, 0, 0, 0
                FROM {src} {_where("assignee_id IS NOT NULL AND reopen_count > 0", window("created_at"))}
            ) x GROUP BY 1, 2, 3, 4"""


def _sql(src: str, windowed: bool, rules: Rules) -> dict[str, str]:
    """SQL per read model over `src`, days being local days in the zone passed as %(tz)s. With `windowed`, each
    branch keeps only rows whose bucketing timestamp lies in [%(since)s, %(until)s), so the write side's timestamp
    indexes can be used (on-the-fly dashboards)."""

    def window(col: str) -> str:
        return f"{col} >= %(since)s AND {col} < %(until)s" if windowed else ""

    res, fr = _secs("created_at", "resolved_at"), _secs("created_at", "first_response_at")
    agent_sql = _agent_sql(src, window, res, fr)
    return {
        "stats": f"""
            SELECT day, category_id, priority, SUM(c)::int AS created_count, SUM(r)::int AS resolved_count,
                   SUM(w)::int AS resolved_within_target, SUM(rs)::bigint AS resolution_seconds_sum,
                   SUM(f)::int AS first_response_count, SUM(fs)::bigint AS first_response_seconds_sum
            FROM (
                SELECT {local_day_sql("created_at")} AS day, category_id, priority, 1 c, 0 r, 0 w, 0::bigint rs, 0 f,
                       0::bigint fs FROM {src} {_where(window("created_at"))}
                UNION ALL
                SELECT {local_day_sql("resolved_at")}, category_id, priority, 0, 1,
                       CASE WHEN {res} <= {rules.target_sql} THEN 1 ELSE 0 END, {res}, 0, 0
                FROM {src} {_where("resolved_at IS NOT NULL", window("resolved_at"))}
                UNION ALL
                SELECT {local_day_sql("first_response_at")}, category_id, priority, 0, 0, 0, 0, 1, {fr}
                FROM {src} {_where("first_response_at IS NOT NULL", window("first_response_at"))}
            ) x GROUP BY 1, 2, 3""",
        "agent": agent_sql,
        "agent_day": f"""
            SELECT day, agent_id, SUM(assigned_count)::int AS assigned_count,
                   SUM(resolved_count)::int AS resolved_count, SUM(reopened_count)::int AS reopened_count,
                   SUM(resolution_seconds_sum)::bigint AS resolution_seconds_sum,
                   SUM(first_response_count)::int AS first_response_count,
                   SUM(first_response_seconds_sum)::bigint AS first_response_seconds_sum
            FROM ({agent_sql}) per_category GROUP BY 1, 2""",
        "workload": f"""
            SELECT COALESCE(assignee_id, 0) AS agent_id, category_id, priority, COUNT(*)::int AS open_count
            FROM {src} WHERE status IN {rules.open_sql} GROUP BY 1, 2, 3""",
        "backlog": f"""
            SELECT {local_day_sql("created_at")} AS created_day, category_id, priority, COUNT(*)::int AS open_count
            FROM {src} WHERE status IN {rules.open_sql} GROUP BY 1, 2, 3""",
        "category": f"""
            SELECT category_id, priority, COUNT(*)::int AS total,
                   (COUNT(*) FILTER (WHERE status IN {rules.open_sql}))::int AS open,
                   (COUNT(*) FILTER (WHERE status IN ('resolved', 'closed')))::int AS resolved
            FROM {src} GROUP BY 1, 2""",
        "status": f"""SELECT status, category_id, priority, COUNT(*)::int AS count FROM {src} GROUP BY 1, 2, 3""",
    }


def aggregate_select(kind: str, *, source: str, windowed: bool = False, rules: Rules = PROJECTION_RULES) -> str:
    return _sql(source, windowed, rules)[kind]


def aggregate_insert(kind: str) -> str:
    """INSERT ... SELECT that fills one read model from complaint_fact (used by the rebuild; parameter: tz)."""
    table = READ_TABLES_BY_KIND[kind]
    columns = ", ".join(table.keys + table.values)
    return f"INSERT INTO {table.name} ({columns}) {aggregate_select(kind, source=FACT_SOURCE)}"


def rows_by_key(kind: str, rows) -> dict[tuple, tuple]:
    """Index rows of one read model by key, dropping rows whose values are all zero (a projector leaves those
    behind when a complaint moves away; they mean nothing)."""
    nkeys = len(READ_TABLES_BY_KIND[kind].keys)
    return {tuple(r[:nkeys]): tuple(r[nkeys:]) for r in rows if any(r[nkeys:])}
