"""Only routed under the benchmark settings (benchmarks.urls): the summary report computed the single-database way."""

from reporting.api import SummaryReport
from reporting.onthefly import WRITE_TABLES


class OnTheFlySummary(SummaryReport):
    source = WRITE_TABLES
