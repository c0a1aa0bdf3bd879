"""The single-database way: the dashboard's relations computed on the fly from the write tables.

Only for the benchmark baseline and for tests and checks that compare against the truth; never used to serve
a page. It reads the write tables by name (the same SQL the rebuild uses), not through the write side's code.
"""

from django.db import connections

from reporting.aggregates import WRITE_SOURCE, aggregate_select
from tenants.selectors import tenant_time_zone


class WriteTableSource:
    alias = "default"

    def relation(self, kind: str) -> str:
        return f"({aggregate_select(kind, source=WRITE_SOURCE, windowed=kind in ('stats', 'agent', 'agent_day'))})"

    def time_zone(self) -> str:
        return tenant_time_zone(connections[self.alias].schema_name)

    def names(self, kind: str) -> str:
        return {
            "category": "SELECT id, name FROM complaints_category",
            "agent": "SELECT id, COALESCE(NULLIF(TRIM(first_name || ' ' || last_name), ''), username) FROM auth_user",
        }[kind]


WRITE_TABLES = WriteTableSource()
