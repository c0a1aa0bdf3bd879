"""Where a tenant's time zone is set: the creation command, the tenant admin's own page, the platform admin."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django_tenants.utils import schema_context, schema_exists

from tenants.models import Tenant, validate_time_zone
from tests.factories import ComplaintFactory

NOT_A_PLACES_ZONE = ["localtime", "Factory", "Etc/GMT-14", "Etc/GMT+12", "EST", "US/Eastern", "GMT0", "Zulu"]


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "posixrules", "right/UTC", "../etc/passwd", "", "utc", *NOT_A_PLACES_ZONE]
)
def test_only_canonical_iana_zone_names_are_time_zones(db, name):
    with pytest.raises(ValidationError):
        validate_time_zone(name)


@pytest.mark.parametrize(
    "name", ["UTC", "America/New_York", "Asia/Kathmandu", "Pacific/Chatham", "America/Argentina/Salta"]
)
def test_iana_zone_names_are_accepted(db, name):
    validate_time_zone(name)  # raises ValidationError for a name it refuses


def test_every_offered_zone_means_the_same_in_python_and_postgresql(db):
    """Issue 26 #8: each zone a tenant may pick gives the same local time in zoneinfo and in PostgreSQL (which
    buckets the read models' days), at a summer and a winter moment."""
    from zoneinfo import ZoneInfo

    from django.db import connection

    from tenants.models import time_zone_names

    names = time_zone_names()
    assert "localtime" not in names and len(names) > 300
    for moment in (datetime(2026, 7, 1, 12, tzinfo=UTC), datetime(2026, 1, 15, 3, 30, tzinfo=UTC)):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, %s::timestamptz AT TIME ZONE name FROM unnest(%s::text[]) AS name", [moment, names]
            )
            postgresql = dict(cursor.fetchall())
        python = {name: moment.astimezone(ZoneInfo(name)).replace(tzinfo=None) for name in names}
        differ = {name: (python[name], postgresql[name]) for name in names if python[name] != postgresql[name]}
        assert differ == {}, f"local time of {moment} differs between zoneinfo and PostgreSQL"


@pytest.mark.parametrize("name", ["localtime", "Factory", "Etc/GMT-14"])
def test_the_tenant_admin_cannot_pick_a_zone_that_is_no_place(alpha, client_for, queued_rebuilds, name):
    response = client_for(alpha, alpha.ada).post("/settings/time-zone/", {"time_zone": name})
    assert response.status_code == 400 and 'data-testid="error-time_zone"' in response.content.decode()
    assert Tenant.objects.get(schema_name="alpha").time_zone == "UTC" and queued_rebuilds == []


def test_create_tenant_command_gives_a_one_line_error_for_an_unknown_zone(db, worlds, public_schema):
    before = Tenant.objects.count()
    with pytest.raises(CommandError, match=r"^time_zone: 'Mars/Olympus' is not an IANA time zone name"):
        call_command(
            "create_tenant_with_admin",
            schema="delta",
            name="D",
            domain="delta.localhost",
            admin_password="pw-123456789",
            time_zone="Mars/Olympus",
        )
    assert Tenant.objects.count() == before
    assert not schema_exists("delta")


def test_the_tenant_admin_sees_and_changes_only_its_own_tenants_zone(
    alpha, client_for, queued_rebuilds, django_capture_on_commit_callbacks
):
    client = client_for(alpha, alpha.ada)
    page = client.get("/settings/time-zone/")
    assert page.status_code == 200
    assert '<option value="UTC" selected>UTC</option>' in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/time-zone/", {"time_zone": "America/New_York", "name": "Renamed"})
    assert response.status_code == 302
    alpha_row, beta_row = Tenant.objects.get(schema_name="alpha"), Tenant.objects.get(schema_name="beta")
    assert (alpha_row.time_zone, alpha_row.name) == ("America/New_York", "Alpha Corp")  # nothing else changes
    assert beta_row.time_zone == "UTC"
    assert queued_rebuilds == [("alpha",)]


def test_a_bad_zone_is_a_form_error_and_changes_nothing(alpha, client_for, queued_rebuilds):
    response = client_for(alpha, alpha.ada).post("/settings/time-zone/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert 'data-testid="error-time_zone"' in response.content.decode()
    assert Tenant.objects.get(schema_name="alpha").time_zone == "UTC"
    assert queued_rebuilds == []


@pytest.mark.parametrize("persona", ["alice", "carol"])
def test_agents_and_managers_may_not_change_the_zone(alpha, client_for, queued_rebuilds, persona):
    client = client_for(alpha, getattr(alpha, persona))
    assert client.get("/settings/time-zone/").status_code == 403
    assert client.post("/settings/time-zone/", {"time_zone": "Asia/Kathmandu"}).status_code == 403
    assert Tenant.objects.get(schema_name="alpha").time_zone == "UTC"
    assert queued_rebuilds == []


def test_the_platform_admin_changes_a_zone_and_a_rebuild_is_queued(
    worlds, public_schema, queued_rebuilds, django_capture_on_commit_callbacks, django_user_model
):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456789")
    client = Client(HTTP_HOST="localhost")
    client.force_login(root)
    alpha = Tenant.objects.get(schema_name="alpha")
    assert client.get("/admin/tenants/tenant/").content.decode().count("UTC") >= 2  # the zone column
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/tenants/tenant/{alpha.pk}/change/",
            {
                "name": alpha.name,
                "schema_name": alpha.schema_name,
                "time_zone": "Pacific/Chatham",
                "domains-TOTAL_FORMS": "0",
                "domains-INITIAL_FORMS": "0",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Tenant.objects.get(schema_name="alpha").time_zone == "Pacific/Chatham"
    assert queued_rebuilds == [("alpha",)]


def test_staff_pages_show_times_in_the_tenants_zone(alpha, client_for):
    Tenant.objects.filter(schema_name="alpha").update(time_zone="Asia/Kathmandu")
    with schema_context("alpha"):
        complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
        complaint.__class__.objects.filter(pk=complaint.pk).update(created_at=datetime(2026, 3, 10, 17, 45, tzinfo=UTC))
    page = client_for(alpha, alpha.alice).get(f"/complaints/{complaint.pk}/")
    assert page.status_code == 200
    assert "2026-03-10 23:30" in page.content.decode()  # 17:45 UTC is 23:30 at +5:45
