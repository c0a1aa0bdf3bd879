"""The machinery behind the read-model declarations in reporting.models.

A read model is declared once, on its Django model, as `contributions = ReadModel(kind, *branches)`: its grain
is the model's unique constraint, its measures are the model's other columns, and each Branch says how one
complaint's fact contributes to it (a condition, the key values, the amounts), as SQL terms over a relation with
the fact's columns. From that one declaration:

- the projector applies a batch of events in one statement (`apply_facts_sql`): the batch's new facts count
  positively, the facts they replace negatively, each read model's contributions are grouped by its grain and
  added with one upsert (sets, not rows: a batch of 500 events costs about what one event does);
- the rebuild fills the table with the same SQL over `complaint_fact` (`insert_sql`);
- check_projections runs it over the write side's published complaints relation (`select_sql`), with the
  write side's rules (and the benchmark's single-database comparison, benchmarks/onthefly.py, likewise).

There is one form of each rule, so projector, rebuild and check cannot drift apart; the property tests compare
the result with an independent oracle (tests/oracle.py). Days are the tenant's local days (reporting.days), the
zone being the %(tz)s parameter of every query built here. Adding a read model is a model with its declaration,
its migration, its layout in the independent oracle (tests/oracle.py; a test holds the two together) and the
figure that reads it (reporting.figures): nothing here.
"""

from dataclasses import dataclass
from functools import cache, cached_property

from django.core.exceptions import ImproperlyConfigured
from django.db import models

from complaints import contract
from reporting import facts
from reporting.days import local_day_sql, local_hour_sql

# Read models in declaration order (the order of reporting.models); filled as the models are defined.
READ_MODELS: list["ReadModel"] = []
READ_MODELS_BY_KIND: dict[str, "ReadModel"] = {}


@dataclass(frozen=True)
class Term:
    """One value computed from a complaint's fact, as SQL over a relation with the fact's columns. It may name
    the rules as {open_statuses} and {target_seconds}, and the zone of local days as the parameter %(tz)s."""

    sql: str


def column(name: str) -> Term:
    return Term(name)


def day_of(name: str) -> Term:
    """The local day (in the tenant's zone) of the moment `name`: the one day rule, reporting.days."""
    return Term(local_day_sql(name))


def hour_of(name: str) -> Term:
    """The local hour (0-23) of the moment `name`, in the tenant's zone (reporting.days)."""
    return Term(local_hour_sql(name))


def seconds_to(name: str) -> Term:
    """Seconds from the complaint's creation to `name`."""
    return Term(f"trunc(extract(epoch FROM {name} - created_at))::bigint")


def present(*names: str) -> Term:
    return Term(" AND ".join(f"{n} IS NOT NULL" for n in names))


def positive(name: str) -> Term:
    return Term(f"{name} > 0")


def agent_or_unassigned() -> Term:
    return Term(f"COALESCE(assignee_id, {facts.UNASSIGNED})")


ONE = Term("1")
IS_OPEN = Term("status IN {open_statuses}")
RESOLUTION_SECONDS = seconds_to("resolved_at")
FIRST_RESPONSE_SECONDS = seconds_to("first_response_at")
# Reopened at least once; resolved at least once (now, or before a reopen: only a resolved complaint reopens).
WAS_RESOLVED = Term("(resolved_at IS NOT NULL OR reopen_count > 0)")
REOPENED = Term("CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END")
EVER_RESOLVED = Term(f"CASE WHEN {WAS_RESOLVED.sql} THEN 1 ELSE 0 END")
# A comparison with NULL (not resolved) is not true: 0.
WITHIN_TARGET = Term(f"CASE WHEN {RESOLUTION_SECONDS.sql} <= {{target_seconds}} THEN 1 ELSE 0 END")


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


# The rules the write side publishes (which statuses are open, each priority's resolution target): projector,
# rebuild and check all use these, imported, never copied.
RULES = Rules(contract.OPEN_STATUSES, contract.RESOLUTION_TARGET_SECONDS)


class ReadModel:
    def __init__(self, kind: str, *branches: Branch):
        """`kind` names the read model for selectors."""
        self.kind = kind
        self.branches = branches

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

    def select_sql(self, *, source: str, rules: Rules, signed: bool = False) -> str:
        """The table's rows computed over `source` (a relation with the fact's columns), days being local days in
        the zone passed as %(tz)s, grouped by the grain and ordered by it. With `signed`, `source` also has a
        `sign` column (+1, -1) that every amount is multiplied by, and groups that add up to nothing are left out
        (a batch's delta)."""
        selects = []
        for branch in self.branches:
            exprs = [f"{rules.sql(branch.key(k))} AS {k}" for k in self.keys]
            for m in self.measures:
                amount = f"({rules.sql(branch.terms[m])})" if m in branch.terms else "0"
                exprs.append(f"{'sign * ' if signed else ''}{amount}::{self._casts[m]} AS {m}")
            conditions = [rules.sql(t) for t in branch.when]
            where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
            selects.append(f"SELECT {', '.join(exprs)} FROM {source}{where}")
        sums = ", ".join(f"SUM({m})::{self._casts[m]} AS {m}" for m in self.measures)
        union = "\nUNION ALL\n".join(selects)
        keys = ", ".join(self.keys)
        having = f" HAVING {' OR '.join(f'SUM({m}) <> 0' for m in self.measures)}" if signed else ""
        return f"SELECT {keys}, {sums} FROM (\n{union}\n) AS contributions GROUP BY {keys}{having} ORDER BY {keys}"

    def insert_sql(self) -> str:
        """Fill the table from complaint_fact (the rebuild; parameter: tz)."""
        return (
            f"INSERT INTO {self.table} ({', '.join(self.columns)}) "
            f"{self.select_sql(source=facts.FACT_TABLE, rules=RULES)}"
        )

    def add_sql(self, source: str) -> str:
        """Add the signed contributions of the facts in `source` (see select_sql) to the table. Rows are
        written in the grain's order, so concurrent writers (a rebuild, a retry) never deadlock."""
        updates = ", ".join(f"{m} = t.{m} + EXCLUDED.{m}" for m in self.measures)
        return (
            f"INSERT INTO {self.table} AS t ({', '.join(self.columns)}) "
            f"{self.select_sql(source=source, rules=RULES, signed=True)} "
            f"ON CONFLICT ({', '.join(self.keys)}) DO UPDATE SET {updates}"
        )

    def rows_by_key(self, rows) -> dict[tuple, tuple]:
        """Index rows by key, dropping rows whose values are all zero (a projector leaves those behind when a
        complaint moves away; they mean nothing)."""
        n = len(self.keys)
        return {tuple(r[:n]): tuple(r[n:]) for r in rows if any(r[n:])}


@cache
def apply_facts_sql() -> str:
    """One statement that replaces the facts of a batch of complaints and moves every read model by the
    difference: each complaint's new fact contributes positively and the fact it replaces (its row in
    complaint_fact before the statement, if any) negatively. Parameters: one array per fact column, named by the
    column (facts.FACT_COLUMNS, one element per complaint), and tz. Every part of a statement sees the tables as
    they were before it, so the old facts are read before the upsert replaces them."""
    columns = ", ".join(facts.FACT_COLUMNS)
    arrays = ", ".join(f"%({c})s::{t}[]" for c, t in facts.FACT_SQL_TYPES.items())
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in facts.FACT_FIELDS)
    parts = [
        f"new_fact ({columns}) AS (SELECT * FROM unnest({arrays}))",
        f"fact_delta AS (SELECT 1 AS sign, {columns} FROM new_fact UNION ALL "
        f"SELECT -1, {columns} FROM {facts.FACT_TABLE} WHERE complaint_id IN (SELECT complaint_id FROM new_fact))",
        f"fact_upsert AS (INSERT INTO {facts.FACT_TABLE} ({columns}) SELECT {columns} FROM new_fact "
        f"ORDER BY complaint_id ON CONFLICT (complaint_id) DO UPDATE SET {updates})",
        *(f"add_{m.kind} AS ({m.add_sql('fact_delta')})" for m in READ_MODELS),
    ]
    return "WITH " + ",\n".join(parts) + "\nSELECT 1"
