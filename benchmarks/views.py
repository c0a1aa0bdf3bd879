"""Only routed under the benchmark settings (benchmarks.urls): the summary report computed the single-database way."""

from django.db import DatabaseError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from benchmarks.onthefly import figures_on_the_fly
from reporting.api import ReportingUnavailable, SummaryReport
from reporting.forms import DashboardFilterForm


class OnTheFlySummary(SummaryReport):
    """The summary report's answer, computed from the write tables on every request (nothing cached)."""

    def get(self, request):
        form = DashboardFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.error_messages())
        try:
            data = figures_on_the_fly(
                period=form.selected_period(), filters=form.selected_filters(), names=self.figure_names
            )
        except DatabaseError as exc:
            raise ReportingUnavailable() from exc
        answer = {"last_updated": None, "lag_seconds": None, "time_zone": data.time_zone, "period": data.period}
        return Response(self.output_serializer(answer | self.figure_answer(data)).data)
