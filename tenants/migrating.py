"""Tenant migrations for many schemas: skip the ones already up to date, migrate the rest in parallel.

django-tenants checks every schema with a full `migrate` (about 0.1 s each even with nothing to do) one after
another. Here one query per few hundred schemas finds the schemas that lack a leaf migration of the current
code, and only those are migrated, by a pool of forked processes (TENANT_MULTIPROCESSING_MAX_PROCESSES).
Selected by GET_EXECUTOR_FUNCTION in the settings, so `migrate_schemas` itself behaves this way too.
"""

import functools

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django_tenants.migration_executors.base import run_migrations
from django_tenants.migration_executors.multiproc import MultiprocessingExecutor, get_pool, run_migrations_percent
from django_tenants.utils import quote_schema_name

CHECK_CHUNK = 250  # schemas per checking query (keeps the statement a few tens of kB)


def expected_migrations() -> list[str]:
    """`app.name` of every leaf migration: a schema that has them all has every migration (they depend on
    the rest). Every schema records every app's migrations, whether or not the router lets them run there."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return sorted(f"{app}.{name}" for app, name in graph.leaf_nodes())


def schemas_behind(alias: str, schema_names: list[str]) -> list[str]:
    """The schemas (in the given order) that miss a migration of the current code, or have no
    django_migrations table at all (new, or never migrated)."""
    leaves = expected_migrations()
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = 'django_migrations' AND c.relkind = 'r' AND n.nspname = ANY(%s)",
            [schema_names],
        )
        with_table = {row[0] for row in cursor.fetchall()}
        current = set()
        candidates = [s for s in schema_names if s in with_table]
        for start in range(0, len(candidates), CHECK_CHUNK):
            chunk = candidates[start : start + CHECK_CHUNK]
            branches = " UNION ALL ".join(
                f"SELECT %s, count(*) FROM {quote_schema_name(s)}.django_migrations WHERE app || '.' || name = ANY(%s)"
                for s in chunk
            )
            cursor.execute(branches, [value for s in chunk for value in (s, leaves)])
            current |= {schema for schema, found in cursor.fetchall() if found == len(leaves)}
    return [s for s in schema_names if s not in current]


class SkipCurrentParallelExecutor(MultiprocessingExecutor):
    codename = "parallel"

    def run_migrations(self, tenants=None):
        tenants = list(tenants or [])
        if self.PUBLIC_SCHEMA_NAME in tenants:  # shared tables first, always (one schema)
            tenants.remove(self.PUBLIC_SCHEMA_NAME)
            run_migrations(self.args, self.options, self.codename, self.PUBLIC_SCHEMA_NAME)
        alias = self.options.get("database") or self.TENANT_DB_ALIAS
        # A named target (app, migration: possibly backwards) is run everywhere; a plain migrate skips.
        behind = tenants if self.options.get("app_label") else schemas_behind(alias, tenants)
        processes = getattr(settings, "TENANT_MULTIPROCESSING_MAX_PROCESSES", 2)
        if len(behind) < 2 or processes < 2:
            for idx, schema in enumerate(behind):
                run_migrations(self.args, self.options, self.codename, schema, idx=idx, count=len(behind))
            return
        # Forked workers must not share the parent's open sockets: close every alias, not only the tenant one.
        connections.close_all()
        migrate_one = functools.partial(run_migrations_percent, self.args, self.options, self.codename, len(behind))
        chunks = getattr(settings, "TENANT_MULTIPROCESSING_CHUNKS", 2)
        with get_pool() as pool:
            pool.map(migrate_one, enumerate(behind), chunks)


def get_executor(codename=None):
    """GET_EXECUTOR_FUNCTION: every migrate_schemas run uses the skipping, parallel executor."""
    return SkipCurrentParallelExecutor
