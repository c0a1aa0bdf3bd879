"""The complaint fact: one row per complaint in `complaint_fact`, its current projection-relevant state.

`Fact` is the one declaration of its columns: the projector's preload and upsert, the rebuild's COPY from the
write side and check_projections' comparison all take them from here (reporting.models.ComplaintFact is the
table's migration source and a test pins the two together). Each field is a field of the write side's event
`state` (complaints.contract.STATE_FIELDS), except `version`, which the event carries beside it.
"""

import typing
from dataclasses import MISSING, dataclass, fields
from datetime import datetime

FACT_TABLE = "complaint_fact"

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
    channel: str = ""  # "" in events written before the channel was published


FACT_FIELDS = tuple(f.name for f in fields(Fact))
FACT_COLUMNS = ("complaint_id", *FACT_FIELDS)
_SQL_TYPES = {int: "bigint", str: "text", datetime: "timestamptz"}
# Each column's SQL type, for statements that take facts as arrays (reporting.readmodel.apply_facts_sql).
FACT_SQL_TYPES = {"complaint_id": "bigint"} | {
    name: _SQL_TYPES[next(a for a in (*typing.get_args(hint), hint) if a in _SQL_TYPES)]
    for name, hint in typing.get_type_hints(Fact).items()
}


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _required(parse):
    def check(value):
        parsed = parse(value) if value is not None else None
        if parsed is None:
            raise ValueError("a required field is missing")
        return parsed

    return check


def _optional(parse):
    return lambda value: parse(value) if value is not None else None


_PARSERS = {int: int, str: str, datetime: _dt}


def _parser(annotation):
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return _optional(_PARSERS[args[0]]) if args else _required(_PARSERS[annotation])


_STATE_FIELDS = [
    (f.name, _parser(hint), f.default)
    for f, hint in zip(fields(Fact), typing.get_type_hints(Fact).values(), strict=True)
    if f.name != "version"
]


def fact_from_state(state: dict, version: int) -> Fact:
    """Build a Fact from an event's `state`; raises KeyError/ValueError/TypeError on a malformed payload. A field
    declared with a default may be missing (events written before the field was published)."""
    values = {}
    for name, parse, default in _STATE_FIELDS:
        if name not in state and default is not MISSING:
            values[name] = default
            continue
        try:
            values[name] = parse(state[name])
        except ValueError as exc:
            raise ValueError(f"state.{name}: {exc}") from exc
    return Fact(version=int(version), **values)


def seconds_between(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds())
