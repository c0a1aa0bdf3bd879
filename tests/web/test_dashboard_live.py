"""The figures endpoint an open dashboard polls: 304 while nothing moved, the new figures when they did."""

from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.tenancy import connection, connections
from reporting import projector
from reporting.freshness import projection_progress
from reporting.models import ProjectionCheckpoint
from reporting.rebuild import rebuild_read_models
from reporting.sweep import sweep_due
from tests.conftest import wait_for
from tests.factories import ComplaintFactory

FIGURES_URL = "/dashboard/figures/"


def _project_everything():
    # Events wait until every transaction older than theirs has ended, cluster-wide (see reporting.projector):
    # other suites on a shared server can hold that back for a moment.
    def caught_up() -> bool:
        projector.catch_up()
        return projection_progress()["pending_count"] == 0

    wait_for(caught_up, timeout=15, message="the projector to apply every event")


def _poll(client, etag=None):
    return client.get(FIGURES_URL, **({"HTTP_IF_NONE_MATCH": etag} if etag else {}))


def test_version_is_304_while_idle_and_moves_with_events_and_rebuilds_only(committed, client_for, settings):
    settings.DASHBOARD_MAX_AGE_SECONDS = 0  # figures as soon as they move (the window: test_dashboard_cache.py)
    world = committed["alpha"]
    client = client_for(world, world.carol)
    first = _poll(client)
    assert first.status_code == 200
    etag = first["ETag"]
    assert 'data-testid="kpi-received">0<' in first.content.decode()
    assert first["Cache-Control"] == "no-cache, private"

    idle = _poll(client, etag)
    assert (idle.status_code, idle.content, idle["ETag"]) == (304, b"", etag)
    assert idle["X-Last-Updated-Age"] == "never"  # the checkpoint was just emptied: nothing confirmed yet

    with schema_context("alpha"):
        sweep_due(["alpha"])  # the beat's sweep confirms freshness: the figures did not change
    confirmed = _poll(client, etag)
    assert confirmed.status_code == 304
    assert 0 <= float(confirmed["X-Last-Updated-Age"]) < 5 and confirmed["X-Pending-Changes"] == "0"

    with schema_context("alpha"):
        ComplaintFactory(
            actor=world.alice,
            category=world.categories["Billing"],
            title="Moves the figures",
            description="x",
            customer_name="Bo",
            customer_email="bo@example.com",
        )
        assert _poll(client, etag).status_code == 304  # written, not yet projected: the figures are the same
        _project_everything()
    moved = _poll(client, etag)
    assert moved.status_code == 200 and moved["ETag"] != etag
    assert 'data-testid="kpi-received">1<' in moved.content.decode()
    assert _poll(client, moved["ETag"]).status_code == 304

    with schema_context("alpha"):
        rebuild_read_models()
    assert _poll(client, moved["ETag"]).status_code == 200


def test_projector_runs_that_apply_nothing_keep_the_version_while_the_server_is_busy(committed, client_for, settings):
    """Idle polls stay 304 although other tenants' work moves the write database's snapshot and the sweep
    re-runs this tenant's projector (which then stores a newer snapshot but applies nothing)."""
    settings.DASHBOARD_MAX_AGE_SECONDS = 0  # no cached figures to hide behind: polls come every 5 s
    world = committed["alpha"]
    client = client_for(world, world.carol)
    with schema_context("alpha"):
        projector.run_once()  # the checkpoint row exists from here on
    etag = _poll(client)["ETag"]
    stored = ProjectionCheckpoint.objects.using(READ_ALIAS)
    for _ in range(3):
        with schema_context("beta"):  # another tenant's commits: new transactions on the same server
            ComplaintFactory(actor=committed["beta"].users["dave"], category=committed["beta"].categories["Billing"])
        with schema_context("alpha"):
            before = stored.get(id=1).applied_snapshot
            result = projector.run_once()
            assert (result.applied, result.skipped) == (0, 0)
            assert stored.get(id=1).applied_snapshot != before  # the run did store a newer snapshot
        assert _poll(client, etag).status_code == 304


def test_each_tenant_has_its_own_version_and_only_managers_may_poll(committed, client_for):
    alpha, beta = committed["alpha"], committed["beta"]
    alpha_etag = _poll(client_for(alpha, alpha.carol))["ETag"]
    beta_etag = _poll(client_for(beta, beta.charlie))["ETag"]
    assert alpha_etag != beta_etag
    assert _poll(client_for(alpha, alpha.alice)).status_code == 403
    anonymous = _poll(Client(HTTP_HOST=alpha.domain))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    stolen = Client(HTTP_HOST=alpha.domain)
    stolen.cookies = client_for(beta, beta.charlie).cookies
    assert _poll(stolen).status_code == 302
    connection.set_schema_to_public()


def test_polling_reads_only_the_reporting_database_and_an_idle_poll_only_the_checkpoint(client_for, alpha):
    client = client_for(alpha, alpha.carol)
    with (
        CaptureQueriesContext(connections[WRITE_ALIAS]) as write,
        CaptureQueriesContext(connections[READ_ALIAS]) as read,
    ):
        etag = _poll(client)["ETag"]
        first_reads = len(read.captured_queries)
        assert _poll(client, etag).status_code == 304
    idle_reads = [q["sql"] for q in read.captured_queries[first_reads:] if q["sql"].startswith("SELECT")]
    assert len(idle_reads) == 1 and "projection_checkpoint" in idle_reads[0]  # version and freshness at once
    assert [q["sql"] for q in write.captured_queries if "complaints_" in q["sql"]] == []


def test_figures_are_rendered_once_per_version_for_every_open_dashboard(committed, client_for):
    world = committed["alpha"]
    first = _poll(client_for(world, world.carol), None)
    other_manager = client_for(world, world.ada)
    with CaptureQueriesContext(connections[READ_ALIAS]) as read:
        second = _poll(other_manager)
    assert second.status_code == 200 and second.content == first.content and second["ETag"] == first["ETag"]
    assert len([q for q in read.captured_queries if q["sql"].startswith("SELECT")]) == 1  # the checkpoint only
    assert _poll(other_manager.__class__(HTTP_HOST=world.domain)).status_code == 302  # still needs a login


def test_polling_with_a_bad_period_is_a_400_with_field_messages(client_for, alpha):
    response = client_for(alpha, alpha.carol).get(FIGURES_URL + "?period=custom&start=2026-03-01")
    assert response.status_code == 400
    assert response.json() == {"error": {"non_field_errors": ["Choose both dates for a custom period."]}}


def test_polling_while_the_reporting_database_is_down_is_a_503_with_a_message(committed, client_for):
    client = client_for(committed["alpha"], committed["alpha"].carol)
    reporting = connections[READ_ALIAS]
    original = reporting.settings_dict["PORT"]
    reporting.close()
    reporting.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        response = _poll(client)
        assert response.status_code == 503
        assert response.json() == {"error": "The reporting database is unavailable."}
    finally:
        reporting.close()
        reporting.settings_dict["PORT"] = original
        connection.set_schema_to_public()


def test_the_dashboard_page_carries_its_version_and_its_script(client_for, alpha, settings):
    settings.DASHBOARD_POLL_SECONDS = 7.5  # the page polls at the configured pace
    client = client_for(alpha, alpha.carol)
    etag = _poll(client)["ETag"]
    html = client.get("/dashboard/").content.decode()
    assert f'data-figures-version="{etag.strip(chr(34))}"' in html
    assert 'data-figures-url="/dashboard/figures/"' in html and 'data-poll-seconds="7.5"' in html
    assert '<script src="/static/js/dashboard-live.js" defer></script>' in html
    assert "<script>" not in html and " onclick=" not in html and ' style="' not in html  # CSP: script-src 'self'
