from django.contrib.auth.models import User
from django_tenants.utils import schema_context

from complaints.models import Category, Complaint
from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connections
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
