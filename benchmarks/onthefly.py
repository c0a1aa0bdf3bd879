"""The single-database way, for the benchmark's comparison only: the dashboard's figures computed on the fly from
the write tables by the product's own selectors (reporting.selectors), run on the write database's connection
against temporary views named like the read-model tables. Each view is the read model's own declaration
(reporting.readmodel.select_sql) over the write side's published complaints (complaints.contract), so both ways
answer the same questions with the same rules; only where the rows come from differs.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from complaints import contract
from helpdesk.databases import WRITE_ALIAS
from helpdesk.tenancy import connections
from reporting import figures
from reporting.days import day_start
from reporting.figures import FigureSet
from reporting.readmodel import READ_MODELS, RULES
from reporting.selectors import FigureQuery, Filters, Period
from tenants.selectors import tenant_time_zone

# Read models bucketed by the day something happened: their views read only the complaints that did something
# in the window, as a single-database dashboard would (through the write side's timestamp indexes).
BY_PERIOD = {"stats", "stats_day", "agent", "agent_day", "channel", "channel_day", "arrivals", "arrivals_hour"}
_MOMENTS = ("created_at", "assigned_at", "first_response_at", "resolved_at")
_DIMENSIONS = {
    "category_dim": f"SELECT category_id, name, active FROM {contract.CATEGORIES}",
    "agent_dim": f"SELECT agent_id, name FROM {contract.AGENTS}",
}


@contextmanager
def write_tables_as_read_models(*, since: datetime, zone: str) -> Iterator[None]:
    """Temporary views (this connection's session only) in place of the read models and their dimensions."""
    connection = connections[WRITE_ALIAS]
    recent = " OR ".join(f"{moment} >= %(since)s" for moment in _MOMENTS)
    views = dict(_DIMENSIONS)
    for model in READ_MODELS:
        source = contract.COMPLAINTS
        if model.kind in BY_PERIOD:
            source = f"(SELECT * FROM {contract.COMPLAINTS} WHERE {recent}) AS recent"
        views[model.table] = model.select_sql(source=source, rules=RULES)
    with connection.cursor() as cursor:
        for name, select in views.items():
            # A view takes no parameters: the zone and the window are written into it.
            cursor.execute(
                f"CREATE OR REPLACE TEMP VIEW {name} AS "
                + connection.ops.compose_sql(select, {"tz": zone, "since": since})  # type: ignore[attr-defined]
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP VIEW IF EXISTS {', '.join(f'pg_temp.{name}' for name in views)}")


def figures_on_the_fly(
    *, period: Period, filters: Filters, names=tuple(figures.FIGURES), agent_sort: str = "-resolved"
) -> FigureSet:
    """The figures `names`, computed from the write tables (the current tenant's zone)."""
    zone = tenant_time_zone(connections[WRITE_ALIAS].schema_name)
    since = day_start(period.previous().start, zone) - timedelta(days=1)  # a day of margin for the zone's offset
    with write_tables_as_read_models(since=since, zone=zone):
        return figures.compute(FigureQuery(period, filters, zone, agent_sort, alias=WRITE_ALIAS), names)
