"""axe-core finds no serious or critical violation on any main page; long unbroken text keeps pages readable."""

import pytest
from django_tenants.utils import schema_context

from tests.browser.axe import serious_violations
from tests.browser.test_staff_ui import login
from tests.factories import ComplaintFactory

pytestmark = pytest.mark.browser

PASTED_URL = "https://shop.example.com/orders/" + "0123456789abcdef" * 10 + "?ref=abc"  # 200 chars, no space


def _complaint(world, title="Kettle leaks"):
    with schema_context("alpha"):
        return ComplaintFactory(
            actor=world.alice,
            category=world.categories["Billing"],
            title=title,
            description="It leaks.",
            customer_name="Ann Example",
            customer_email="ann@example.com",
        )


def test_every_main_page_has_no_serious_accessibility_violation(live_server_url, browser, committed):
    complaint = _complaint(committed["alpha"])
    alpha = live_server_url.format(host="alpha.localhost")
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

    page.goto(f"{alpha}/login/")
    checked = {"login": serious_violations(page)}
    login(page, alpha, "ada")  # the admin: every page below is hers to open
    for name, path in (
        ("complaint list", "/complaints/"),
        ("new complaint", "/complaints/new/"),
        ("complaint detail", f"/complaints/{complaint.pk}/"),
        ("dashboard", "/dashboard/"),
        ("admin index", "/admin/"),
    ):
        response = page.goto(f"{alpha}{path}")
        assert response.status == 200, (name, response.status)
        checked[name] = serious_violations(page)
    assert len(checked) == 6
    assert checked == dict.fromkeys(checked, [])


def test_a_200_character_title_without_spaces_keeps_every_column_in_view(live_server_url, browser, committed, shot):
    assert len(PASTED_URL) == 200 and " " not in PASTED_URL
    complaint = _complaint(committed["alpha"], title=PASTED_URL)
    alpha = live_server_url.format(host="alpha.localhost")
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(page, alpha, "alice")

    page.goto(f"{alpha}/complaints/")
    # The table needs no sideways scrolling at desktop width: every column header is in view.
    assert page.evaluate(
        "() => { const w = document.querySelector('.table-wrap'); return w.scrollWidth <= w.clientWidth; }"
    )
    headers = page.evaluate(
        """() => { const box = document.querySelector('.table-wrap').getBoundingClientRect();
                   return [...document.querySelectorAll('[data-testid=complaint-table] th')]
                     .filter(th => th.getBoundingClientRect().right <= box.right + 1)
                     .map(th => th.innerText.trim()); }"""
    )
    assert headers == ["Reference", "Title", "Customer", "Status", "Priority", "Category", "Assignee", "Age"]
    cell = page.locator("[data-testid=complaint-table] tbody td").nth(1)
    assert cell.get_attribute("title") == PASTED_URL  # the full title on hover
    assert cell.inner_text() == PASTED_URL[:79] + "…"
    shot(page, "07-complaint-list-long-title")

    page.goto(f"{alpha}/complaints/{complaint.pk}/")
    assert PASTED_URL in page.locator("h1").inner_text()  # the full title on the detail page
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/complaints/", f"/complaints/{complaint.pk}/"):
        page.goto(f"{alpha}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    shot(page, "08-complaint-detail-long-title-phone")
