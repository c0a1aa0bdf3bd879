"""Each dashboard figure declared once: the selector that computes it, the named type of its rows, its title and
the key it has in the report API. From these declarations: the dashboard's cards and tables (their titles,
columns and CSV links), every CSV (`?csv=<figure>`: header and rows from the row type), the report API's output
serializers and so the OpenAPI schema (reporting.api), and what each report endpoint computes (only its own
figures). Adding a figure over an existing read model is a selector, a declaration here and its card.
"""

import dataclasses
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from reporting import drilldown, selectors
from reporting.drilldown import Drill, assigned, open_now, received, resolved
from reporting.freshness import read_models_time_zone
from reporting.selectors import FigureQuery, Filters, Period


@dataclass(frozen=True)
class Figure:
    name: str  # in the dashboard's CSV links (?csv=<name>) and cache keys
    title: str
    select: Callable[[FigureQuery], Any]
    row: type | None  # the named type of its rows (None: not a table, e.g. the KPIs)
    api_key: str  # its key in a report's JSON answer
    # count column (a KPI card's name for the KPIs) -> which complaints a row's count is: its staff list
    drill: dict[str, Drill] = field(default_factory=dict, hash=False, compare=False)

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

    def link(self, data: "FigureSet", column: str, row: Any = None) -> str | None:
        """The staff list of the complaints a count counts (None: the column is not a count of complaints)."""
        drill = self.drill.get(column)
        params = drill(data, row) if drill else None
        return None if params is None else drilldown.url(params)

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

AGES = {label: (low, None if high is None else high - 1) for low, high, label in selectors.AGE_BUCKETS}


def _reopened(data, row, **more):
    return received(data, reopened="yes", **more)


FIGURES = {
    f.name: f
    for f in (
        Figure(
            "kpis",
            "Key figures",
            selectors.kpis,
            None,
            "kpis",
            drill={
                "received": lambda data, _: received(data),
                "resolved": lambda data, _: resolved(data),
                "open": lambda data, _: open_now(data),
            },
        ),
        Figure(
            "daily",
            "Daily volume",
            selectors.daily,
            selectors.DayRow,
            "days",
            drill={
                "received": lambda data, row: received(data, created_day_from=row.day, created_day_to=row.day),
                "resolved": lambda data, row: resolved(data, resolved_day_from=row.day, resolved_day_to=row.day),
            },
        ),
        Figure(
            "categories",
            "Categories (top first)",
            selectors.categories,
            selectors.CategoryRow,
            "categories",
            drill={
                "received": lambda data, row: received(data, category=row.category_id),
                "reopened": lambda data, row: _reopened(data, row, category=row.category_id),
            },
        ),
        Figure(
            "priorities",
            "Priority mix",
            selectors.priorities,
            selectors.PriorityRow,
            "priorities",
            drill={"received": lambda data, row: received(data, priority=row.priority)},
        ),
        Figure(
            "backlog",
            "Open backlog by age",
            selectors.backlog,
            selectors.BacklogRow,
            "backlog_by_age",
            drill={"open": lambda data, row: open_now(data, age_min=AGES[row.age][0], age_max=AGES[row.age][1])},
        ),
        Figure(
            "channels",
            "Channels",
            selectors.channels,
            selectors.ChannelRow,
            "channels",
            drill={
                "received": lambda data, row: received(data, channel=row.channel),
                "resolved": lambda data, row: resolved(data, channel=row.channel),
            },
        ),
        Figure(
            "open_by_status",
            "Open by status and category",
            selectors.open_by_status,
            selectors.OpenByStatusRow,
            "open",
            drill={"open": lambda data, row: open_now(data, status=row.status, category=row.category_id)},
        ),
        Figure(
            "agents",
            "Agent performance",
            selectors.agents,
            selectors.AgentRow,
            "agents",
            drill={
                "assigned": lambda data, row: assigned(data, assignee=row.agent_id),
                "resolved": lambda data, row: resolved(data, assignee=row.agent_id),
                "reopened": lambda data, row: _reopened(data, row, assignee=row.agent_id),
                "open_now": lambda data, row: open_now(data, assignee=row.agent_id),
            },
        ),
        Figure(
            "arrivals",
            "When complaints arrive",
            selectors.arrivals,
            selectors.ArrivalRow,
            "arrivals",
            drill={
                "received": lambda data, row: received(
                    data, weekday=selectors.WEEKDAYS.index(row.weekday) + 1, hour=row.hour
                )
            },
        ),
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
