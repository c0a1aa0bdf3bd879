from datetime import UTC, date, datetime

import pytest
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from complaints import services
from complaints.models import Complaint
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.tenancy import connection, connections
from reporting.rebuild import rebuild_read_models
from tests import oracle
from tests.clock import install
from tests.factories import ComplaintFactory, api_token
from tests.reporting.helpers import project_everything

REPORTS = ["summary", "daily", "agents", "categories", "open-by-status", "channels"]


@pytest.mark.parametrize("report", REPORTS)
def test_agents_cannot_read_reports(alpha, api_for, report):
    assert api_for(alpha, alpha.alice).get(f"/api/reports/{report}/").status_code == 403


@pytest.mark.parametrize("report", REPORTS)
def test_reports_carry_freshness_and_period(alpha, api_for, report):
    body = api_for(alpha, alpha.carol).get(f"/api/reports/{report}/?period=30").json()
    assert {"last_updated", "lag_seconds", "period"} <= set(body)
    assert body["period"]["end"] > body["period"]["start"]


def test_bad_period_is_a_400_with_field_messages(alpha, api_for):
    response = api_for(alpha, alpha.carol).get("/api/reports/daily/?period=custom&start=2026-02-01&end=2026-01-01")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"non_field_errors": ["The end date is before the start date."]}
    assert api_for(alpha, alpha.carol).get("/api/reports/daily/?priority=bogus").status_code == 400


def test_reports_show_this_tenants_figures_only(committed):
    with schema_context("alpha"):
        world = committed["alpha"]
        for _ in range(3):
            ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
        rebuild_read_models()
        alpha_token = api_token(world.carol)
    with schema_context("beta"):
        rebuild_read_models()
        beta_token = api_token(committed["beta"].charlie)
    connection.set_schema_to_public()
    alpha_summary = (
        Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {alpha_token}")
        .get("/api/reports/summary/?period=7")
        .json()
    )
    assert alpha_summary["kpis"]["received"]["value"] == 3
    beta_summary = (
        Client(HTTP_HOST="beta.localhost", HTTP_AUTHORIZATION=f"Token {beta_token}")
        .get("/api/reports/summary/?period=7")
        .json()
    )
    assert beta_summary["kpis"]["received"]["value"] == 0
    categories = (
        Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {alpha_token}")
        .get("/api/reports/categories/?period=7")
        .json()["categories"]
    )
    billing = world.categories["Billing"].pk
    assert categories == [
        {
            "category": "Billing",
            "received": 3,
            "share_pct": 100.0,
            "reopened": 0,
            "reopen_rate_pct": None,  # none resolved yet
            "category_id": billing,
        }
    ]


def test_open_by_status_counts_open_complaints_now_by_status_and_category(committed):
    with schema_context("alpha"):
        world = committed["alpha"]
        billing, delivery = world.categories["Billing"], world.categories["Delivery"]
        ComplaintFactory(actor=world.alice, category=billing, priority="high")
        ComplaintFactory(actor=world.alice, category=billing, priority="low")
        held = ComplaintFactory(actor=world.alice, category=delivery, priority="high")
        done = ComplaintFactory(actor=world.alice, category=delivery, priority="high")
        services.complaint_transition(complaint_id=held.pk, actor=world.alice, to_status="on_hold")
        services.complaint_transition(complaint_id=done.pk, actor=world.alice, to_status="resolved")
        rebuild_read_models()
        token = api_token(world.carol)
    connection.set_schema_to_public()
    api = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {token}")
    ids = {"Billing": billing.pk, "Delivery": delivery.pk}
    assert api.get("/api/reports/open-by-status/").json()["open"] == [
        {"status": "new", "category": "Billing", "open": 2, "category_id": ids["Billing"]},
        {"status": "on_hold", "category": "Delivery", "open": 1, "category_id": ids["Delivery"]},
    ]
    assert api.get("/api/reports/open-by-status/?priority=high").json()["open"] == [
        {"status": "new", "category": "Billing", "open": 1, "category_id": ids["Billing"]},
        {"status": "on_hold", "category": "Delivery", "open": 1, "category_id": ids["Delivery"]},
    ]
    assert api.get(f"/api/reports/open-by-status/?category={delivery.pk}").json()["open"] == [
        {"status": "on_hold", "category": "Delivery", "open": 1, "category_id": ids["Delivery"]},
    ]


def test_reports_answer_503_when_the_reporting_database_is_down(committed):
    with schema_context("alpha"):
        token = api_token(committed["alpha"].carol)
    reporting = connections[READ_ALIAS]
    original = reporting.settings_dict["PORT"]
    reporting.close()
    reporting.settings_dict["PORT"] = "1"
    try:
        response = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {token}").get("/api/reports/summary/")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "reporting_unavailable"
    finally:
        reporting.close()
        reporting.settings_dict["PORT"] = original
        connection.set_schema_to_public()


def test_the_benchmarks_on_the_fly_summary_computes_from_the_write_tables(alpha):
    """The single-database baseline must really be the single-database way (and agree with the read side)."""
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIRequestFactory, force_authenticate

    from benchmarks.views import OnTheFlySummary
    from reporting.api import SummaryReport

    ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    factory = APIRequestFactory()

    def call(view):
        request = factory.get("/", {"period": "7"}, HTTP_HOST=alpha.domain)
        force_authenticate(request, user=alpha.carol)
        with CaptureQueriesContext(connections[WRITE_ALIAS]) as write:
            body = view.as_view()(request).data
        return body, [q["sql"] for q in write.captured_queries if "complaints_complaint" in q["sql"]]

    fly, fly_queries = call(OnTheFlySummary)
    served, served_queries = call(SummaryReport)
    assert fly_queries and not served_queries
    assert fly["kpis"]["received"]["value"] == 1  # the write side knows at once; the read side after projection


def test_channels_report_gives_received_resolved_and_average_resolution_per_channel(committed, monkeypatch):
    clock = install(monkeypatch, datetime(2026, 3, 2, 9, tzinfo=UTC))
    with schema_context("alpha"):
        world = committed["alpha"]
        billing, delivery = world.categories["Billing"], world.categories["Delivery"]
        for channel, category in (("email", billing), ("email", delivery), ("phone", billing), ("web", billing)):
            ComplaintFactory(actor=world.alice, category=category, channel=channel, priority="high")
        fast, slow = Complaint.objects.filter(channel="email").order_by("id")
        clock.advance(hours=2)
        services.complaint_transition(complaint_id=fast.pk, actor=world.alice, to_status="resolved")
        clock.advance(hours=3)
        services.complaint_transition(complaint_id=slow.pk, actor=world.alice, to_status="resolved")
        project_everything()
        token = api_token(world.carol)
        expected = oracle.dashboard(
            oracle.snapshot(), start=date(2026, 2, 1), end=date(2026, 3, 2), today=date(2026, 3, 2)
        )
    connection.set_schema_to_public()
    api = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {token}")
    query = "period=custom&start=2026-02-01&end=2026-03-02"
    body = api.get(f"/api/reports/channels/?{query}").json()
    assert {"last_updated", "lag_seconds", "period"} <= set(body)
    assert body["channels"] == [
        {"channel": "email", "received": 2, "resolved": 2, "avg_resolution_hours": 3.5},  # 2 h and 5 h
        {"channel": "phone", "received": 1, "resolved": 0, "avg_resolution_hours": None},
        {"channel": "web", "received": 1, "resolved": 0, "avg_resolution_hours": None},
    ]
    assert [tuple(row.values()) for row in body["channels"]] == expected["channels"]
    assert api.get(f"/api/reports/channels/?{query}&category={delivery.pk}").json()["channels"] == [
        {"channel": "email", "received": 1, "resolved": 1, "avg_resolution_hours": 5.0},
    ]
    assert api.get(f"/api/reports/channels/?{query}&priority=low").json()["channels"] == []
    assert api.get(f"/api/reports/channels/?{query}&priority=bogus").status_code == 400


def test_a_report_answered_from_the_cache_reads_the_tenant_token_permissions_and_checkpoint_once_each(
    alpha, api_for, settings
):
    """What a manager's poll of a report costs when nothing moved: one lookup each of the tenant, the token, the
    role's permissions and the checkpoint, and no SET search_path (the connection already has the tenant's path).
    It was nine statements: the switch to public and back, both knox token reads, user and group permissions."""
    settings.DASHBOARD_MAX_AGE_SECONDS = 3600  # a cache hit however slow the machine (the window is not tested here)
    ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    project_everything()  # the checkpoint exists, as it does once a tenant's first event is projected
    client = api_for(alpha, alpha.carol)
    assert client.get("/api/reports/summary/?period=30").status_code == 200  # computes, caches, sets the paths
    with (
        CaptureQueriesContext(connections[WRITE_ALIAS]) as written,
        CaptureQueriesContext(connections[READ_ALIAS]) as read,
    ):
        assert client.get("/api/reports/summary/?period=30").status_code == 200

    def tables(queries) -> list[str]:
        """The table each statement reads first (a statement without one, such as a SET, as it is)."""
        sqls = [q["sql"] for q in queries.captured_queries]
        return [sql.split(' FROM "', 1)[1].split('"')[0] if ' FROM "' in sql else sql for sql in sqls]

    assert tables(written) == ["tenants_domain", "knox_authtoken", "auth_permission"]
    assert tables(read) == ["projection_checkpoint"]
