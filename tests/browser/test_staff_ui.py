"""An agent works a complaint in a real browser; another tenant's user gets nothing of it."""

import re

import pytest
from playwright.sync_api import expect

from tests.world import PASSWORD

pytestmark = pytest.mark.browser


def login(page, base, username):
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_agent_submits_works_and_replies_and_another_tenant_cannot_open_it(live_server_url, browser, committed, shot):
    alpha = live_server_url.format(host="alpha.localhost")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    page.goto(f"{alpha}/login/")
    shot(page, "01-login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()
    login(page, alpha, "alice")
    expect(page).to_have_url(re.compile(r"/complaints/$"))
    shot(page, "02-complaint-list")

    page.get_by_role("link", name="New complaint").first.click()
    page.get_by_label("Title").fill("Kettle leaks")
    page.get_by_label("Customer name").fill("Ann <b>Example</b>")
    page.get_by_label("Customer email").fill("not-an-email")
    page.get_by_role("button", name="Submit complaint").click()
    expect(page.get_by_test_id("error-customer_email")).to_be_visible()
    expect(page.get_by_test_id("error-description")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Kettle leaks")  # kept
    shot(page, "03-new-complaint-errors")

    page.get_by_label("Customer email").fill("ann@example.com")
    page.get_by_label("Description").fill("It leaks <script>alert(1)</script>")
    page.get_by_label("Category").select_option(label="Delivery")
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Submit complaint").click()
    expect(page.get_by_test_id("reference")).to_have_text(re.compile(r"^C-\d{6}$"))
    reference = page.get_by_test_id("reference").inner_text()
    expect(page.get_by_text(f"Complaint {reference} was created.")).to_be_visible()
    assert "<script>alert(1)</script>" in page.get_by_test_id("description").inner_text()  # shown as text
    detail_url = page.url

    for move, label in (
        ("in_progress", "In progress"),
        ("on_hold", "On hold"),
        ("in_progress", "In progress"),
        ("resolved", "Resolved"),
    ):
        page.get_by_test_id(f"move-{move}").click()
        expect(page.get_by_test_id("status")).to_have_text(label)
    expect(page.get_by_test_id("move-new")).to_have_count(0)
    page.get_by_label("Message").fill("Sorry about that, a new kettle is on its way.")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("a new kettle is on its way")
    shot(page, "04-complaint-detail")

    # Readable on a phone: no page scrolls sideways (wide tables scroll inside their own box).
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (f"{alpha}/complaints/", f"{alpha}/complaints/new/", detail_url):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
    page.goto(f"{alpha}/complaints/")
    shot(page, "06-complaint-list-phone")

    # A user of tenant beta: cannot log in on alpha's host, and alpha's complaint does not exist on beta's.
    other = browser.new_context().new_page()
    login(other, alpha, "dave")
    expect(other.get_by_test_id("login-error")).to_be_visible()
    other.goto(detail_url)
    expect(other).to_have_url(re.compile(r"/login/"))
    beta = live_server_url.format(host="beta.localhost")
    login(other, beta, "dave")
    response = other.goto(detail_url.replace("alpha.localhost", "beta.localhost"))
    assert response.status == 404
    context.close()
