"""Report endpoints: the dashboard's figures as JSON, from the reporting database only.

Each report is a few declared figures (reporting.figures) and computes only those. Its output serializer is
derived from the figures' row types, and that same class is what the OpenAPI schema documents (`report(...)`
binds both), so neither the answer nor the schema can drift from the declarations.
"""

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date
from functools import cache

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api import output
from helpdesk.api.permissions import CanViewReports
from reporting import figures, figures_cache, freshness, replicas, selectors
from reporting.forms import DashboardFilterForm
from reporting.readmodel import RULES


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
    OpenApiParameter("priority", str, enum=list(RULES.target_seconds)),
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
        elif isinstance(instance, tuple) and hasattr(instance, "_fields"):  # a NamedTuple row
            given = set(instance._fields)
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


_FIELDS: dict[type, type[serializers.Field]] = {
    int: serializers.IntegerField,
    float: serializers.FloatField,
    str: serializers.CharField,
    date: serializers.DateField,
}


def _field(annotation) -> serializers.Field:
    """The serializer field of a row attribute's type (`float | None` allows null)."""
    args = typing.get_args(annotation)
    optional = isinstance(annotation, types.UnionType) and type(None) in args
    base = next(a for a in args if a is not type(None)) if optional else annotation
    return _FIELDS[base](allow_null=optional)


@cache  # one class per figure: the schema names a component once
def _row_serializer(figure: figures.Figure) -> type[OutputSerializer]:
    """The output serializer of a figure's rows, from its row type (named after it: the schema's component)."""
    assert figure.row is not None
    hints = figure.column_types()
    attrs = {name: _field(hints[name]) for name in figure.columns}
    return type(f"{figure.row.__name__}Serializer", (OutputSerializer,), attrs)


@cache
def _kpis_serializer() -> type[OutputSerializer]:
    return type("KpisSerializer", (OutputSerializer,), {card.name: KpiSerializer() for card in figures.KPIS})


def _figure_field(figure: figures.Figure) -> serializers.Field:
    return _kpis_serializer()() if figure.row is None else _row_serializer(figure)(many=True)


def report_serializer(name: str, figure_names: tuple[str, ...]) -> type[ReportSerializer]:
    """A report's output serializer: what every report answers, and each of its figures under its API key."""
    attrs = {figures.FIGURES[f].api_key: _figure_field(figures.FIGURES[f]) for f in figure_names}
    return type(f"{name}Serializer", (ReportSerializer,), attrs)


def report(name: str, figure_names: tuple[str, ...], *, parameters=(), description=None):
    """A report view made of declared figures: its answer is what the derived serializer produces, and that
    class is what the schema documents."""

    def decorate(view: type["ReportView"]) -> type["ReportView"]:
        view.figure_names = figure_names
        view.output_serializer = output = report_serializer(name, figure_names)
        schema = extend_schema(parameters=PARAMETERS + list(parameters), description=description, responses=output)
        return extend_schema_view(get=schema)(view)

    return decorate


class ReportView(APIView):
    permission_classes = [CanViewReports]
    figure_names: tuple[str, ...]
    output_serializer: type[ReportSerializer]

    def figure_answer(self, data: figures.FigureSet) -> dict:
        """This report's figures under their API keys."""
        return {figures.FIGURES[name].api_key: data.values[name] for name in self.figure_names}

    def get(self, request):
        form = DashboardFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.error_messages())

        def read(alias: str) -> figures_cache.ShownFigures:
            state = freshness.figures_state(alias)  # the one read of the checkpoint: version, freshness and zone
            return figures_cache.figures_cached(
                period=form.selected_period(state.time_zone),
                filters=form.selected_filters(),
                agent_sort=request.query_params.get("agent_sort", "-resolved"),
                names=self.figure_names,
                state=state,
            )

        try:
            shown = replicas.serving(read)  # a replica within its bound, or the primary
        except DatabaseError as exc:
            raise ReportingUnavailable() from exc
        data, fresh = shown.figures, shown.freshness
        answer = {
            "last_updated": fresh.last_updated,
            "lag_seconds": None if fresh.age_seconds is None else round(fresh.age_seconds, 1),
            "time_zone": data.time_zone,
            "period": data.period,
            **self.figure_answer(data),
        }
        return Response(output.shared(self.output_serializer).to_representation(answer))


@report("SummaryReport", ("kpis", "backlog", "priorities"))
class SummaryReport(ReportView):
    pass


@report("DailyReport", ("daily",))
class DailyReport(ReportView):
    pass


@report("AgentsReport", ("agents",), parameters=[OpenApiParameter("agent_sort", str)])
class AgentsReport(ReportView):
    pass


@report("CategoriesReport", ("categories",))
class CategoriesReport(ReportView):
    pass


@report(
    "OpenByStatusReport",
    ("open_by_status",),
    description="Open complaints now, by status and category (the period is ignored: these are current).",
)
class OpenByStatusReport(ReportView):
    pass


@report("ChannelsReport", ("channels",))
class ChannelsReport(ReportView):
    pass


@report(
    "ArrivalsReport",
    ("arrivals",),
    description="Complaints received in the period by weekday and hour of the tenant's local time (every one of "
    "the 7 x 24 cells, Monday 0:00 first); days and hours are the local wall clock's.",
)
class ArrivalsReport(ReportView):
    pass
