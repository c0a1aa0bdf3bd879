import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from complaints import demo_data
from complaints.bulk import bulk_write
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.tenancy import connection, connections
from reporting import figures, selectors
from reporting.rebuild import rebuild_read_models
from reporting.selectors import Filters, period_between, period_last
from tests import oracle
from tests.factories import ComplaintFactory
from tests.reporting.helpers import project_everything


def test_agents_get_403_and_managers_the_page(client_for, alpha):
    assert client_for(alpha, alpha.alice).get("/dashboard/").status_code == 403
    response = client_for(alpha, alpha.carol).get("/dashboard/")
    assert response.status_code == 200
    for testid in (
        "kpi-received",
        "kpi-resolved",
        "kpi-open",
        "kpi-avg-resolution-hours",
        "kpi-avg-first-response-hours",
        "last-updated",
        "refresh-button",
        "chart-volume",
        "table-agents",
        "table-categories",
        "chart-channels",
        "table-channels",
    ):
        assert f'data-testid="{testid}"' in response.content.decode(), testid


def test_another_tenants_manager_gets_nothing_of_this_tenant(client_for, alpha, beta):
    beta_client = client_for(beta, beta.charlie)
    stolen = Client(HTTP_HOST=alpha.domain)
    stolen.cookies = beta_client.cookies
    assert stolen.get("/dashboard/").status_code == 302
    assert stolen.get("/dashboard/?csv=agents").status_code == 302


def test_the_page_reads_only_the_reporting_database(client_for, alpha):
    ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    client = client_for(alpha, alpha.carol)
    with (
        CaptureQueriesContext(connections[WRITE_ALIAS]) as write,
        CaptureQueriesContext(connections[READ_ALIAS]) as read,
    ):
        assert client.get("/dashboard/?period=30").status_code == 200
        assert client.get("/dashboard/?period=30&csv=daily").status_code == 200
    assert read.captured_queries, "the dashboard must query the reporting database"
    touched = [q["sql"] for q in write.captured_queries if "complaints_" in q["sql"]]
    assert touched == []


def test_bad_custom_period_is_a_400_with_a_message(client_for, alpha):
    response = client_for(alpha, alpha.carol).get("/dashboard/?period=custom&start=2026-03-01&end=2026-01-01")
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    response = client_for(alpha, alpha.carol).get("/dashboard/?period=custom&start=2026-03-01")
    assert response.status_code == 400 and "Choose both dates" in response.content.decode()


@pytest.fixture(params=["rebuild", "projector"])
def year_of_data(committed, monkeypatch, request):
    """A generated year in tenant alpha (committed), its read models filled by a rebuild or by the projector
    applying its events; today pinned, so the oracle and the page agree on it even across midnight."""
    today = selectors.today("UTC")  # alpha keeps the default zone
    monkeypatch.setattr(selectors, "today", lambda zone=None: today)
    with schema_context("alpha"):
        world = committed["alpha"]
        categories = list(world.categories.values())
        agents = [world.alice, world.bob]
        bulk_write(demo_data.generate(count=1500, months=12, categories=categories, agents=agents, seed=7))
        if request.param == "rebuild":
            rebuild_read_models()
        else:
            project_everything()
        yield world


def _periods():
    today = selectors.today()
    return {
        "7": period_last(7),
        "30": period_last(30),
        "180": period_last(180),
        "365": period_last(365),
        "custom": period_between(today - timedelta(days=100), today - timedelta(days=40)),
    }


def test_dashboard_figures_equal_the_independent_oracle(year_of_data):
    """Every figure, for every period and filter, against tests/oracle.py (plain Python over the write models)."""
    world = year_of_data
    filters = {
        "none": Filters(),
        "high": Filters(priority="high"),
        "Billing": Filters(category_id=world.categories["Billing"].pk),
    }
    with schema_context("alpha"):
        snap = oracle.snapshot()
        assert len(snap.complaints) == 1500
        for period_name, period in _periods().items():
            for filter_name, f in filters.items():
                served = oracle.served(figures.dashboard(period=period, filters=f))
                expected = oracle.dashboard(
                    snap,
                    start=period.start,
                    end=period.end,
                    today=selectors.today(),
                    category_id=f.category_id,
                    priority=f.priority,
                )
                assert oracle.dashboard_differences(expected, served) == [], (period_name, filter_name)
                assert served["kpis"]["received"][0] > 0, (period_name, filter_name)


def test_page_shows_the_figures_and_csv_has_the_same_numbers(year_of_data):
    client = Client(HTTP_HOST="alpha.localhost")
    with schema_context("alpha"):
        client.force_login(year_of_data.carol)
        period = period_last(30)
        truth = oracle.dashboard(oracle.snapshot(), start=period.start, end=period.end, today=selectors.today())
    received = truth["kpis"]["received"][0]
    html = client.get("/dashboard/?period=30").content.decode()
    assert f'data-testid="kpi-received">{received}<' in html
    rows = list(csv.reader(io.StringIO(client.get("/dashboard/?period=30&csv=daily").content.decode())))
    assert rows[0] == ["day", "received", "resolved"] and len(rows) == 31
    assert [(r[0], int(r[1]), int(r[2])) for r in rows[1:]] == [(d.isoformat(), n, r) for d, n, r in truth["daily"]]
    agents = list(csv.reader(io.StringIO(client.get("/dashboard/?period=30&csv=agents").content.decode())))
    assert {r[0] for r in agents[1:]} == {"Alice", "Bob"}
    channels = list(csv.reader(io.StringIO(client.get("/dashboard/?period=30&csv=channels").content.decode())))
    assert channels[0] == ["channel", "received", "resolved", "avg_resolution_hours"]
    assert [(r[0], int(r[1]), int(r[2]), float(r[3]) if r[3] else None) for r in channels[1:]] == truth["channels"]
    assert len(truth["channels"]) >= 2 and sum(r[1] for r in truth["channels"]) == received
    table = html.split('data-testid="table-channels"')[1].split("</table>")[0]
    assert table.count("<tr>") == len(truth["channels"]) + 1  # the header row and one row per channel


def test_agent_table_sorts(year_of_data):
    with schema_context("alpha"):
        by_name = figures.dashboard(period=period_last(365), filters=Filters(), agent_sort="name")
        by_resolved = figures.dashboard(period=period_last(365), filters=Filters(), agent_sort="-resolved")
    assert [a.name for a in by_name.agents] == ["Alice", "Bob"]
    assert by_resolved.agents[0].resolved >= by_resolved.agents[1].resolved


def test_reporting_database_down_gives_a_clear_503(committed, settings):
    client = Client(HTTP_HOST="alpha.localhost")
    with schema_context("alpha"):
        client.force_login(committed["alpha"].carol)
    reporting = connections[READ_ALIAS]
    original = reporting.settings_dict["PORT"]
    reporting.close()
    reporting.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        response = client.get("/dashboard/")
        assert response.status_code == 503
        assert 'data-testid="reporting-unavailable"' in response.content.decode()
        assert client.get("/complaints/").status_code == 200  # the write side is unaffected
    finally:
        reporting.close()
        reporting.settings_dict["PORT"] = original
        connection.set_schema_to_public()
