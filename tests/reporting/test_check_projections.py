"""check_projections is an oracle too: show it failing. Every read model, the complaint facts and both name
tables get a row corrupted, deleted and added; each time the command exits non-zero and names the table and key.
Then every compared column of every table (counts, *_sum columns, every fact field, names) is corrupted alone, and
the check must name the table, the key and that column's expected and stored values."""

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django_tenants.utils import schema_context

from complaints import services
from helpdesk.databases import READ_ALIAS
from reporting import facts
from reporting.readmodel import READ_MODELS
from tests import oracle
from tests.clock import install
from tests.conftest import ROOT
from tests.factories import ComplaintFactory
from tests.reporting.helpers import mutate_projector_sql, project_everything

READ_TABLE_NAMES = {m.table for m in READ_MODELS}
# table -> (key columns, value columns) for every table the check covers.
TABLES = {
    **{m.table: (m.keys, m.measures) for m in READ_MODELS},
    "complaint_fact": (("complaint_id",), facts.FACT_FIELDS),
    "category_dim": (("category_id",), ("name", "active")),
    "agent_dim": (("agent_id",), ("name",)),
}


@pytest.fixture
def projected(committed, monkeypatch):
    """A few complaints in alpha touching every read model (assigned, answered, resolved, reopened, open)."""
    clock = install(monkeypatch, datetime(2026, 3, 2, 9, tzinfo=UTC))
    with schema_context("alpha"):
        w = committed["alpha"]
        first = ComplaintFactory(actor=w.alice, category=w.categories["Billing"], priority="high")
        services.complaint_assign(complaint_id=first.pk, actor=w.alice, assignee=w.alice)
        clock.advance(hours=2)
        services.complaint_comment(complaint_id=first.pk, actor=w.alice, body="On it")
        clock.advance(hours=3)
        services.complaint_transition(complaint_id=first.pk, actor=w.alice, to_status="resolved")
        clock.advance(days=1)
        services.complaint_transition(complaint_id=first.pk, actor=w.alice, to_status="in_progress")
        clock.advance(hours=1)
        services.complaint_transition(complaint_id=first.pk, actor=w.alice, to_status="resolved")
        ComplaintFactory(actor=w.bob, category=w.categories["Delivery"], priority="low")
        project_everything()
        yield w


def _check(capsys) -> tuple[bool, list[str]]:
    try:
        call_command("check_projections", "--schema", "alpha")
        failed = False
    except CommandError:
        failed = True
    return failed, capsys.readouterr().out.strip().splitlines()


def _a_row(cursor, table: str, w) -> tuple:
    """The key of one existing row; for the name tables, one that complaints use (Alice, Billing)."""
    keys, values = TABLES[table]
    if table == "agent_dim":
        return (w.alice.pk,)
    if table == "category_dim":
        return (w.categories["Billing"].pk,)
    nonzero = " OR ".join(f"{v} <> 0" for v in values) if table in READ_TABLE_NAMES else "true"
    cursor.execute(f"SELECT {', '.join(keys)} FROM {table} WHERE {nonzero} ORDER BY {', '.join(keys)} LIMIT 1")
    return cursor.fetchone()


def _where(keys) -> str:
    return " AND ".join(f"{k} = %s" for k in keys)


def _corrupt(cursor, table, key):
    keys, values = TABLES[table]
    column = values[0] if table not in ("complaint_fact",) else "reopen_count"
    change = f"{column} || ' (stale)'" if column in ("name", "reference") else f"{column} + 1"
    cursor.execute(f"UPDATE {table} SET {column} = {change} WHERE {_where(keys)}", key)


def _delete(cursor, table, key):
    cursor.execute(f"DELETE FROM {table} WHERE {_where(TABLES[table][0])}", key)


def _add(cursor, table, key):
    """A copy of an existing row under a key nothing on the write side has."""
    keys, _ = TABLES[table]
    cursor.execute(f"SELECT * FROM {table} WHERE {_where(keys)}", key)
    row = dict(zip([c.name for c in cursor.description], cursor.fetchone(), strict=True))
    first = keys[0]
    row[first] = {date: date(2001, 1, 1), str: "bogus"}.get(type(row[first]), 999_999)
    if "id" not in keys:
        row.pop("id", None)  # the read models' surrogate key
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})", list(row.values())
    )
    return (row[first], *key[1:])


def _key_text(table, key) -> str:
    return f"alpha: {table} {dict(zip(TABLES[table][0], key, strict=True))}: "


@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("mutation", ["corrupt", "delete", "add"])
def test_check_projections_names_a_corrupted_deleted_or_added_row(projected, capsys, table, mutation):
    with schema_context("alpha"):
        # Before: the read models hold what the independent oracle works out, and the check agrees.
        with connections[READ_ALIAS].cursor() as cursor:
            stored = oracle.stored_read_models(cursor)
        assert oracle.read_model_differences(oracle.read_models(oracle.snapshot()), stored) == []
        assert _check(capsys) == (False, ["alpha: OK"])
        with connections[READ_ALIAS].cursor() as cursor:
            key = _a_row(cursor, table, projected)
            if mutation == "corrupt":
                _corrupt(cursor, table, key)
            elif mutation == "delete":
                _delete(cursor, table, key)
            else:
                key = _add(cursor, table, key)
    failed, lines = _check(capsys)
    assert failed
    assert lines[-1] == "alpha: 1 differences"
    assert lines[0].startswith(_key_text(table, key)), lines[0]
    assert ("got nothing" in lines[0]) == (mutation == "delete")
    assert ("expected nothing" in lines[0]) == (mutation == "add")


def test_check_projections_exits_1_with_the_difference_and_0_when_clean(projected):
    command = [sys.executable, "manage.py", "check_projections", "--schema", "alpha"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test"}
    clean = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert (clean.returncode, clean.stdout.strip()) == (0, "alpha: OK")
    with schema_context("alpha"), connections[READ_ALIAS].cursor() as cursor:
        cursor.execute("UPDATE complaint_status_counts SET count = count + 5 WHERE status = 'new' AND count > 0")
    dirty = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert dirty.returncode == 1
    assert "alpha: complaint_status_counts {'status': 'new', 'category_id': " in dirty.stdout
    assert "expected {'count': 1} got {'count': 6}" in dirty.stdout
    assert "1 differences between the read models and the write database" in dirty.stderr
    assert "Traceback" not in dirty.stderr


def test_a_wrong_target_in_the_projector_is_caught_because_the_check_uses_the_write_sides_rules(
    committed, monkeypatch, capsys
):
    # The write side promises 24 h.
    mutate_projector_sql(monkeypatch, f"WHEN 'high' THEN {24 * 3600}", f"WHEN 'high' THEN {48 * 3600}")
    clock = install(monkeypatch, datetime(2026, 3, 2, 9, tzinfo=UTC))
    with schema_context("alpha"):
        w = committed["alpha"]
        late = ComplaintFactory(actor=w.alice, category=w.categories["Billing"], priority="high")
        clock.advance(hours=30)
        services.complaint_transition(complaint_id=late.pk, actor=w.alice, to_status="resolved")
        project_everything()
    failed, lines = _check(capsys)
    assert failed
    assert lines[0].startswith(
        f"alpha: complaint_stats_by_day {{'day': datetime.date(2026, 3, 3), 'category_id': "
        f"{w.categories['Billing'].pk}, 'priority': 'high'}}: expected {{'created_count': 0, 'reopened_count': 0, "
        "'ever_resolved_count': 0, 'resolved_count': 1, 'resolved_within_target': 0,"
    ), lines[0]
    assert lines[1].startswith(  # and its day's rollup
        "alpha: complaint_stats_daily {'day': datetime.date(2026, 3, 3)}: expected {'created_count': 0, "
        "'reopened_count': 0, 'ever_resolved_count': 0, 'resolved_count': 1, 'resolved_within_target': 0,"
    ), lines[1]
    assert lines[-1] == "alpha: 2 differences"


def test_a_wrong_open_rule_in_the_projector_is_caught(committed, monkeypatch, capsys):
    mutate_projector_sql(
        monkeypatch, "('in_progress', 'new', 'on_hold')", "('in_progress', 'new', 'on_hold', 'resolved')"
    )
    with schema_context("alpha"):
        w = committed["alpha"]
        done = ComplaintFactory(actor=w.alice, category=w.categories["Billing"])
        services.complaint_transition(complaint_id=done.pk, actor=w.alice, to_status="resolved")
        project_everything()
    failed, lines = _check(capsys)
    assert failed
    tables = {line.split(" ")[1] for line in lines[:-1]}
    assert tables == {"agent_workload", "open_backlog_by_day"}, lines


# Every compared column of every table, one at a time (issue 26: a check that ignored every *_sum column passed
# all the tests above, which only ever corrupt a table's first column).
EVERY_COLUMN = [(table, column) for table, (_, values) in TABLES.items() for column in values]


def _changed(value, column: str):
    """A different value of the same type (what a plausible projector bug would leave)."""
    if value is None:
        return 999_999 if column.endswith("_id") else datetime(2001, 1, 1, tzinfo=UTC)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):  # same length: the columns are short varchars
        return value[:-1] + ("y" if value.endswith("x") else "x")
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    raise AssertionError(f"no corruption for {column}={value!r}")


@pytest.mark.parametrize(("table", "column"), EVERY_COLUMN, ids=[f"{t}.{c}" for t, c in EVERY_COLUMN])
def test_check_projections_names_the_table_key_and_column_of_any_corrupted_value(projected, capsys, table, column):
    keys, values = TABLES[table]
    with schema_context("alpha"), connections[READ_ALIAS].cursor() as cursor:
        assert _check(capsys) == (False, ["alpha: OK"])
        # A row where the column holds something (a zero or a NULL is corrupted too, but a value is the harder case).
        order = f"({column} IS NULL), " if table == "complaint_fact" else ""
        cursor.execute(f"SELECT {', '.join(keys + values)} FROM {table} ORDER BY {order}{', '.join(keys)}")
        rows = cursor.fetchall()
        if table in READ_TABLE_NAMES:
            rows = [r for r in rows if r[len(keys) + values.index(column)]] or rows
        key, before = rows[0][: len(keys)], dict(zip(values, rows[0][len(keys) :], strict=True))
        if table == "agent_dim":
            key, before = _dim_row(cursor, table, (projected.alice.pk,))
        after = {**before, column: _changed(before[column], column)}
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {_where(keys)}", [after[column], *key])
    failed, lines = _check(capsys)
    assert failed, f"{table}.{column} corrupted at {key} ({before[column]!r} -> {after[column]!r}) went unnoticed"
    assert lines == [f"{_key_text(table, key)}expected {before} got {after}", "alpha: 1 differences"], (
        f"{table}.{column} at {key}"
    )


def _dim_row(cursor, table: str, key: tuple) -> tuple[tuple, dict]:
    keys, values = TABLES[table]
    cursor.execute(f"SELECT {', '.join(values)} FROM {table} WHERE {_where(keys)}", key)
    return key, dict(zip(values, cursor.fetchone(), strict=True))
