"""The machinery behind the read-model declarations in reporting.models.

A read model is declared once, on its Django model, as `contributions = ReadModel(kind, *branches)`: its grain
is the model's unique constraint, its measures are the model's other columns, and each Branch says how one
complaint's Fact contributes to it (a condition, the key values, the amounts). From that one declaration:

- the projector computes a complaint's contribution in Python (`contributions()`, O(1) per event) and
  upserts the deltas (`upsert_sql`);
- the rebuild fills the table with set-based SQL over `complaint_fact` (`insert_sql`);
- check_projections and the on-the-fly baseline run the same SQL over the write side's published complaints
  relation (`select_sql`), with the write side's rules.

Each Term carries both forms, so the two cannot drift apart; the property tests compare both with an
independent oracle. Days are the tenant's local days (reporting.days): the Python form is given the zone, the
SQL takes it as the %(tz)s parameter of every query built here. Adding a read model is a model with a declaration
and its migration, nothing here.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models

from complaints import contract
from reporting import facts
from reporting.days import local_day, local_day_sql
from reporting.facts import Fact

# Read models in declaration order (the order of reporting.models); filled as the models are defined.
READ_MODELS: list["ReadModel"] = []
READ_MODELS_BY_KIND: dict[str, "ReadModel"] = {}


@dataclass(frozen=True)
class Term:
    """One value computed from a complaint's fact: `py(fact, zone)` for the projector, `sql` for set-based queries
    over a relation with the fact's columns. `sql` may name the rules as {open_statuses} and {target_seconds}, and
    the zone of local days as the query parameter %(tz)s."""

    py: Callable[[Fact, str], Any]
    sql: str
    timestamp: str | None = None  # a day's timestamp column: on-the-fly queries window on it


def column(name: str) -> Term:
    return Term(lambda f, zone: getattr(f, name), name)


def day_of(name: str) -> Term:
    """The local day (in the tenant's zone) of the moment `name`: the one day rule, reporting.days."""
    # local_day is looked up in this module at call time, so a test can replace the day rule and watch checks fail.
    return Term(lambda f, zone: local_day(getattr(f, name), zone), local_day_sql(name), timestamp=name)


def seconds_to(name: str) -> Term:
    """Seconds from the complaint's creation to `name`."""
    return Term(
        lambda f, zone: facts.seconds_between(f.created_at, getattr(f, name)),
        f"trunc(extract(epoch FROM {name} - created_at))::bigint",
    )


def present(*names: str) -> Term:
    sql = " AND ".join(f"{n} IS NOT NULL" for n in names)
    return Term(lambda f, zone: all(getattr(f, n) is not None for n in names), sql)


def positive(name: str) -> Term:
    return Term(lambda f, zone: getattr(f, name) > 0, f"{name} > 0")


def agent_or_unassigned() -> Term:
    return Term(
        lambda f, zone: f.assignee_id if f.assignee_id is not None else facts.UNASSIGNED,
        f"COALESCE(assignee_id, {facts.UNASSIGNED})",
    )


ONE = Term(lambda f, zone: 1, "1")
IS_OPEN = Term(lambda f, zone: f.status in facts.OPEN_STATUSES, "status IN {open_statuses}")
RESOLUTION_SECONDS = seconds_to("resolved_at")
FIRST_RESPONSE_SECONDS = seconds_to("first_response_at")
WITHIN_TARGET = Term(
    lambda f, zone: (
        1
        if f.resolved_at is not None
        and facts.seconds_between(f.created_at, f.resolved_at) <= facts.TARGET_SECONDS.get(f.priority, 0)
        else 0  # as in SQL, where a comparison with NULL is not true
    ),
    f"CASE WHEN {RESOLUTION_SECONDS.sql} <= {{target_seconds}} THEN 1 ELSE 0 END",
)


class Branch:
    """One way a complaint contributes: where every `when` term holds, the row keyed by the key terms gets the
    measure terms. A key column not named takes the fact's column of that name; a measure not named gets 0."""

    def __init__(self, *, when: tuple[Term, ...] = (), **terms: Term):
        self.when = when
        self.terms = terms

    def key(self, name: str) -> Term:
        return self.terms.get(name) or column(name)


@dataclass(frozen=True)
class Rules:
    """Which statuses are open and each priority's resolution target, as SQL fragments."""

    open_statuses: frozenset[str]
    target_seconds: dict[str, int]

    def sql(self, term: Term) -> str:
        opened = "(" + ", ".join(f"'{s}'" for s in sorted(self.open_statuses)) + ")"
        whens = " ".join(f"WHEN '{p}' THEN {s}" for p, s in self.target_seconds.items())
        return term.sql.format(open_statuses=opened, target_seconds=f"CASE priority {whens} ELSE 0 END")


# The projector's own rules (the rebuild must agree with the projector) and the write side's published ones.
PROJECTION_RULES = Rules(facts.OPEN_STATUSES, facts.TARGET_SECONDS)
WRITE_SIDE_RULES = Rules(contract.OPEN_STATUSES, contract.RESOLUTION_TARGET_SECONDS)


class ReadModel:
    def __init__(self, kind: str, *branches: Branch, by_period: bool = False):
        """`kind` names the read model for selectors; `by_period` says its rows are bucketed by the day of
        something that happened, so a dashboard reads a window of days (on-the-fly queries filter on it)."""
        self.kind = kind
        self.branches = branches
        self.by_period = by_period

    def contribute_to_class(self, cls: type[models.Model], name: str) -> None:
        """Django calls this while defining the model the declaration sits on: register it there."""
        self.model = cls
        setattr(cls, name, self)
        if self.kind in READ_MODELS_BY_KIND:
            raise ImproperlyConfigured(f"two read models are declared as {self.kind!r}")
        READ_MODELS.append(self)
        READ_MODELS_BY_KIND[self.kind] = self

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """The grain: the columns of the model's unique constraint."""
        (unique,) = [c for c in self.model._meta.constraints if isinstance(c, models.UniqueConstraint)]
        return tuple(unique.fields)

    @cached_property
    def measures(self) -> tuple[str, ...]:
        # (A concrete field always has a column: `is not None` only tells the type checker.)
        names = tuple(f.column for f in self.model._meta.concrete_fields if f.column is not None and not f.primary_key)
        measures = tuple(n for n in names if n not in self.keys)
        for branch in self.branches:
            unknown = set(branch.terms) - set(names)
            if unknown:
                raise ImproperlyConfigured(f"{self.table}: a branch names no column of the table: {sorted(unknown)}")
        return measures

    @cached_property
    def _casts(self) -> dict[str, str]:
        return {
            f.column: "bigint" if f.get_internal_type() == "BigIntegerField" else "int"
            for f in self.model._meta.concrete_fields
            if f.column is not None
        }

    @property
    def columns(self) -> tuple[str, ...]:
        return self.keys + self.measures

    @cached_property
    def _python(self) -> list[tuple]:
        """Each branch's Python functions, looked up once: the projector calls them for every event."""
        return [
            (
                [t.py for t in branch.when],
                [branch.key(k).py for k in self.keys],
                [(m, branch.terms[m].py) for m in self.measures if m in branch.terms],
            )
            for branch in self.branches
        ]

    def contributions(self, fact: Fact, zone: str = "UTC"):
        """(key, amounts) for each branch this complaint contributes through, days being local days in `zone`;
        key = (kind, *key values)."""
        for when, keys, measures in self._python:
            if all(holds(fact, zone) for holds in when):
                yield (
                    (self.kind, *(key(fact, zone) for key in keys)),
                    {m: amount(fact, zone) for m, amount in measures},
                )

    def select_sql(self, *, source: str, rules: Rules, windowed: bool = False) -> str:
        """The whole table, computed over `source` (a relation with the fact's columns), days being local days in
        the zone passed as %(tz)s. With `windowed`, a
        by-period model keeps only rows whose day lies in [%(since)s, %(until)s), so the write side's timestamp
        indexes can be used (on-the-fly dashboards)."""
        selects = []
        for branch in self.branches:
            exprs = [f"{rules.sql(branch.key(k))} AS {k}" for k in self.keys]
            exprs += [
                f"({rules.sql(branch.terms[m]) if m in branch.terms else 0})::{self._casts[m]} AS {m}"
                for m in self.measures
            ]
            conditions = [rules.sql(t) for t in branch.when]
            if windowed and self.by_period:
                conditions += [
                    f"{t.timestamp} >= %(since)s AND {t.timestamp} < %(until)s"
                    for t in map(branch.key, self.keys)
                    if t.timestamp
                ]
            where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
            selects.append(f"SELECT {', '.join(exprs)} FROM {source}{where}")
        sums = ", ".join(f"SUM({m})::{self._casts[m]} AS {m}" for m in self.measures)
        union = "\nUNION ALL\n".join(selects)
        keys = ", ".join(self.keys)
        return f"SELECT {keys}, {sums} FROM (\n{union}\n) AS contributions GROUP BY {keys}"

    def insert_sql(self) -> str:
        """Fill the table from complaint_fact (the rebuild; parameter: tz)."""
        return (
            f"INSERT INTO {self.table} ({', '.join(self.columns)}) "
            f"{self.select_sql(source=facts.FACT_TABLE, rules=PROJECTION_RULES)}"
        )

    def upsert_sql(self) -> str:
        """Add one row of amounts (the projector's deltas)."""
        updates = ", ".join(f"{m} = t.{m} + EXCLUDED.{m}" for m in self.measures)
        return (
            f"INSERT INTO {self.table} AS t ({', '.join(self.columns)}) "
            f"VALUES ({', '.join(['%s'] * len(self.columns))}) "
            f"ON CONFLICT ({', '.join(self.keys)}) DO UPDATE SET {updates}"
        )

    def rows_by_key(self, rows) -> dict[tuple, tuple]:
        """Index rows by key, dropping rows whose values are all zero (a projector leaves those behind when a
        complaint moves away; they mean nothing)."""
        n = len(self.keys)
        return {tuple(r[:n]): tuple(r[n:]) for r in rows if any(r[n:])}


def contributions(fact: Fact | None, zone: str = "UTC") -> dict[tuple, Counter]:
    """Map (kind, *key) -> {column: amount} for one complaint, days being local days in `zone`. None (no fact
    yet) contributes nothing."""
    out: dict[tuple, Counter] = {}
    if fact is None:
        return out
    for read_model in READ_MODELS:
        for key, amounts in read_model.contributions(fact, zone):
            out.setdefault(key, Counter()).update(amounts)
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
