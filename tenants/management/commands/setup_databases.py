from collections.abc import Mapping
from typing import Any

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql

from helpdesk.databases import BOTH_ALIASES, READ_ALIAS
from tenants.schemas import reporting_schemas_ensure
from tenants.selectors import tenant_schema_names
from tenants.services import ensure_public_tenant


def _ensure_database(config: Mapping[str, Any], *, drop: bool) -> bool:
    """Create the database of one alias when missing (connecting to the server's `postgres` database)."""
    try:
        with psycopg.connect(
            host=config["HOST"] or None,
            port=config["PORT"] or None,
            user=config["USER"] or None,
            password=config["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
            connect_timeout=5,
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
            if exists and drop:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(config["NAME"])))
                exists = None
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
                return True
    except psycopg.OperationalError as exc:
        raise CommandError(f"PostgreSQL is not reachable at {config['HOST']}:{config['PORT']}: {exc}") from exc
    return False


class Command(BaseCommand):
    help = "Create both databases if missing, then migrate the public schema and every tenant schema in both."

    def add_arguments(self, parser):
        parser.add_argument("--drop", action="store_true", help="Drop and recreate both databases first")

    def handle(self, *args, drop=False, verbosity=1, **opts):
        for alias in BOTH_ALIASES:
            if _ensure_database(settings.DATABASES[alias], drop=drop) and verbosity:
                self.stdout.write(f"created database {settings.DATABASES[alias]['NAME']}")
        quiet = max(verbosity - 1, 0)
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=quiet)
        call_command("migrate_schemas", shared=True, database=READ_ALIAS, interactive=False, verbosity=quiet)
        # Tenant schemas: those already up to date are skipped, the rest migrate in parallel (tenants.migrating).
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=quiet)
        reporting_schemas_ensure(schema_names=tenant_schema_names())
        call_command("migrate_schemas", tenant=True, database=READ_ALIAS, interactive=False, verbosity=quiet)
        ensure_public_tenant()
        if verbosity:
            self.stdout.write("databases ready")
