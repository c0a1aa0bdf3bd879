"""The single-database way: the dashboard's relations computed on the fly from the write tables.

Only for the benchmark baseline and for tests and checks that compare against the truth; never used to serve
a page. It reads the write side's published relations (complaints.contract) with the read models' own SQL,
not through the write side's code.
"""

from complaints import contract
from helpdesk.databases import WRITE_ALIAS
from helpdesk.tenancy import connections
from reporting.readmodel import PROJECTION_RULES, READ_MODELS_BY_KIND
from tenants.selectors import tenant_time_zone


class WriteTableSource:
    alias = WRITE_ALIAS

    def relation(self, kind: str) -> str:
        select = READ_MODELS_BY_KIND[kind].select_sql(source=contract.COMPLAINTS, rules=PROJECTION_RULES, windowed=True)
        return f"({select})"

    def time_zone(self) -> str:
        return tenant_time_zone(connections[self.alias].schema_name)

    def names(self, kind: str) -> str:
        return {
            "category": f"SELECT category_id, name FROM {contract.CATEGORIES}",
            "agent": f"SELECT agent_id, name FROM {contract.AGENTS}",
        }[kind]


WRITE_TABLES = WriteTableSource()
