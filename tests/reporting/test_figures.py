"""Each figure is declared once (reporting.figures): what shows, exports and serves it derives from that."""

import csv
import io

import pytest

from reporting import figures, selectors
from reporting.api import (
    AgentsReport,
    ArrivalsReport,
    CategoriesReport,
    ChannelsReport,
    DailyReport,
    OpenByStatusReport,
    ReportView,
    SummaryReport,
)

REPORTS: list[tuple[type[ReportView], str]] = [
    (SummaryReport, "summary"),
    (DailyReport, "daily"),
    (AgentsReport, "agents"),
    (CategoriesReport, "categories"),
    (OpenByStatusReport, "open-by-status"),
    (ChannelsReport, "channels"),
    (ArrivalsReport, "arrivals"),
]


def test_every_figure_is_served_by_exactly_one_report_under_its_api_key():
    served = [name for view, _ in REPORTS for name in view.figure_names]
    assert sorted(served) == sorted(figures.FIGURES)


@pytest.mark.parametrize(("view", "path"), REPORTS)
def test_each_report_serializer_is_its_figures_columns(view, path):
    fields = view.output_serializer().fields
    for name in view.figure_names:
        figure = figures.FIGURES[name]
        child = fields[figure.api_key]
        declared = [card.name for card in figures.KPIS] if figure.row is None else list(figure.columns)
        assert list((child.child if hasattr(child, "child") else child).fields) == declared, name


@pytest.mark.parametrize(("view", "path"), REPORTS)
def test_each_report_computes_only_its_own_figures(alpha, client_for, monkeypatch, view, path):
    computed: list[str] = []

    def counted(figure: figures.Figure) -> figures.Figure:
        def select(query):
            computed.append(figure.name)
            return figure.select(query)

        return figures.Figure(figure.name, figure.title, select, figure.row, figure.api_key)

    for name, figure in list(figures.FIGURES.items()):
        monkeypatch.setitem(figures.FIGURES, name, counted(figure))
    response = client_for(alpha, alpha.carol).get(f"/api/reports/{path}/?period=30")
    assert response.status_code == 200, response.content
    assert sorted(computed) == sorted(view.figure_names)


@pytest.mark.parametrize("name", figures.CSV_FIGURES)
def test_each_csv_has_its_figures_columns_as_header(alpha, client_for, name):
    response = client_for(alpha, alpha.carol).get(f"/dashboard/?period=30&csv={name}")
    assert response.status_code == 200
    header = next(csv.reader(io.StringIO(response.content.decode())))
    assert header == list(figures.FIGURES[name].columns)


def test_the_kpi_cards_are_the_kpis_the_selector_answers(alpha):
    query = selectors.FigureQuery(selectors.period_last(30, "UTC"), selectors.Filters(), "UTC")
    assert list(selectors.kpis(query)) == [card.name for card in figures.KPIS]


# Columns of a figure that are no count of complaints: ids, the hour, shares, rates and averages.
NOT_COUNTS = {"agent_id", "category_id", "hour"}


@pytest.mark.parametrize("name", figures.FIGURES)
def test_every_count_on_a_figure_declares_the_list_of_complaints_it_counts(name):
    figure = figures.FIGURES[name]
    if figure.row is None:
        counts = {card.name for card in figures.KPIS if not card.unit}
    else:
        counts = {column for column, kind in figure.column_types().items() if kind is int} - NOT_COUNTS
    assert set(figure.drill) == counts
