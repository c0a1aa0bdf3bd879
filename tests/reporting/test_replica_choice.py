"""reporting.replicas.serving: which database a person's read goes to, given what each replica answers. The real
replica (figures served, paused, stopped, promoted) is in test_replicas.py; these cover the choice among several,
which one replica cannot show."""

import itertools
import logging
from datetime import timedelta

import pytest
from django.db import OperationalError

from helpdesk.databases import READ_ALIAS
from reporting import replicas


@pytest.fixture
def two_replicas(settings, monkeypatch):
    settings.REPORTING_REPLICA_ALIASES = ["r1", "r2"]
    settings.REPORTING_REPLICA_RETRY_SECONDS = 60
    monkeypatch.setattr(replicas, "_failed_until", {})
    monkeypatch.setattr(replicas, "_turns", itertools.count())  # other tests' reads moved the process's turn
    monkeypatch.setattr(replicas, "replica_name", lambda alias: f"host-{alias}:5432")
    closed: list[str] = []
    monkeypatch.setattr(replicas, "_close", closed.append)
    return closed


def test_replicas_take_turns_and_the_primary_answers_without_any(settings, two_replicas):
    assert [replicas.serving(lambda alias: alias) for _ in range(4)] == ["r1", "r2", "r1", "r2"]
    settings.REPORTING_REPLICA_ALIASES = []
    assert replicas.serving(lambda alias: alias) == READ_ALIAS
    assert replicas.serving(lambda alias: alias, replicas=False) == READ_ALIAS


def test_a_replica_behind_is_passed_over_for_this_read_only(two_replicas):
    def read(alias):
        if alias == "r1":
            raise replicas.NotServing("r1 replays 9.0 s behind")
        return alias

    assert {replicas.serving(read) for _ in range(4)} == {"r2"}
    assert replicas._failed_until == {} and two_replicas == []  # not marked as failed: asked again next time
    assert [replicas.serving(lambda alias: alias) for _ in range(2)] == ["r1", "r2"]


def test_a_failing_replica_is_skipped_until_retry_and_a_promoted_one_is_logged(two_replicas, caplog):
    def read(alias):
        if alias == "r1":
            raise OperationalError("connection refused")
        if alias == "r2":
            raise replicas.NotInRecovery("reporting replica host-r2:5432 is not in recovery (promoted?): refused")
        return alias

    with caplog.at_level(logging.WARNING, logger="reporting.replicas"):
        assert replicas.serving(read) == READ_ALIAS
    assert sorted(two_replicas) == ["r1", "r2"] and set(replicas._failed_until) == {"r1", "r2"}
    assert any(r.levelname == "ERROR" and "not in recovery (promoted?): refused" in r.message for r in caplog.records)
    assert any("host-r1:5432 skipped for 60 s: connection refused" in r.message for r in caplog.records)
    # Within the retry interval neither is asked again, even by a read that would succeed.
    assert replicas.serving(lambda alias: alias) == READ_ALIAS
    replicas._failed_until.clear()
    assert replicas.serving(lambda alias: alias) in {"r1", "r2"}


def test_the_primary_failing_is_the_callers_error(two_replicas):
    def read(alias):
        raise OperationalError(f"{alias} down")

    with pytest.raises(OperationalError, match=f"{READ_ALIAS} down"):
        replicas.serving(read)


def test_a_replica_behind_whose_figures_are_older_than_the_bound_is_passed_over(alpha, settings, monkeypatch):
    """Its replay can be within the bound while its last confirmation is older (the sweep confirms what the
    primary holds, now and then): what a person would be shown decides. A caught-up replica shows what the
    primary does, so its age is the primary's own and it serves."""
    from django.utils import timezone

    from reporting import freshness
    from reporting.models import ProjectionCheckpoint

    settings.REPORTING_REPLICA_MAX_LAG_SECONDS = 4.0
    now = timezone.now()
    ProjectionCheckpoint.objects.using(READ_ALIAS).create(id=1, caught_up_at=now - timedelta(seconds=6))

    def at(lag: float):
        monkeypatch.setattr(freshness, "position_within_bound", lambda alias: replicas.Position("r1", lag, now))

    at(1.0)
    with pytest.raises(replicas.NotServing, match="holds figures 6.0 s old"):
        freshness.figures_state(READ_ALIAS)
    at(0.0)
    assert freshness.figures_state(READ_ALIAS).freshness.age_seconds == pytest.approx(6.0, abs=1.0)
    settings.REPORTING_REPLICA_MAX_LAG_SECONDS = 10.0
    at(1.0)
    assert freshness.figures_state(READ_ALIAS).freshness.age_seconds == pytest.approx(6.0, abs=1.0)
