"""Every dashboard and report figure, answered from the read models alone: one small selector per figure, each
returning its named rows. reporting.figures declares how each figure is shown, exported and served; the
benchmark's single-database comparison runs these same selectors against views of the write tables
(benchmarks/onthefly.py).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connections
from reporting.days import local_today
from reporting.freshness import read_models_time_zone
from reporting.readmodel import READ_MODELS_BY_KIND, RULES

PERIOD_DAYS = (7, 30, 90, 180, 365)
DEFAULT_PERIOD_DAYS = 180
MAX_CUSTOM_DAYS = 3 * 366
AGE_BUCKETS = ((0, 1, "< 1 day"), (1, 3, "1–3 days"), (3, 7, "3–7 days"), (7, 30, "1–4 weeks"), (30, None, "> 30 days"))
AGENT_SORTS = (
    "name",
    "assigned",
    "resolved",
    "reopened",
    "reopen_rate_pct",
    "avg_resolution_hours",
    "avg_first_response_hours",
    "open_now",
)


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


@dataclass(frozen=True)
class FigureQuery:
    """What every figure is asked: a period and filters, in the zone the read models count days in (read once
    per request with the figures' state, reporting.freshness). `alias` is the database that answers."""

    period: Period
    filters: Filters
    time_zone: str
    agent_sort: str = "-resolved"
    alias: str = READ_ALIAS

    @property
    def filtered(self) -> bool:
        return bool(self.filters.category_id or self.filters.priority)

    def relation(self, kind: str, *, rollup: str | None = None) -> str:
        """The read model of `kind`, or its `rollup` when no filter needs the detail (a row per day instead of
        per day, category and priority)."""
        return READ_MODELS_BY_KIND[rollup if rollup and not self.filtered else kind].table

    def fetch(self, sql: str, **extra) -> list[tuple]:
        previous = self.period.previous()
        params = {
            "start": self.period.start,
            "end": self.period.end,
            "prev_start": previous.start,
            "tz": self.time_zone,
            **self.filters.params(),
            **extra,
        }
        with connections[self.alias].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    @property
    def in_period(self) -> str:
        return f"day BETWEEN %(start)s AND %(end)s{self.filters.sql()}"


class Kpi(NamedTuple):
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


class DayRow(NamedTuple):
    day: date
    received: int
    resolved: int


class CategoryRow(NamedTuple):
    category: str
    received: int
    share_pct: float
    reopened: int  # of the complaints received, those reopened at least once
    reopen_rate_pct: float | None  # reopened, of those received and ever resolved
    category_id: int


class PriorityRow(NamedTuple):
    priority: str
    received: int
    share_pct: float


class BacklogRow(NamedTuple):
    age: str
    open: int


class ChannelRow(NamedTuple):
    channel: str
    received: int
    resolved: int
    avg_resolution_hours: float | None


class OpenByStatusRow(NamedTuple):
    status: str
    category: str
    open: int
    category_id: int


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class ArrivalRow(NamedTuple):
    weekday: str  # of the local day
    hour: int  # the local wall clock's, 0-23
    received: int


@dataclass
class AgentRow:
    name: str  # first: the CSV's first column names the agent
    agent_id: int
    assigned: int = 0
    resolved: int = 0
    reopened: int = 0  # complaints received in the period (and assigned to the agent now) reopened at least once
    reopen_rate_pct: float | None = None  # reopened, of those received and ever resolved
    avg_resolution_hours: float | None = None
    avg_first_response_hours: float | None = None
    open_now: int = 0


def _hours(seconds: int, count: int | None) -> float | None:
    # SUMs of bigint columns arrive as Decimal: make every average a float, whichever table it came from.
    return round(int(seconds) / int(count) / 3600, 2) if count else None


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _shares(rows: list[tuple[str, int]]) -> list[tuple[str, int, float]]:
    total = sum(n for _, n in rows) or 1
    return [(name, n, round(100.0 * n / total, 1)) for name, n in sorted(rows, key=lambda r: (-r[1], r[0]))]


def kpis(q: FigureQuery) -> dict[str, Kpi]:
    """The period's totals beside the previous period's (open: now)."""
    totals: dict[bool, tuple[int, ...]] = {True: (0,) * 6, False: (0,) * 6}
    for current, *values in q.fetch(
        f"""SELECT day >= %(start)s, SUM(created_count), SUM(resolved_count), SUM(resolved_within_target),
                   SUM(resolution_seconds_sum), SUM(first_response_count), SUM(first_response_seconds_sum)
            FROM {q.relation("stats", rollup="stats_day")}
            WHERE day BETWEEN %(prev_start)s AND %(end)s{q.filters.sql()} GROUP BY 1"""
    ):
        totals[current] = tuple(int(v or 0) for v in values)
    (received, resolved, within, res_s, fr, fr_s), p = totals[True], totals[False]
    [(open_now,)] = q.fetch(
        f"SELECT COALESCE(SUM(open_count), 0) FROM {q.relation('backlog')} WHERE true{q.filters.sql()}"
    )
    return {
        "received": Kpi(received, p[0]),
        "resolved": Kpi(resolved, p[1]),
        "open": Kpi(int(open_now), None),
        "avg_resolution_hours": Kpi(_hours(res_s, resolved), _hours(p[3], p[1])),
        "avg_first_response_hours": Kpi(_hours(fr_s, fr), _hours(p[5], p[4])),
        "within_target_pct": Kpi(_pct(within, resolved), _pct(p[2], p[1])),
    }


def daily(q: FigureQuery) -> list[DayRow]:
    """Received and resolved per local day, every day of the period."""
    by_day = {
        d: (int(c), int(r))
        for d, c, r in q.fetch(
            f"SELECT day, SUM(created_count), SUM(resolved_count) "
            f"FROM {q.relation('stats', rollup='stats_day')} WHERE {q.in_period} GROUP BY day"
        )
    }
    days = (q.period.start + timedelta(days=i) for i in range(q.period.days))
    return [DayRow(d, *by_day.get(d, (0, 0))) for d in days]


def categories(q: FigureQuery) -> list[CategoryRow]:
    """Received per category, most first, with each one's share and reopen rate."""
    rows = q.fetch(
        f"SELECT COALESCE(d.name, '#' || s.category_id), SUM(s.created_count), SUM(s.reopened_count), "
        f"SUM(s.ever_resolved_count), s.category_id FROM {q.relation('stats')} s "
        f"LEFT JOIN category_dim d USING (category_id) WHERE {q.in_period} "
        "GROUP BY s.category_id, d.name HAVING SUM(s.created_count) > 0"
    )
    total = sum(int(n) for _, n, *_ in rows) or 1
    return sorted(
        (
            CategoryRow(
                name, int(n), round(100.0 * int(n) / total, 1), int(reopened), _pct(int(reopened), int(ever)), cid
            )
            for name, n, reopened, ever, cid in rows
        ),
        key=lambda row: (-row.received, row.category),
    )


def priorities(q: FigureQuery) -> list[PriorityRow]:
    """Received per priority, most first, with each one's share."""
    rows = q.fetch(
        f"SELECT priority, SUM(created_count) FROM {q.relation('stats')} WHERE {q.in_period} "
        "GROUP BY 1 HAVING SUM(created_count) > 0"
    )
    return [PriorityRow(*row) for row in _shares([(prio, int(n)) for prio, n in rows])]


def backlog(q: FigureQuery) -> list[BacklogRow]:
    """Open complaints now, by age (in local days, from the read models' today)."""
    buckets = dict.fromkeys((label for _, _, label in AGE_BUCKETS), 0)
    now_day = today(q.time_zone)
    for created_day, n in q.fetch(
        f"SELECT created_day, SUM(open_count) FROM {q.relation('backlog')} WHERE true{q.filters.sql()} GROUP BY 1"
    ):
        age = (now_day - created_day).days
        for low, high, label in AGE_BUCKETS:
            if age >= low and (high is None or age < high):
                buckets[label] += int(n)
                break
    return [BacklogRow(label, n) for label, n in buckets.items()]


def channels(q: FigureQuery) -> list[ChannelRow]:
    """Received, resolved and average resolution per channel, most received first."""
    rows = (
        ChannelRow(channel, int(received), int(resolved), _hours(seconds, resolved))
        for channel, received, resolved, seconds in q.fetch(
            "SELECT channel, SUM(received_count), SUM(resolved_count), SUM(resolution_seconds_sum) "
            f"FROM {q.relation('channel', rollup='channel_day')} WHERE {q.in_period} GROUP BY 1"
        )
        if received or resolved
    )
    return sorted(rows, key=lambda row: (-row.received, row.channel))


def open_by_status(q: FigureQuery) -> list[OpenByStatusRow]:
    """Open complaints now, by status and category (the period does not apply)."""
    rows = q.fetch(
        f"SELECT st.status, COALESCE(d.name, '#' || st.category_id), SUM(st.count), st.category_id "
        f"FROM {q.relation('status')} st "
        f"LEFT JOIN category_dim d USING (category_id) WHERE st.status = ANY(%(open_statuses)s){q.filters.sql()} "
        "GROUP BY st.status, st.category_id, d.name HAVING SUM(st.count) > 0",
        open_statuses=sorted(RULES.open_statuses),
    )
    return sorted(OpenByStatusRow(status, category, int(n), cid) for status, category, n, cid in rows)


def arrivals(q: FigureQuery) -> list[ArrivalRow]:
    """Complaints received in the period by weekday and hour of the tenant's local time: all 7 x 24 cells."""
    cells = {
        (int(weekday), int(hour)): int(n)
        for weekday, hour, n in q.fetch(
            "SELECT extract(isodow FROM day)::int, hour, SUM(received_count) "
            f"FROM {q.relation('arrivals', rollup='arrivals_hour')} WHERE {q.in_period} GROUP BY 1, 2"
        )
    }
    return [
        ArrivalRow(name, hour, cells.get((weekday, hour), 0))
        for weekday, name in enumerate(WEEKDAYS, start=1)
        for hour in range(24)
    ]


def agents(q: FigureQuery) -> list[AgentRow]:
    """Each agent's work in the period and open complaints now, in the query's agent_sort order (AGENT_SORTS)."""
    rows: dict[int, AgentRow] = {}
    for aid, name, assigned, res, reopened, ever, rs, frc, frs in q.fetch(
        f"""SELECT a.agent_id, COALESCE(d.name, '#' || a.agent_id), SUM(assigned_count), SUM(resolved_count),
                   SUM(reopened_count), SUM(ever_resolved_count), SUM(resolution_seconds_sum),
                   SUM(first_response_count), SUM(first_response_seconds_sum)
            FROM {q.relation("agent", rollup="agent_day")} a LEFT JOIN agent_dim d USING (agent_id)
            WHERE {q.in_period} GROUP BY 1, 2"""
    ):
        if assigned or res or ever or frc:  # rows left at zero when a complaint moved to another agent
            rows[aid] = AgentRow(
                name,
                aid,
                int(assigned),
                int(res),
                int(reopened),
                _pct(int(reopened), int(ever)),
                _hours(rs, res),
                _hours(frs, frc),
            )
    for aid, name, n in q.fetch(
        f"SELECT w.agent_id, COALESCE(d.name, '#' || w.agent_id), SUM(open_count) FROM {q.relation('workload')} w "
        f"LEFT JOIN agent_dim d USING (agent_id) WHERE w.agent_id <> 0{q.filters.sql()} GROUP BY 1, 2"
    ):
        if n:
            rows.setdefault(aid, AgentRow(name, aid)).open_now = int(n)
    return sort_agents(list(rows.values()), q.agent_sort)


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


def sort_categories(rows: list[CategoryRow], sort: str) -> list[CategoryRow]:
    """The category table's order: by name or by complaints received, "-" first for descending."""
    key = CATEGORY_SORTS.get(sort.lstrip("-"))
    if key is None:
        key, sort = CATEGORY_SORTS["received"], "-received"
    return sorted(rows, key=key, reverse=sort.startswith("-"))


def category_options(alias: str = READ_ALIAS) -> list[tuple[int, str]]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT category_id, name FROM category_dim ORDER BY name")
        return cursor.fetchall()
