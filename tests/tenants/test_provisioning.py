import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context, schema_exists

from helpdesk.access import MANAGE_CATEGORIES
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.tenancy import connection, connections
from reporting import projector
from reporting.status import STATUS_TABLE
from tenants.models import Domain, Tenant
from tenants.services import tenant_create, tenant_delete


@pytest.fixture
def outside_tests_transaction(worlds, django_db_blocker):
    # Schemas are DDL with migrations that commit: run these tests on committed state and clean up after.
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        yield
        connection.set_schema_to_public()
        for schema in ("gamma", "delta"):
            tenant = Tenant.objects.filter(schema_name=schema).first()
            if tenant:
                tenant_delete(tenant=tenant)


def _schemas(name):
    return schema_exists(name, WRITE_ALIAS), schema_exists(name, READ_ALIAS)


def test_tenant_create_makes_schema_in_both_databases_and_delete_drops_both(outside_tests_transaction):
    tenant = tenant_create(
        schema_name="gamma",
        name="Gamma",
        domain="gamma.localhost",
        admin_username="root",
        admin_password="pw-123456789",
    )
    assert _schemas("gamma") == (True, True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'gamma' "
            "AND table_name IN ('complaints_complaint', 'complaint_stats_by_day')"
        )
        assert cursor.fetchone()[0] == 1  # the write tables only, in the write database
    with schema_context("gamma"):
        from django.contrib.auth.models import User

        admin = User.objects.get(username="root")
        assert admin.has_perm(MANAGE_CATEGORIES) and admin.is_staff
    assert Domain.objects.get(tenant=tenant).domain == "gamma.localhost"
    with schema_context("gamma"):
        projector.run_once()  # publishes the tenant's row of the read side's status table
    assert _status_rows("gamma") == 1

    tenant_delete(tenant=tenant)
    assert _schemas("gamma") == (False, False)
    assert not Tenant.objects.filter(schema_name="gamma").exists()
    assert _status_rows("gamma") == 0  # the read side forgot it too


def _status_rows(schema: str) -> int:
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {STATUS_TABLE} WHERE schema_name = %s", [schema])
        return cursor.fetchone()[0]


def test_tenant_create_refuses_a_taken_schema_or_domain_and_creates_nothing(outside_tests_transaction):
    before = Tenant.objects.count(), Domain.objects.count()
    with pytest.raises(ValidationError) as err:
        tenant_create(
            schema_name="alpha", name="X", domain="alpha.localhost", admin_username="x", admin_password="pw-123456789"
        )
    assert set(err.value.message_dict) == {"schema_name", "domain"}
    with pytest.raises(ValidationError):
        tenant_create(
            schema_name="Bad-Name!", name="X", domain="x.localhost", admin_username="x", admin_password="pw-123456789"
        )
    assert (Tenant.objects.count(), Domain.objects.count()) == before


def test_tenant_create_failing_midway_leaves_nothing_behind(outside_tests_transaction, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("tenants.services.user_set_role", explode)
    with pytest.raises(RuntimeError):
        tenant_create(
            schema_name="delta",
            name="Delta",
            domain="delta.localhost",
            admin_username="x",
            admin_password="pw-123456789",
        )
    assert _schemas("delta") == (False, False)
    assert not Tenant.objects.filter(schema_name="delta").exists()
    assert not Domain.objects.filter(domain="delta.localhost").exists()


def test_create_tenant_command_gives_a_one_line_error_for_a_taken_domain(outside_tests_transaction):
    with pytest.raises(CommandError, match="domain: The domain 'beta.localhost' is already taken"):
        call_command(
            "create_tenant_with_admin", schema="delta", name="D", domain="beta.localhost", admin_password="pw-123456789"
        )
    assert _schemas("delta") == (False, False)
