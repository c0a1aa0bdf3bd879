"""The Content-Security-Policy (no inline script or style) breaks no page: chromium reports no violation."""

import pytest

from tests.world import PASSWORD

pytestmark = pytest.mark.browser

PAGES = ["/complaints/", "/complaints/new/", "/dashboard/", "/admin/", "/admin/auth/user/", "/api/docs/"]


def test_main_pages_run_under_the_csp_without_violations(live_server_url, browser, committed, shot):
    base = live_server_url.format(host="alpha.localhost")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    violations: list[str] = []

    def record(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{page.url}: {message.text[:60]}")

    page.on("console", record)
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/complaints/")
    for path in PAGES:
        response = page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        assert response.status == 200, path
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=10_000)  # the docs really rendered (their JS ran)
    shot(page, "csp-api-docs")
    context.close()
    print("\n".join(f"{v}" for v in violations))
    assert violations == []
