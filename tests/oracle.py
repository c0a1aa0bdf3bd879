"""The independent oracle: every dashboard figure and every read-model row, worked out in plain Python from
the write models (the complaints, categories and users as the ORM loads them) and the rules as the README
states them.

It imports nothing from `reporting` — no SQL, no constants, no helpers — so a mistake on the read side cannot
hide by being on both sides of a comparison. Its rules, written out once here:

- days are the tenant's local calendar days (midnight to midnight in its IANA zone, so 23 or 25 hours around a
  DST change, and shifted by odd offsets such as +5:45); a complaint counts as *received* on its created day,
  *resolved* on its resolved day (a reopened complaint is no longer resolved), *first responded* on its
  first-response day;
- resolution time = whole seconds from created to resolved; *within target* when at most the priority's target
  (urgent 4 h, high 24 h, medium 72 h, low 7 days); averages are hours to 2 decimals, shares % to 1 decimal;
- *open* = new, in progress or on hold; the backlog buckets open complaints by age in days (today minus the
  created day): < 1 day, 1–3, 3–7, 1–4 weeks (7–29), > 30 days (30 and more);
- agents are credited with the complaints currently assigned to them: assigned on the assignment day, resolved
  and first responses on those days, complaints reopened (at least once: complaints, not reopens) on the created
  day; "open now" ignores the period;
- reopen rate (per category, per agent) = of the complaints received in the period that were ever resolved
  (resolved now, or reopened, which only a resolved complaint can be), the share reopened, % to 1 decimal;
- arrivals: complaints received in the period by weekday and hour of the local wall clock (all 7 x 24 cells,
  Monday 0:00 first);
- the previous period is the same number of days just before the period;
- per channel: received on the created day, resolved (and its resolution time) on the resolved day, channels
  with neither in the period left out, most received first.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import overload
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from complaints.models import Category, Complaint
from helpdesk.tenancy import connection

OPEN = frozenset({"new", "in_progress", "on_hold"})
TARGET_HOURS = {"urgent": 4, "high": 24, "medium": 72, "low": 7 * 24}
BACKLOG_BUCKETS = (("< 1 day", 0, 1), ("1–3 days", 1, 3), ("3–7 days", 3, 7), ("1–4 weeks", 7, 30), ("> 30 days", 30))


@dataclass(frozen=True)
class Snapshot:
    """What the oracle knows: each complaint's current state and the names the write side shows."""

    complaints: tuple[Complaint, ...]
    category_names: dict[int, str]
    category_active: dict[int, bool]
    agent_names: dict[int, str]
    time_zone: str = "UTC"


def snapshot(time_zone: str | None = None) -> Snapshot:
    """The current tenant's write side, read through the ORM; days in `time_zone`, by default the tenant's."""
    from tenants.models import Tenant

    users = get_user_model().objects.all()
    zone = time_zone or Tenant.objects.get(schema_name=connection.schema_name).time_zone
    return Snapshot(
        time_zone=zone,
        complaints=tuple(Complaint.objects.order_by("id")),
        category_names={c.pk: c.name for c in Category.objects.all()},
        category_active={c.pk: c.active for c in Category.objects.all()},
        agent_names={u.pk: u.get_full_name() or u.username for u in users},
    )


@overload
def day(moment: datetime, zone: str) -> date: ...
@overload
def day(moment: datetime | None, zone: str) -> date | None: ...
def day(moment: datetime | None, zone: str) -> date | None:
    return moment.astimezone(ZoneInfo(zone)).date() if moment else None


def seconds(start: datetime, end: datetime | None) -> int:
    assert end is not None, "asked only of complaints that reached that moment"
    return int((end - start).total_seconds())


def within_target(c: Complaint) -> bool:
    return seconds(c.created_at, c.resolved_at) <= TARGET_HOURS[c.priority] * 3600


def hours(total_seconds: int, count: int) -> float | None:
    return round(total_seconds / count / 3600, 2) if count else None


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# ---- the dashboard -------------------------------------------------------------------------------------------


def _period_figures(cs: list[Complaint], start: date, end: date, zone: str) -> dict:
    def inside(moment):
        d = day(moment, zone)
        return d is not None and start <= d <= end

    received = [c for c in cs if inside(c.created_at)]
    resolved = [c for c in cs if inside(c.resolved_at)]
    responded = [c for c in cs if inside(c.first_response_at)]
    return {
        "received": len(received),
        "resolved": len(resolved),
        "avg_resolution_hours": hours(sum(seconds(c.created_at, c.resolved_at) for c in resolved), len(resolved)),
        "avg_first_response_hours": hours(
            sum(seconds(c.created_at, c.first_response_at) for c in responded), len(responded)
        ),
        "within_target_pct": pct(sum(within_target(c) for c in resolved), len(resolved)),
    }


def was_resolved(c: Complaint) -> bool:
    return c.resolved_at is not None or c.reopen_count > 0


def _categories(snap: Snapshot, received: list[Complaint]) -> list[tuple]:
    """(name, received, share %, reopened, reopen rate %, id) per category, most received first."""
    rows = []
    for cid in {c.category_id for c in received}:
        mine = [c for c in received if c.category_id == cid]
        reopened = sum(1 for c in mine if c.reopen_count > 0)
        rate = pct(reopened, sum(1 for c in mine if was_resolved(c)))
        share = round(100.0 * len(mine) / len(received), 1)
        rows.append((snap.category_names[cid], len(mine), share, reopened, rate, cid))
    return sorted(rows, key=lambda r: (-r[1], r[0]))


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _arrivals(received: list[Complaint], zone: str) -> list[tuple[str, int, int]]:
    cells: Counter[tuple[int, int]] = Counter()
    for c in received:
        local = c.created_at.astimezone(ZoneInfo(zone))
        cells[(local.weekday(), local.hour)] += 1
    return [(WEEKDAYS[d], h, cells[(d, h)]) for d in range(7) for h in range(24)]


def _shares(counts: Counter) -> list[tuple[str, int, float]]:
    total = sum(counts.values())
    rows = [(name, n, round(100.0 * n / total, 1)) for name, n in counts.items() if n]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def _agents(cs: list[Complaint], start: date, end: date, names: dict[int, str], zone: str) -> dict[int, dict]:
    def inside(moment):
        d = day(moment, zone)
        return d is not None and start <= d <= end

    rows: dict[int, dict] = {}
    for agent in sorted({c.assignee_id for c in cs if c.assignee_id is not None}):
        mine = [c for c in cs if c.assignee_id == agent]
        resolved = [c for c in mine if inside(c.resolved_at)]
        responded = [c for c in mine if inside(c.first_response_at)]
        received = [c for c in mine if inside(c.created_at)]
        reopened = sum(1 for c in received if c.reopen_count > 0)
        ever_resolved = sum(1 for c in received if was_resolved(c))
        row = {
            "name": names[agent],
            "assigned": sum(1 for c in mine if inside(c.assigned_at)),
            "resolved": len(resolved),
            "reopened": reopened,
            "reopen_rate_pct": pct(reopened, ever_resolved),
            "avg_resolution_hours": hours(sum(seconds(c.created_at, c.resolved_at) for c in resolved), len(resolved)),
            "avg_first_response_hours": hours(
                sum(seconds(c.created_at, c.first_response_at) for c in responded), len(responded)
            ),
            "open_now": sum(1 for c in mine if c.status in OPEN),
        }
        if any(row[k] for k in ("assigned", "resolved", "reopened", "open_now")) or responded or ever_resolved:
            rows[agent] = row
    return rows


def dashboard(
    snap: Snapshot, *, start: date, end: date, today: date, category_id: int | None = None, priority: str | None = None
) -> dict:
    """Every figure of the dashboard for the period [start, end] (inclusive), as plain values.

    kpis: name -> (value, previous value); daily: [(day, received, resolved)]; categories and priorities:
    [(name, received, share %)] by received, descending; backlog: [(bucket, open)]; agents: id -> figures.
    """
    cs = [
        c
        for c in snap.complaints
        if (category_id is None or c.category_id == category_id) and (priority is None or c.priority == priority)
    ]
    days, zone = (end - start).days + 1, snap.time_zone
    now, before = (
        _period_figures(cs, start, end, zone),
        _period_figures(cs, start - timedelta(days=days), start - timedelta(1), zone),
    )
    kpis = {name: (now[name], before[name]) for name in now}
    kpis["open"] = (sum(1 for c in cs if c.status in OPEN), None)

    in_period = [c for c in cs if start <= day(c.created_at, zone) <= end]
    daily = []
    for i in range(days):
        d = start + timedelta(days=i)
        daily.append(
            (d, sum(1 for c in cs if day(c.created_at, zone) == d), sum(1 for c in cs if day(c.resolved_at, zone) == d))
        )
    backlog: Counter[str] = Counter()
    for c in cs:
        if c.status in OPEN:
            age = (today - day(c.created_at, zone)).days
            for label, low, *high in BACKLOG_BUCKETS:
                if age >= low and (not high or age < high[0]):
                    backlog[label] += 1
    channels = []
    for channel in sorted({c.channel for c in cs}):
        mine = [c for c in cs if c.channel == channel]
        received = sum(1 for c in mine if start <= day(c.created_at, zone) <= end)
        resolved = [c for c in mine if c.resolved_at and start <= day(c.resolved_at, zone) <= end]
        if received or resolved:
            seconds_sum = sum(seconds(c.created_at, c.resolved_at) for c in resolved)
            channels.append((channel, received, len(resolved), hours(seconds_sum, len(resolved))))
    return {
        "kpis": kpis,
        "daily": daily,
        "categories": _categories(snap, in_period),
        "arrivals": _arrivals(in_period, zone),
        "priorities": _shares(Counter(c.priority for c in in_period)),
        "backlog": [(b[0], backlog[b[0]]) for b in BACKLOG_BUCKETS],
        "agents": _agents(cs, start, end, snap.agent_names, zone),
        "channels": sorted(channels, key=lambda row: (-row[1], row[0])),
        "open_by_status": sorted(
            (status, snap.category_names[cid], n, cid)
            for (status, cid), n in Counter((c.status, c.category_id) for c in cs if c.status in OPEN).items()
        ),
    }


def served(data) -> dict:
    """selectors.Dashboard in the oracle's shape, for comparing the two (the agents' order is checked apart)."""
    return {
        "kpis": {name: (k.value, k.previous) for name, k in data.kpis.items()},
        "daily": data.daily,
        "categories": data.categories,
        "priorities": data.priorities,
        "backlog": data.backlog,
        "agents": {a.agent_id: {k: v for k, v in vars(a).items() if k != "agent_id"} for a in data.agents},
        "open_by_status": data.open_by_status,
        "channels": data.channels,
        "arrivals": data.arrivals,
    }


# ---- the read models, row by row -----------------------------------------------------------------------------

# table -> (key columns, value columns): each read model's published layout, written out here rather than taken
# from reporting.readmodel so that the oracle shares no code with what it checks.
_AGENT_VALUES = (
    "assigned_count",
    "resolved_count",
    "reopened_count",
    "ever_resolved_count",
    "resolution_seconds_sum",
    "first_response_count",
    "first_response_seconds_sum",
)
_STATS_VALUES = (
    "created_count",
    "reopened_count",
    "ever_resolved_count",
    "resolved_count",
    "resolved_within_target",
    "resolution_seconds_sum",
    "first_response_count",
    "first_response_seconds_sum",
)
LAYOUT = {
    "complaint_stats_by_day": (("day", "category_id", "priority"), _STATS_VALUES),
    "complaint_stats_daily": (("day",), _STATS_VALUES),
    "agent_performance_summary": (("day", "agent_id", "category_id", "priority"), _AGENT_VALUES),
    "agent_daily_summary": (("day", "agent_id"), _AGENT_VALUES),
    "agent_workload": (("agent_id", "category_id", "priority"), ("open_count",)),
    "open_backlog_by_day": (("created_day", "category_id", "priority"), ("open_count",)),
    "complaint_status_counts": (("status", "category_id", "priority"), ("count",)),
    "complaint_channel_by_day": (
        ("day", "channel", "category_id", "priority"),
        ("received_count", "resolved_count", "resolution_seconds_sum"),
    ),
    "complaint_channel_daily": (("day", "channel"), ("received_count", "resolved_count", "resolution_seconds_sum")),
    "complaint_arrivals_by_hour": (("day", "hour", "category_id", "priority"), ("received_count",)),
    "complaint_arrivals_hourly": (("day", "hour"), ("received_count",)),
}


def read_models(snap: Snapshot) -> dict[str, dict[tuple, dict[str, int]]]:
    """Every read-model row the write side implies: table -> key -> {column: value}, all-zero rows left out."""
    out: dict[str, dict] = {table: defaultdict(Counter) for table in LAYOUT}
    zone = snap.time_zone
    for c in snap.complaints:
        cat, prio, agent = c.category_id, c.priority, c.assignee_id
        stats = out["complaint_stats_by_day"]
        created = stats[(day(c.created_at, zone), cat, prio)]
        created["created_count"] += 1
        created["reopened_count"] += int(c.reopen_count > 0)
        created["ever_resolved_count"] += int(was_resolved(c))
        local = c.created_at.astimezone(ZoneInfo(zone))
        out["complaint_arrivals_by_hour"][(local.date(), local.hour, cat, prio)]["received_count"] += 1
        if c.resolved_at:
            row = stats[(day(c.resolved_at, zone), cat, prio)]
            row["resolved_count"] += 1
            row["resolved_within_target"] += int(within_target(c))
            row["resolution_seconds_sum"] += seconds(c.created_at, c.resolved_at)
        if c.first_response_at:
            row = stats[(day(c.first_response_at, zone), cat, prio)]
            row["first_response_count"] += 1
            row["first_response_seconds_sum"] += seconds(c.created_at, c.first_response_at)
        if agent is not None:
            credits = []
            if c.assigned_at:
                credits.append((day(c.assigned_at, zone), {"assigned_count": 1}))
            if c.resolved_at:
                credits.append(
                    (
                        day(c.resolved_at, zone),
                        {"resolved_count": 1, "resolution_seconds_sum": seconds(c.created_at, c.resolved_at)},
                    )
                )
            if c.first_response_at:
                credits.append(
                    (
                        day(c.first_response_at, zone),
                        {
                            "first_response_count": 1,
                            "first_response_seconds_sum": seconds(c.created_at, c.first_response_at),
                        },
                    )
                )
            if was_resolved(c):
                credits.append(
                    (day(c.created_at, zone), {"reopened_count": int(c.reopen_count > 0), "ever_resolved_count": 1})
                )
            for d, amounts in credits:
                out["agent_performance_summary"][(d, agent, cat, prio)].update(amounts)
                out["agent_daily_summary"][(d, agent)].update(amounts)
        if c.status in OPEN:
            out["agent_workload"][(agent or 0, cat, prio)]["open_count"] += 1
            out["open_backlog_by_day"][(day(c.created_at, zone), cat, prio)]["open_count"] += 1
        out["complaint_status_counts"][(c.status, cat, prio)]["count"] += 1
        by_channel = out["complaint_channel_by_day"]
        by_channel[(day(c.created_at, zone), c.channel, cat, prio)]["received_count"] += 1
        if c.resolved_at:
            row = by_channel[(day(c.resolved_at, zone), c.channel, cat, prio)]
            row["resolved_count"] += 1
            row["resolution_seconds_sum"] += seconds(c.created_at, c.resolved_at)
    # The rollups: each the sum of its detailed table over category and priority.
    for (d, _cat, _prio), values in out["complaint_stats_by_day"].items():
        out["complaint_stats_daily"][(d,)].update(values)
    for (d, channel, _cat, _prio), values in out["complaint_channel_by_day"].items():
        out["complaint_channel_daily"][(d, channel)].update(values)
    for (d, hour, _cat, _prio), values in out["complaint_arrivals_by_hour"].items():
        out["complaint_arrivals_hourly"][(d, hour)].update(values)
    return {
        table: {
            key: {col: values[col] for col in LAYOUT[table][1]} for key, values in rows.items() if any(values.values())
        }
        for table, rows in out.items()
    }


def stored_read_models(cursor) -> dict[str, dict[tuple, dict[str, int]]]:
    """The same shape, read from the reporting database (all-zero rows left out: they mean nothing)."""
    out = {}
    for table, (keys, values) in LAYOUT.items():
        cursor.execute(f"SELECT {', '.join(keys + values)} FROM {table}")
        out[table] = {
            tuple(row[: len(keys)]): dict(zip(values, row[len(keys) :], strict=True))
            for row in cursor.fetchall()
            if any(row[len(keys) :])
        }
    return out


def read_model_differences(expected: dict, got: dict) -> list[str]:
    """One readable line per differing row: table, key, expected, got."""
    lines = []
    for table in LAYOUT:
        want, have = expected[table], got[table]
        for key in sorted(want.keys() | have.keys(), key=repr):
            if want.get(key) != have.get(key):
                lines.append(f"{table} {key}: expected {want.get(key)} got {have.get(key)}")
    return lines


def dashboard_differences(expected: dict, got: dict) -> list[str]:
    lines = []
    for part in (
        "kpis",
        "daily",
        "categories",
        "priorities",
        "backlog",
        "agents",
        "open_by_status",
        "channels",
        "arrivals",
    ):
        if expected[part] != got[part]:
            lines.append(f"{part}: expected {expected[part]} got {got[part]}")
    return lines
