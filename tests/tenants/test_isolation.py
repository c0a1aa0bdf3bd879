import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django_tenants.utils import schema_context

from complaints.models import Category, Complaint
from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connection, connections
from tests.factories import ComplaintFactory


def test_complaint_user_and_category_of_one_tenant_are_invisible_from_another(alpha, beta):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Delivery"])
    assert Complaint.objects.filter(pk=complaint.pk).exists()
    with schema_context(beta.schema):
        assert not Complaint.objects.filter(reference=complaint.reference).exists()
        assert Complaint.objects.count() == 0
        assert not User.objects.filter(username="alice").exists()
        assert not Category.objects.filter(name="Delivery").exists()
    assert User.objects.filter(username="alice").exists()


def test_switching_tenant_points_the_reporting_connection_at_the_same_schema(alpha):
    assert connections[READ_ALIAS].schema_name == "alpha"
    with schema_context("beta"):
        assert connections[READ_ALIAS].schema_name == "beta"
        with connections[READ_ALIAS].cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            assert cursor.fetchone()[0] == "beta"
    assert connections[READ_ALIAS].schema_name == "alpha"


class _Undone(Exception):
    pass


def _current_schema() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


def _beta_complaint_invisible_after_an_undone_switch_to_alpha(alpha, beta) -> None:
    """search_path is set once per tenant switch (TENANT_LIMIT_SET_CALLS), and a rollback reverts a SET made
    inside what it undoes: PostgreSQL is back on beta while the connection was switched to alpha. The next
    query must set alpha's path again, or it would read beta's complaints as alpha's."""
    with schema_context(beta.schema):
        theirs = ComplaintFactory(actor=beta.charlie, category=beta.categories["Billing"])
    connection.set_tenant(beta.tenant)
    assert _current_schema() == beta.schema
    with pytest.raises(_Undone), transaction.atomic():
        connection.set_tenant(alpha.tenant)
        assert _current_schema() == alpha.schema  # the SET runs inside the block that is undone
        raise _Undone
    assert _current_schema() == alpha.schema
    assert not Complaint.objects.filter(reference=theirs.reference).exists()


def test_a_search_path_reverted_by_a_savepoint_rollback_is_set_again(alpha, beta):
    _beta_complaint_invisible_after_an_undone_switch_to_alpha(alpha, beta)


def test_a_search_path_reverted_by_a_rollback_is_set_again(committed):
    assert connection.get_autocommit()  # the block below is a transaction of its own, really rolled back
    _beta_complaint_invisible_after_an_undone_switch_to_alpha(committed["alpha"], committed["beta"])


def test_a_search_path_reverted_by_committing_a_failed_transaction_is_set_again(committed):
    """An error caught inside an atomic block that then ends normally: its COMMIT is a rollback (PostgreSQL
    says so without an error), which reverts the SET made inside it, as any rollback does."""
    from django.db import DataError

    alpha, beta = committed["alpha"], committed["beta"]
    with schema_context(beta.schema):
        theirs = ComplaintFactory(actor=beta.charlie, category=beta.categories["Billing"])
    connection.set_tenant(beta.tenant)
    assert _current_schema() == beta.schema
    with transaction.atomic():
        connection.set_tenant(alpha.tenant)
        assert _current_schema() == alpha.schema
        with pytest.raises(DataError), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
    assert _current_schema() == alpha.schema
    assert not Complaint.objects.filter(reference=theirs.reference).exists()


def test_each_tenant_switch_sets_the_path_once_and_queries_after_it_run_in_that_tenant(alpha, beta):
    from django.test.utils import CaptureQueriesContext

    mine = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Delivery"])
    with CaptureQueriesContext(connection) as queries:
        for world in (beta, alpha, beta):
            connection.set_tenant(world.tenant)
            seen = [Complaint.objects.filter(pk=mine.pk).exists() for _ in range(3)]
            assert seen == [world is alpha] * 3
    assert [q["sql"] for q in queries.captured_queries].count('SET search_path = "beta","public"') == 2
