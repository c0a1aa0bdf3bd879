"""Manager dashboards: served from the reporting database only (through reporting.selectors)."""

import logging

from django.contrib import messages
from django.db import DatabaseError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from helpdesk.access import VIEW_DASHBOARD, role_required
from helpdesk.spreadsheets import SafeCsvWriter
from reporting import selectors
from reporting.charts import bar_list, volume_chart
from reporting.forms import DashboardFilterForm
from reporting.services import projection_refresh_request

logger = logging.getLogger(__name__)

CSV_TABLES = ("daily", "categories", "priorities", "backlog", "agents", "channels")


def _unavailable(request):
    logger.warning("reporting database unavailable", exc_info=True)
    return render(request, "reporting/unavailable.html", status=503)


@role_required(VIEW_DASHBOARD)
def dashboard(request):
    form = DashboardFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "reporting/dashboard.html", {"form": form}, status=400)
    try:
        data = selectors.dashboard_cached(
            period=form.selected_period(),
            filters=form.selected_filters(),
            agent_sort=request.GET.get("agent_sort", "-resolved"),
        )
        freshness = selectors.freshness()
        category_options = selectors.category_options()
    except DatabaseError:
        return _unavailable(request)
    if (table := request.GET.get("csv")) in CSV_TABLES:
        return _csv(data, table)
    query = request.GET.copy()
    query.pop("agent_sort", None)
    query.pop("csv", None)
    return render(
        request,
        "reporting/dashboard.html",
        {
            "form": form,
            "data": data,
            "freshness": freshness,
            "category_options": category_options,
            "volume_svg": volume_chart(data.daily),
            "category_svg": bar_list(data.categories),
            "priority_svg": bar_list(data.priorities),
            "backlog_svg": bar_list(data.backlog),
            "channel_svg": bar_list([(channel, received) for channel, received, *_ in data.channels]),
            "query": query.urlencode(),
            "agent_sort": request.GET.get("agent_sort", "-resolved"),
        },
    )


def _csv(data: selectors.Dashboard, table: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{table}-{data.period.start}-{data.period.end}.csv"'
    writer = SafeCsvWriter(response)
    if table == "daily":
        writer.writerow(["day", "received", "resolved"])
        writer.writerows(data.daily)
    elif table in ("categories", "priorities"):
        writer.writerow(["category" if table == "categories" else "priority", "received", "share_pct"])
        writer.writerows(getattr(data, table))
    elif table == "backlog":
        writer.writerow(["age", "open"])
        writer.writerows(data.backlog)
    elif table == "channels":
        writer.writerow(["channel", "received", "resolved", "avg_resolution_hours"])
        writer.writerows(data.channels)
    else:
        writer.writerow(
            [
                "agent",
                "assigned",
                "resolved",
                "reopened",
                "avg_resolution_hours",
                "avg_first_response_hours",
                "open_now",
            ]
        )
        for a in data.agents:
            writer.writerow(
                [
                    a.name,
                    a.assigned,
                    a.resolved,
                    a.reopened,
                    a.avg_resolution_hours,
                    a.avg_first_response_hours,
                    a.open_now,
                ]
            )
    return response


@require_POST
@role_required(VIEW_DASHBOARD)
def dashboard_refresh(request):
    """Ask the pipeline to catch up now; come back with the new figures once it has (or after a short wait)."""
    asked_at = timezone.now()
    try:
        projection_refresh_request()
    except Exception:
        logger.warning("could not queue a refresh", exc_info=True)
        messages.warning(request, "The update service is unreachable; figures may be behind.")
    else:
        try:
            caught_up = selectors.wait_until_fresh(since=asked_at)
        except DatabaseError:
            return _unavailable(request)
        if caught_up:
            messages.success(request, "Figures are up to date.")
        else:
            messages.warning(request, "Still catching up; the figures will follow shortly.")
    back = request.POST.get("query", "")
    return redirect(reverse("reporting:dashboard") + (f"?{back}" if back else ""))
