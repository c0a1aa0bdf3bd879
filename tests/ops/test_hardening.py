"""The security review's medium and low findings, each replayed as the attack and shown to do no harm."""

import csv
import io
import os
import runpy
import subprocess
import sys

import pytest
import requests
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client, RequestFactory
from django_tenants.utils import schema_context

from complaints import services
from complaints.errors import PermissionDenied
from complaints.models import Category, Complaint
from helpdesk.errors import server_failure
from reporting.rebuild import rebuild_read_models
from tests.conftest import ROOT
from tests.factories import ComplaintFactory
from tests.world import PASSWORD

# --- client address behind proxies, lockout and throttle --------------------------------------------------------


def _login(world, username, password, forwarded_for=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return Client(HTTP_HOST=world.domain, **extra).post("/login/", {"username": username, "password": password})


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_lockout(alpha, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for i in range(5):
        _login(alpha, "alice", "wrong", forwarded_for=f"198.51.100.{i}")
    response = _login(alpha, "alice", PASSWORD, forwarded_for="198.51.100.77")
    assert response.status_code == 429  # locked: the forged header is ignored, the peer address counts
    assert AccessAttempt.objects.filter(username="alice", ip_address="127.0.0.1").count() == 1


def test_behind_a_trusted_proxy_one_attacker_cannot_lock_a_user_out_everywhere(alpha, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        _login(alpha, "alice", "wrong", forwarded_for="203.0.113.66")
    assert _login(alpha, "alice", PASSWORD, forwarded_for="203.0.113.66").status_code == 429
    # Alice, from her own address through the same proxy, still gets in.
    assert _login(alpha, "alice", PASSWORD, forwarded_for="198.51.100.7").status_code == 302


def test_the_token_throttle_ignores_forged_addresses_and_counts_per_tenant(alpha, beta, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    cache.clear()

    def ask(world, i):
        client = Client(HTTP_HOST=world.domain, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
        return client.post("/api/auth/token/", {"username": "nobody", "password": "x"}).status_code

    codes = [ask(alpha, i) for i in range(11)]
    assert codes[:10] == [400] * 10 and codes[10] == 429  # 10/min, whatever X-Forwarded-For says
    assert ask(beta, 99) == 400  # another tenant has its own budget


def test_the_token_endpoint_answers_while_redis_is_down(alpha, redis_server):
    redis_server.stop()
    try:
        client = Client(HTTP_HOST=alpha.domain)
        response = client.post("/api/auth/token/", {"username": "alice", "password": PASSWORD})
    finally:
        redis_server.start()
    assert response.status_code == 200 and response.json()["token"]


@pytest.mark.parametrize("path", ["/login/", "/admin/login/", "/api/auth/token/"])
def test_a_300_character_username_is_refused_without_a_server_error(alpha, path):
    response = Client(HTTP_HOST=alpha.domain).post(path, {"username": "u" * 300, "password": "whatever"})
    assert response.status_code in (200, 400)
    assert AccessAttempt.objects.filter(username__startswith="uuu").count() <= 1


# --- CSV formula injection ---------------------------------------------------------------------------------------


def test_dashboard_csvs_neutralise_formulas(committed, client_for):
    alpha = committed["alpha"]
    evil = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3"]
    with schema_context("alpha"):
        for name in evil:
            category = Category.objects.create(name=name)
            ComplaintFactory(actor=alpha.alice, category=category)
        rebuild_read_models()
    body = client_for(alpha, alpha.carol).get("/dashboard/?csv=categories").content.decode()
    cells = [row[0] for row in csv.reader(io.StringIO(body))][1:]
    assert sorted(cells) == sorted("'" + name for name in evil)


# --- hosts, headers, error shapes ---------------------------------------------------------------------------------


def test_host_names_are_case_insensitive(alpha):
    response = Client(HTTP_HOST="ALPHA.LOCALHOST").get("/login/")
    assert response.status_code == 200 and "Alpha Corp" in response.content.decode()


def test_pages_carry_a_strict_content_security_policy(client_for, alpha):
    policy = client_for(alpha, alpha.alice).get("/complaints/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def test_api_errors_keep_the_json_shape_for_404_413_and_500(client_for, alpha, settings):
    client = client_for(alpha, alpha.alice)
    missing = client.get("/api/no-such-endpoint/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = client.post("/api/complaints/", {"title": "x" * 5000}, content_type="application/json")
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    failure = server_failure(RequestFactory().get("/api/complaints/"))
    assert failure.status_code == 500 and b'"server_error"' in failure.content


def test_the_demo_settings_have_debug_off_and_bind_to_this_machine():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "HELPDESK_BIND")}
    env["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings.local"
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"
    os.environ.pop("HELPDESK_BIND", None)
    assert runpy.run_path(str(ROOT / "helpdesk" / "gunicorn.conf.py"))["bind"] == "127.0.0.1:8000"


# --- one description limit; agents work their own complaints ------------------------------------------------------


def test_the_staff_form_refuses_a_description_over_the_limit(client_for, alpha):
    response = client_for(alpha, alpha.alice).post(
        "/complaints/new/",
        {
            "title": "Long",
            "description": "x" * 20_001,
            "customer_name": "C",
            "customer_email": "c@example.com",
            "channel": "web",
            "category": alpha.categories["Billing"].pk,
            "priority": "medium",
        },
    )
    assert response.status_code == 400 and "20000 characters" in response.content.decode().replace(",", "")
    assert Complaint.objects.count() == 0


def test_an_agent_cannot_take_or_close_a_complaint_assigned_to_another_agent(alpha):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    services.complaint_assign(complaint_id=complaint.pk, actor=alpha.bob, assignee=alpha.bob)
    before = Complaint.objects.get(pk=complaint.pk)
    with pytest.raises(PermissionDenied):
        services.complaint_assign(complaint_id=complaint.pk, actor=alpha.alice, assignee=alpha.alice)
    with pytest.raises(PermissionDenied):
        services.complaint_transition(complaint_id=complaint.pk, actor=alpha.alice, to_status="closed")
    after = Complaint.objects.get(pk=complaint.pk)
    assert (after.assignee_id, after.status, after.version) == (alpha.bob.pk, "new", before.version)
    # A manager reassigns; the new assignee works it.
    services.complaint_assign(complaint_id=complaint.pk, actor=alpha.carol, assignee=alpha.alice)
    services.complaint_transition(complaint_id=complaint.pk, actor=alpha.alice, to_status="in_progress")
    assert Complaint.objects.get(pk=complaint.pk).status == "in_progress"


def test_the_api_answers_403_when_an_agent_moves_someone_elses_complaint(alpha, client_for):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    services.complaint_assign(complaint_id=complaint.pk, actor=alpha.bob, assignee=alpha.bob)
    response = client_for(alpha, alpha.alice).post(
        f"/api/complaints/{complaint.pk}/transition/", {"status": "closed"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert Complaint.objects.get(pk=complaint.pk).status == "new"


# --- metrics over the whole server ----------------------------------------------------------------------------------


def _healthz_count(text: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith("helpdesk_request_seconds_count{") and 'view="healthz"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_one_scrape_sees_every_gunicorn_worker(live_server_url):
    base = live_server_url.format(host="localhost")
    with requests.Session() as session:
        for _ in range(12):
            session.get(f"{base}/healthz", timeout=10)
        # Fresh connections, so the scrapes land on different workers.
        counts = [_healthz_count(requests.get(f"{base}/metrics", timeout=10).text) for _ in range(6)]
    assert counts == [12.0] * 6
