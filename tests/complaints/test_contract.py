"""The write side's published contract (complaints.contract): what the read side may rely on, pinned here so a
rename on the write side fails a test on the write side instead of breaking the read side silently."""

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import connection

from complaints import contract
from complaints.models import OutboxEvent
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


def test_the_published_agent_name_is_the_full_name_else_the_username(alpha):
    # An update, not a save of alpha.alice: that object is shared by the whole session.
    get_user_model().objects.filter(pk=alpha.alice.pk).update(first_name="Alice", last_name="Archer")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT agent_id, name FROM {contract.AGENTS} WHERE agent_id IN (%s, %s) ORDER BY agent_id",
            sorted([alpha.alice.pk, alpha.bob.pk]),
        )
        names = dict(cursor.fetchall())
    assert names == {alpha.alice.pk: "Alice Archer", alpha.bob.pk: "Bob"}
