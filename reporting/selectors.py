"""Every dashboard and report question, answered from the read models (the `reporting` alias) alone.

The queries are written against a *source*: `READ_MODELS` names the read-model tables. reporting.onthefly
provides the same relations computed from the write tables (the single-database way), so the benchmark and the
equality tests run the very same queries on both.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connections
from reporting.days import day_start, local_today
from reporting.facts import OPEN_STATUSES
from reporting.projector import read_models_time_zone
from reporting.readmodel import READ_MODELS_BY_KIND

PERIOD_DAYS = (7, 30, 90, 180, 365)
DEFAULT_PERIOD_DAYS = 180
MAX_CUSTOM_DAYS = 3 * 366
AGE_BUCKETS = ((0, 1, "< 1 day"), (1, 3, "1–3 days"), (3, 7, "3–7 days"), (7, 30, "1–4 weeks"), (30, None, "> 30 days"))
AGENT_SORTS = (
    "name",
    "assigned",
    "resolved",
    "reopened",
    "avg_resolution_hours",
    "avg_first_response_hours",
    "open_now",
)


class FigureSource(Protocol):
    """Where the figures' queries read: the read models, or (for the benchmark's comparison) the write tables."""

    alias: str

    def relation(self, kind: str) -> str: ...
    def time_zone(self) -> str: ...
    def names(self, kind: str) -> str: ...


class ReadModelSource:
    """The read-model tables, in the tenant's schema of the reporting database."""

    alias = READ_ALIAS

    def relation(self, kind: str) -> str:
        return READ_MODELS_BY_KIND[kind].table

    def time_zone(self) -> str:
        return read_models_time_zone()

    def names(self, kind: str) -> str:
        return {
            "category": "SELECT category_id, name FROM category_dim",
            "agent": "SELECT agent_id, name FROM agent_dim",
        }[kind]


READ_MODELS = ReadModelSource()


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


@dataclass(frozen=True)
class Filters:
    category_id: int | None = None
    priority: str | None = None

    def sql(self) -> str:
        return "".join(
            [
                " AND category_id = %(category)s" if self.category_id else "",
                " AND priority = %(priority)s" if self.priority else "",
            ]
        )

    def params(self) -> dict:
        return {"category": self.category_id, "priority": self.priority}


def today(zone: str | None = None) -> date:
    """The local today in `zone`, by default the zone the read models are built with (the dashboards' zone)."""
    return local_today(zone or read_models_time_zone())


def period_last(days: int, zone: str | None = None) -> Period:
    end = today(zone)
    return Period(end - timedelta(days=days - 1), end)


def period_between(start: date, end: date) -> Period:
    if end < start:
        raise ValueError("The end date is before the start date.")
    if (end - start).days + 1 > MAX_CUSTOM_DAYS:
        raise ValueError(f"A period may span at most {MAX_CUSTOM_DAYS} days.")
    return Period(start, end)


@dataclass
class Kpi:
    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_pct(self) -> float | None:
        if self.change is None or not self.previous:
            return None
        return 100.0 * self.change / self.previous


@dataclass
class AgentRow:
    agent_id: int
    name: str
    assigned: int = 0
    resolved: int = 0
    reopened: int = 0
    avg_resolution_hours: float | None = None
    avg_first_response_hours: float | None = None
    open_now: int = 0


@dataclass
class Dashboard:
    period: Period
    filters: Filters
    kpis: dict[str, Kpi]
    daily: list[tuple[date, int, int]]  # day, received, resolved
    categories: list[tuple[str, int, float]]  # name, received, share %
    priorities: list[tuple[str, int, float]]
    backlog: list[tuple[str, int]]  # age bucket, open complaints
    agents: list[AgentRow] = field(default_factory=list)
    time_zone: str = "UTC"  # the zone whose local days these figures count
    open_by_status: list[tuple[str, str, int]] = field(default_factory=list)  # status, category, open now
    # channel, received, resolved, average resolution hours; most received first
    channels: list[tuple[str, int, int, float | None]] = field(default_factory=list)


def _hours(seconds: int, count: int | None) -> float | None:
    # SUMs of bigint columns arrive as Decimal: make every average a float, whichever table it came from.
    return round(int(seconds) / int(count) / 3600, 2) if count else None


def _fetch(source: FigureSource, sql: str, params: dict) -> list[tuple]:
    with connections[source.alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _shares(rows: list[tuple[str, int]]) -> list[tuple[str, int, float]]:
    total = sum(n for _, n in rows) or 1
    return [(name, n, round(100.0 * n / total, 1)) for name, n in sorted(rows, key=lambda r: (-r[1], r[0]))]


def dashboard(
    *, period: Period, filters: Filters, agent_sort: str = "-resolved", source: FigureSource = READ_MODELS
) -> Dashboard:
    prev = period.previous()
    zone = source.time_zone()
    params = {
        "start": period.start,
        "end": period.end,
        "prev_start": prev.start,
        "tz": zone,
        # Timestamps bounding the whole range, for sources that compute from raw timestamps.
        "since": day_start(prev.start, zone),
        "until": day_start(period.end + timedelta(days=1), zone),
        **filters.params(),
    }
    stats = source.relation("stats")
    # Unfiltered views read the rollups (a row per day, or day x agent / channel); category and priority
    # filters need the detailed tables.
    filtered = bool(filters.category_id or filters.priority)
    totals_by_day = source.relation("stats" if filtered else "stats_day")
    agents = source.relation("agent" if filtered else "agent_day")
    channels_by_day = source.relation("channel" if filtered else "channel_day")
    where = f"WHERE day BETWEEN %(start)s AND %(end)s{filters.sql()}"

    totals: dict[bool, tuple[int, ...]] = {True: (0,) * 6, False: (0,) * 6}
    for current, *values in _fetch(
        source,
        f"""
            SELECT day >= %(start)s, SUM(created_count), SUM(resolved_count), SUM(resolved_within_target),
                   SUM(resolution_seconds_sum), SUM(first_response_count), SUM(first_response_seconds_sum)
            FROM {totals_by_day} s WHERE day BETWEEN %(prev_start)s AND %(end)s{filters.sql()} GROUP BY 1""",
        params,
    ):
        totals[current] = tuple(int(v or 0) for v in values)
    (received, resolved, within, res_s, fr, fr_s), p = totals[True], totals[False]

    open_now = _fetch(
        source,
        f"SELECT COALESCE(SUM(open_count), 0) FROM {source.relation('backlog')} b WHERE true{filters.sql()}",
        params,
    )[0][0]
    kpis = {
        "received": Kpi(received, p[0]),
        "resolved": Kpi(resolved, p[1]),
        "open": Kpi(int(open_now), None),
        "avg_resolution_hours": Kpi(_hours(res_s, resolved), _hours(p[3], p[1])),
        "avg_first_response_hours": Kpi(_hours(fr_s, fr), _hours(p[5], p[4])),
        "within_target_pct": Kpi(
            round(100.0 * within / resolved, 1) if resolved else None, round(100.0 * p[2] / p[1], 1) if p[1] else None
        ),
    }

    by_day = {
        d: (int(c), int(r))
        for d, c, r in _fetch(
            source,
            f"SELECT day, SUM(created_count), SUM(resolved_count) FROM {totals_by_day} s {where} GROUP BY day",
            params,
        )
    }
    daily = [(d, *by_day.get(d, (0, 0))) for d in (period.start + timedelta(days=i) for i in range(period.days))]

    category_names = dict(_fetch(source, source.names("category"), {}))
    categories = _shares(
        [
            (category_names.get(cid, f"#{cid}"), int(n))
            for cid, n in _fetch(
                source, f"SELECT category_id, SUM(created_count) FROM {stats} s {where} GROUP BY 1", params
            )
            if n
        ]
    )
    priorities = _shares(
        [
            (prio, int(n))
            for prio, n in _fetch(
                source, f"SELECT priority, SUM(created_count) FROM {stats} s {where} GROUP BY 1", params
            )
            if n
        ]
    )

    buckets = dict.fromkeys((label for _, _, label in AGE_BUCKETS), 0)
    now_day = today(zone)
    for created_day, n in _fetch(
        source,
        f"SELECT created_day, SUM(open_count) FROM {source.relation('backlog')} b WHERE true{filters.sql()} GROUP BY 1",
        params,
    ):
        age = (now_day - created_day).days
        for low, high, label in AGE_BUCKETS:
            if age >= low and (high is None or age < high):
                buckets[label] += int(n)
                break

    channels = sorted(
        (
            (channel, int(received), int(resolved), _hours(seconds, resolved))
            for channel, received, resolved, seconds in _fetch(
                source,
                f"SELECT channel, SUM(received_count), SUM(resolved_count), SUM(resolution_seconds_sum) "
                f"FROM {channels_by_day} ch {where} GROUP BY 1",
                params,
            )
            if received or resolved
        ),
        key=lambda row: (-row[1], row[0]),
    )

    open_by_status = sorted(
        (status, category_names.get(cid, f"#{cid}"), int(n))
        for status, cid, n in _fetch(
            source,
            f"SELECT status, category_id, SUM(count) FROM {source.relation('status')} st "
            f"WHERE status = ANY(%(open_statuses)s){filters.sql()} GROUP BY 1, 2",
            {**params, "open_statuses": sorted(OPEN_STATUSES)},
        )
        if n
    )

    agent_names = dict(_fetch(source, source.names("agent"), {}))
    rows: dict[int, AgentRow] = {}
    for aid, assigned, res, reopened, rs, frc, frs in _fetch(
        source,
        f"""
            SELECT agent_id, SUM(assigned_count), SUM(resolved_count), SUM(reopened_count),
                   SUM(resolution_seconds_sum), SUM(first_response_count), SUM(first_response_seconds_sum)
            FROM {agents} a {where} GROUP BY 1""",
        params,
    ):
        if not (assigned or res or reopened or frc):
            continue  # rows the projector left at zero when a complaint moved to another agent
        rows[aid] = AgentRow(
            aid,
            agent_names.get(aid, f"#{aid}"),
            int(assigned),
            int(res),
            int(reopened),
            _hours(rs, res),
            _hours(frs, frc),
        )
    for aid, n in _fetch(
        source,
        f"SELECT agent_id, SUM(open_count) FROM {source.relation('workload')} w "
        f"WHERE agent_id <> 0{filters.sql()} GROUP BY 1",
        params,
    ):
        if n:
            rows.setdefault(aid, AgentRow(aid, agent_names.get(aid, f"#{aid}"))).open_now = int(n)

    return Dashboard(
        period=period,
        filters=filters,
        kpis=kpis,
        daily=daily,
        categories=categories,
        priorities=priorities,
        backlog=list(buckets.items()),
        agents=sort_agents(list(rows.values()), agent_sort),
        time_zone=zone,
        open_by_status=open_by_status,
        channels=channels,
    )


def sort_agents(rows: list[AgentRow], sort: str) -> list[AgentRow]:
    key = sort.lstrip("-")
    if key not in AGENT_SORTS:
        key, sort = "resolved", "-resolved"
    missing_last = float("-inf") if sort.startswith("-") else float("inf")

    def value(row):
        v = getattr(row, key)
        return (v if v is not None else missing_last) if key != "name" else v.lower()

    return sorted(rows, key=lambda r: (value(r), r.name), reverse=sort.startswith("-"))


CATEGORY_SORTS = {"name": lambda r: (r[0].lower(), -r[1]), "received": lambda r: (r[1], r[0].lower())}


def sort_categories(rows: list[tuple[str, int, float]], sort: str) -> list[tuple[str, int, float]]:
    """The category table's order: by name or by complaints received, "-" first for descending."""
    key = CATEGORY_SORTS.get(sort.lstrip("-"))
    if key is None:
        key, sort = CATEGORY_SORTS["received"], "-received"
    return sorted(rows, key=key, reverse=sort.startswith("-"))


def category_options() -> list[tuple[int, str]]:
    return _fetch(READ_MODELS, "SELECT category_id, name FROM category_dim ORDER BY name", {})
