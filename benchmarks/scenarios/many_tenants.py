"""Benchmark scenario: many tenants. What an empty tenant costs the catalogs, and what a release costs.

Tenants beyond the first are clones of one empty template tenant (every table with its indexes and rows,
e.g. django_migrations, content types, permissions), made with SQL in both databases: creating a thousand
through the normal path (migrations) would take most of an hour. `setup_databases` is then timed with every
schema current (a release with nothing to migrate), beside the old way (a full `migrate` of each schema, one
after another) timed on a sample of the same schemas.
"""

import time

from benchmarks.stats import summary_ms
from helpdesk.databases import BOTH_ALIASES, READ_ALIAS, WRITE_ALIAS

TEMPLATE = "bench_tpl"
PREFIX = "bench_t"

CLONE_SQL = """
DO $$
DECLARE t record;
BEGIN
  EXECUTE format('CREATE SCHEMA %%I', %(target)s);
  FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %(template)s AND c.relkind = 'r' LOOP
    EXECUTE format('CREATE TABLE %%I.%%I (LIKE %%I.%%I INCLUDING ALL)', %(target)s, t.relname, %(template)s, t.relname);
    EXECUTE format('INSERT INTO %%I.%%I SELECT * FROM %%I.%%I', %(target)s, t.relname, %(template)s, t.relname);
  END LOOP;
END $$
"""


def catalog_cost(schema: str) -> dict:
    """pg_class rows (tables, indexes, sequences, their TOAST tables and indexes) and on-disk bytes of one
    tenant's schema, in each database."""
    from django.db import connections

    out = {}
    for alias in BOTH_ALIASES:
        with connections[alias].cursor() as cursor:
            cursor.execute(
                """
                WITH own AS (
                    SELECT c.oid, c.reltoastrelid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = %s
                ), toast AS (
                    SELECT t.oid FROM pg_class t WHERE t.oid IN (SELECT reltoastrelid FROM own)
                    UNION ALL
                    SELECT i.indexrelid FROM pg_index i WHERE i.indrelid IN (SELECT reltoastrelid FROM own)
                ), every AS (SELECT oid FROM own UNION ALL SELECT oid FROM toast)
                SELECT count(*), coalesce(sum(pg_relation_size(oid)), 0)::bigint,
                       (SELECT count(*) FROM pg_attribute WHERE attrelid IN (SELECT oid FROM every))
                FROM every
                """,
                [schema],
            )
            relations, size, attributes = cursor.fetchone()
        out[alias] = {"pg_class_rows": relations, "bytes": size, "pg_attribute_rows": attributes}
    out["total"] = {
        key: out[WRITE_ALIAS][key] + out[READ_ALIAS][key] for key in ("pg_class_rows", "bytes", "pg_attribute_rows")
    }
    return out


def ensure_tenants(count: int) -> float:
    """The template tenant (made the normal way) and `count` clones of it; seconds spent cloning."""
    from django.db import connections
    from django_tenants.utils import schema_exists

    from tenants.models import Domain, Tenant
    from tenants.services import tenant_create

    if not Tenant.objects.filter(schema_name=TEMPLATE).exists():
        tenant_create(
            schema_name=TEMPLATE,
            name="Template",
            domain=f"{TEMPLATE}.localhost",
            admin_username="admin",
            admin_password="unused-password-1",
        )
    started = time.perf_counter()
    for i in range(count):
        schema = f"{PREFIX}{i:05d}"
        for alias in BOTH_ALIASES:
            if not schema_exists(schema, alias):
                with connections[alias].cursor() as cursor:
                    cursor.execute(CLONE_SQL, {"target": schema, "template": TEMPLATE})
        if not Tenant.objects.filter(schema_name=schema).exists():
            # bulk_create: no save(), so django-tenants does not create (and migrate) the schema again.
            tenant = Tenant.objects.bulk_create([Tenant(schema_name=schema, name=f"Clone {i}")])[0]
            Domain.objects.create(domain=f"{schema}.localhost", tenant=tenant, is_primary=True)
    return time.perf_counter() - started


def old_way_seconds(schemas: list[str]) -> list[float]:
    """A full `migrate` of each schema in each database, one after another (what django-tenants does)."""
    from django.core.management import call_command
    from django.test.utils import override_settings

    from tenants import migrating

    seconds = []
    original = migrating.schemas_behind
    migrating.schemas_behind = lambda alias, schema_names: list(schema_names)  # check nothing: migrate every schema
    try:
        with override_settings(TENANT_MULTIPROCESSING_MAX_PROCESSES=1):
            for schema in schemas:
                started = time.perf_counter()
                for alias in BOTH_ALIASES:
                    call_command("migrate_schemas", schema_name=schema, database=alias, interactive=False, verbosity=0)
                seconds.append(time.perf_counter() - started)
    finally:
        migrating.schemas_behind = original
    return seconds


def bench_many_tenants(count: int, sample: int) -> dict:
    from django.core.management import call_command

    from helpdesk.tenancy import connection
    from tenants.selectors import tenant_schema_names

    clone_seconds = ensure_tenants(count)
    connection.set_schema_to_public()
    tenants = len(tenant_schema_names())
    started = time.perf_counter()
    call_command("setup_databases", verbosity=0)
    release = time.perf_counter() - started
    old = old_way_seconds([f"{PREFIX}{i:05d}" for i in range(min(sample, count))])
    old_per_tenant = sum(old) / len(old) if old else 0.0
    return {
        "tenants": tenants,
        "catalog_per_empty_tenant": catalog_cost(TEMPLATE),
        "clone_seconds": round(clone_seconds, 1),
        "setup_databases_seconds": round(release, 2),
        "setup_databases_ms_per_tenant": round(release * 1000 / tenants, 2),
        "old_way_sample": {"schemas": len(old), **summary_ms(old)},
        "old_way_extrapolated_seconds": round(old_per_tenant * tenants, 1) if old else None,
        "ratio": round(old_per_tenant * tenants / release, 1) if old else None,
    }


def table_rows(many: dict | None) -> list[tuple]:
    if not many:
        return []
    cost = many["catalog_per_empty_tenant"]
    old = many["old_way_sample"]
    return [
        ("many tenants", "figure"),
        (
            f"setup_databases with {many['tenants']} tenants, nothing to migrate (s)",
            f"{many['setup_databases_seconds']} ({many['setup_databases_ms_per_tenant']} ms a tenant)",
        ),
        (
            "old way: full migrate of each schema, one after another (s)",
            f"{many['old_way_extrapolated_seconds']} ({old['p50_ms']} ms a tenant, timed on {old['schemas']}); "
            f"{many['ratio']}x slower",
        ),
        *(
            (
                f"empty tenant in {alias}: pg_class rows / bytes / pg_attribute rows",
                f"{cost[alias]['pg_class_rows']} / {cost[alias]['bytes']} / {cost[alias]['pg_attribute_rows']}",
            )
            for alias in (*BOTH_ALIASES, "total")
        ),
    ]
