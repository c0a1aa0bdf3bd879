"""A believable year of complaints: weekly and seasonal rhythm, a few categories drawing most complaints,
priority-dependent resolution and response times, ~85 % resolved, some reopened, busy and quiet agents."""

import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from complaints.bulk import BulkComplaint, Transition
from complaints.models import Category, Channel, Priority, Status
from complaints.roles import Role, user_set_role

CATEGORY_NAMES = [
    "Delivery delays",
    "Billing",
    "Product quality",
    "Returns & refunds",
    "Customer service",
    "Account access",
    "Website & app",
    "Warranty",
    "Pricing",
    "Other",
]
AGENT_NAMES = [
    ("Ada", "Lovelace"),
    ("Grace", "Hopper"),
    ("Alan", "Turing"),
    ("Edsger", "Dijkstra"),
    ("Barbara", "Liskov"),
    ("Donald", "Knuth"),
    ("Margaret", "Hamilton"),
    ("Ken", "Thompson"),
    ("Frances", "Allen"),
    ("John", "Backus"),
    ("Radia", "Perlman"),
    ("Leslie", "Lamport"),
]
PRIORITY_WEIGHTS = {Priority.LOW: 30, Priority.MEDIUM: 45, Priority.HIGH: 18, Priority.URGENT: 7}
CHANNEL_WEIGHTS = {Channel.WEB: 45, Channel.EMAIL: 30, Channel.PHONE: 20, Channel.API: 5}
# Median hours, by priority: time to resolve, and time to the first public reply.
RESOLUTION_MEDIAN_H = {Priority.URGENT: 3, Priority.HIGH: 14, Priority.MEDIUM: 40, Priority.LOW: 90}
RESPONSE_MEDIAN_H = {Priority.URGENT: 0.4, Priority.HIGH: 1.5, Priority.MEDIUM: 5, Priority.LOW: 10}
TITLES = {
    "Delivery delays": ["Parcel not delivered", "Order arrived two weeks late", "Tracking shows no movement"],
    "Billing": ["Charged twice", "Invoice amount is wrong", "Refund not on my statement"],
    "Product quality": ["Item broke after a week", "Colour differs from the photos", "Missing parts in the box"],
    "Returns & refunds": ["Return label does not work", "Refund still pending", "Return refused at the store"],
}
FIRST_NAMES = ["Maria", "Jan", "Sofia", "Lukas", "Emma", "Noah", "Mia", "Elias", "Lena", "Paul", "Anna", "Ben"]
LAST_NAMES = ["Muller", "Schmidt", "Garcia", "Rossi", "Novak", "Jensen", "Silva", "Dubois", "Kowalski", "Smith"]


def ensure_categories(count: int) -> list[Category]:
    names = CATEGORY_NAMES[:count] + [f"Category {i}" for i in range(len(CATEGORY_NAMES), count)]
    return [Category.objects.get_or_create(name=name)[0] for name in names]


def ensure_agents(count: int) -> list:
    User = get_user_model()
    agents = []
    for i in range(count):
        first, last = AGENT_NAMES[i % len(AGENT_NAMES)]
        user, created = User.objects.get_or_create(
            username=f"agent{i + 1:02d}", defaults={"first_name": first, "last_name": last}
        )
        if created:
            user.set_unusable_password()
            user.save()
            user_set_role(user=user, role=Role.AGENT)
        agents.append(user)
    return agents


def _day_weights(days: list[datetime]) -> list[float]:
    weights = []
    for i, day in enumerate(days):
        weekday = {5: 0.45, 6: 0.35}.get(day.weekday(), 1.0)
        season = 1 + 0.25 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 350) / 365)  # peak before Christmas
        trend = 0.85 + 0.3 * i / max(len(days) - 1, 1)  # the business grows
        weights.append(weekday * season * trend)
    return weights


def _lognormal_hours(rng: random.Random, median: float, sigma: float = 0.9) -> timedelta:
    return timedelta(hours=median * math.exp(rng.gauss(0, sigma)))


def generate(
    *, count: int, months: int, categories: list[Category], agents: list, seed: int, now: datetime | None = None
) -> Iterator[BulkComplaint]:
    rng = random.Random(seed)
    now = now or timezone.now()
    start = (now - timedelta(days=round(months * 30.44))).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [start + timedelta(days=d) for d in range((now - start).days + 1)]
    cum_days = list(_accumulate(_day_weights(days)))
    cat_weights = [1 / (rank + 1) ** 1.1 for rank in range(len(categories))]  # a few draw most complaints
    agent_weights = [rng.uniform(0.5, 1.6) for _ in agents]
    priorities, pw = zip(*PRIORITY_WEIGHTS.items(), strict=True)
    channels, chw = zip(*CHANNEL_WEIGHTS.items(), strict=True)
    for _ in range(count):
        day = rng.choices(days, cum_weights=cum_days)[0]
        hour = min(max(rng.gauss(13, 3.2), 0), 23.99)
        created = day + timedelta(hours=hour, seconds=rng.randint(0, 3599))
        if created > now:
            created = now - timedelta(minutes=rng.randint(1, 600))
        category = rng.choices(categories, weights=cat_weights)[0]
        priority = rng.choices(priorities, weights=pw)[0]
        yield _lifecycle(
            rng, now, created, category, priority, rng.choices(channels, weights=chw)[0], agents, agent_weights
        )


def _accumulate(values):
    total = 0.0
    for v in values:
        total += v
        yield total


def _lifecycle(rng, now, created, category, priority, channel, agents, agent_weights) -> BulkComplaint:
    customer = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    titles = TITLES.get(category.name, [f"Problem with {category.name.lower()}"])
    item = BulkComplaint(
        title=rng.choice(titles),
        description="Generated demo complaint.",
        customer_name=customer,
        customer_email=f"{customer.lower().replace(' ', '.')}{rng.randint(1, 999)}@example.com",
        category=category,
        priority=priority,
        channel=channel,
        status=Status.NEW,
        created_at=created,
    )
    if rng.random() < 0.01:  # spam or duplicate: closed without a resolution
        item.status, item.closed_at = Status.CLOSED, created + timedelta(minutes=rng.randint(5, 300))
        if item.closed_at > now:
            item.status, item.closed_at = Status.NEW, None
        else:
            item.transitions.append(Transition(Status.NEW, Status.CLOSED, item.closed_at, "Duplicate"))
        return item
    assigned_at = created + timedelta(minutes=rng.expovariate(1 / 20))
    if assigned_at < now and agents:
        item.assignee = rng.choices(agents, weights=agent_weights)[0]
        item.assigned_at = assigned_at
    response = created + _lognormal_hours(rng, RESPONSE_MEDIAN_H[priority])
    if item.assignee and response < now and rng.random() < 0.93:
        item.first_response_at = max(response, assigned_at)
    if not item.assignee:
        return item
    started = item.first_response_at or assigned_at
    item.status = Status.IN_PROGRESS
    item.transitions.append(Transition(Status.NEW, Status.IN_PROGRESS, started))
    if rng.random() < 0.08:  # waiting for the customer for a while
        hold = started + timedelta(hours=rng.uniform(0.5, 6))
        if hold < now:
            item.status = Status.ON_HOLD
            item.transitions.append(Transition(Status.IN_PROGRESS, Status.ON_HOLD, hold, "Waiting for customer"))
            back = hold + timedelta(hours=rng.uniform(4, 48))
            if back >= now:
                return item
            item.status = Status.IN_PROGRESS
            item.transitions.append(Transition(Status.ON_HOLD, Status.IN_PROGRESS, back))
            started = back
    if rng.random() > 0.9:
        return item  # stays open: the ~10 % backlog tail
    resolved = max(started, created + _lognormal_hours(rng, RESOLUTION_MEDIAN_H[priority]))
    if resolved >= now:
        return item
    if rng.random() < 0.06:  # reopened once, resolved again later
        reopened = resolved + timedelta(hours=rng.uniform(2, 72))
        item.transitions.append(Transition(item.status, Status.RESOLVED, resolved))
        if reopened >= now:
            item.status, item.resolved_at = Status.RESOLVED, resolved
            return item
        item.transitions.append(Transition(Status.RESOLVED, Status.IN_PROGRESS, reopened, "Customer came back"))
        item.reopen_count, item.status = 1, Status.IN_PROGRESS
        resolved = reopened + _lognormal_hours(rng, RESOLUTION_MEDIAN_H[priority] / 2)
        if resolved >= now:
            return item
    item.transitions.append(Transition(item.status, Status.RESOLVED, resolved))
    item.status, item.resolved_at = Status.RESOLVED, resolved
    closed = resolved + timedelta(days=rng.uniform(2, 7))
    if closed < now and rng.random() < 0.7:
        item.transitions.append(Transition(Status.RESOLVED, Status.CLOSED, closed))
        item.status, item.closed_at = Status.CLOSED, closed
    return item
