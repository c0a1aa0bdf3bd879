"""The tenant's own days: every read model buckets by local calendar day in the tenant's zone, DST-correct and with
odd offsets, and a zone change rebuilds the read models in the background while the old figures stay labelled.

The moments below are written in UTC by hand, with the local time they are in each zone:

  America/New_York  2026-03-08 has 23 hours (02:00 EST -> 03:00 EDT), 2026-11-01 has 25 (02:00 EDT -> 01:00 EST)
  Asia/Kathmandu    +5:45 all year
  Pacific/Chatham   2026-04-05 has 25 hours (03:45 +13:45 -> 02:45 +12:45)
"""

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.db import connections
from django_tenants.utils import schema_context

from benchmarks.onthefly import figures_on_the_fly
from complaints import services
from helpdesk.databases import READ_ALIAS
from reporting import figures, figures_cache, selectors
from reporting.days import local_day
from reporting.freshness import read_models_time_zone
from reporting.rebuild import compare_read_models, rebuild_read_models
from reporting.selectors import Filters, Period
from tenants.models import Tenant
from tenants.services import tenant_set_time_zone
from tests import oracle
from tests.clock import install
from tests.factories import ComplaintFactory
from tests.reporting import drill
from tests.reporting.helpers import mutate_projector_sql, project_everything


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# zone -> [(moment in UTC, its local day)]: 23:30 and 00:30 local around midnight and around each DST change.
MOMENTS = {
    "America/New_York": [
        (utc(2026, 3, 8, 4, 30), date(2026, 3, 7)),  # 03-07 23:30 EST
        (utc(2026, 3, 8, 5, 30), date(2026, 3, 8)),  # 03-08 00:30 EST
        (utc(2026, 3, 9, 3, 30), date(2026, 3, 8)),  # 03-08 23:30 EDT: the same 23-hour day
        (utc(2026, 3, 9, 4, 30), date(2026, 3, 9)),  # 03-09 00:30 EDT
        (utc(2026, 11, 1, 3, 30), date(2026, 10, 31)),  # 10-31 23:30 EDT
        (utc(2026, 11, 1, 4, 30), date(2026, 11, 1)),  # 11-01 00:30 EDT
        (utc(2026, 11, 2, 4, 30), date(2026, 11, 1)),  # 11-01 23:30 EST: the same 25-hour day
        (utc(2026, 11, 2, 5, 30), date(2026, 11, 2)),  # 11-02 00:30 EST
    ],
    "Asia/Kathmandu": [
        (utc(2026, 3, 10, 17, 45), date(2026, 3, 10)),  # 23:30 +5:45
        (utc(2026, 3, 10, 18, 45), date(2026, 3, 11)),  # 00:30 +5:45, still 03-10 in UTC
        (utc(2026, 3, 11, 17, 45), date(2026, 3, 11)),
        (utc(2026, 3, 11, 18, 45), date(2026, 3, 12)),
    ],
    "Pacific/Chatham": [
        (utc(2026, 4, 4, 9, 45), date(2026, 4, 4)),  # 04-04 23:30 +13:45
        (utc(2026, 4, 4, 10, 45), date(2026, 4, 5)),  # 04-05 00:30 +13:45, still 04-04 in UTC
        (utc(2026, 4, 5, 10, 45), date(2026, 4, 5)),  # 04-05 23:30 +12:45: the same 25-hour day
        (utc(2026, 4, 5, 11, 45), date(2026, 4, 6)),  # 04-06 00:30 +12:45
    ],
}
KOLKATA = [(utc(2026, 3, 10, 18, 0), date(2026, 3, 10)), (utc(2026, 3, 10, 19, 0), date(2026, 3, 11))]
TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("zone", "moment", "expected"),
    [(z, m, d) for z, cases in {**MOMENTS, "Asia/Kolkata": KOLKATA}.items() for m, d in cases],
)
def test_local_day_is_the_calendar_day_on_the_tenants_wall_clock(zone, moment, expected):
    assert local_day(moment, zone) == expected
    assert local_day(moment, "UTC") == moment.date()


def test_local_day_sql_agrees_with_the_python_rule(alpha):
    cases = [(z, m) for z, cases in {**MOMENTS, "Asia/Kolkata": KOLKATA}.items() for m, _ in cases]
    with connections[READ_ALIAS].cursor() as cursor:
        for zone, moment in cases:
            cursor.execute("SELECT (%(m)s::timestamptz AT TIME ZONE %(tz)s)::date", {"m": moment, "tz": zone})
            assert cursor.fetchone()[0] == local_day(moment, zone), (zone, moment)


def _set_zone_directly(schema: str, zone: str) -> None:
    """A tenant whose read models are still empty: no rebuild needed (the first projector run takes its zone)."""
    Tenant.objects.filter(schema_name=schema).update(time_zone=zone)


def _created_by_day() -> Counter:
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute("SELECT day, SUM(created_count) FROM complaint_stats_by_day GROUP BY day")
        return Counter({d: int(n) for d, n in cursor.fetchall() if n})


def _resolved_by_day() -> Counter:
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute("SELECT day, SUM(resolved_count) FROM agent_daily_summary GROUP BY day")
        return Counter({d: int(n) for d, n in cursor.fetchall() if n})


def _stored() -> dict:
    with connections[READ_ALIAS].cursor() as cursor:
        return oracle.stored_read_models(cursor)


@pytest.mark.parametrize("zone", list(MOMENTS))
def test_complaints_at_2330_and_0030_local_land_on_their_local_day_in_every_read_model(committed, monkeypatch, zone):
    moments = MOMENTS[zone]
    monkeypatch.setattr(selectors, "today", lambda zone=None: TODAY)
    clock = install(monkeypatch, moments[0][0])
    _set_zone_directly("alpha", zone)
    with schema_context("alpha"):
        w = committed["alpha"]
        billing = w.categories["Billing"]
        submitted = []
        for i, (moment, _) in enumerate(moments):
            clock.set(moment)
            submitted.append(ComplaintFactory(actor=w.alice, category=billing, priority="high"))
            if i % 2:  # the one before is taken and resolved at this moment: its resolution lands on this day
                previous = submitted[i - 1]
                services.complaint_assign(complaint_id=previous.pk, actor=w.alice, assignee=w.alice)
                services.complaint_transition(complaint_id=previous.pk, actor=w.alice, to_status="resolved")
        project_everything()

        assert _created_by_day() == Counter(d for _, d in moments)
        assert _resolved_by_day() == Counter(d for _, d in moments[1::2])
        assert read_models_time_zone() == zone
        truth = oracle.snapshot()
        assert truth.time_zone == zone
        # The projector and the check (the declarations' SQL rule, over the read side and the write tables) and the
        # oracle (Python) agree.
        assert oracle.read_model_differences(oracle.read_models(truth), _stored()) == []
        assert compare_read_models() == []

        period = Period(moments[0][1], moments[-1][1])
        expected = oracle.dashboard(truth, start=period.start, end=period.end, today=TODAY)
        served = figures.dashboard(period=period, filters=Filters())
        assert served.time_zone == zone
        assert oracle.dashboard_differences(expected, oracle.served(served)) == []
        # The on-the-fly figures bound their windows by local midnights: the same figures.
        on_the_fly = figures_on_the_fly(period=period, filters=Filters())
        assert oracle.dashboard_differences(expected, oracle.served(on_the_fly)) == []
        # The daily chart has one entry per local day, the short and long days included.
        assert sum(received for _, received, _ in served.daily) == len(moments)

        rebuild_read_models()  # the rebuild's SQL buckets the same way
        assert oracle.read_model_differences(oracle.read_models(truth), _stored()) == []


def test_a_zone_change_rebuilds_in_the_background_and_the_labels_follow_the_rebuild(
    committed, monkeypatch, queued_rebuilds, client_for, settings
):
    from reporting.tasks import rebuild_tenant

    settings.DASHBOARD_MAX_AGE_SECONDS = 0  # figures as soon as the read models move (here: the rebuild)
    monkeypatch.setattr(selectors, "today", lambda zone=None: date(2026, 3, 12))
    clock = install(monkeypatch, utc(2026, 3, 10, 20, 0))  # UTC 03-10; Kathmandu 03-11 01:45
    period = Period(date(2026, 3, 10), date(2026, 3, 12))
    w = committed["alpha"]
    with schema_context("alpha"):
        ComplaintFactory(actor=w.alice, category=w.categories["Billing"], priority="low")
        project_everything()
        assert _created_by_day() == Counter({date(2026, 3, 10): 1})

    tenant_set_time_zone(tenant=Tenant.objects.get(schema_name="alpha"), time_zone="Asia/Kathmandu")
    assert queued_rebuilds == [("alpha",)]
    assert Tenant.objects.get(schema_name="alpha").time_zone == "Asia/Kathmandu"
    assert Tenant.objects.get(schema_name="beta").time_zone == "UTC"

    with schema_context("alpha"):
        # Until the rebuild commits: the old figures, labelled with the old zone, and the projector keeps it.
        clock.set(utc(2026, 3, 11, 19, 0))  # UTC 03-11; Kathmandu 03-12 00:45
        ComplaintFactory(actor=w.alice, category=w.categories["Billing"], priority="low")
        project_everything()
        assert _created_by_day() == Counter({date(2026, 3, 10): 1, date(2026, 3, 11): 1})
        assert compare_read_models() == []
        assert figures_cache.figures_cached(period=period, filters=Filters()).figures.time_zone == "UTC"
    api = client_for(w, w.carol).get("/api/reports/summary/?period=custom&start=2026-03-10&end=2026-03-12")
    assert api.status_code == 200 and api.json()["time_zone"] == "UTC"
    page = client_for(w, w.carol).get("/dashboard/?period=custom&start=2026-03-10&end=2026-03-12")
    assert 'Days in <span data-testid="time-zone">UTC</span>' in page.content.decode()
    status = _projection_status("alpha")
    assert "UTC -> Asia/Kathmandu (rebuild pending)" in status

    assert rebuild_tenant("alpha") == 2  # what the worker runs

    with schema_context("alpha"):
        assert _created_by_day() == Counter({date(2026, 3, 11): 1, date(2026, 3, 12): 1})
        assert compare_read_models() == []
        data = figures_cache.figures_cached(period=period, filters=Filters()).figures
        assert data.time_zone == "Asia/Kathmandu"
        assert [(d, n) for d, n, _ in data.daily] == [
            (date(2026, 3, 10), 0),
            (date(2026, 3, 11), 1),
            (date(2026, 3, 12), 1),
        ]
    api = client_for(w, w.carol).get("/api/reports/daily/?period=custom&start=2026-03-10&end=2026-03-12")
    assert api.status_code == 200 and api.json()["time_zone"] == "Asia/Kathmandu"
    page = client_for(w, w.carol).get("/dashboard/?period=custom&start=2026-03-10&end=2026-03-12")
    assert 'Days in <span data-testid="time-zone">Asia/Kathmandu</span>' in page.content.decode()
    status = _projection_status("alpha")
    assert "rebuild pending" not in status and status.rstrip().endswith("Asia/Kathmandu")


def _projection_status(schema: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("projection_status", schema=schema, stdout=out)
    return out.getvalue()


def test_setting_the_same_zone_again_queues_nothing(committed, queued_rebuilds):
    tenant_set_time_zone(tenant=Tenant.objects.get(schema_name="alpha"), time_zone="UTC")
    assert queued_rebuilds == []


def test_the_oracle_catches_a_projector_that_ignores_the_zone(committed, monkeypatch):
    """The oracle shown failing: a projector bucketing by UTC days in a +5:45 tenant is caught, by the oracle
    and by the check's SQL rule."""
    mutate_projector_sql(monkeypatch, "%(tz)s", "'UTC'")
    clock = install(monkeypatch, MOMENTS["Asia/Kathmandu"][0][0])
    _set_zone_directly("alpha", "Asia/Kathmandu")
    with schema_context("alpha"):
        w = committed["alpha"]
        for moment, _ in MOMENTS["Asia/Kathmandu"][:2]:
            clock.set(moment)
            ComplaintFactory(actor=w.alice, category=w.categories["Billing"], priority="high")
        project_everything()
        assert _created_by_day() == Counter({date(2026, 3, 10): 2})  # both on the UTC day: wrong
        differences = oracle.read_model_differences(oracle.read_models(oracle.snapshot()), _stored())
        # Each table bucketed by day has the 03-10 row one too high and the 03-11 row missing.
        tables = [
            "complaint_stats_by_day",
            "complaint_stats_daily",
            "open_backlog_by_day",
            "complaint_channel_by_day",
            "complaint_channel_daily",
        ]
        # The arrivals are bucketed by local day and hour: their rows move too.
        arrivals = {"complaint_arrivals_by_hour", "complaint_arrivals_hourly"}
        for found in (differences, compare_read_models()):
            names = [line.split(" ")[0] for line in found]
            assert sorted(n for n in names if n not in arrivals) == sorted(tables * 2)
            assert set(names) & arrivals == arrivals


def test_arrivals_count_the_wall_clocks_hours_across_both_dst_changes(committed, monkeypatch, client_for):
    """New York, Sunday 2026-03-08: 01:30 EST, then 03:30 EDT (2:00-2:59 never happens); Sunday 2026-11-01:
    01:30 EDT and 01:30 EST (the hour that happens twice holds both). The links list the same complaints."""
    moments = [datetime(2026, 3, 8, 6, 30), datetime(2026, 3, 8, 7, 30), datetime(2026, 11, 1, 5, 30)]
    moments = [m.replace(tzinfo=UTC) for m in [*moments, datetime(2026, 11, 1, 6, 30)]]
    clock = install(monkeypatch, moments[0])
    _set_zone_directly("alpha", "America/New_York")
    period = Period(date(2026, 3, 1), date(2026, 11, 30))
    with schema_context("alpha"):
        w = committed["alpha"]
        for moment in moments:
            clock.set(moment)
            ComplaintFactory(actor=w.alice, category=w.categories["Billing"], priority="high")
        project_everything()
        data = figures.dashboard(period=period, filters=Filters(), time_zone="America/New_York")
        expected = oracle.dashboard(oracle.snapshot(), start=period.start, end=period.end, today=period.end)
    busy = {(row.weekday, row.hour): row.received for row in data.arrivals if row.received}
    assert busy == {("Sunday", 1): 3, ("Sunday", 3): 1}
    assert data.arrivals == expected["arrivals"]
    client = client_for(w, w.carol)
    page = client.get(f"/dashboard/?period=custom&start={period.start}&end={period.end}").content.decode()
    links = [link for link in drill.dashboard_links(page) if link[0] == "arrivals.received"]
    assert sorted(n for _, _, n in links) == [1, 3]
    assert drill.lists_that_disagree(client, links) == []
