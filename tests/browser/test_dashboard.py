"""A manager watches the dashboard while an agent submits a complaint in another browser.

The worker runs without the sweep's catch-up (threshold of an hour): a new figure can only come from the
on-commit hook (first test) or from the Refresh button (second test), so each test fails without its mechanism.
"""

import time

import pytest
from django_tenants.utils import schema_context

from tests.browser.test_staff_ui import login
from tests.factories import ComplaintFactory

pytestmark = [pytest.mark.browser, pytest.mark.pipeline]


def _open_dashboard(browser, alpha):
    manager = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(manager, alpha, "carol")
    manager.goto(f"{alpha}/dashboard/?period=30")
    for _ in range(40):  # the checkpoint was just reset; the sweep confirms freshness within a second or so
        if "Last updated" in manager.get_by_test_id("last-updated").inner_text():
            break
        manager.wait_for_timeout(250)
        manager.reload()
    assert "Last updated" in manager.get_by_test_id("last-updated").inner_text()
    return manager


def _received(page) -> int:
    return int(page.get_by_test_id("kpi-received").inner_text())


def test_a_new_complaint_shows_on_the_dashboard_within_5_seconds_without_refresh(
    live_server_url, browser, committed, hook_only_worker, shot
):
    alpha = live_server_url.format(host="alpha.localhost")
    manager = _open_dashboard(browser, alpha)
    before = _received(manager)

    agent = browser.new_context().new_page()
    login(agent, alpha, "alice")
    agent.goto(f"{alpha}/complaints/new/")
    agent.get_by_label("Title").fill("Dashboard check")
    agent.get_by_label("Description").fill("Counts once")
    agent.get_by_label("Customer name").fill("Bo")
    agent.get_by_label("Customer email").fill("bo@example.com")
    agent.get_by_label("Category").select_option(label="Billing")
    agent.get_by_role("button", name="Submit complaint").click()
    assert agent.get_by_test_id("reference").is_visible()
    submitted = time.monotonic()

    # Plain page loads, never the Refresh button: hook -> worker -> read models -> page, timed.
    while _received(manager) != before + 1 and time.monotonic() - submitted < 5:
        manager.wait_for_timeout(200)
        manager.reload()
    elapsed = time.monotonic() - submitted
    assert _received(manager) == before + 1, f"not on the dashboard {elapsed:.1f} s after the submission"
    assert elapsed <= 5
    shot(manager, "05-dashboard")

    agent.goto(f"{alpha}/dashboard/")
    assert "Not allowed" in agent.content()


def test_one_refresh_shows_a_complaint_whose_message_was_lost(
    live_server_url, browser, committed, hook_only_worker, monkeypatch
):
    alpha = live_server_url.format(host="alpha.localhost")
    manager = _open_dashboard(browser, alpha)
    before = _received(manager)
    monkeypatch.setattr("complaints.signals.current_app.send_task", lambda *a, **k: None)  # the message is lost
    with schema_context("alpha"):
        ComplaintFactory(actor=committed["alpha"].alice, category=committed["alpha"].categories["Billing"])
    manager.reload()
    assert _received(manager) == before  # nothing brings it without the Refresh here

    manager.get_by_test_id("refresh-button").click()  # one click: the refresh waits for the catch-up
    manager.wait_for_load_state()
    assert "period=30" in manager.url  # the chosen view survives the refresh
    assert _received(manager) == before + 1
