"""Customer addresses: every way a complaint gets an e-mail address records it, the search finds complaints by any
part of an address (any case, LIKE's own characters included) exactly as the plain substring rule does, a whole
address finds that customer alone, and recording an address never waits for another writer's transaction."""

import io
from typing import cast

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DataError, OperationalError, connection
from django.test.utils import CaptureQueriesContext

from complaints import demo_data, search, selectors
from complaints.bulk import bulk_write
from complaints.models import Complaint, CustomerAddress
from complaints.paging import CountedQuerySet, capped_count, planner_settings
from helpdesk.databases import WRITE_ALIAS
from tests.factories import ComplaintFactory

# Messy addresses as real ones come: case variants of one customer, tags, dots, and LIKE's own % and _.
ADDRESSES = [
    "Ann.Lee@Acme.test",
    "ann.lee@acme.test",
    "ANN.LEE+billing@acme.test",
    "jo.ann.lee@acme.test",
    "a_b%c@globex.test",
    "abxc@globex.test",
    "zoë.müller@umlaut.test",
]
TERMS = ["ann.lee", "ANN.LEE@ACME.TEST", "lee+bill", "a_b", "b%c", "_b%", "globex.test", "@acme", "müller", "nobody"]


def recorded() -> list[str]:
    return sorted(CustomerAddress.objects.values_list("address", flat=True))


def oracle(q: str) -> list[int]:
    """The search's rule in plain Python over the write models: a whole address (any case) finds that customer
    alone; otherwise any case-insensitive substring of title, customer name or e-mail."""
    q = q.strip()
    everyone = list(Complaint.objects.all())
    if "@" in q and (exact := [c.pk for c in everyone if c.customer_email.lower() == q.lower()]):
        return sorted(exact)
    fields = ("title", "customer_name", "customer_email")
    return sorted(c.pk for c in everyone if any(q.lower() in getattr(c, f).lower() for f in fields))


def searched(alpha, q: str) -> list[int]:
    return sorted(c.pk for c in selectors.complaint_list(user=alpha.alice, q=q))


@pytest.fixture
def messy(alpha):
    billing = alpha.categories["Billing"]
    return [
        ComplaintFactory(actor=alpha.alice, category=billing, title="Other", customer_name="X", customer_email=email)
        for email in ADDRESSES
    ]


def test_a_submission_records_its_address_once_whatever_its_case(alpha, messy):
    assert recorded() == sorted({email.upper() for email in ADDRESSES})
    assert recorded().count("ANN.LEE@ACME.TEST") == 1  # two spellings of one address


def test_a_bulk_write_records_every_address_it_writes(alpha):
    categories, agents = list(alpha.categories.values()), [alpha.alice, alpha.bob]
    written = bulk_write(demo_data.generate(count=300, months=2, categories=categories, agents=agents, seed=3))
    emails = {c.customer_email.upper() for c in Complaint.objects.all()}
    assert written == 300 and len(emails) > 100
    assert recorded() == sorted(emails)


@pytest.mark.parametrize("max_addresses", [200, 1])  # through the addresses; too many: the complaints' own index
def test_part_of_an_address_finds_what_the_substring_rule_finds(alpha, messy, monkeypatch, max_addresses):
    monkeypatch.setattr(search, "MAX_ADDRESSES", max_addresses)
    ComplaintFactory(
        actor=alpha.alice, category=alpha.categories["Billing"], title="Mail from ann.lee", customer_name="Y"
    )
    for term in TERMS:
        assert searched(alpha, term) == oracle(term), term
    by_pk = {c.pk: c.customer_email for c in messy}
    assert [by_pk[pk] for pk in searched(alpha, "b%c")] == ["a_b%c@globex.test"]  # % is a character, not a wildcard


def test_a_whole_address_finds_that_customer_alone_in_any_case(alpha, messy):
    found = searched(alpha, "ann.LEE@acme.TEST")
    assert found == sorted(c.pk for c in messy[:2])  # not jo.ann.lee@..., which contains it
    assert searched(alpha, "lee@acme.test") == oracle("lee@acme.test") == sorted(c.pk for c in messy[:2] + messy[3:4])


def test_recording_an_address_does_not_wait_for_an_open_transaction_that_recorded_it_too(alpha):
    # An import holds its transaction for minutes, its customers' addresses written early in it. A submission
    # naming one of them must not wait for that commit (a unique index would make it wait: lock_timeout fires).
    db = settings.DATABASES[WRITE_ALIAS]
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]) as other:
        other.execute("SET search_path TO alpha, public")
        other.execute("INSERT INTO complaints_customeraddress (address) VALUES ('NEW@ACME.TEST')")  # not committed
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
        try:
            complaint = ComplaintFactory(
                actor=alpha.alice, category=alpha.categories["Billing"], customer_email="new@acme.test"
            )
        except OperationalError as error:  # pragma: no cover - the failure this test exists for
            pytest.fail(f"the submission waited for the other transaction: {error}")
        other.rollback()
    assert recorded() == ["NEW@ACME.TEST"] and searched(alpha, "new@acme") == [complaint.pk]


def test_the_fill_command_adds_the_addresses_a_complaint_lacks_and_nothing_twice(alpha, messy):
    CustomerAddress.objects.filter(address__startswith="ANN").delete()
    assert searched(alpha, "ann.lee") == sorted(c.pk for c in messy[3:4])  # what a missing address costs
    out = io.StringIO()
    call_command("fill_customer_addresses", schema="alpha", stdout=out)
    assert out.getvalue().strip() == "alpha: 2 addresses added"
    assert recorded() == sorted({email.upper() for email in ADDRESSES})
    assert searched(alpha, "ann.lee") == oracle("ann.lee")
    call_command("fill_customer_addresses", schema="alpha", stdout=out)
    assert out.getvalue().strip().endswith("alpha: 0 addresses added")


def test_a_dense_search_proves_its_count_once_and_a_further_filter_counts_again(alpha, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    monkeypatch.setattr(search, "DENSE_ESTIMATE", -1)  # "expected often": the sample decides
    billing = alpha.categories["Billing"]
    for i in range(6):
        ComplaintFactory(actor=alpha.alice, category=billing, title=f"Parcel {i}", priority="low" if i else "urgent")
    found = cast(CountedQuerySet, search.complaint_search(Complaint.objects.all(), q="parcel"))
    assert found.known_at_least() == 4  # proven: more than the cap
    with CaptureQueriesContext(connection) as queries:
        assert capped_count(found.order_by("-id"), 4) == 4
    assert not [q for q in queries.captured_queries if "COUNT" in q["sql"].upper()]  # not counted again
    urgent = found.filter(priority="urgent")  # other rows than were proven: counted for real
    assert urgent.known_at_least() == 0 and capped_count(urgent, 4) == 1
    assert found[:2].known_at_least() == 0  # a slice is other rows too


def test_planner_settings_end_with_their_block_and_an_error_inside_stays_the_error(alpha):
    with pytest.raises(DataError), planner_settings(connection.alias, ("enable_seqscan = off",)):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")  # division by zero, not "current transaction is aborted"
    with planner_settings(connection.alias, ("enable_seqscan = off",)), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        assert cursor.fetchone() == ("off",)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        assert cursor.fetchone() == ("on",)
    nothing = cast(CountedQuerySet, Complaint.objects.all()).knowing_at_least(5).none()
    assert nothing.known_at_least() == 0 and capped_count(nothing, 5) == 0  # no rows, no 500
