"""The read models' declarations (reporting.readmodel, on the models in reporting.models) and the fact's."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from complaints import contract
from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connections
from reporting import readmodel
from reporting.facts import FACT_COLUMNS, FACT_FIELDS, FACT_SQL_TYPES, fact_from_state
from reporting.models import ComplaintFact, ComplaintStatsByDay

STATE = {
    "reference": "C-000001",
    "status": "resolved",
    "category_id": 3,
    "priority": "high",
    "assignee_id": None,
    "created_at": "2026-03-01T10:00:00+00:00",
    "assigned_at": None,
    "first_response_at": None,
    "resolved_at": "2026-03-02T08:30:00+00:00",
    "closed_at": None,
    "reopen_count": 0,
}


def test_the_fact_table_has_exactly_the_declared_fact_columns():
    assert sorted(str(f.column) for f in ComplaintFact._meta.concrete_fields) == sorted(FACT_COLUMNS)
    assert set(FACT_FIELDS) - {"version"} <= set(contract.STATE_FIELDS)


def test_a_fact_is_built_from_an_event_state_by_its_declared_types():
    fact = fact_from_state(STATE, 4)
    assert (fact.version, fact.category_id, fact.assignee_id, fact.reopen_count) == (4, 3, None, 0)
    assert fact.resolved_at == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(("field", "value", "error"), [("created_at", None, ValueError), ("status", ..., KeyError)])
def test_a_state_without_a_required_field_is_refused(field, value, error):
    state = {k: v for k, v in STATE.items() if k != field} | ({} if value is ... else {field: value})
    with pytest.raises(error):
        fact_from_state(state, 1)


def test_every_read_model_is_declared_once_with_its_grain_and_measures():
    tables = {m.table: (m.kind, m.keys, m.measures) for m in readmodel.READ_MODELS}
    assert tables["complaint_stats_by_day"][:2] == ("stats", ("day", "category_id", "priority"))
    assert tables["agent_workload"] == ("workload", ("agent_id", "category_id", "priority"), ("open_count",))
    assert len(tables) == len(readmodel.READ_MODELS) == len(readmodel.READ_MODELS_BY_KIND)


def _contributions(fact) -> dict[tuple, dict]:
    """(kind, *key) -> {measure: amount} of one fact, by the declarations' SQL (what projector and rebuild run)."""
    source = f"(SELECT {', '.join(f'%({c})s::{t} AS {c}' for c, t in FACT_SQL_TYPES.items())}) AS fact"
    params = {"complaint_id": 1, "tz": "UTC", **{name: getattr(fact, name) for name in FACT_FIELDS}}
    rows = {}
    with connections[READ_ALIAS].cursor() as cursor:
        for model in readmodel.READ_MODELS:
            cursor.execute(model.select_sql(source=source, rules=readmodel.RULES), params)
            for key, amounts in model.rows_by_key(cursor.fetchall()).items():
                rows[(model.kind, *key)] = {m: a for m, a in zip(model.measures, amounts, strict=True) if a}
    return rows


def test_one_complaint_contributes_through_every_branch_whose_condition_holds(db):
    fact = fact_from_state(STATE | {"assignee_id": 7, "assigned_at": "2026-03-01T11:00:00+00:00"}, 3)
    rows = _contributions(fact)
    resolved_day, created_day = datetime(2026, 3, 2).date(), datetime(2026, 3, 1).date()
    assert rows[("stats", created_day, 3, "high")] == {"created_count": 1, "ever_resolved_count": 1}
    assert rows[("agent_day", created_day, 7)] == {"assigned_count": 1, "ever_resolved_count": 1}
    assert rows[("stats", resolved_day, 3, "high")] == {
        "resolved_count": 1,
        "resolved_within_target": 1,  # 22.5 h, the high target is 24 h
        "resolution_seconds_sum": 81000,
    }
    assert rows[("agent_day", resolved_day, 7)] == {"resolved_count": 1, "resolution_seconds_sum": 81000}
    assert not any(key[0] in ("workload", "backlog") for key in rows)  # resolved: not open


def test_a_branch_naming_no_column_of_its_table_is_refused():
    declaration = readmodel.ReadModel("typo", readmodel.Branch(day=readmodel.day_of("created_at"), typo=readmodel.ONE))
    declaration.model = ComplaintStatsByDay  # as if declared on it, without registering it
    with pytest.raises(ImproperlyConfigured, match=r"complaint_stats_by_day: .* names no column .*\['typo'\]"):
        _ = declaration.measures
    assert "typo" not in readmodel.READ_MODELS_BY_KIND


def test_an_event_written_before_the_channel_was_published_gives_a_fact_without_one():
    assert fact_from_state(STATE, 1).channel == ""
    assert fact_from_state(STATE | {"channel": "phone"}, 1).channel == "phone"


def test_the_independent_oracle_knows_every_read_model_by_its_grain_and_measures():
    from tests import oracle

    assert oracle.LAYOUT == {m.table: (m.keys, m.measures) for m in readmodel.READ_MODELS}
