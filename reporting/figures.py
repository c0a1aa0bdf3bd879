"""Each dashboard figure declared once: the selector that computes it, the named type of its rows, its title and
the key it has in the report API. From these declarations: the dashboard's cards and tables (their titles,
columns and CSV links), every CSV (`?csv=<figure>`: header and rows from the row type), the report API's output
serializers and so the OpenAPI schema (reporting.api), and what each report endpoint computes (only its own
figures). Adding a figure over an existing read model is a selector, a declaration here and its card.
"""

import dataclasses
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from reporting import selectors
from reporting.freshness import read_models_time_zone
from reporting.selectors import FigureQuery, Filters, Period


@dataclass(frozen=True)
class Figure:
    name: str  # in the dashboard's CSV links (?csv=<name>) and cache keys
    title: str
    select: Callable[[FigureQuery], Any]
    row: type | None  # the named type of its rows (None: not a table, e.g. the KPIs)
    api_key: str  # its key in a report's JSON answer

    @property
    def columns(self) -> tuple[str, ...]:
        """The row type's fields: the CSV's header, the table's and the API's columns."""
        if self.row is None:
            return ()
        if dataclasses.is_dataclass(self.row):
            return tuple(f.name for f in dataclasses.fields(self.row))
        return tuple(getattr(self.row, "_fields"))  # a NamedTuple  # noqa: B009

    def column_types(self) -> dict[str, Any]:
        return typing.get_type_hints(self.row) if self.row else {}

    def csv_rows(self, rows: Iterable) -> Iterable[list]:
        yield list(self.columns)
        for row in rows:
            yield [getattr(row, name) for name in self.columns]


@dataclass(frozen=True)
class KpiCard:
    name: str
    label: str
    unit: str = ""

    @property
    def testid(self) -> str:
        return "kpi-" + self.name.removesuffix("_pct").replace("_", "-")


# The KPI cards, in the dashboard's order; selectors.kpis answers each by name.
KPIS = (
    KpiCard("received", "Complaints received"),
    KpiCard("resolved", "Resolved"),
    KpiCard("open", "Open backlog now"),
    KpiCard("avg_resolution_hours", "Avg resolution", "h"),
    KpiCard("avg_first_response_hours", "Avg first response", "h"),
    KpiCard("within_target_pct", "Resolved within target", "%"),
)

FIGURES = {
    f.name: f
    for f in (
        Figure("kpis", "Key figures", selectors.kpis, None, "kpis"),
        Figure("daily", "Daily volume", selectors.daily, selectors.DayRow, "days"),
        Figure("categories", "Categories (top first)", selectors.categories, selectors.CategoryRow, "categories"),
        Figure("priorities", "Priority mix", selectors.priorities, selectors.PriorityRow, "priorities"),
        Figure("backlog", "Open backlog by age", selectors.backlog, selectors.BacklogRow, "backlog_by_age"),
        Figure("channels", "Channels", selectors.channels, selectors.ChannelRow, "channels"),
        Figure(
            "open_by_status", "Open by status and category", selectors.open_by_status, selectors.OpenByStatusRow, "open"
        ),
        Figure("agents", "Agent performance", selectors.agents, selectors.AgentRow, "agents"),
    )
}
CSV_FIGURES = tuple(name for name, f in FIGURES.items() if f.row is not None)


@dataclass
class FigureSet:
    """Some figures of one query, by name (`figures.daily`, as templates read them), with what they answer for."""

    period: Period
    filters: Filters
    time_zone: str
    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None


def compute(query: FigureQuery, names: Iterable[str] = FIGURES) -> FigureSet:
    """The figures named (all by default) of one query, each by its own selector."""
    return FigureSet(
        query.period, query.filters, query.time_zone, {name: FIGURES[name].select(query) for name in names}
    )


def dashboard(
    *, period: Period, filters: Filters, agent_sort: str = "-resolved", time_zone: str | None = None
) -> FigureSet:
    """Every figure, as the dashboard page shows them."""
    return compute(FigureQuery(period, filters, time_zone or read_models_time_zone(), agent_sort))
