"""Property: whatever the sequence of work, batching and redelivery, every read model equals the truth."""

import random

from django.db import connections
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaints import services
from complaints.errors import DomainError
from complaints.models import Complaint
from reporting import projector
from reporting.models import ProjectionCheckpoint
from reporting.rebuild import compare_read_models
from reporting.tables import READ_TABLES
from tests.factories import ComplaintFactory
from tests.world import reset_tenant_data

TENANTS = ("alpha", "beta")
operation = st.one_of(
    st.tuples(
        st.just("submit"),
        st.sampled_from(TENANTS),
        st.integers(0, 9),
        st.sampled_from(["low", "medium", "high", "urgent"]),
    ),
    st.tuples(
        st.just("transition"),
        st.sampled_from(TENANTS),
        st.integers(0, 9),
        st.sampled_from(["in_progress", "on_hold", "resolved", "closed"]),
    ),
    st.tuples(st.just("assign"), st.sampled_from(TENANTS), st.integers(0, 9), st.integers(0, 1)),
    st.tuples(st.just("recategorize"), st.sampled_from(TENANTS), st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.just("comment"), st.sampled_from(TENANTS), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("project"), st.sampled_from(TENANTS), st.integers(1, 4), st.booleans()),
)


def _agents(world):
    return [u for name, u in world.users.items() if name in ("alice", "bob", "dave", "charlie")]


def _apply(op, worlds):
    kind, schema, a, b = op
    world = worlds[schema]
    agents = _agents(world)
    categories = list(world.categories.values())
    with schema_context(schema):
        ids = list(Complaint.objects.order_by("id").values_list("id", flat=True))
        if kind == "submit" or not ids:
            ComplaintFactory(
                actor=agents[0], category=categories[a % len(categories)], priority=b if kind == "submit" else "medium"
            )
            return
        cid = ids[a % len(ids)]
        manager = next(u for u in world.users.values() if u.has_perm("complaints.assign_any"))
        try:
            if kind == "transition":
                services.complaint_transition(complaint_id=cid, actor=agents[0], to_status=b)
            elif kind == "assign":
                services.complaint_assign(complaint_id=cid, actor=manager, assignee=agents[b % len(agents)])
            elif kind == "recategorize":
                services.complaint_recategorize(
                    complaint_id=cid, actor=agents[0], category=categories[b % len(categories)]
                )
            elif kind == "comment":
                services.complaint_comment(complaint_id=cid, actor=agents[0], body="reply", internal=b)
            elif kind == "project":
                checkpoint = ProjectionCheckpoint.objects.using("reporting").filter(id=1).first()
                projector.run_once(batch_size=a)
                if b and checkpoint:  # redeliver: as if the last batch had never been acknowledged
                    ProjectionCheckpoint.objects.using("reporting").filter(id=1).update(
                        last_tx_id=checkpoint.last_tx_id,
                        last_event_id=checkpoint.last_event_id,
                        applied_snapshot=checkpoint.applied_snapshot,
                        batch_snapshot=checkpoint.batch_snapshot,
                    )
        except DomainError:
            pass  # a refused move is part of the sequence too; it wrote nothing


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_read_models_equal_the_truth_after_any_sequence(committed, ops):
    reset_tenant_data(committed)
    for op in ops:
        _apply(op, committed)
    for schema in TENANTS:
        with schema_context(schema):
            projector.catch_up()
            assert compare_read_models() == [], schema


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=20), seed=st.integers(0, 2**16))
def test_events_shuffled_and_duplicated_give_the_same_read_models(committed, ops, seed):
    reset_tenant_data(committed)
    for op in ops:
        _apply(op, committed)
    for schema in TENANTS:
        with schema_context(schema):
            events = projector.fetch_events(after_tx=0, after_id=0, limit=10_000)
            delivered = events + random.Random(seed).sample(events, k=len(events) // 2)
            random.Random(seed + 1).shuffle(delivered)
            with connections["reporting"].cursor() as cursor:
                cursor.execute("TRUNCATE complaint_fact, " + ", ".join(t.name for t in READ_TABLES))
            batch = projector.EventBatch()
            batch.preload(delivered)
            for event in delivered:
                batch.apply(event)
            batch.write()
            assert compare_read_models() == [], schema
