"""Property: transactions that commit out of order across projector runs are each applied exactly once.

Several write transactions are opened (real service calls, each in its own thread and connection) and stay open
while other work commits and the projector runs; they then commit in any order, between runs. All of it happens
while an unrelated transaction holds an xid in another database of the server, which used to freeze the read
side. In the end every read model equals the truth from the write tables, and every event was handled by the
projector exactly once.
"""

from collections import Counter

from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaints import services
from complaints.errors import DomainError
from complaints.models import Complaint, OutboxEvent
from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connections
from reporting import projector
from reporting.freshness import projection_progress
from reporting.rebuild import compare_read_models
from tests.factories import ComplaintFactory
from tests.reporting.holders import HeldTransaction, open_transaction_in_another_database
from tests.world import reset_tenant_data

TENANTS = ("alpha", "beta")
MAX_OPEN = 3
STATUSES = ["in_progress", "on_hold", "resolved", "closed"]
PRIORITIES = ["low", "medium", "high", "urgent"]

operation = st.one_of(
    st.tuples(st.just("open"), st.sampled_from(TENANTS), st.integers(0, 9), st.integers(0, 3)),
    st.tuples(st.just("commit"), st.sampled_from(TENANTS), st.integers(0, MAX_OPEN - 1), st.just(0)),
    st.tuples(st.just("work"), st.sampled_from(TENANTS), st.integers(0, 9), st.integers(0, 3)),
    st.tuples(st.just("project"), st.sampled_from(TENANTS), st.integers(1, 3), st.just(0)),
)


class Interleaving:
    """Runs the operations; complaints changed by a held transaction are left alone until it commits (their
    row lock would make the test wait on itself)."""

    def __init__(self, worlds):
        self.worlds = worlds
        self.held: list[tuple[HeldTransaction, int | None]] = []

    def change(self, schema: str, complaint_id: int | None, a: int, b: int):
        world = self.worlds[schema]
        agent = next(u for name, u in world.users.items() if name in ("alice", "dave"))
        categories = list(world.categories.values())
        if complaint_id is None:
            return ComplaintFactory(actor=agent, category=categories[a % len(categories)], priority=PRIORITIES[b])
        try:
            if a % 2:
                return services.complaint_transition(complaint_id=complaint_id, actor=agent, to_status=STATUSES[b])
            return services.complaint_assign(complaint_id=complaint_id, actor=agent, assignee=agent)
        except DomainError:
            return None  # a refused move wrote nothing

    def free_complaint(self, schema: str, a: int) -> int | None:
        with schema_context(schema):
            ids = list(Complaint.objects.order_by("id").values_list("id", flat=True))
        taken = {cid for holder, cid in self.held if holder.schema == schema}
        free = [cid for cid in ids if cid not in taken]
        return free[a % len(free)] if free and a % 3 else None  # None: a new complaint

    def apply(self, op):
        kind, schema, a, b = op
        if kind == "open" and len(self.held) < MAX_OPEN:
            cid = self.free_complaint(schema, a)
            holder = HeldTransaction(schema, lambda: self.change(schema, cid, a, b))
            self.held.append((holder.start(), cid))
        elif kind == "commit" and self.held:
            holder, _ = self.held.pop(a % len(self.held))
            holder.commit()
        elif kind == "work":
            cid = self.free_complaint(schema, a)
            with schema_context(schema):
                self.change(schema, cid, a, b)
        elif kind == "project":
            with schema_context(schema):
                projector.run_once(batch_size=a)

    def commit_all(self):
        while self.held:
            self.held.pop()[0].commit()


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=20))
def test_out_of_order_commits_across_runs_are_applied_exactly_once(committed, monkeypatch, ops):
    reset_tenant_data(committed)
    handled: Counter[tuple[str, int]] = Counter()
    apply = projector.EventBatch.apply

    def counting_apply(batch, event):
        handled[(connections[READ_ALIAS].schema_name, event.id)] += 1
        return apply(batch, event)

    monkeypatch.setattr(projector.EventBatch, "apply", counting_apply)
    run = Interleaving(committed)
    with open_transaction_in_another_database():
        try:
            for op in ops:
                run.apply(op)
        finally:
            run.commit_all()
        events: Counter[tuple[str, int]] = Counter()
        for schema in TENANTS:
            with schema_context(schema):
                events.update((schema, event_id) for event_id in OutboxEvent.objects.values_list("id", flat=True))
                projector.catch_up()
                assert compare_read_models() == [], schema
                assert projector.catch_up().applied == 0
                assert projection_progress()["pending_count"] == 0
        assert handled == events  # nothing lost, nothing handled twice
