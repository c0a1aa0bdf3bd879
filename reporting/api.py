"""Report endpoints: the dashboard's figures as JSON, from the reporting database only.

Each report's answer is produced by its output serializer, and that same class is what the OpenAPI schema
documents (`report(...)` binds both), so the schema cannot drift from the output.
"""

import dataclasses
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api.permissions import CanViewReports
from reporting import figures_cache, freshness, selectors
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


# Output serializers. A class's name less "Serializer" is its OpenAPI component's name, and a docstring would be
# its description (inherited, so the base classes explain themselves in comments).


# Refuses what it would otherwise drop without a word: a key (or dataclass field) of its data that it does not
# declare would be a figure missing from the answer and from the schema, so it is an error, not a loss.
class OutputSerializer(serializers.Serializer):
    def to_representation(self, instance):
        if isinstance(instance, Mapping):
            given = set(instance)
        elif dataclasses.is_dataclass(instance):
            given = {f.name for f in dataclasses.fields(instance)}
        else:
            given = set()
        if undeclared := given - set(self.fields):
            raise ImproperlyConfigured(f"{type(self).__name__} does not declare {sorted(undeclared)}")
        return super().to_representation(instance)


class NumberField(serializers.FloatField):
    """A figure that may be a count or a measure: sent as it is (FloatField would send the count 3 as 3.0)."""

    def to_representation(self, value):
        return value


class ReportPeriodSerializer(OutputSerializer):
    start = serializers.DateField()
    end = serializers.DateField()


# What every report answers besides its figures: how fresh they are and which local days they count.
class ReportSerializer(OutputSerializer):
    last_updated = serializers.DateTimeField(allow_null=True)
    lag_seconds = serializers.FloatField(allow_null=True)
    time_zone = serializers.CharField(help_text="IANA zone whose local days the figures count")
    period = ReportPeriodSerializer()


class KpiSerializer(OutputSerializer):
    value = NumberField(allow_null=True)
    previous = NumberField(allow_null=True)
    change = NumberField(allow_null=True)


class KpisSerializer(OutputSerializer):
    received = KpiSerializer()
    resolved = KpiSerializer()
    open = KpiSerializer()
    avg_resolution_hours = KpiSerializer()
    avg_first_response_hours = KpiSerializer()
    within_target_pct = KpiSerializer()


class BacklogAgeSerializer(OutputSerializer):
    age = serializers.CharField()
    open = serializers.IntegerField()


class PriorityShareSerializer(OutputSerializer):
    priority = serializers.CharField()
    received = serializers.IntegerField()
    share_pct = serializers.FloatField()


class SummaryReportSerializer(ReportSerializer):
    kpis = KpisSerializer()
    backlog_by_age = BacklogAgeSerializer(many=True)
    priorities = PriorityShareSerializer(many=True)


class DaySerializer(OutputSerializer):
    day = serializers.DateField()
    received = serializers.IntegerField()
    resolved = serializers.IntegerField()


class DailyReportSerializer(ReportSerializer):
    days = DaySerializer(many=True)


class AgentRowSerializer(OutputSerializer):
    agent_id = serializers.IntegerField()
    name = serializers.CharField()
    assigned = serializers.IntegerField()
    resolved = serializers.IntegerField()
    reopened = serializers.IntegerField()
    avg_resolution_hours = serializers.FloatField(allow_null=True)
    avg_first_response_hours = serializers.FloatField(allow_null=True)
    open_now = serializers.IntegerField()


class AgentsReportSerializer(ReportSerializer):
    agents = AgentRowSerializer(many=True)


class CategoryShareSerializer(OutputSerializer):
    category = serializers.CharField()
    received = serializers.IntegerField()
    share_pct = serializers.FloatField()


class CategoriesReportSerializer(ReportSerializer):
    categories = CategoryShareSerializer(many=True)


class OpenByStatusSerializer(OutputSerializer):
    status = serializers.CharField()
    category = serializers.CharField()
    open = serializers.IntegerField()


class OpenByStatusReportSerializer(ReportSerializer):
    open = OpenByStatusSerializer(many=True)


class ChannelRowSerializer(OutputSerializer):
    channel = serializers.CharField()
    received = serializers.IntegerField()
    resolved = serializers.IntegerField()
    avg_resolution_hours = serializers.FloatField(allow_null=True)


class ChannelsReportSerializer(ReportSerializer):
    channels = ChannelRowSerializer(many=True)


def report(output: type[ReportSerializer], *, parameters=(), description=None):
    """A report view whose answer `output` produces and the schema documents: one class for both."""

    def decorate(view: type["ReportView"]) -> type["ReportView"]:
        view.output_serializer = output
        schema = extend_schema(parameters=PARAMETERS + list(parameters), description=description, responses=output)
        return extend_schema_view(get=schema)(view)

    return decorate


class ReportView(APIView):
    permission_classes = [CanViewReports]
    source: selectors.FigureSource = selectors.READ_MODELS
    output_serializer: type[ReportSerializer]

    def figures(self, data: selectors.Dashboard) -> dict:
        """This report's figures, under the names its output serializer declares."""
        raise NotImplementedError

    def get(self, request):
        form = DashboardFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.error_messages())
        try:
            state = freshness.figures_state()  # the one read of the checkpoint: version, freshness and zone
            shown = figures_cache.dashboard_cached(
                period=form.selected_period(state.time_zone),
                filters=form.selected_filters(),
                agent_sort=request.query_params.get("agent_sort", "-resolved"),
                source=self.source,
                state=state,
            )
        except DatabaseError as exc:
            raise ReportingUnavailable() from exc
        data, fresh = shown.dashboard, shown.freshness
        answer = {
            "last_updated": fresh.last_updated,
            "lag_seconds": None if fresh.age_seconds is None else round(fresh.age_seconds, 1),
            "time_zone": data.time_zone,
            "period": data.period,
            **self.figures(data),
        }
        return Response(self.output_serializer(answer).data)


@report(SummaryReportSerializer)
class SummaryReport(ReportView):
    def figures(self, data):
        return {
            "kpis": data.kpis,
            "backlog_by_age": [{"age": a, "open": n} for a, n in data.backlog],
            "priorities": [{"priority": p, "received": n, "share_pct": s} for p, n, s in data.priorities],
        }


@report(DailyReportSerializer)
class DailyReport(ReportView):
    def figures(self, data):
        return {"days": [{"day": d, "received": r, "resolved": s} for d, r, s in data.daily]}


@report(AgentsReportSerializer, parameters=[OpenApiParameter("agent_sort", str)])
class AgentsReport(ReportView):
    def figures(self, data):
        return {"agents": data.agents}


@report(CategoriesReportSerializer)
class CategoriesReport(ReportView):
    def figures(self, data):
        return {"categories": [{"category": c, "received": n, "share_pct": s} for c, n, s in data.categories]}


@report(
    OpenByStatusReportSerializer,
    description="Open complaints now, by status and category (the period is ignored: these are current).",
)
class OpenByStatusReport(ReportView):
    def figures(self, data):
        return {"open": [{"status": s, "category": c, "open": n} for s, c, n in data.open_by_status]}


@report(ChannelsReportSerializer)
class ChannelsReport(ReportView):
    def figures(self, data):
        return {
            "channels": [
                {"channel": c, "received": r, "resolved": s, "avg_resolution_hours": h} for c, r, s, h in data.channels
            ]
        }
