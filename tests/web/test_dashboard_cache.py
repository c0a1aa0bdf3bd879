"""Dashboard figures are computed about once per freshness target per tenant and query, however many look.

While complaints stream in, the projection checkpoint moves with every event: figures younger than
DASHBOARD_MAX_AGE_SECONDS (1 s) are served all the same, "Last updated" is the age of what is shown, older
figures are recomputed, and Refresh always shows the read models as they are now.
"""

import time

import pytest
from django.core.cache import cache
from django_tenants.utils import schema_context

from reporting import figures, figures_cache, views
from reporting.api import SummaryReport
from reporting.selectors import Filters, period_last
from tests.factories import ComplaintFactory
from tests.reporting.helpers import project_everything

SUMMARY = "/api/reports/summary/?period=7"
FIGURES = "/dashboard/figures/?period=7"


@pytest.fixture
def computations(monkeypatch):
    """How many times the figures were computed (the queries and the work behind every cache miss)."""
    calls = []
    real = figures.compute

    def counting(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(figures, "compute", counting)
    return calls


def _complaint(world, **kwargs):
    ComplaintFactory(actor=world.alice, category=world.categories["Billing"], **kwargs)


def _received(response) -> int:
    return response.json()["kpis"]["received"]["value"]


def _shown_then_moved(world, client):
    """The manager was shown the figures (nothing received), then one complaint was projected: the read models
    moved since. Returns the cache key of those figures."""
    assert _received(client.get(SUMMARY)) == 0
    with schema_context(world.schema):
        _complaint(world)
        project_everything()
        return figures_cache.figures_key(SummaryReport.figure_names, period_last(7), Filters(), "-resolved")


def test_many_viewers_within_the_freshness_target_cause_one_computation_while_events_stream_in(
    committed, client_for, computations, settings
):
    settings.DASHBOARD_MAX_AGE_SECONDS = 60  # a slow test machine cannot make the window pass mid-test
    world = committed["alpha"]
    viewers = [client_for(world, user) for user in (world.carol, world.ada) * 5]
    with schema_context("alpha"):
        first = viewers[0].get(SUMMARY)
        for i, viewer in enumerate(viewers[1:]):
            _complaint(world, title=f"Streaming {i}")
            project_everything()  # the checkpoint moves between every two views
            answer = viewer.get(SUMMARY)
            assert (answer.status_code, _received(answer)) == (200, 0)
    assert (first.status_code, _received(first)) == (200, 0)
    assert len(computations) == 1


def test_figures_older_than_the_target_are_recomputed_and_newer_events_show(committed, client_for, computations):
    world = committed["alpha"]
    client = client_for(world, world.carol)
    _shown_then_moved(world, client)
    time.sleep(1.1)  # past DASHBOARD_MAX_AGE_SECONDS, the default
    assert _received(client.get(SUMMARY)) == 1
    assert len(computations) == 2
    assert _received(client.get(SUMMARY)) == 1  # the read models did not move since: the new figures are kept
    assert len(computations) == 2


def test_unchanged_read_models_keep_their_figures_however_old(committed, client_for, computations, settings):
    settings.DASHBOARD_MAX_AGE_SECONDS = 0  # every cached figure is "too old"
    world = committed["alpha"]
    client = client_for(world, world.carol)
    for _ in range(3):
        assert _received(client.get(SUMMARY)) == 0
    assert len(computations) == 1  # the checkpoint never moved: the figures are exact, not old


def test_last_updated_is_the_age_of_the_figures_shown_not_of_the_checkpoint(committed, client_for, settings):
    settings.DASHBOARD_MAX_AGE_SECONDS = 60
    world = committed["alpha"]
    client = client_for(world, world.carol)
    with schema_context("alpha"):
        _complaint(world)
        project_everything()
    shown = client.get(SUMMARY).json()
    time.sleep(0.3)
    with schema_context("alpha"):
        _complaint(world)
        project_everything()  # caught up again: the checkpoint's last update is newer than the figures shown
    again = client.get(SUMMARY).json()
    assert again["kpis"]["received"]["value"] == shown["kpis"]["received"]["value"] == 1
    assert again["last_updated"] == shown["last_updated"]
    assert again["lag_seconds"] >= shown["lag_seconds"] + 0.3

    cache.clear()  # computed anew: the figures and their "last updated" move together
    newest = client.get(SUMMARY).json()
    assert newest["kpis"]["received"]["value"] == 2
    assert newest["last_updated"] > shown["last_updated"] and newest["lag_seconds"] < again["lag_seconds"]


def test_a_poll_gets_the_version_of_the_figures_shown_and_is_told_newer_ones_follow(committed, client_for):
    world = committed["alpha"]
    client = client_for(world, world.carol)
    first = client.get(FIGURES)
    assert first.status_code == 200 and "X-Figures-Behind" not in first
    with schema_context("alpha"):
        _complaint(world)
        project_everything()
    # Within the target the cached figures are what a poll is shown: their ETag, so it never hides the newer.
    young = client.get(FIGURES, HTTP_IF_NONE_MATCH=first["ETag"])
    assert (young.status_code, young["ETag"], young["X-Figures-Behind"]) == (304, first["ETag"], "1")
    time.sleep(1.1)
    moved = client.get(FIGURES, HTTP_IF_NONE_MATCH=first["ETag"])
    assert moved.status_code == 200 and moved["ETag"] != first["ETag"] and "X-Figures-Behind" not in moved
    assert 'data-testid="kpi-received">1<' in moved.content.decode()
    assert client.get(FIGURES, HTTP_IF_NONE_MATCH=moved["ETag"]).status_code == 304


def test_refresh_shows_the_newest_figures_at_once_and_only_once(committed, client_for, monkeypatch, settings):
    settings.DASHBOARD_MAX_AGE_SECONDS = 60
    world = committed["alpha"]
    client = client_for(world, world.carol)
    assert 'data-testid="kpi-received">0<' in client.get("/dashboard/?period=7").content.decode()
    with schema_context("alpha"):
        _complaint(world)
        project_everything()
        assert 'data-testid="kpi-received">0<' in client.get("/dashboard/?period=7").content.decode()  # cached
        monkeypatch.setattr(views, "projection_refresh_request", lambda: None)  # the worker has nothing to add
        refreshed = client.post("/dashboard/refresh/", {"query": "period=7"}, follow=True)
    assert refreshed.redirect_chain == [("/dashboard/?period=7", 302)]
    assert 'data-testid="kpi-received">1<' in refreshed.content.decode()
    assert refreshed.context["figures_version"] == client.get(FIGURES)["ETag"].strip('"')  # the newest version
    assert views.REFRESHED not in client.session  # the next plain load is an ordinary one again


def test_cached_figures_are_kept_per_tenant_and_per_query(committed, client_for, settings):
    settings.DASHBOARD_MAX_AGE_SECONDS = 60
    alpha, beta = committed["alpha"], committed["beta"]
    with schema_context("alpha"):
        _complaint(alpha, priority="high")
        project_everything()
    alpha_client, beta_client = client_for(alpha, alpha.carol), client_for(beta, beta.charlie)
    alpha_page = alpha_client.get(FIGURES)
    assert _received(alpha_client.get(SUMMARY)) == 1
    assert _received(beta_client.get(SUMMARY)) == 0  # the same query in another tenant: its own figures
    assert _received(alpha_client.get(SUMMARY + "&priority=low")) == 0  # another filter: its own figures
    assert _received(alpha_client.get(SUMMARY + "&priority=high")) == 1
    beta_page = beta_client.get(FIGURES, HTTP_IF_NONE_MATCH=alpha_page["ETag"])  # alpha's version means nothing
    assert beta_page.status_code == 200 and beta_page["ETag"] != alpha_page["ETag"]
    assert 'data-testid="kpi-received">0<' in beta_page.content.decode()

    period, filters = period_last(7), Filters()
    with schema_context("alpha"):
        names = SummaryReport.figure_names
        keys = {figures_cache.figures_key(names, period, filters, "-resolved")}
        keys.add(figures_cache.figures_key(names, period, Filters(priority="low"), "-resolved"))
        keys.add(figures_cache.figures_key(names, period_last(30), filters, "-resolved"))
        keys.add(figures_cache.figures_key(("daily",), period, filters, "-resolved"))  # another report's figures
    with schema_context("beta"):
        keys.add(figures_cache.figures_key(names, period, filters, "-resolved"))
    assert len(keys) == 5


def test_one_process_recomputes_while_the_others_serve_the_previous_figures_up_to_the_limit(
    committed, client_for, computations, settings
):
    world = committed["alpha"]
    client = client_for(world, world.carol)
    key = _shown_then_moved(world, client)
    cache.set(key + ":computing", 1)  # another process is computing these figures right now
    time.sleep(1.1)
    assert _received(client.get(SUMMARY)) == 0  # older than the target, younger than the limit: still served
    assert len(computations) == 1
    settings.DASHBOARD_MAX_STALE_SECONDS = 1.0  # now they are past the limit: computed here, whoever else is
    assert _received(client.get(SUMMARY)) == 1
    assert len(computations) == 2
    assert cache.get(key + ":computing") == 1  # the other process's claim is its own to release


def test_the_claim_to_recompute_is_released_when_the_figures_are_stored(committed, client_for, computations):
    world = committed["alpha"]
    client = client_for(world, world.carol)
    key = _shown_then_moved(world, client)
    time.sleep(1.1)
    assert _received(client.get(SUMMARY)) == 1 and len(computations) == 2
    assert cache.get(key + ":computing") is None


def test_without_the_cache_every_view_is_computed_and_still_right(committed, client_for, computations, monkeypatch):
    world = committed["alpha"]
    client = client_for(world, world.carol)

    def unreachable(*args, **kwargs):
        raise ConnectionError("the cache is down")

    for method in ("get", "set", "add", "delete"):
        monkeypatch.setattr(cache, method, unreachable)
    assert _received(client.get(SUMMARY)) == 0
    with schema_context("alpha"):
        _complaint(world)
        project_everything()
    assert _received(client.get(SUMMARY)) == 1
    assert len(computations) == 2
