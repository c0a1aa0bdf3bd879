"""Manager dashboards: served from the reporting database only (through reporting.selectors), by a replica of it
where there is one (reporting.replicas)."""

import logging

from django.conf import settings
from django.contrib import messages
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from helpdesk.access import VIEW_DASHBOARD, role_required
from helpdesk.spreadsheets import SafeCsvWriter
from reporting import figures, figures_cache, freshness, replicas, selectors
from reporting.charts import CHART_TOP, bar_list, heat_map, top_and_other, volume_chart
from reporting.forms import DashboardFilterForm
from reporting.services import projection_refresh_request

logger = logging.getLogger(__name__)


def _unavailable(request):
    logger.warning("reporting database unavailable", exc_info=True)
    return render(request, "reporting/unavailable.html", status=503)


REFRESHED = "dashboard_refreshed"  # session flag: the next page shows the newest figures (see dashboard)
AGENTS_SHOWN = 20  # the agent table's first rows; "Show all" lists every agent


def _query_without(request, *names: str) -> str:
    query = request.GET.copy()
    for name in ("csv", *names):
        query.pop(name, None)
    return query.urlencode()


def _filter_form(request) -> DashboardFilterForm:
    choices = request.GET.copy()
    choices.setdefault("period", str(selectors.DEFAULT_PERIOD_DAYS))  # so the form shows what is shown
    return DashboardFilterForm(choices)


def _shown(request, form: DashboardFilterForm, state: freshness.FiguresState, *, newest=False):
    return figures_cache.figures_cached(
        period=form.selected_period(state.time_zone),
        filters=form.selected_filters(),
        agent_sort=request.GET.get("agent_sort", "-resolved"),
        state=state,
        newest=newest,
    )


def _figures_html(request, shown: figures_cache.ShownFigures) -> str:
    """The live part of the page (reporting/_figures.html): rendered once per figures version and query, however
    many dashboards show it (the page and its polls alike). It holds nothing of the user."""
    return figures_cache.remembered(
        ("figures-html", shown.version, sorted(request.GET.lists())),
        lambda: render_to_string("reporting/_figures.html", _figures(request, shown.figures), request=request),
        timeout=60,
    )


def _figures(request, data: figures.FigureSet) -> dict:
    """Everything the live part of the page (reporting/_figures.html) shows."""
    category_sort = request.GET.get("cat_sort", "-received")
    all_agents = request.GET.get("agents") == "all"
    kpis = figures.FIGURES["kpis"]
    return {
        "data": data,
        "declared": figures.FIGURES,
        "kpi_cards": [
            (card, data.kpis[card.name], kpis.link(data, card.name) if data.kpis[card.name].value else None)
            for card in figures.KPIS
        ],
        # The chart is one image to assistive technology (links inside it would be nested controls: axe's
        # nested-interactive); each day's counts link from the table beside it.
        "volume_svg": volume_chart(data.daily),
        "arrivals": heat_map(data.arrivals),
        "category_svg": bar_list(
            top_and_other([(row.category, row.received, row.share_pct) for row in data.categories]),
            name=f"Complaints received by category, the {min(len(data.categories), CHART_TOP)} largest"
            f" of {len(data.categories)}; every category is in the table below",
        ),
        "priority_svg": bar_list(data.priorities, name="Complaints received by priority"),
        "backlog_svg": bar_list(data.backlog, name="Open complaints by age"),
        "channel_svg": bar_list(
            [(c.channel, c.received) for c in data.channels], name="Complaints received by channel"
        ),
        "category_rows": selectors.sort_categories(data.categories, category_sort),
        "category_sort": category_sort,
        # Many categories: the full table starts folded, unless the manager just sorted it.
        "categories_open": len(data.categories) <= CHART_TOP + 1 or "cat_sort" in request.GET,
        "agents": data.agents if all_agents else data.agents[:AGENTS_SHOWN],
        "agents_hidden": 0 if all_agents else max(len(data.agents) - AGENTS_SHOWN, 0),
        "agents_shown_default": AGENTS_SHOWN,
        "query": _query_without(request, "agent_sort"),
        "category_query": _query_without(request, "cat_sort"),
        "agents_query": _query_without(request, "agents"),
        "agent_sort": request.GET.get("agent_sort", "-resolved"),
    }


@role_required(VIEW_DASHBOARD)
def dashboard(request):
    form = _filter_form(request)
    if not form.is_valid():
        return render(request, "reporting/dashboard.html", {"form": form}, status=400)
    # Right after Refresh the page shows the figures of the read models as they are now, never cached older ones.
    newest = request.session.pop(REFRESHED, False)

    def read(alias: str):
        # Read before the figures: a version older than the figures only costs the page one extra update,
        # a newer one would hide a change from it.
        state = freshness.figures_state(alias)
        return _shown(request, form, state, newest=newest), selectors.category_options(alias)

    try:
        # After Refresh the primary answers: the page must show what the catch-up just wrote.
        shown, category_options = replicas.serving(read, replicas=not newest)
        if (table := request.GET.get("csv")) in figures.CSV_FIGURES:
            return _csv(shown.figures, figures.FIGURES[table])
        context = {
            "form": form,
            "data": shown.figures,
            "figures_version": shown.version,
            "freshness": shown.freshness,
            "stale_after_seconds": settings.PROJECTION_LAG_WARNING_SECONDS,
            "poll_seconds": settings.DASHBOARD_POLL_SECONDS,
            "category_options": category_options,
            "figures_html": mark_safe(_figures_html(request, shown)),  # our template's output
        }
    except DatabaseError:
        return _unavailable(request)
    return render(request, "reporting/dashboard.html", context)


@role_required(VIEW_DASHBOARD)
def dashboard_figures(request):
    """What an open dashboard polls (static/js/dashboard-live.js), with If-None-Match: 304 while its figures
    are unchanged (nothing is computed), otherwise their HTML -- rendered once per version and query, however
    many dashboards ask. The headers always carry the freshness, so "Last updated" stays true on an idle page."""
    form = _filter_form(request)
    if not form.is_valid():
        return JsonResponse({"error": form.error_messages()}, status=400)
    known = request.headers.get("If-None-Match", "")
    shown: figures_cache.ShownFigures | None
    response: HttpResponse

    def read(alias: str):
        state = freshness.figures_state(alias)
        # Figures younger than the freshness target may be served although events arrived since: their own
        # version is the ETag, so the page asks again until it has the newest (X-Figures-Behind).
        return state, None if f'"{state.version}"' in known else _shown(request, form, state)

    try:
        state, shown = replicas.serving(read)
        if shown is None or f'"{shown.version}"' in known:
            response = HttpResponseNotModified()
        else:
            response = HttpResponse(_figures_html(request, shown))
    except DatabaseError:
        logger.warning("reporting database unavailable", exc_info=True)
        return JsonResponse({"error": "The reporting database is unavailable."}, status=503)
    fresh = shown.freshness if shown else state.freshness
    response["ETag"] = f'"{shown.version if shown else state.version}"'
    response["Cache-Control"] = "no-cache, private"
    response["X-Last-Updated-Age"] = "never" if fresh.age_seconds is None else f"{fresh.age_seconds:.1f}"
    response["X-Pending-Changes"] = str(fresh.pending)
    if shown and shown.behind:
        response["X-Figures-Behind"] = "1"
    return response


def _csv(data: figures.FigureSet, figure: figures.Figure) -> HttpResponse:
    """A figure's table as CSV: its declared columns, every row (never folded or cut)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{figure.name}-{data.period.start}-{data.period.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    SafeCsvWriter(response).writerows(figure.csv_rows(getattr(data, figure.name)))
    return response


@require_POST
@role_required(VIEW_DASHBOARD)
def dashboard_refresh(request):
    """Ask the pipeline to catch up now; come back with the new figures once it has (or after a short wait)."""
    asked_at = timezone.now()
    request.session[REFRESHED] = True
    try:
        projection_refresh_request()
    except Exception:
        logger.warning("could not queue a refresh", exc_info=True)
        messages.warning(request, "The update service is unreachable; figures may be behind.")
    else:
        try:
            caught_up = freshness.wait_until_fresh(since=asked_at)
        except DatabaseError:
            return _unavailable(request)
        if caught_up:
            messages.success(request, "Figures are up to date.")
        else:
            messages.warning(request, "Still catching up; the figures will follow shortly.")
    back = request.POST.get("query", "")
    return redirect(reverse("reporting:dashboard") + (f"?{back}" if back else ""))
