"""Tenant isolation across every surface, roles, and production settings."""

import os
import subprocess
import sys

import pytest
from django.test import Client

from helpdesk.tenancy import connection
from tests.conftest import ROOT
from tests.factories import ComplaintFactory, api_token


@pytest.fixture
def alpha_complaint(alpha):
    return ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"], title="Alpha secret")


SURFACES = [
    "/complaints/",
    "/complaints/{id}/",
    "/dashboard/",
    "/dashboard/?csv=agents",
    "/admin/",
    "/admin/complaints/complaint/{id}/change/",
    "/api/complaints/",
    "/api/complaints/{id}/",
    "/api/complaints/{id}/history/",
    "/api/reports/summary/",
    "/api/reports/daily/",
    "/api/categories/",
]


@pytest.mark.parametrize("url", SURFACES)
def test_beta_credentials_on_alphas_host_get_nothing_of_alpha(alpha, beta, alpha_complaint, url):
    path = url.format(id=alpha_complaint.pk)
    connection.set_tenant(beta.tenant)
    session = Client(HTTP_HOST=beta.domain)
    session.force_login(beta.betadmin)  # beta's most powerful user
    token = api_token(beta.charlie)
    connection.set_tenant(alpha.tenant)
    with_cookie = Client(HTTP_HOST=alpha.domain)
    with_cookie.cookies = session.cookies
    with_token = Client(HTTP_HOST=alpha.domain, HTTP_AUTHORIZATION=f"Token {token}")
    for client in (with_cookie, with_token):
        response = client.get(path)
        assert response.status_code in (302, 401, 403), (path, response.status_code)
        assert b"Alpha secret" not in response.content


@pytest.mark.parametrize(
    "url", ["/complaints/{id}/", "/api/complaints/{id}/", "/admin/complaints/complaint/{id}/change/"]
)
def test_alphas_ids_on_betas_host_are_not_found(alpha, beta, alpha_complaint, url):
    connection.set_tenant(beta.tenant)
    client = Client(HTTP_HOST=beta.domain)
    client.force_login(beta.betadmin)
    response = client.get(url.format(id=alpha_complaint.pk), follow=True)
    assert b"Alpha secret" not in response.content
    assert response.status_code in (200, 404)  # the admin redirects to its index with "doesn't exist"


def test_agents_never_reach_manager_pages_or_reports(alpha):
    client = Client(HTTP_HOST=alpha.domain)
    client.force_login(alpha.alice)
    token = api_token(alpha.alice)
    api = Client(HTTP_HOST=alpha.domain, HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/dashboard/").status_code == 403
    assert client.post("/dashboard/refresh/").status_code == 403
    assert client.get("/dashboard/?csv=daily").status_code == 403
    for report in ("summary", "daily", "agents", "categories"):
        assert api.get(f"/api/reports/{report}/").status_code == 403


def test_only_admins_manage_users_and_categories(alpha):
    manager = Client(HTTP_HOST=alpha.domain)
    manager.force_login(alpha.carol)
    assert manager.get("/admin/auth/user/").status_code == 302  # not staff: sent to the admin login
    admin = Client(HTTP_HOST=alpha.domain)
    admin.force_login(alpha.ada)
    assert admin.get("/admin/auth/user/").status_code == 200
    assert admin.get("/admin/complaints/category/add/").status_code == 200


def test_every_form_page_carries_a_csrf_token(alpha, alpha_complaint):
    client = Client(HTTP_HOST=alpha.domain)
    assert b"csrfmiddlewaretoken" in client.get("/login/").content
    client.force_login(alpha.carol)
    for url in ("/complaints/new/", f"/complaints/{alpha_complaint.pk}/", "/dashboard/"):
        html = client.get(url).content.decode()
        assert html.count('<form method="post"') <= html.count("csrfmiddlewaretoken"), url


def test_posts_without_csrf_are_refused(alpha, alpha_complaint):
    client = Client(HTTP_HOST=alpha.domain, enforce_csrf_checks=True)
    client.force_login(alpha.carol)
    for url in (
        f"/complaints/{alpha_complaint.pk}/transition/",
        f"/complaints/{alpha_complaint.pk}/comment/",
        "/complaints/new/",
        "/dashboard/refresh/",
    ):
        assert client.post(url, {"to_status": "closed", "version": 1, "body": "x"}).status_code == 403, url
    alpha_complaint.refresh_from_db()
    assert alpha_complaint.status == "new"


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.production",
        "SECRET_KEY": "a-long-random-production-secret-that-is-not-committed-anywhere-0123456789",
        "ALLOWED_HOSTS": ".helpdesk.example.com",
        "METRICS_TOKEN": "a-metrics-token-for-the-scraper-0123456789",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="helpdesk.settings.production", ALLOWED_HOSTS="x.example.com")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "Set the SECRET_KEY environment variable" in result.stderr
