"""The write side's published contract (complaints.contract): what the read side may rely on, pinned here so a
rename on the write side fails a test on the write side instead of breaking the read side silently."""

import json
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import connection

from complaints import contract
from complaints.models import Complaint, OutboxEvent
from tests.factories import ComplaintFactory


def test_every_published_relation_answers_with_the_published_column_names(alpha):
    relations = {
        contract.COMPLAINTS: ("complaint_id", "version", *contract.STATE_FIELDS),
        contract.CATEGORIES: ("category_id", "name", "active"),
        contract.AGENTS: ("agent_id", "name"),
        contract.OUTBOX_TABLE: contract.OUTBOX_COLUMNS,
    }
    with connection.cursor() as cursor:
        for relation, columns in relations.items():
            cursor.execute(f"SELECT * FROM {relation} LIMIT 0")
            assert tuple(c.name for c in cursor.description) == columns, relation


def test_a_complaint_event_carries_every_state_field_as_the_complaint_has_it(alpha):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"], priority="high")
    event = OutboxEvent.objects.get(complaint_id=complaint.pk)
    state = event.payload["state"]
    assert set(state) == {*contract.STATE_FIELDS, "category_name", "assignee_name"}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT version, status, priority, created_at FROM {contract.COMPLAINTS} WHERE complaint_id = %s",
            [complaint.pk],
        )
        version, status, priority, created_at = cursor.fetchone()
    assert (event.complaint_version, state["status"], state["priority"]) == (version, status, priority)
    assert (version, status, priority) == (1, "new", "high")
    assert datetime.fromisoformat(state["created_at"]) == created_at.astimezone(UTC)
    assert state["category_name"] == "Billing"


def test_the_event_state_built_in_the_database_is_the_state_state_from_gives(alpha):
    """An import writes its events in SQL (contract.state_sql): the state must be state_from's for the same values,
    timestamps with and without microseconds and missing ones included."""
    bare = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    worked = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"], priority="urgent")
    Complaint.objects.filter(pk=worked.pk).update(
        status="resolved",
        assignee=alpha.bob,
        first_response_at=datetime(2026, 1, 2, 3, 4, 5, 60, tzinfo=UTC),
        resolved_at=datetime(2026, 1, 3, tzinfo=UTC),
        reopen_count=2,
        channel="phone",
    )
    state = contract.state_sql(category_name="'Billing'", assignee_name="'Bob'")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT complaint_id, {state} FROM {contract.COMPLAINTS} WHERE complaint_id = ANY(%s)",
            [[bare.pk, worked.pk]],
        )
        built = {pk: json.loads(value) if isinstance(value, str) else value for pk, value in cursor.fetchall()}
    for complaint in Complaint.objects.filter(pk__in=[bare.pk, worked.pk]):
        values = {name: getattr(complaint, name) for name in contract.STATE_FIELDS}
        expected = contract.state_from(values, category_name="Billing", assignee_name="Bob")
        assert _instants(built[complaint.pk]) == _instants(expected)
    assert built[worked.pk]["assignee_id"] == alpha.bob.pk and built[bare.pk]["resolved_at"] is None


def _instants(state: dict) -> dict:
    """The state with its ISO 8601 timestamps read back (PostgreSQL leaves out trailing zeros of the fraction)."""
    stamps = {"created_at", "assigned_at", "first_response_at", "resolved_at", "closed_at"}
    return {k: datetime.fromisoformat(v) if k in stamps and v else v for k, v in state.items()}


def test_the_published_agent_name_is_the_full_name_else_the_username(alpha):
    # A fresh copy: the world's personas live for the whole session, and a renamed in-memory alice would leak
    # "Alice Archer" into later tests' events (the database change itself is rolled back).
    alice = get_user_model().objects.get(pk=alpha.alice.pk)
    alice.first_name, alice.last_name = "Alice", "Archer"
    alice.save()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT agent_id, name FROM {contract.AGENTS} WHERE agent_id IN (%s, %s) ORDER BY agent_id",
            sorted([alpha.alice.pk, alpha.bob.pk]),
        )
        names = dict(cursor.fetchall())
    assert names == {alpha.alice.pk: "Alice Archer", alpha.bob.pk: "Bob"}


def _imports(package: str) -> set[str]:
    """Every module `package` imports, a `from a import b` counted as a.b (b may be a module)."""
    import ast
    from pathlib import Path

    found = set()
    for path in (Path(__file__).resolve().parents[2] / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_read_side_imports_nothing_of_the_write_side_but_its_contract_and_the_write_side_nothing_of_it():
    """The boundary the README states, checked over every module's imports (not trusted to a comment)."""
    of_the_write_side = {name for name in _imports("reporting") if name.split(".")[0] == "complaints"}
    assert {name for name in of_the_write_side if not name.startswith("complaints.contract")} == set()
    assert {name for name in _imports("complaints") if name.split(".")[0] == "reporting"} == set()


def test_the_task_the_write_side_sends_by_name_is_the_read_sides_projector():
    from reporting.tasks import project_tenant

    assert project_tenant.name == contract.PROJECT_TASK


def test_the_independent_oracle_holds_the_rules_the_write_side_publishes():
    """The oracle keeps its own copy of the rules (it shares no code with what it checks): held to them here."""
    from tests import oracle

    assert oracle.OPEN == contract.OPEN_STATUSES
    assert {p: h * 3600 for p, h in oracle.TARGET_HOURS.items()} == contract.RESOLUTION_TARGET_SECONDS


def test_only_the_services_and_the_bulk_writer_write_complaints():
    """The README's claim about who writes a complaint, checked over the source: a change goes through
    complaints/services.py; only complaints/bulk.py (seeds and imports) writes rows directly, with COPY, leaving
    what the services would (history, outbox event)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    writes = re.compile(
        r"Complaint\.objects\.[^\n]*\b(create|update|delete|bulk_create|bulk_update|get_or_create|update_or_create)\("
        r"|complaint\.save\(|COPY complaints_complaint|(INSERT INTO|UPDATE|DELETE FROM) complaints_complaint\b"
    )
    writers = {
        str(path.relative_to(root))
        for package in ("complaints", "reporting", "tenants", "helpdesk", "benchmarks")
        for path in (root / package).rglob("*.py")
        if "migrations" not in path.parts and writes.search(path.read_text())
    }
    assert writers == {"complaints/services.py", "complaints/bulk.py"}
