"""Property: whatever the work — spread over many days, with reassignment and unassignment, detail edits, renames,
poison events, batching and redelivery — the projector, a rebuild and the independent oracle (tests/oracle.py)
agree on every read-model row and every dashboard figure.

Hypothesis runs derandomized under `make test` (profile "ci", tests/conftest.py); `make fuzz` explores.
"""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone
from django_tenants.utils import schema_context
from hypothesis import Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from complaints import services
from complaints.errors import DomainError
from complaints.models import Category, Complaint, OutboxEvent
from helpdesk.access import ASSIGN_ANY, MANAGE_CATEGORIES
from helpdesk.databases import READ_ALIAS
from reporting import figures, outbox, projector, selectors
from reporting.models import ProjectionCheckpoint
from reporting.readmodel import READ_MODELS
from reporting.rebuild import compare_read_models, rebuild_read_models
from reporting.selectors import Filters, Period
from tests import oracle
from tests.clock import ServiceClock
from tests.factories import ComplaintFactory
from tests.reporting.helpers import mutate_projector_sql, project_everything
from tests.world import SPEC, reset_tenant_data

TENANTS = ("alpha", "beta")
TODAY = date(2026, 3, 31)
ORIGIN = datetime(2026, 2, 1, 7, 30, tzinfo=UTC)  # 25 operations x at most 2 days each stay before TODAY
PERIODS = (
    Period(TODAY - timedelta(days=6), TODAY),
    Period(TODAY - timedelta(days=29), TODAY),
    Period(ORIGIN.date() + timedelta(days=9), ORIGIN.date() + timedelta(days=20)),
    Period(ORIGIN.date(), TODAY),
)
PRIORITIES = ["low", "medium", "high", "urgent"]

tenant = st.sampled_from(TENANTS)
pick = st.integers(0, 9)
operation = st.tuples(
    st.one_of(
        st.tuples(st.just("submit"), tenant, pick, st.sampled_from(PRIORITIES)),
        st.tuples(
            st.just("transition"), tenant, pick, st.sampled_from(["in_progress", "on_hold", "resolved", "closed"])
        ),
        st.tuples(st.just("assign"), tenant, pick, st.integers(0, 2)),  # 2: a manager unassigns
        st.tuples(st.just("recategorize"), tenant, pick, st.tuples(pick, st.sampled_from([None, *PRIORITIES]))),
        st.tuples(st.just("comment"), tenant, pick, st.booleans()),
        st.tuples(st.just("details"), tenant, pick, st.integers(0, 3)),
        st.tuples(st.just("rename_category"), tenant, pick, st.integers(0, 5)),  # 0: also deactivates it
        st.tuples(st.just("rename_agent"), tenant, pick, st.integers(0, 5)),
        st.tuples(st.just("poison"), tenant, pick, st.booleans()),
        st.tuples(st.just("project"), tenant, st.integers(1, 4), st.booleans()),
    ),
    st.integers(0, 2 * 24 * 60),  # minutes that pass before the operation
)


@pytest.fixture
def worlds_at(committed, monkeypatch, settings):
    """Both tenants emptied before each example and restored after; the services on a test clock."""
    settings.PROJECTION_MAX_ATTEMPTS = 2
    monkeypatch.setattr(projector, "_backoff_seconds", lambda attempts: 0.0)
    monkeypatch.setattr(selectors, "today", lambda zone=None: TODAY)
    clock = ServiceClock(ORIGIN)
    monkeypatch.setattr("complaints.clock.now", clock)

    def fresh():
        _restore_names(committed)
        reset_tenant_data(committed)
        clock.set(ORIGIN)
        return committed, clock

    yield fresh
    _restore_names(committed)


def _restore_names(worlds):
    """Put back what rename operations changed, so the shared personas and categories stay as the world built them."""
    for world in worlds.values():
        with schema_context(world.schema):
            for name, category in world.categories.items():
                Category.objects.filter(pk=category.pk).update(name=name, active=True)
            for username in SPEC[world.schema]["users"]:
                get_user_model().objects.filter(username=username).update(first_name=username.title())


def _agents(world):
    return [u for name, u in world.users.items() if name in ("alice", "bob", "dave", "charlie")]


def _apply(op, worlds, clock):
    (kind, schema, a, b), minutes = op
    clock.advance(minutes=minutes)
    world = worlds[schema]
    agents = _agents(world)
    with schema_context(schema):
        categories = [Category.objects.get(pk=c.pk) for c in world.categories.values()]
        manager = next(u for u in world.users.values() if u.has_perm(ASSIGN_ANY))
        admin = next(u for u in world.users.values() if u.has_perm(MANAGE_CATEGORIES))
        ids = list(Complaint.objects.order_by("id").values_list("id", flat=True))
        try:
            if kind == "submit" or (not ids and kind in ("transition", "assign", "recategorize", "comment", "details")):
                priority = b if kind == "submit" else "medium"
                ComplaintFactory(actor=agents[0], category=categories[a % len(categories)], priority=priority)
                return
            cid = ids[a % len(ids)] if ids else 0  # unused: without complaints, every kind above is a submit
            if kind == "transition":
                services.complaint_transition(complaint_id=cid, actor=agents[0], to_status=b)
            elif kind == "assign":
                assignee = None if b == 2 else agents[b % len(agents)]
                services.complaint_assign(complaint_id=cid, actor=manager, assignee=assignee)
            elif kind == "recategorize":
                category = categories[b[0] % len(categories)]
                services.complaint_recategorize(complaint_id=cid, actor=agents[0], category=category, priority=b[1])
            elif kind == "comment":
                services.complaint_comment(complaint_id=cid, actor=agents[-1], body="reply", internal=b)
            elif kind == "details":
                services.complaint_update_details(complaint_id=cid, actor=agents[0], title=f"Title {b}")
            elif kind == "rename_category":
                category = categories[a % len(categories)]
                base = next(n for n, c in world.categories.items() if c.pk == category.pk)
                services.category_save(actor=admin, name=f"{base} {b}", active=b != 0, category_id=category.pk)
            elif kind == "rename_agent":
                user = get_user_model().objects.get(pk=agents[a % len(agents)].pk)
                user.first_name = f"{user.username.title()} {b}"
                user.save()
            elif kind == "poison":
                OutboxEvent.objects.create(
                    event_type="ComplaintCreated" if b else "SomethingUnknown",
                    complaint_id=10**9 + a if b else None,
                    complaint_version=1,
                    payload={"state": {"reference": "C-BROKEN"}},
                    occurred_at=timezone.now(),
                )
            elif kind == "project":
                checkpoint = ProjectionCheckpoint.objects.using(READ_ALIAS).filter(id=1).first()
                projector.run_once(batch_size=a)
                if b and checkpoint:  # redeliver: as if the last batch had never been acknowledged
                    ProjectionCheckpoint.objects.using(READ_ALIAS).filter(id=1).update(
                        last_tx_id=checkpoint.last_tx_id,
                        last_event_id=checkpoint.last_event_id,
                        applied_snapshot=checkpoint.applied_snapshot,
                        batch_snapshot=checkpoint.batch_snapshot,
                    )
        except DomainError:
            pass  # a refused move is part of the sequence too; it wrote nothing


def read_side_differences(schema: str) -> list[str]:
    """Everything the read side shows for `schema`, against the oracle: every read-model row, the names of the
    categories and agents the complaints use, and the dashboard for several periods and filters."""
    with schema_context(schema):
        snap = oracle.snapshot()
        with connections[READ_ALIAS].cursor() as cursor:
            lines = oracle.read_model_differences(oracle.read_models(snap), oracle.stored_read_models(cursor))
            cursor.execute("SELECT category_id, name, active FROM category_dim")
            categories = {cid: (name, active) for cid, name, active in cursor.fetchall()}
            cursor.execute("SELECT agent_id, name FROM agent_dim")
            agents = dict(cursor.fetchall())
        for c in snap.complaints:
            want = (snap.category_names[c.category_id], snap.category_active[c.category_id])
            if categories.get(c.category_id) != want:
                lines.append(f"category_dim {c.category_id}: expected {want} got {categories.get(c.category_id)}")
            if c.assignee_id is not None and agents.get(c.assignee_id) != snap.agent_names[c.assignee_id]:
                lines.append(f"agent_dim {c.assignee_id}: expected {snap.agent_names[c.assignee_id]!r}")
        some_category = min(snap.category_names)
        for period in PERIODS:
            for category_id, priority in ((None, None), (None, "high"), (some_category, None)):
                served = figures.dashboard(period=period, filters=Filters(category_id, priority))
                expected = oracle.dashboard(
                    snap, start=period.start, end=period.end, today=TODAY, category_id=category_id, priority=priority
                )
                for line in oracle.dashboard_differences(expected, oracle.served(served)):
                    lines.append(f"dashboard {period} {category_id} {priority} {line}")
                resolved = [a.resolved for a in served.agents]
                if resolved != sorted(resolved, reverse=True):
                    lines.append(f"dashboard agents not sorted by resolved: {resolved}")
    return lines


def _projector_then_rebuild_agree_with_the_oracle():
    for schema in TENANTS:
        with schema_context(schema):
            project_everything()
            assert compare_read_models() == [], schema
        assert read_side_differences(schema) == [], f"projector, {schema}"
        with schema_context(schema):
            rebuild_read_models()
        assert read_side_differences(schema) == [], f"rebuild, {schema}"


def _any_sequence_agrees(worlds_at, ops):
    worlds, clock = worlds_at()
    for op in ops:
        _apply(op, worlds, clock)
    _projector_then_rebuild_agree_with_the_oracle()


any_sequence = st.lists(operation, min_size=1, max_size=25)


@given(ops=any_sequence)
def test_projector_rebuild_and_oracle_agree_after_any_sequence(worlds_at, ops):
    _any_sequence_agrees(worlds_at, ops)


@given(ops=st.lists(operation, min_size=1, max_size=20), seed=st.integers(0, 2**16))
def test_events_shuffled_and_duplicated_give_the_oracles_read_models(worlds_at, ops, seed):
    worlds, clock = worlds_at()
    for op in ops:
        _apply(op, worlds, clock)
    for schema in TENANTS:
        with schema_context(schema):
            events = _every_event()
            delivered = events + random.Random(seed).sample(events, k=len(events) // 2)
            random.Random(seed + 1).shuffle(delivered)
            with connections[READ_ALIAS].cursor() as cursor:
                cursor.execute("TRUNCATE complaint_fact, " + ", ".join(m.table for m in READ_MODELS))
            batch = projector.EventBatch()
            batch.preload(delivered)
            for event in delivered:
                try:
                    batch.apply(event)
                except projector.PoisonEvent:
                    pass
            batch.write()
            # Names are last-writer-wins by design (events of one stream arrive in order); the counts are not.
            with connections[READ_ALIAS].cursor() as cursor:
                stored = oracle.stored_read_models(cursor)
            assert oracle.read_model_differences(oracle.read_models(oracle.snapshot()), stored) == [], schema


def _every_event() -> list:
    """Every event of the tenant, all committed by this test (the projector's horizon is not under test here)."""
    return [
        outbox.Event(e.id, e.tx_id, e.event_type, e.complaint_id, e.complaint_version, e.payload, e.occurred_at)
        for e in OutboxEvent.objects.order_by("tx_id", "id")
    ]


# ---- the oracle shown failing: a wrong contribution rule in the projector is caught -------------------------


def _wrong_target(monkeypatch):
    mutate_projector_sql(monkeypatch, f"WHEN 'medium' THEN {72 * 3600}", f"WHEN 'medium' THEN {24 * 3600}")


def _days_in_another_time_zone(monkeypatch):
    mutate_projector_sql(monkeypatch, "%(tz)s", "'Asia/Vladivostok'")  # +10 h


def _reopens_forgotten(monkeypatch):
    mutate_projector_sql(
        monkeypatch,
        "sign * (CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END)::int AS reopened_count",
        "0 AS reopened_count",
    )


@pytest.mark.parametrize(
    ("mutation", "caught_in"),
    [
        (_wrong_target, "'resolved_within_target': 1,"),
        (_days_in_another_time_zone, "complaint_stats_by_day (datetime.date(2026, 2, 2)"),
        (_reopens_forgotten, "'reopened_count': 1,"),
    ],
)
def test_the_oracle_catches_a_wrong_contribution_rule(worlds_at, monkeypatch, mutation, caught_in):
    worlds, clock = worlds_at()
    mutation(monkeypatch)
    # One medium complaint, created at 20:00 UTC (the next day east of Asia), answered, resolved after 30 h
    # (within 72 h, not within 24 h), reopened and resolved again.
    clock.set(datetime(2026, 2, 1, 20, tzinfo=UTC))
    script = [
        (("submit", "alpha", 0, "medium"), 0),
        (("assign", "alpha", 0, 0), 10),
        (("comment", "alpha", 0, False), 60),
        (("transition", "alpha", 0, "resolved"), 30 * 60),
        (("transition", "alpha", 0, "in_progress"), 60),
        (("transition", "alpha", 0, "resolved"), 60),
    ]
    for op in script:
        _apply(op, worlds, clock)
    with schema_context("alpha"):
        project_everything()
    differences = read_side_differences("alpha")
    assert any(caught_in in line for line in differences), differences


def test_the_examples_make_test_runs_find_a_planted_bug(worlds_at, monkeypatch):
    """The property above, run as `make test` runs it (the loaded profile: `ci`, derandomized, few examples) on a
    projector that buckets days in another time zone, fails: those examples are enough to find it. Without
    shrinking, it stops at the first failing example. (The wrong target and the forgotten reopens above are not
    found within the `ci` profile's examples; the scripted test above guards them.)"""
    _days_in_another_time_zone(monkeypatch)
    first_failure_only = hypothesis_settings(phases=[Phase.explicit, Phase.generate])
    with pytest.raises(AssertionError):
        first_failure_only(given(ops=any_sequence)(_any_sequence_agrees))(worlds_at)
