"""On seeded random work in a zone with a DST change inside the period (Europe/Berlin, 2026-03-29), every count on
the dashboard links to a staff list (and an API list) of exactly as many complaints, unfiltered and filtered; the
arrivals figure agrees with the independent oracle there too."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django_tenants.utils import schema_context

from complaints import services
from complaints.errors import DomainError
from complaints.models import Complaint
from reporting import figures, selectors
from reporting.rebuild import compare_read_models, rebuild_read_models
from reporting.selectors import Filters, Period
from tenants.models import Tenant
from tests import oracle
from tests.clock import install
from tests.factories import ComplaintFactory
from tests.reporting import drill

ZONE = "Europe/Berlin"
TODAY = date(2026, 4, 10)
START = datetime(2026, 2, 20, 0, 0, tzinfo=UTC)
PERIOD = Period(date(2026, 3, 20), TODAY)  # the clocks go forward on 03-29


@pytest.fixture
def random_world(committed, monkeypatch):
    world = committed["alpha"]
    Tenant.objects.filter(schema_name="alpha").update(time_zone=ZONE)
    world.tenant.time_zone = ZONE
    monkeypatch.setattr(selectors, "today", lambda zone=None: TODAY)
    clock = install(monkeypatch, START)
    rng = random.Random(27)
    agents, categories = [world.alice, world.bob], list(world.categories.values())
    with schema_context("alpha"):
        for _ in range(70):
            at = START + timedelta(minutes=rng.randrange(49 * 24 * 60))  # up to 2026-04-10
            clock.set(at)
            complaint = ComplaintFactory(
                actor=world.alice,
                category=rng.choice(categories),
                priority=rng.choice(["low", "medium", "high", "urgent"]),
                channel=rng.choice(["web", "email", "phone", "api"]),
            )
            for _ in range(rng.randrange(5)):
                clock.advance(minutes=rng.randrange(1, 3 * 24 * 60))
                if clock() >= datetime(2026, 4, 10, 9, tzinfo=UTC):
                    break
                _random_step(rng, complaint.pk, world, agents)
        clock.set(datetime(2026, 4, 10, 10, tzinfo=UTC))  # the list's "today" for ages: TODAY in Berlin
        rebuild_read_models()
        assert compare_read_models() == []
    return world


def _random_step(rng, complaint_id: int, world, agents) -> None:
    current = Complaint.objects.get(pk=complaint_id)
    actor = current.assignee or world.alice
    try:
        step = rng.choice(["assign", "move", "move", "reply"])
        if step == "assign":
            assignee = rng.choice([*agents, None])
            services.complaint_assign(complaint_id=complaint_id, actor=world.carol, assignee=assignee)
        elif step == "reply":
            services.complaint_comment(complaint_id=complaint_id, actor=actor, body="On it")
        elif current.allowed_transitions():
            to = rng.choice(current.allowed_transitions())
            services.complaint_transition(complaint_id=complaint_id, actor=actor, to_status=to)
    except DomainError:
        pass  # a refused step writes nothing


def test_every_link_lists_exactly_its_count_on_random_work_across_a_dst_change(random_world, client_for):
    client = client_for(random_world, random_world.carol)
    billing = random_world.categories["Billing"].pk
    checked = 0
    for query in ("", f"&category={billing}", "&priority=high"):
        page = client.get(f"/dashboard/?period=custom&start={PERIOD.start}&end={PERIOD.end}{query}")
        links = drill.dashboard_links(page.content.decode())
        assert links, query
        assert drill.lists_that_disagree(client, links) == [], query
        checked += len(links)
    with schema_context("alpha"):
        data = figures.dashboard(period=PERIOD, filters=Filters())
        expected = oracle.dashboard(oracle.snapshot(), start=PERIOD.start, end=PERIOD.end, today=TODAY)
    assert oracle.dashboard_differences(expected, oracle.served(data)) == []
    assert checked > 100
