"""Snapshot batches (PgQ's design), driven directly: what an open transaction can and cannot hold back,
batches cut by the size limit, concurrent projectors and rebuilds, the check, and the sweep's cost."""

import threading
import time

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from complaints import services
from complaints.contract import PENDING_TENANTS_KEY
from complaints.models import Complaint, OutboxEvent
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.redis import redis_client
from reporting import freshness, outbox, projector, sweep
from reporting.models import ProjectionCheckpoint
from reporting.rebuild import compare_read_models, rebuild_read_models
from reporting.status import TenantFigures, stored_attention
from tests.factories import ComplaintFactory
from tests.reporting.helpers import read_model_snapshot, stat
from tests.reporting.holders import HeldTransaction, open_transaction_in_another_database


def _submit(world, priority="medium"):
    return ComplaintFactory(actor=world.alice, category=world.categories["Billing"], priority=priority)


def _checkpoint():
    return ProjectionCheckpoint.objects.using(READ_ALIAS).get()


def test_a_transaction_open_in_another_database_holds_nothing_back(committed):
    world = committed["alpha"]
    with open_transaction_in_another_database() as xid, schema_context("alpha"):
        _submit(world)
        _submit(world)
        result = projector.catch_up()
        assert result.applied == 2
        assert stat("complaint_stats_by_day", "created_count") == 2
        assert xid in outbox.Snapshot.parse(_checkpoint().applied_snapshot).xip  # it was running, and ignored
        assert freshness.projection_progress()["pending_count"] == 0


def test_a_held_event_waits_for_its_commit_and_others_flow_past_it(committed):
    alpha, beta = committed["alpha"], committed["beta"]
    in_beta = HeldTransaction("beta", lambda: ComplaintFactory(actor=beta.dave, category=beta.categories["Support"]))
    own = HeldTransaction("alpha", lambda: _submit(alpha, priority="urgent"))
    in_beta.start(), own.start()
    try:
        with schema_context("alpha"):
            _submit(alpha)
            assert projector.catch_up().applied == 1
            assert stat("complaint_stats_by_day", "created_count", priority="urgent") == 0
            _submit(alpha)
            assert projector.catch_up().applied == 1
            assert freshness.projection_progress()["pending_count"] == 0  # an uncommitted event is not pending yet
    finally:
        own.commit(), in_beta.commit()
    with schema_context("alpha"):
        assert freshness.projection_progress()["pending_count"] == 1
        assert projector.catch_up().applied == 1
        assert stat("complaint_stats_by_day", "created_count") == 3
        assert stat("complaint_stats_by_day", "created_count", priority="urgent") == 1
        assert projector.catch_up().applied == 0
        assert compare_read_models() == []
    with schema_context("beta"):
        assert projector.catch_up().applied == 1
        assert compare_read_models() == []


def test_a_batch_cut_by_the_size_limit_keeps_its_snapshot_until_it_is_done(committed):
    """A transaction that commits while a batch is half done belongs to the next batch, not to the cursor."""
    world = committed["alpha"]
    with schema_context("alpha"):
        _submit(world), _submit(world)
        held = HeldTransaction("alpha", lambda: _submit(world, priority="urgent")).start()
        _submit(world)
        first = projector.run_once(batch_size=1)
        assert (first.applied, first.more_waiting) == (1, True)
        batch = _checkpoint().batch_snapshot
        assert batch
        held.commit()
        _submit(world)
        assert projector.run_once(batch_size=1).applied == 1
        assert projector.run_once(batch_size=1).applied == 1
        assert _checkpoint().batch_snapshot == batch  # still the same batch, now complete
        closing = projector.run_once(batch_size=1)
        assert (closing.applied, closing.more_waiting) == (0, True)  # a new snapshot may see more: run again
        assert (_checkpoint().applied_snapshot, _checkpoint().batch_snapshot) == (batch, "")
        assert projector.catch_up(batch_size=1).applied == 2  # the late one and the one after it
        assert stat("complaint_stats_by_day", "created_count") == 5
        assert stat("complaint_stats_by_day", "created_count", priority="urgent") == 1
        assert _checkpoint().events_applied == OutboxEvent.objects.count() == 5
        assert compare_read_models() == []


def _in_thread(schema, fn, errors):
    def run():
        try:
            with schema_context(schema):
                fn()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_projectors_and_rebuilds_while_events_arrive_lose_nothing_and_double_nothing(committed):
    world = committed["alpha"]
    stop, errors = threading.Event(), list[BaseException]()

    def project():
        while not stop.is_set():
            projector.run_once(batch_size=3)

    def rebuild():
        for _ in range(3):
            rebuild_read_models()
            time.sleep(0.05)

    workers = [_in_thread("alpha", project, errors) for _ in range(2)] + [_in_thread("alpha", rebuild, errors)]
    with schema_context("alpha"):
        for i in range(18):
            complaint = _submit(world)
            if i % 3 == 0:
                services.complaint_transition(complaint_id=complaint.pk, actor=world.alice, to_status="resolved")
    workers[2].join(timeout=60)
    stop.set()
    for worker in workers[:2]:
        worker.join(timeout=60)
    assert errors == []
    with schema_context("alpha"):
        projector.catch_up()
        assert compare_read_models() == []
        assert stat("complaint_stats_by_day", "created_count") == Complaint.objects.count() == 18
        assert stat("complaint_stats_by_day", "resolved_count") == 6
        assert freshness.projection_progress()["pending_count"] == 0


def test_check_projections_applies_what_is_pending_only_inside_its_own_rolled_back_transaction(committed, capsys):
    world = committed["alpha"]
    with schema_context("alpha"):
        _submit(world)
        projector.catch_up()
        _submit(world, priority="high")  # committed, not applied yet
        before, position = read_model_snapshot(), _checkpoint().applied_snapshot
    with open_transaction_in_another_database():
        call_command("check_projections", schema="alpha")
    assert capsys.readouterr().out.strip() == "alpha: OK"
    with schema_context("alpha"):
        assert read_model_snapshot() == before  # the check changed nothing
        assert _checkpoint().applied_snapshot == position
        assert stat("complaint_stats_by_day", "created_count") == 1
        # A real difference is still found: corrupt a counter.
        projector.catch_up()
        with connections[READ_ALIAS].cursor() as cursor:
            cursor.execute("UPDATE complaint_stats_by_day SET created_count = 5 WHERE priority = 'high'")
    with pytest.raises(CommandError, match="1 differences"):
        call_command("check_projections", schema="alpha")


def _sweep_queries(fn, *args):
    with (
        CaptureQueriesContext(connections[WRITE_ALIAS]) as write,
        CaptureQueriesContext(connections[READ_ALIAS]) as read,
    ):
        result = fn(*args)

    def work(captured):  # the connection's search_path, reset once if a tenant's was left on it, is no work
        return [q["sql"] for q in captured if not q["sql"].startswith("SET search_path")]

    return result, work(write.captured_queries), work(read.captured_queries)


@pytest.fixture
def fresh_sweep_state():
    redis_client().delete(sweep.FULL_SWEEP_KEY, sweep.BEHIND_KEY, PENDING_TENANTS_KEY)
    for schema in ("alpha", "beta"):
        with schema_context(schema):
            projector.catch_up()


def test_a_full_pass_costs_two_queries_and_writes_nothing_for_idle_tenants(committed, fresh_sweep_state):
    stale, write, read = _sweep_queries(sweep.sweep_due, ["alpha", "beta"])
    assert stale == []
    assert len(write) == 1 and len(read) == 1  # one UNION ALL each, for every tenant at once
    assert '"alpha"' in write[0] and '"beta"' in write[0]
    assert not any(q.lstrip().upper().startswith(("UPDATE", "INSERT", "WITH")) for q in write + read)
    assert freshness.confirmed_at("alpha") is not None and freshness.confirmed_at("beta") is not None


def test_between_full_passes_the_sweep_looks_only_at_tenants_marked_on_commit(committed, fresh_sweep_state):
    sweep.sweep_due(["alpha", "beta"])  # the full pass
    cache.delete_many([freshness.confirmed_key("alpha"), freshness.confirmed_key("beta")])
    _, write, read = _sweep_queries(sweep.sweep_due, ["alpha", "beta"])
    assert write == [] and read == []  # nothing committed: no tenant looked at, no query
    assert freshness.confirmed_at("alpha") is not None and freshness.confirmed_at("beta") is not None
    with schema_context("beta"):
        ComplaintFactory(actor=committed["beta"].dave, category=committed["beta"].categories["Support"])
    _, write, read = _sweep_queries(sweep.sweep_due, ["alpha", "beta"])
    assert len(write) == 1 and '"beta"' in write[0] and '"alpha"' not in write[0]
    assert redis_client().smembers(sweep.BEHIND_KEY) == {b"beta"}  # looked at again until caught up
    with schema_context("beta"):
        projector.catch_up()
    _, write, _ = _sweep_queries(sweep.sweep_due, ["alpha", "beta"])
    assert len(write) == 1 and '"beta"' in write[0]
    _, write, _ = _sweep_queries(sweep.sweep_due, ["alpha", "beta"])
    assert write == []


def test_the_sweep_records_and_queues_only_the_tenant_with_waiting_events(committed, monkeypatch, settings):
    settings.PROJECTION_STALE_SECONDS = 0.0
    monkeypatch.setattr("complaints.signals.current_app.send_task", lambda *a, **k: None)  # a lost message
    for schema in ("alpha", "beta"):
        with schema_context(schema):
            projector.catch_up()
    with schema_context("alpha"):
        _submit(committed["alpha"])
        _submit(committed["alpha"])
    result, write, read = _sweep_queries(sweep.sweep, ["alpha", "beta"])
    assert (result.stale, result.behind, result.idle) == (["alpha"], ["alpha"], ["beta"])
    assert len(write) == 1 and len(read) == 2
    # One statement: the checkpoint's update, and the publication of its figures for the probes (reporting.status).
    assert read[1].lstrip().startswith('WITH moved AS (UPDATE "alpha".projection_checkpoint')
    assert "INSERT INTO public.projection_tenant_status" in read[1]
    with schema_context("alpha"):
        checkpoint = _checkpoint()
        assert checkpoint.pending_count == 2 and checkpoint.oldest_pending_at is not None
    assert stored_attention()["alpha"] == TenantFigures(2, checkpoint.oldest_pending_at, 0)
    with schema_context("alpha"):
        projector.catch_up()
    _, _, read = _sweep_queries(sweep.sweep, ["alpha", "beta"])
    assert len(read) == 1  # the projector already recorded pending = 0: nothing to write
    with schema_context("alpha"):
        assert _checkpoint().pending_count == 0
    assert "alpha" not in stored_attention()  # the projector published it


def test_the_sweep_leaves_out_a_tenant_whose_schema_is_gone_and_sweeps_the_rest(committed):
    with schema_context("alpha"):
        projector.catch_up()
        _submit(committed["alpha"])
    result, _, _ = _sweep_queries(sweep.sweep, ["alpha", "no_such_tenant", "beta"])
    assert (result.stale, result.behind, result.idle) == ([], ["alpha"], ["beta"])  # alpha's event is too fresh
    with schema_context("alpha"):
        assert _checkpoint().pending_count == 1


def test_an_old_tx_and_id_position_converts_to_snapshots_that_apply_exactly_the_rest(committed, monkeypatch):
    """What migration 0003 and the benchmark's replay rely on: (tx_id, event_id) as snapshots, exactly."""
    world = committed["alpha"]
    with schema_context("alpha"):
        complaint = _submit(world)
        services.complaint_transition(complaint_id=complaint.pk, actor=world.alice, to_status="resolved")
        _submit(world)
        events = list(OutboxEvent.objects.order_by("tx_id", "id").values_list("tx_id", "id"))
        assert len(events) == 3
        ProjectionCheckpoint.objects.using(READ_ALIAS).create(
            id=1, **outbox.position_after(tx_id=events[0][0], event_id=events[0][1])
        )
        handled: list[int] = []
        apply = projector.EventBatch.apply

        def recording_apply(batch, event):
            handled.append(event.id)
            return apply(batch, event)

        monkeypatch.setattr(projector.EventBatch, "apply", recording_apply)
        projector.catch_up()
        assert handled == [events[1][1], events[2][1]]
