"""Many tenants: releases skip the schemas already up to date and migrate the rest in parallel; deleting
tenants drops both schemas however the deletion is triggered (the admin's bulk delete included)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django_tenants.signals import schema_migrated
from django_tenants.utils import schema_exists

from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.tenancy import connection, connections
from tenants.migrating import schemas_behind
from tenants.models import Domain, Tenant
from tenants.services import tenant_create, tenant_delete

LEAF = ("complaints", "0003_staff_list_sort_and_search_indexes")
DOOMED = ("epsilon", "zeta")


@pytest.fixture
def committed(worlds, django_db_blocker):
    """Schemas are DDL and migrations commit: these tests run on committed state and clean up after."""
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        yield
        connection.set_schema_to_public()
        for tenant in Tenant.objects.filter(schema_name__in=DOOMED):
            tenant_delete(tenant=tenant)
        with connection.cursor() as cursor:  # a public user: the ORM would cascade into tenant-only tables
            cursor.execute(
                "DELETE FROM django_admin_log WHERE user_id IN (SELECT id FROM auth_user WHERE username = 'operator')"
            )
            cursor.execute("DELETE FROM auth_user WHERE username = 'operator'")


def _roll_back_leaf(alias: str, schema: str) -> None:
    """The schema as the previous release left it (the staff-list indexes not yet built)."""
    call_command(
        "migrate_schemas", "complaints", "0002", schema_name=schema, database=alias, interactive=False, verbosity=0
    )


def _has_leaf(alias: str, schema: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{schema}".django_migrations WHERE app = %s AND name = %s', LEAF)
        return cursor.fetchone()[0] == 1


def test_a_release_skips_current_schemas_and_migrates_only_those_behind(committed):
    tenants = ["alpha", "beta"]
    assert schemas_behind(WRITE_ALIAS, tenants) == [] and schemas_behind(READ_ALIAS, tenants) == []
    assert schemas_behind(WRITE_ALIAS, ["alpha", "no_such_schema"]) == ["no_such_schema"]
    migrated = []

    def record(sender, schema_name, **kwargs):
        migrated.append(schema_name)

    schema_migrated.connect(record)
    try:
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
        assert migrated == []  # nothing to do: no schema is even opened

        _roll_back_leaf(READ_ALIAS, "beta")
        migrated.clear()
        assert schemas_behind(READ_ALIAS, tenants) == ["beta"]
        call_command("migrate_schemas", tenant=True, database=READ_ALIAS, interactive=False, verbosity=0)
        assert migrated == ["beta"] and _has_leaf(READ_ALIAS, "beta")

        # Two behind: migrated by forked workers (their signals stay in their processes), both brought current.
        _roll_back_leaf(WRITE_ALIAS, "alpha")
        _roll_back_leaf(WRITE_ALIAS, "beta")
        assert schemas_behind(WRITE_ALIAS, tenants) == ["alpha", "beta"]
        call_command("setup_databases", verbosity=0)
    finally:
        schema_migrated.disconnect(record)
    assert _has_leaf(WRITE_ALIAS, "alpha") and _has_leaf(WRITE_ALIAS, "beta")
    assert schemas_behind(WRITE_ALIAS, tenants) == [] and schemas_behind(READ_ALIAS, tenants) == []


def _schemas(name):
    return schema_exists(name, WRITE_ALIAS), schema_exists(name, READ_ALIAS)


def test_the_public_admins_bulk_delete_drops_both_schemas_of_each_tenant(committed):
    for schema in DOOMED:
        tenant_create(
            schema_name=schema,
            name=schema.title(),
            domain=f"{schema}.localhost",
            admin_username="boss",
            admin_password="pw-123456789",
        )
        assert _schemas(schema) == (True, True)
    operator = get_user_model().objects.create_superuser("operator", "op@example.com", "pw-operator-1")
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)
    ids = list(Tenant.objects.filter(schema_name__in=DOOMED).values_list("id", flat=True))
    response = client.post(
        "/admin/tenants/tenant/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert response.status_code == 302
    for schema in DOOMED:
        assert _schemas(schema) == (False, False)
    assert not Tenant.objects.filter(id__in=ids).exists() and not Domain.objects.filter(tenant_id__in=ids).exists()
    assert _schemas("alpha") == (True, True) and _schemas("beta") == (True, True)  # the others untouched
