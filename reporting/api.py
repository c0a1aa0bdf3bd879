"""Report endpoints: the dashboard's figures as JSON, from the reporting database only."""

from django.db import DatabaseError
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api_permissions import CanViewReports
from reporting import freshness, selectors
from reporting.forms import DashboardFilterForm


class ReportingUnavailable(APIException):
    status_code = 503
    default_detail = "The reporting database is unavailable; reports will be back shortly."
    default_code = "reporting_unavailable"


PARAMETERS = [
    OpenApiParameter(
        "period",
        str,
        enum=[str(d) for d in selectors.PERIOD_DAYS] + ["custom"],
        description="Last N days (default 180), or custom with start and end.",
    ),
    OpenApiParameter("start", str, description="YYYY-MM-DD, with period=custom"),
    OpenApiParameter("end", str, description="YYYY-MM-DD (inclusive), with period=custom"),
    OpenApiParameter("category", int),
    OpenApiParameter("priority", str, enum=["low", "medium", "high", "urgent"]),
]
FRESHNESS_FIELDS = {
    "last_updated": serializers.DateTimeField(allow_null=True),
    "lag_seconds": serializers.FloatField(allow_null=True),
    "time_zone": serializers.CharField(help_text="IANA zone whose local days the figures count"),
    "period": inline_serializer("ReportPeriod", {"start": serializers.DateField(), "end": serializers.DateField()}),
}


def list_report(name: str, key: str, row_name: str, row_fields: dict, *, parameters=(), description=None):
    """The OpenAPI schema of a report whose answer is the freshness fields plus one list of rows under `key`."""
    body = {**FRESHNESS_FIELDS, key: inline_serializer(row_name, row_fields, many=True)}
    return extend_schema_view(
        get=extend_schema(
            parameters=PARAMETERS + list(parameters),
            description=description,
            responses=inline_serializer(name, body),
        )
    )


class ReportView(APIView):
    permission_classes = [CanViewReports]
    source = selectors.READ_MODELS

    def build(self, data: selectors.Dashboard) -> dict:
        raise NotImplementedError

    def get(self, request):
        form = DashboardFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.error_messages())
        try:
            state = freshness.figures_state()  # the one read of the checkpoint: version, freshness and zone
            shown = selectors.dashboard_cached(
                period=form.selected_period(state.time_zone),
                filters=form.selected_filters(),
                agent_sort=request.query_params.get("agent_sort", "-resolved"),
                source=self.source,
                state=state,
            )
        except DatabaseError as exc:
            raise ReportingUnavailable() from exc
        data, fresh = shown.dashboard, shown.freshness
        return Response(
            {
                "last_updated": fresh.last_updated,
                "lag_seconds": None if fresh.age_seconds is None else round(fresh.age_seconds, 1),
                "time_zone": data.time_zone,
                "period": {"start": data.period.start, "end": data.period.end},
                **self.build(data),
            }
        )


def _kpi(k: selectors.Kpi) -> dict:
    return {"value": k.value, "previous": k.previous, "change": k.change}


KPI = inline_serializer(
    "Kpi",
    {
        "value": serializers.FloatField(allow_null=True),
        "previous": serializers.FloatField(allow_null=True),
        "change": serializers.FloatField(allow_null=True),
    },
)


@extend_schema_view(
    get=extend_schema(
        parameters=PARAMETERS,
        responses=inline_serializer(
            "SummaryReport",
            {
                **FRESHNESS_FIELDS,
                "kpis": inline_serializer(
                    "Kpis",
                    {
                        name: KPI
                        for name in (
                            "received",
                            "resolved",
                            "open",
                            "avg_resolution_hours",
                            "avg_first_response_hours",
                            "within_target_pct",
                        )
                    },
                ),
                "backlog_by_age": inline_serializer(
                    "BacklogAge", {"age": serializers.CharField(), "open": serializers.IntegerField()}, many=True
                ),
                "priorities": inline_serializer(
                    "PriorityShare",
                    {
                        "priority": serializers.CharField(),
                        "received": serializers.IntegerField(),
                        "share_pct": serializers.FloatField(),
                    },
                    many=True,
                ),
            },
        ),
    )
)
class SummaryReport(ReportView):
    def build(self, data):
        return {
            "kpis": {name: _kpi(k) for name, k in data.kpis.items()},
            "backlog_by_age": [{"age": a, "open": n} for a, n in data.backlog],
            "priorities": [{"priority": p, "received": n, "share_pct": s} for p, n, s in data.priorities],
        }


@list_report(
    "DailyReport",
    "days",
    "Day",
    {
        "day": serializers.DateField(),
        "received": serializers.IntegerField(),
        "resolved": serializers.IntegerField(),
    },
)
class DailyReport(ReportView):
    def build(self, data):
        return {"days": [{"day": d, "received": r, "resolved": s} for d, r, s in data.daily]}


@list_report(
    "AgentsReport",
    "agents",
    "AgentRow",
    {
        "agent_id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "assigned": serializers.IntegerField(),
        "resolved": serializers.IntegerField(),
        "reopened": serializers.IntegerField(),
        "avg_resolution_hours": serializers.FloatField(allow_null=True),
        "avg_first_response_hours": serializers.FloatField(allow_null=True),
        "open_now": serializers.IntegerField(),
    },
    parameters=[OpenApiParameter("agent_sort", str)],
)
class AgentsReport(ReportView):
    def build(self, data):
        return {"agents": [vars(a) for a in data.agents]}


@list_report(
    "CategoriesReport",
    "categories",
    "CategoryShare",
    {
        "category": serializers.CharField(),
        "received": serializers.IntegerField(),
        "share_pct": serializers.FloatField(),
    },
)
class CategoriesReport(ReportView):
    def build(self, data):
        return {"categories": [{"category": c, "received": n, "share_pct": s} for c, n, s in data.categories]}


@list_report(
    "OpenByStatusReport",
    "open",
    "OpenByStatus",
    {
        "status": serializers.CharField(),
        "category": serializers.CharField(),
        "open": serializers.IntegerField(),
    },
    description="Open complaints now, by status and category (the period is ignored: these are current).",
)
class OpenByStatusReport(ReportView):
    def build(self, data):
        return {"open": [{"status": s, "category": c, "open": n} for s, c, n in data.open_by_status]}


@list_report(
    "ChannelsReport",
    "channels",
    "ChannelRow",
    {
        "channel": serializers.CharField(),
        "received": serializers.IntegerField(),
        "resolved": serializers.IntegerField(),
        "avg_resolution_hours": serializers.FloatField(allow_null=True),
    },
)
class ChannelsReport(ReportView):
    def build(self, data):
        return {
            "channels": [
                {"channel": c, "received": r, "resolved": s, "avg_resolution_hours": h} for c, r, s, h in data.channels
            ]
        }
