"""A web process reads and renders DASHBOARD_RENDERS_PER_PROCESS dashboards at a time; the others wait asleep."""

import threading
import time

import pytest

from reporting.concurrency import dashboard_turn


def _hold_a_turn(entered: threading.Event, release: threading.Event, log: list) -> threading.Thread:
    def hold():
        with dashboard_turn():
            log.append("first in")
            entered.set()
            release.wait(10)
            log.append("first out")

    thread = threading.Thread(target=hold)
    thread.start()
    assert entered.wait(10)
    return thread


def test_a_second_dashboard_waits_until_the_first_is_done(settings):
    settings.DASHBOARD_RENDERS_PER_PROCESS = 1
    entered, release, log = threading.Event(), threading.Event(), []
    first = _hold_a_turn(entered, release, log)

    def second():
        with dashboard_turn():
            log.append("second in")

    waiting = threading.Thread(target=second)
    waiting.start()
    time.sleep(0.3)
    assert log == ["first in"]  # still waiting for its turn
    release.set()
    first.join(10)
    waiting.join(10)
    assert log == ["first in", "first out", "second in"]


def test_a_dashboard_goes_ahead_after_waiting_its_limit_and_no_limit_means_no_wait(settings):
    settings.DASHBOARD_RENDERS_PER_PROCESS = 1
    settings.DASHBOARD_TURN_WAIT_SECONDS = 0.3
    entered, release, log = threading.Event(), threading.Event(), []
    first = _hold_a_turn(entered, release, log)
    try:
        started = time.monotonic()
        with dashboard_turn():
            waited = time.monotonic() - started
        assert 0.25 <= waited < 5 and log == ["first in"]  # went ahead while the first still held its turn
        settings.DASHBOARD_RENDERS_PER_PROCESS = 0
        started = time.monotonic()
        with dashboard_turn():
            assert time.monotonic() - started < 0.1
    finally:
        release.set()
        first.join(10)


@pytest.mark.parametrize("url", ["/api/reports/summary/", "/dashboard/", "/dashboard/figures/"])
def test_every_dashboard_view_takes_a_turn(url, client_for, alpha, settings):
    settings.DASHBOARD_RENDERS_PER_PROCESS = 1
    settings.DASHBOARD_TURN_WAIT_SECONDS = 0.5
    client = client_for(alpha, alpha.carol)
    assert client.get(url).status_code == 200
    with dashboard_turn():  # this thread holds the process's only turn: the view must wait for it
        started = time.monotonic()
        assert client.get(url).status_code == 200
        assert time.monotonic() - started >= 0.45
