"""The tenant's schema in the reporting database: created, migrated and dropped alongside the write side."""

from django.core.management import call_command
from django.db import connections
from django_tenants.utils import quote_schema_name, schema_exists

from helpdesk.databases import READ_ALIAS


def reporting_schema_create(*, schema_name: str, verbosity: int = 0) -> None:
    connection = connections[READ_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_schema_name(schema_name)}")
    call_command(
        "migrate_schemas",
        database=READ_ALIAS,
        schema_name=schema_name,
        tenant=True,
        interactive=False,
        verbosity=verbosity,
    )


def reporting_schemas_ensure(*, schema_names: list[str]) -> None:
    """Create the missing reporting schemas of many tenants at once (migrate them with migrate_schemas)."""
    if not schema_names:
        return
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute("; ".join(f"CREATE SCHEMA IF NOT EXISTS {quote_schema_name(name)}" for name in schema_names))


def reporting_schema_drop(*, schema_name: str) -> None:
    connection = connections[READ_ALIAS]
    if schema_exists(schema_name, READ_ALIAS):
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {quote_schema_name(schema_name)} CASCADE")
