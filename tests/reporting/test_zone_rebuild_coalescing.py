"""Issue 26 #7: ten time-zone changes in a second queued ten full rebuilds. Now they queue one, which builds the
zone current when it runs; a zone unchanged, or changed back before the rebuild ran, rebuilds nothing."""

from django_tenants.utils import schema_context

from helpdesk.databases import READ_ALIAS
from reporting.models import ProjectionCheckpoint
from reporting.tasks import rebuild_tenant
from tenants.models import Tenant
from tenants.services import tenant_set_time_zone

ZONES = ["Europe/Paris", "America/New_York", "Asia/Kathmandu", "Pacific/Chatham", "UTC"]


def _set(tenant, zone, capture):
    with capture(execute=True):
        tenant_set_time_zone(tenant=tenant, time_zone=zone)


def _checkpoint() -> tuple[str, object]:
    with schema_context("alpha"):
        row = ProjectionCheckpoint.objects.using(READ_ALIAS).get(id=1)
    return row.time_zone, row.rebuilt_at


def test_ten_zone_changes_queue_one_rebuild_which_builds_the_last_zone_once(
    committed, queued_rebuilds, django_capture_on_commit_callbacks
):
    tenant = Tenant.objects.get(schema_name="alpha")
    for zone in ZONES * 2:
        _set(tenant, zone, django_capture_on_commit_callbacks)
    _set(tenant, "Asia/Tokyo", django_capture_on_commit_callbacks)
    assert queued_rebuilds == [("alpha",)], f"{len(queued_rebuilds)} rebuilds queued for 11 changes"

    rebuild_tenant("alpha")  # the queued one, as the worker runs it
    zone, rebuilt_at = _checkpoint()
    assert zone == "Asia/Tokyo"
    rebuild_tenant("alpha")  # a redundant one (queued before the mark, or redelivered): nothing to do
    assert _checkpoint() == ("Asia/Tokyo", rebuilt_at), "a second full rebuild ran for the same zone"

    _set(tenant, "Europe/Paris", django_capture_on_commit_callbacks)  # after the rebuild started: queued again
    assert queued_rebuilds == [("alpha",), ("alpha",)]


def test_an_unchanged_zone_queues_nothing_and_a_zone_changed_back_rebuilds_nothing(
    committed, queued_rebuilds, django_capture_on_commit_callbacks
):
    tenant = Tenant.objects.get(schema_name="alpha")
    _set(tenant, "UTC", django_capture_on_commit_callbacks)
    assert queued_rebuilds == []
    rebuild_tenant("alpha")  # builds (or finds built) UTC: the checkpoint exists from here on
    _, rebuilt_at = _checkpoint()
    _set(tenant, "Asia/Tokyo", django_capture_on_commit_callbacks)
    _set(tenant, "UTC", django_capture_on_commit_callbacks)
    assert queued_rebuilds == [("alpha",)]
    rebuild_tenant("alpha")
    assert _checkpoint() == ("UTC", rebuilt_at), "the read models were rebuilt in the zone they were built in"
