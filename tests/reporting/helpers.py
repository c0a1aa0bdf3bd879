from django.db import connections

from reporting.tables import READ_TABLES


def read_model_snapshot() -> dict:
    """Every read-model row of the current tenant (all-zero rows dropped), for before/after comparisons."""
    from reporting.aggregates import rows_by_key

    out = {}
    with connections["reporting"].cursor() as cursor:
        for table in READ_TABLES:
            cursor.execute(f"SELECT {', '.join(table.keys + table.values)} FROM {table.name}")
            out[table.name] = rows_by_key(table.kind, cursor.fetchall())
        cursor.execute("SELECT complaint_id, version, status FROM complaint_fact ORDER BY 1")
        out["complaint_fact"] = cursor.fetchall()
    return out


def stat(table: str, column: str, **where) -> int:
    clauses = " AND ".join(f"{k} = %s" for k in where) or "true"
    with connections["reporting"].cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(SUM({column}), 0) FROM {table} WHERE {clauses}", list(where.values()))
        return int(cursor.fetchone()[0])
