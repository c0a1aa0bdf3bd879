"""What one complaint contributes to each read model, given its current state.

The projector replaces a complaint's old contribution with its new one on every event, so each read model is a
pure function of the complaints' current states, kept up to date in O(1) per event. reporting.aggregates holds
the same definitions as set-based SQL (for rebuilds, checks and the on-the-fly baseline); the property tests
prove the two agree.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from reporting.days import local_day

OPEN_STATUSES = frozenset({"new", "in_progress", "on_hold"})
RESOLVED_STATUSES = frozenset({"resolved", "closed"})
# Resolution target per priority: what "resolved within target" means on the dashboard.
TARGET_SECONDS = {"urgent": 4 * 3600, "high": 24 * 3600, "medium": 72 * 3600, "low": 7 * 24 * 3600}
UNASSIGNED = 0


@dataclass(frozen=True, slots=True)
class Fact:
    version: int
    reference: str
    status: str
    category_id: int
    priority: str
    assignee_id: int | None
    created_at: datetime
    assigned_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def fact_from_state(state: dict, version: int) -> Fact:
    """Build a Fact from an event's `state`; raises KeyError/ValueError/TypeError on a malformed payload."""
    created_at = _dt(state["created_at"])
    if created_at is None:
        raise ValueError("state.created_at is missing")
    return Fact(
        version=int(version),
        reference=str(state["reference"]),
        status=str(state["status"]),
        category_id=int(state["category_id"]),
        priority=str(state["priority"]),
        assignee_id=int(state["assignee_id"]) if state["assignee_id"] is not None else None,
        created_at=created_at,
        assigned_at=_dt(state["assigned_at"]),
        first_response_at=_dt(state["first_response_at"]),
        resolved_at=_dt(state["resolved_at"]),
        closed_at=_dt(state["closed_at"]),
        reopen_count=int(state["reopen_count"]),
    )


def seconds_between(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds())


def contributions(fact: Fact | None, zone: str = "UTC") -> dict[tuple, Counter]:
    """Map (table, *key) -> {column: amount} for one complaint, days being local days in `zone`. None (no fact
    yet) contributes nothing."""
    out: dict[tuple, Counter] = {}
    if fact is None:
        return out

    def add(key: tuple, **amounts: int) -> None:
        out.setdefault(key, Counter()).update(amounts)
        if key[0] == "agent":  # the day x agent rollup gets the same amounts
            out.setdefault(("agent_day", key[1], key[2]), Counter()).update(amounts)

    cat, prio, agent = fact.category_id, fact.priority, fact.assignee_id
    is_open = fact.status in OPEN_STATUSES

    def day(moment: datetime):
        return local_day(moment, zone)

    created_day = day(fact.created_at)

    add(("stats", created_day, cat, prio), created_count=1)
    if fact.resolved_at:
        resolution = seconds_between(fact.created_at, fact.resolved_at)
        within = 1 if resolution <= TARGET_SECONDS.get(prio, 0) else 0
        add(
            ("stats", day(fact.resolved_at), cat, prio),
            resolved_count=1,
            resolved_within_target=within,
            resolution_seconds_sum=resolution,
        )
    if fact.first_response_at:
        response = seconds_between(fact.created_at, fact.first_response_at)
        add(
            ("stats", day(fact.first_response_at), cat, prio),
            first_response_count=1,
            first_response_seconds_sum=response,
        )

    if agent is not None:
        if fact.assigned_at:
            add(("agent", day(fact.assigned_at), agent, cat, prio), assigned_count=1)
        if fact.resolved_at:
            add(
                ("agent", day(fact.resolved_at), agent, cat, prio),
                resolved_count=1,
                resolution_seconds_sum=seconds_between(fact.created_at, fact.resolved_at),
            )
        if fact.first_response_at:
            add(
                ("agent", day(fact.first_response_at), agent, cat, prio),
                first_response_count=1,
                first_response_seconds_sum=seconds_between(fact.created_at, fact.first_response_at),
            )
        if fact.reopen_count:
            add(("agent", created_day, agent, cat, prio), reopened_count=fact.reopen_count)

    if is_open:
        add(("workload", agent if agent is not None else UNASSIGNED, cat, prio), open_count=1)
        add(("backlog", created_day, cat, prio), open_count=1)
    add(
        ("category", cat, prio),
        total=1,
        open=1 if is_open else 0,
        resolved=1 if fact.status in RESOLVED_STATUSES else 0,
    )
    add(("status", fact.status, cat, prio), count=1)
    return out


def contribution_delta(old: Fact | None, new: Fact | None, zone: str = "UTC") -> dict[tuple, Counter]:
    """new - old, dropping amounts that cancel out."""
    delta: dict[tuple, Counter] = {}
    for key, amounts in contributions(new, zone).items():
        delta.setdefault(key, Counter()).update(amounts)
    for key, amounts in contributions(old, zone).items():
        delta.setdefault(key, Counter()).subtract(amounts)
    return {
        k: Counter({c: v for c, v in amounts.items() if v}) for k, amounts in delta.items() if any(amounts.values())
    }
