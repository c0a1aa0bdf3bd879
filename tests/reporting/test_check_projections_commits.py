"""check_projections against committed data: its exit status and output as a command, and projector bugs in the
rules (a wrong target, a wrong open rule) caught because the check computes with the write side's published rules.
(Corrupted rows and columns, which need no commit, are in test_check_projections.py.)"""

import os
import subprocess
import sys
from datetime import UTC, datetime

from django.db import connections
from django_tenants.utils import schema_context

from complaints import services
from helpdesk.databases import READ_ALIAS
from tests.clock import install
from tests.conftest import ROOT
from tests.factories import ComplaintFactory
from tests.reporting.helpers import build_check_world, mutate_projector_sql, project_everything, run_check


def test_check_projections_exits_1_with_the_difference_and_0_when_clean(committed, monkeypatch):
    with schema_context("alpha"):
        build_check_world(committed["alpha"], install(monkeypatch, datetime(2026, 3, 2, 9, tzinfo=UTC)))
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
    failed, lines = run_check(capsys)
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
    failed, lines = run_check(capsys)
    assert failed
    tables = {line.split(" ")[1] for line in lines[:-1]}
    assert tables == {"agent_workload", "open_backlog_by_day"}, lines
