"""A small world built by hand through the services, whose dashboard figures are worked out by hand below.

Today is Tue 2026-03-10 (UTC); the period is 2026-03-04..03-10, the previous one 02-25..03-03. Alice and Bob are
agents, Carol a manager. Times are UTC.

  C1 Billing/high     created 03-01 10:00, Alice takes it 11:00, replies 12:00 (2 h), resolved 03-02 08:00
                      (22 h, within 24 h); reopened 03-05 09:00, resolved again 03-05 15:00 (101 h: late), closed
                      03-06 10:00. Its resolution now falls in the period, none is left in the previous one.
  C2 Billing/medium   created 03-04 09:00, Carol gives it to Bob 10:00, in progress 10:30, Bob replies 11:00 (2 h),
                      reassigned to Alice 03-06 08:00. Open.
  C3 Delivery/low     created 03-05 14:00, recategorized to Product/urgent 15:00, internal note 16:00 (not a
                      response), resolved 17:00 (3 h, within 4 h). Never assigned.
  C4 Delivery/medium  created 03-10 08:00, Alice takes it 08:10, Carol unassigns it 08:20. New.
  C5 Product/low      created 02-27 12:00, Carol gives it to Bob 13:00, on hold 02-28 09:00. Open, 11 days old.
  C6 Billing/high     created 03-08 23:30, closed straight from new 03-09 00:30 (closed is not resolved).
  C7 Delivery/medium  created 02-01 09:00. New, 37 days old.
  C8 Billing/urgent   created 03-07 06:00, Carol gives it to Bob 06:30, Bob replies 07:00 (1 h), resolved 12:00
                      (6 h: late), title edited 13:00 (no figure moves).
  C9 Product/high     by phone, created 03-08 10:00, resolved 03-09 10:00: exactly its 24 h target (within).
  C10 Delivery/urgent by email, created 03-09 08:00, resolved 12:00: exactly its 4 h target (within).
                      C9 and C10 are never assigned; every other complaint came through the web form.

C1's reopen is projected while C1 is open again (03-05 09:00), and those figures are held to the hand as well.
"""

from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.db import connections
from django_tenants.utils import schema_context

from complaints import services
from complaints.models import Complaint
from helpdesk.databases import READ_ALIAS
from reporting import figures, selectors
from reporting.rebuild import compare_read_models, rebuild_read_models
from reporting.selectors import Filters, Period
from tests import oracle
from tests.clock import install
from tests.factories import ComplaintFactory
from tests.reporting import drill
from tests.reporting.helpers import project_everything, stat

TODAY = date(2026, 3, 10)
STATUSES = ["new", "in_progress", "on_hold", "resolved", "closed"]
PERIOD = Period(date(2026, 3, 4), TODAY)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def hand_made(committed, monkeypatch):
    monkeypatch.setattr(selectors, "today", lambda zone=None: TODAY)
    clock = install(monkeypatch, at(2, 1, 9))
    with schema_context("alpha"):
        w = committed["alpha"]
        alice, bob, carol = w.alice, w.bob, w.carol
        billing, delivery, product = (w.categories[n] for n in ("Billing", "Delivery", "Product"))

        def submit(when, category, priority, channel="web"):
            clock.set(when)
            return ComplaintFactory(actor=alice, category=category, priority=priority, channel=channel)

        def move(complaint, when, status):
            clock.set(when)
            # Its assignee works it (an agent may not move another agent's complaint); alice when unassigned.
            actor = Complaint.objects.get(pk=complaint.pk).assignee or alice
            services.complaint_transition(complaint_id=complaint.pk, actor=actor, to_status=status)

        def assign(complaint, when, actor, assignee):
            clock.set(when)
            services.complaint_assign(complaint_id=complaint.pk, actor=actor, assignee=assignee)

        def reply(complaint, when, actor, internal=False):
            clock.set(when)
            services.complaint_comment(complaint_id=complaint.pk, actor=actor, body="Hello", internal=internal)

        submit(at(2, 1, 9), delivery, "medium")  # C7
        c5 = submit(at(2, 27, 12), product, "low")
        assign(c5, at(2, 27, 13), carol, bob)
        move(c5, at(2, 28, 9), "on_hold")
        c1 = submit(at(3, 1, 10), billing, "high")
        assign(c1, at(3, 1, 11), alice, alice)
        reply(c1, at(3, 1, 12), alice)
        move(c1, at(3, 2, 8), "resolved")
        c2 = submit(at(3, 4, 9), billing, "medium")
        assign(c2, at(3, 4, 10), carol, bob)
        move(c2, at(3, 4, 10, 30), "in_progress")
        reply(c2, at(3, 4, 11), bob)
        move(c1, at(3, 5, 9), "in_progress")  # the reopen
        project_everything()  # while C1 is open again
        w.while_reopened = _figures_while_reopened(alice.pk, bob.pk, c1.pk)
        c3 = submit(at(3, 5, 14), delivery, "low")
        clock.set(at(3, 5, 15))
        services.complaint_recategorize(complaint_id=c3.pk, actor=alice, category=product, priority="urgent")
        move(c1, at(3, 5, 15), "resolved")
        reply(c3, at(3, 5, 16), alice, internal=True)
        move(c3, at(3, 5, 17), "resolved")
        assign(c2, at(3, 6, 8), carol, alice)
        move(c1, at(3, 6, 10), "closed")
        c8 = submit(at(3, 7, 6), billing, "urgent")
        assign(c8, at(3, 7, 6, 30), carol, bob)
        reply(c8, at(3, 7, 7), bob)
        move(c8, at(3, 7, 12), "resolved")
        clock.set(at(3, 7, 13))
        services.complaint_update_details(complaint_id=c8.pk, actor=bob, title="Refund for order 1234")
        c6 = submit(at(3, 8, 23, 30), billing, "high")
        move(c6, at(3, 9, 0, 30), "closed")
        c9 = submit(at(3, 8, 10), product, "high", channel="phone")
        move(c9, at(3, 9, 10), "resolved")  # 24 h to the second: at the target is within it
        c10 = submit(at(3, 9, 8), delivery, "urgent", channel="email")
        move(c10, at(3, 9, 12), "resolved")  # 4 h to the second
        c4 = submit(at(3, 10, 8), delivery, "medium")
        assign(c4, at(3, 10, 8, 10), alice, alice)
        assign(c4, at(3, 10, 8, 20), carol, None)
        yield w


EXPECTED_KPIS = {
    "received": (7, 2),  # C2 C3 C4 C6 C8 C9 C10 | C1 C5
    "resolved": (5, 0),  # C1 (again) C3 C8 C9 C10 | C1's first resolution no longer counts
    "open": (4, None),  # C2 C4 C5 C7
    "avg_resolution_hours": (27.6, None),  # (101 + 3 + 6 + 24 + 4) / 5
    "avg_first_response_hours": (1.5, 2.0),  # (C2 2 h + C8 1 h) / 2 | C1 2 h
    "within_target_pct": (60.0, None),  # C3 (urgent after its recategorization), C9 and C10 at their targets
}
EXPECTED_DAILY = [
    (date(2026, 3, 4), 1, 0),
    (date(2026, 3, 5), 1, 2),
    (date(2026, 3, 6), 0, 0),
    (date(2026, 3, 7), 1, 1),
    (date(2026, 3, 8), 2, 0),  # C6, C9
    (date(2026, 3, 9), 1, 2),  # C10 | C9, C10 (C6 was closed, not resolved)
    (date(2026, 3, 10), 1, 0),
]
EXPECTED_CATEGORIES = [("Billing", 3, 42.9), ("Delivery", 2, 28.6), ("Product", 2, 28.6)]  # of 7
EXPECTED_PRIORITIES = [("urgent", 3, 42.9), ("high", 2, 28.6), ("medium", 2, 28.6)]
# (channel, received, resolved, average resolution hours) in the period, most received first, then by name.
EXPECTED_CHANNELS = [("web", 5, 3, 36.67), ("email", 1, 1, 4.0), ("phone", 1, 1, 24.0)]
# C1 reopened (03-05 09:00) and projected then: open again, Alice's again, no longer resolved.
EXPECTED_WHILE_REOPENED = {
    "status counts": {"new": 1, "in_progress": 2, "on_hold": 1, "resolved": 0, "closed": 0},  # C7 | C1 C2 | C5
    "open complaints of Alice": 1,  # C1
    "open complaints of Bob": 2,  # C2 C5
    "C1's fact (status, reopens, resolved_at)": ("in_progress", 1, None),
    "differences from the write side": [],
}
EXPECTED_BACKLOG = [("< 1 day", 1), ("1–3 days", 0), ("3–7 days", 1), ("1–4 weeks", 1), ("> 30 days", 1)]
# Agents are credited with what is assigned to them now: Alice gets C2's first response although Bob wrote it.
EXPECTED_AGENTS = [  # sorted by resolved, descending, then by name, descending
    ("Bob", 1, 1, 0, 6.0, 1.0, 1),  # assigned C8, resolved C8, replied C8, C5 open
    ("Alice", 1, 1, 0, 101.0, 2.0, 1),  # assigned C2 (again), resolved C1, C2's reply, C2 open
]


def _figures(data):
    agents = [
        (a.name, a.assigned, a.resolved, a.reopened, a.avg_resolution_hours, a.avg_first_response_hours, a.open_now)
        for a in data.agents
    ]
    kpis = {name: (k.value, k.previous) for name, k in data.kpis.items()}
    categories = [row[:3] for row in data.categories]  # name, received, share (reopens: see below)
    return kpis, data.daily, categories, data.priorities, data.backlog, agents


EXPECTED = (EXPECTED_KPIS, EXPECTED_DAILY, EXPECTED_CATEGORIES, EXPECTED_PRIORITIES, EXPECTED_BACKLOG, EXPECTED_AGENTS)


def _figures_while_reopened(alice: int, bob: int, c1: int) -> dict:
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute("SELECT status, reopen_count, resolved_at FROM complaint_fact WHERE complaint_id = %s", [c1])
        fact = cursor.fetchone()
    return {
        "status counts": {s: stat("complaint_status_counts", "count", status=s) for s in STATUSES},
        "open complaints of Alice": stat("agent_workload", "open_count", agent_id=alice),
        "open complaints of Bob": stat("agent_workload", "open_count", agent_id=bob),
        "C1's fact (status, reopens, resolved_at)": fact,
        "differences from the write side": compare_read_models(),
    }


def _named(figures) -> dict:
    """The figures by name, so that a failure says which figure differs (not a bare list of numbers)."""
    return dict(zip(("kpis", "daily", "categories", "priorities", "backlog", "agents"), figures, strict=True))


def test_a_reopened_complaint_projected_while_open_counts_as_open_and_its_agents_again(hand_made):
    assert hand_made.while_reopened == EXPECTED_WHILE_REOPENED


def test_projected_dashboard_shows_the_figures_worked_out_by_hand(hand_made):
    with schema_context("alpha"):
        project_everything()
        data = figures.dashboard(period=PERIOD, filters=Filters())
    assert _named(_figures(data)) == _named(EXPECTED)
    assert data.channels == EXPECTED_CHANNELS
    assert data.kpis["received"].change == 5 and data.kpis["received"].change_pct == 250.0
    assert data.kpis["resolved"].change == 5 and data.kpis["resolved"].change_pct is None  # nothing before
    assert data.kpis["avg_first_response_hours"].change == -0.5
    assert data.kpis["avg_first_response_hours"].change_pct == -25.0


def test_rebuilt_read_models_show_the_same_hand_worked_figures(hand_made):
    with schema_context("alpha"):
        rebuild_read_models()
        data = figures.dashboard(period=PERIOD, filters=Filters())
    assert _named(_figures(data)) == _named(EXPECTED)
    assert data.channels == EXPECTED_CHANNELS


def test_filtered_dashboard_matches_hand_worked_figures(hand_made):
    with schema_context("alpha"):
        project_everything()
        urgent = figures.dashboard(period=PERIOD, filters=Filters(priority="urgent"))
        billing = figures.dashboard(period=PERIOD, filters=Filters(category_id=hand_made.categories["Billing"].pk))
    # urgent: C3 (3 h, within), C8 (6 h, late) and C10 (4 h: at the target, within), all received and resolved
    # in the period.
    assert {n: (k.value, k.previous) for n, k in urgent.kpis.items()} == {
        "received": (3, 0),
        "resolved": (3, 0),
        "open": (0, None),
        "avg_resolution_hours": (4.33, None),
        "avg_first_response_hours": (1.0, None),
        "within_target_pct": (66.7, None),
    }
    # Billing: C2 C6 C8 received (C1 before); C1 and C8 resolved, both late; C2 open.
    assert {n: (k.value, k.previous) for n, k in billing.kpis.items()} == {
        "received": (3, 1),
        "resolved": (2, 0),
        "open": (1, None),
        "avg_resolution_hours": (53.5, None),
        "avg_first_response_hours": (1.5, 2.0),
        "within_target_pct": (0.0, None),
    }


def test_read_model_rows_match_hand_worked_counts(hand_made):
    with schema_context("alpha"):
        project_everything()
        alice, bob = hand_made.alice.pk, hand_made.bob.pk
        assert {s: stat("complaint_status_counts", "count", status=s) for s in STATUSES} == {
            "new": 2,  # C4 C7
            "in_progress": 1,  # C2
            "on_hold": 1,  # C5
            "resolved": 4,  # C3 C8 C9 C10
            "closed": 2,  # C1 C6
        }
        # C1's reopen is credited to Alice on C1's created day; her first assignment of C2 went to Bob's credit.
        assert stat("agent_performance_summary", "reopened_count", agent_id=alice, day=date(2026, 3, 1)) == 1
        assert stat("agent_daily_summary", "assigned_count", agent_id=bob) == 2  # C5, C8 (C2 moved to Alice)
        assert stat("agent_daily_summary", "assigned_count", agent_id=alice) == 2  # C1, C2
        assert stat("agent_workload", "open_count", agent_id=0) == 2  # C4 (unassigned again), C7
        # (table, figure, key) -> the stored figure, so that a failure names what differs.
        within = {
            ("complaint_stats_by_day", "resolved_within_target", day): stat(
                "complaint_stats_by_day", "resolved_within_target", day=day
            )
            for day in (date(2026, 3, 2), date(2026, 3, 9))
        }
        assert within == {
            ("complaint_stats_by_day", "resolved_within_target", date(2026, 3, 2)): 0,  # C1's first, 22 h: since undone
            ("complaint_stats_by_day", "resolved_within_target", date(2026, 3, 9)): 2,  # C9, C10: at their targets
        }
        channels = {
            (channel, column): stat("complaint_channel_by_day", column, channel=channel)
            for channel in ("web", "phone", "email")
            for column in ("received_count", "resolved_count")
        }
        assert channels == {
            ("web", "received_count"): 8,
            ("web", "resolved_count"): 3,  # C1 (its second resolution), C3, C8
            ("phone", "received_count"): 1,
            ("phone", "resolved_count"): 1,
            ("email", "received_count"): 1,
            ("email", "resolved_count"): 1,
        }
        assert compare_read_models() == []


def test_the_oracle_works_out_the_same_figures_as_the_hand(hand_made):
    """The oracle the property tests trust, held to the hand-worked numbers."""
    with schema_context("alpha"):
        figures = oracle.dashboard(oracle.snapshot(), start=PERIOD.start, end=PERIOD.end, today=TODAY)
    assert figures["kpis"] == EXPECTED_KPIS
    figures["categories"] = [row[:3] for row in figures["categories"]]
    assert {k: figures[k] for k in ("daily", "categories", "priorities", "backlog")} == {
        k: v for k, v in _named(EXPECTED).items() if k in ("daily", "categories", "priorities", "backlog")
    }
    assert figures["channels"] == EXPECTED_CHANNELS
    agents = {
        v["name"]: (
            v["assigned"],
            v["resolved"],
            v["reopened"],
            v["avg_resolution_hours"],
            v["avg_first_response_hours"],
            v["open_now"],
        )
        for v in figures["agents"].values()
    }
    assert agents == {a[0]: a[1:] for a in EXPECTED_AGENTS}


def test_check_projections_command_is_clean_on_the_hand_made_world(hand_made, capsys):
    with schema_context("alpha"):
        project_everything()
        with connections[READ_ALIAS].cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM complaint_fact")
            assert cursor.fetchone()[0] == 10, "complaint_fact rows"
    call_command("check_projections", "--schema", "alpha")
    assert capsys.readouterr().out.strip().splitlines()[-1] == "alpha: OK"


def test_every_count_on_the_dashboard_links_to_a_list_of_exactly_as_many_complaints(hand_made, client_for):
    with schema_context("alpha"):
        project_everything()
        data = figures.dashboard(period=PERIOD, filters=Filters())
    client = client_for(hand_made, hand_made.carol)
    page = client.get("/dashboard/?period=custom&start=2026-03-04&end=2026-03-10").content.decode()
    links = drill.dashboard_links(page)
    # KPIs 3, daily 6 + 3, categories 3, priorities 3, backlog 4, channels 6, open by status 3, agents 3 + 3,
    # arrivals 7: every non-zero count.
    assert len(links) == drill.links_expected(data) == 44
    shown = {what: n for what, _, n in links}
    # Some by hand: the backlog's oldest bucket is C7; Alice's reopened complaint is none in this period (C1 was
    # received on 03-01); the busiest hours are one complaint each.
    assert (shown["backlog.open"], shown["kpis.received"], shown["kpis.open"]) == (1, 7, 4)
    assert drill.lists_that_disagree(client, links) == []
    filtered = client.get(f"/dashboard/?period=custom&start=2026-03-01&end=2026-03-10&category={C_BILLING(hand_made)}")
    billing_links = drill.dashboard_links(filtered.content.decode())
    assert ("categories.reopened", 1) in {(what, n) for what, _, n in billing_links}  # C1, reopened
    assert drill.lists_that_disagree(client, billing_links) == []


def C_BILLING(world) -> int:  # noqa: N802
    return world.categories["Billing"].pk


def test_reopen_rates_per_category_and_agent_match_the_hand(hand_made):
    """From 03-01: Billing received C1 C2 C6 C8; C1 and C8 were resolved, C1 reopened: 1 of 2, 50 %. Alice holds
    C1 (resolved, reopened) and C2 (never resolved): 100 %; Bob holds C8 (resolved, not reopened): 0 %."""
    with schema_context("alpha"):
        project_everything()
        data = figures.dashboard(period=Period(date(2026, 3, 1), TODAY), filters=Filters())
        snap = oracle.snapshot()
    billing = next(row for row in data.categories if row.category == "Billing")
    assert (billing.received, billing.reopened, billing.reopen_rate_pct) == (4, 1, 50.0)
    rates = {a.name: (a.reopened, a.reopen_rate_pct) for a in data.agents}
    assert rates == {"Alice": (1, 100.0), "Bob": (0, 0.0)}
    expected = oracle.dashboard(snap, start=date(2026, 3, 1), end=TODAY, today=TODAY)
    assert oracle.dashboard_differences(expected, oracle.served(data)) == []


def test_arrivals_by_weekday_and_hour_match_the_hand(hand_made):
    """03-04..03-10 (UTC): C2 Wed 9h, C3 Thu 14h, C8 Sat 6h, C6 Sun 23h, C9 Sun 10h, C10 Mon 8h, C4 Tue 8h."""
    with schema_context("alpha"):
        project_everything()
        data = figures.dashboard(period=PERIOD, filters=Filters())
    busy = {(row.weekday, row.hour): row.received for row in data.arrivals if row.received}
    assert busy == {
        ("Wednesday", 9): 1,
        ("Thursday", 14): 1,
        ("Saturday", 6): 1,
        ("Sunday", 23): 1,
        ("Sunday", 10): 1,
        ("Monday", 8): 1,
        ("Tuesday", 8): 1,
    }
    assert len(data.arrivals) == 7 * 24
