"""Category names under real concurrency (issue 26 #2): names that differ only in case are one category, held by
the database's unique index on the folded name, so concurrent creates or renames give one winner and, for every
other, the domain error ("exists already", HTTP 400), never an IntegrityError (500)."""

import threading

import pytest
from django.db import transaction
from django.test import Client
from django_tenants.utils import schema_context

from complaints import services
from complaints.errors import DomainError
from complaints.models import Category
from helpdesk.tenancy import connection, connections
from tests.conftest import someone_waits_on_a_lock, wait_for


def _in_thread(world, work, outcome: dict, key: str) -> threading.Thread:
    def run():
        try:
            connection.set_tenant(world.tenant)  # this thread's own connection
            outcome[key] = work()
        except DomainError as exc:
            outcome[key] = f"refused: {exc.message}"
        except Exception as exc:  # anything else is the failure the assertions show
            outcome[key] = repr(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("second", ["CaseRace", "caserace", "CASERACE"])
def test_a_create_racing_an_uncommitted_create_of_the_same_folded_name_is_refused(committed, second):
    """Deterministic: the second create runs its check while the first is inserted but not committed (so the check
    cannot see it), and must then be stopped by the index, whichever way the first transaction ends."""
    world = committed["alpha"]
    outcome: dict = {}
    with schema_context("alpha"):
        with transaction.atomic():
            services.category_save(actor=world.ada, name="CaseRace")
            thread = _in_thread(
                world, lambda: services.category_save(actor=world.ada, name=second).name, outcome, "second"
            )
            wait_for(lambda: someone_waits_on_a_lock() or outcome, timeout=30, message="the second create to wait")
        thread.join(timeout=30)
        assert outcome == {"second": f"refused: A category named '{second}' exists already."}
        assert list(Category.objects.filter(name__iexact="caserace").values_list("name", flat=True)) == ["CaseRace"]


def test_a_rename_racing_a_create_of_the_same_folded_name_is_refused(committed):
    world = committed["alpha"]
    outcome: dict = {}
    with schema_context("alpha"):
        delivery = world.categories["Delivery"]
        with transaction.atomic():
            services.category_save(actor=world.ada, name="Returns")
            rename = lambda: services.category_save(actor=world.ada, name="RETURNS", category_id=delivery.pk).name  # noqa: E731
            thread = _in_thread(world, rename, outcome, "rename")
            wait_for(lambda: someone_waits_on_a_lock() or outcome, timeout=30, message="the rename to wait")
        thread.join(timeout=30)
        assert outcome == {"rename": "refused: A category named 'RETURNS' exists already."}
        assert Category.objects.get(pk=delivery.pk).name == "Delivery"


def test_twenty_parallel_api_creates_in_three_spellings_give_one_201_and_nineteen_400(committed):
    world = committed["alpha"]
    spellings = ["CaseRace", "caserace", "CASERACE"]
    start = threading.Barrier(20)
    answers: dict = {}

    def create(i: int):
        client = Client(HTTP_HOST=world.domain)
        client.force_login(world.ada)
        start.wait(timeout=30)
        response = client.post("/api/categories/", {"name": spellings[i % 3]}, content_type="application/json")
        return response.status_code, response.json()

    threads = [_in_thread(world, lambda i=i: create(i), answers, str(i)) for i in range(20)]
    for thread in threads:
        thread.join(timeout=60)
    codes = sorted(code for code, _ in answers.values())
    assert codes == [201] + [400] * 19, answers
    for code, body in answers.values():
        if code == 400:
            assert "exist" in " ".join(body["error"]["fields"]["name"]), body  # the serializer's or the service's
    with schema_context("alpha"):
        assert Category.objects.filter(name__iexact="caserace").count() == 1


def test_the_migration_keeps_the_first_of_case_duplicates_and_renames_the_others(alpha):
    import importlib

    from django.apps import apps

    from complaints.models import OutboxEvent

    migration = importlib.import_module("complaints.migrations.0008_category_name_folded_unique")
    with connection.cursor() as cursor:  # the state before the migration (rolled back with the test)
        cursor.execute("DROP INDEX category_name_folded_unique")  # an expression: a unique index
    first = Category.objects.create(name="Refunds")
    later = [Category.objects.create(name=name) for name in ("REFUNDS", "refunds")]
    events_before = OutboxEvent.objects.count()
    migration.rename_case_duplicates(apps, None)
    assert Category.objects.get(pk=first.pk).name == "Refunds"
    assert [Category.objects.get(pk=c.pk).name for c in later] == [
        f"REFUNDS (#{later[0].pk})",
        f"refunds (#{later[1].pk})",
    ]
    assert OutboxEvent.objects.count() == events_before + 2  # the read side hears of both renames


def test_the_admin_answers_a_case_clash_with_a_form_error_and_a_late_clash_with_its_reason(
    client_for, alpha, monkeypatch
):
    client = client_for(alpha, alpha.ada)
    client.raise_request_exception = False
    clash = client.post("/admin/complaints/category/add/", {"name": "BILLING", "active": "on"})
    assert clash.status_code == 200 and "exists already" in clash.content.decode()
    # A clash only the service sees (the same name committed by someone else after the form's check).
    exists = DomainError("A category named 'Refunds' exists already.", field="name")

    def late_clash(**kwargs):
        raise exists

    monkeypatch.setattr(services, "category_save", late_clash)
    late = client.post("/admin/complaints/category/add/", {"name": "Refunds", "active": "on"}, follow=True)
    assert late.status_code == 200 and "Refunds&#x27; exists already" in late.content.decode()
    assert late.redirect_chain == [("/admin/complaints/category/add/", 302)]
    assert not Category.objects.filter(name__iexact="refunds").exists()
