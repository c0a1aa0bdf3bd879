"""Read models, in the tenant's schema of the `reporting` database (see helpdesk.routers).

Each read model is declared once, here, on its model: the grain is its unique constraint, the measures are its
other columns, and `contributions` says how one complaint's fact contributes (see reporting.readmodel). The
projector maintains every declared table incrementally from domain events, reporting.rebuild rebuilds and
checks them, all from these declarations. Days are the tenant's local days in the zone the checkpoint names
(reporting.days). Agent id 0 stands for "unassigned".
"""

from django.db import models

from reporting.facts import FACT_TABLE
from reporting.readmodel import (
    EVER_RESOLVED,
    FIRST_RESPONSE_SECONDS,
    IS_OPEN,
    ONE,
    REOPENED,
    RESOLUTION_SECONDS,
    WAS_RESOLVED,
    WITHIN_TARGET,
    Branch,
    ReadModel,
    agent_or_unassigned,
    column,
    day_of,
    hour_of,
    present,
)


class ComplaintFact(models.Model):
    """One row per complaint: its current projection-relevant state. Lets the projector subtract a complaint's
    old contribution and add its new one when it is reopened, reassigned or recategorized. The columns are
    reporting.facts.Fact's (a test pins them together)."""

    complaint_id = models.BigIntegerField(primary_key=True)
    reference = models.CharField(max_length=32)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=12)
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)
    assignee_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField()
    assigned_at = models.DateTimeField(null=True)
    first_response_at = models.DateTimeField(null=True)
    resolved_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)
    reopen_count = models.PositiveIntegerField(default=0)
    channel = models.CharField(max_length=10, default="")

    class Meta:
        db_table = FACT_TABLE


class CategoryDim(models.Model):
    category_id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=80)
    active = models.BooleanField(default=True)

    class Meta:
        db_table = "category_dim"


class AgentDim(models.Model):
    agent_id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=150)

    class Meta:
        db_table = "agent_dim"


STATS_BRANCHES = (
    Branch(day=day_of("created_at"), created_count=ONE, reopened_count=REOPENED, ever_resolved_count=EVER_RESOLVED),
    Branch(
        when=(present("resolved_at"),),
        day=day_of("resolved_at"),
        resolved_count=ONE,
        resolved_within_target=WITHIN_TARGET,
        resolution_seconds_sum=RESOLUTION_SECONDS,
    ),
    Branch(
        when=(present("first_response_at"),),
        day=day_of("first_response_at"),
        first_response_count=ONE,
        first_response_seconds_sum=FIRST_RESPONSE_SECONDS,
    ),
)


class StatsFigures(models.Model):
    """What complaint statistics count: created, and of those the ones ever resolved and the ones reopened (by
    created day: the reopen rate's cohort), resolved and resolution sums (by resolved day), first responses and
    their sums (by first-response day)."""

    created_count = models.IntegerField(default=0)
    reopened_count = models.IntegerField(default=0)
    ever_resolved_count = models.IntegerField(default=0)
    resolved_count = models.IntegerField(default=0)
    resolved_within_target = models.IntegerField(default=0)
    resolution_seconds_sum = models.BigIntegerField(default=0)
    first_response_count = models.IntegerField(default=0)
    first_response_seconds_sum = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class ComplaintStatsByDay(StatsFigures):
    """StatsFigures per local day × category × priority (what filtered dashboards and the category and priority
    figures read)."""

    day = models.DateField()
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)

    contributions = ReadModel("stats", *STATS_BRANCHES)

    class Meta:
        db_table = "complaint_stats_by_day"
        constraints = [models.UniqueConstraint(fields=["day", "category_id", "priority"], name="stats_day_key")]


class ComplaintStatsDaily(StatsFigures):
    """complaint_stats_by_day rolled up to the day: what the unfiltered dashboard's KPIs and daily chart read
    (one row a day, however many categories a tenant has)."""

    day = models.DateField()

    contributions = ReadModel("stats_day", *STATS_BRANCHES)

    class Meta:
        db_table = "complaint_stats_daily"
        constraints = [models.UniqueConstraint(fields=["day"], name="stats_daily_key")]


def _agent_credit(day: str, *when, **measures) -> Branch:
    """An assigned complaint counts for its agent on the day of `day`."""
    return Branch(when=(present("assignee_id"), *when), day=day_of(day), agent_id=column("assignee_id"), **measures)


AGENT_BRANCHES = (
    _agent_credit("assigned_at", present("assigned_at"), assigned_count=ONE),
    _agent_credit("resolved_at", present("resolved_at"), resolved_count=ONE, resolution_seconds_sum=RESOLUTION_SECONDS),
    _agent_credit(
        "first_response_at",
        present("first_response_at"),
        first_response_count=ONE,
        first_response_seconds_sum=FIRST_RESPONSE_SECONDS,
    ),
    _agent_credit("created_at", WAS_RESOLVED, reopened_count=REOPENED, ever_resolved_count=ONE),
)


class AgentFigures(models.Model):
    """What agent read models count: assigned (by assignment day), resolved and resolution sums (by resolved
    day), first responses (by first-response day), and by the complaint's created day the complaints ever
    resolved and those reopened (complaints, not reopens: the list behind the figure holds that many)."""

    assigned_count = models.IntegerField(default=0)
    resolved_count = models.IntegerField(default=0)
    reopened_count = models.IntegerField(default=0)
    ever_resolved_count = models.IntegerField(default=0)
    resolution_seconds_sum = models.BigIntegerField(default=0)
    first_response_count = models.IntegerField(default=0)
    first_response_seconds_sum = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class AgentPerformanceSummary(AgentFigures):
    """AgentFigures per local day × agent × category × priority."""

    day = models.DateField()
    agent_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)

    contributions = ReadModel("agent", *AGENT_BRANCHES)

    class Meta:
        db_table = "agent_performance_summary"
        constraints = [
            models.UniqueConstraint(fields=["day", "agent_id", "category_id", "priority"], name="agent_perf_key")
        ]


class AgentDailySummary(AgentFigures):
    """agent_performance_summary rolled up over category and priority: what the unfiltered dashboard reads
    (a few thousand rows a year instead of a hundred thousand)."""

    day = models.DateField()
    agent_id = models.BigIntegerField()

    contributions = ReadModel("agent_day", *AGENT_BRANCHES)

    class Meta:
        db_table = "agent_daily_summary"
        constraints = [models.UniqueConstraint(fields=["day", "agent_id"], name="agent_day_key")]


class AgentWorkload(models.Model):
    """Open complaints now, per agent (0 = unassigned) × category × priority."""

    agent_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)
    open_count = models.IntegerField(default=0)

    contributions = ReadModel("workload", Branch(when=(IS_OPEN,), agent_id=agent_or_unassigned(), open_count=ONE))

    class Meta:
        db_table = "agent_workload"
        constraints = [models.UniqueConstraint(fields=["agent_id", "category_id", "priority"], name="workload_key")]


class StatusCount(models.Model):
    """Complaints now, per status × category × priority (the dashboard shows the open ones)."""

    status = models.CharField(max_length=12)
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)
    count = models.IntegerField(default=0)

    contributions = ReadModel("status", Branch(count=ONE))

    class Meta:
        db_table = "complaint_status_counts"
        constraints = [models.UniqueConstraint(fields=["status", "category_id", "priority"], name="status_count_key")]


class OpenBacklogByDay(models.Model):
    """Open complaints now, by their created day; ages are bucketed when read (age moves with the clock)."""

    created_day = models.DateField()
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)
    open_count = models.IntegerField(default=0)

    contributions = ReadModel("backlog", Branch(when=(IS_OPEN,), created_day=day_of("created_at"), open_count=ONE))

    class Meta:
        db_table = "open_backlog_by_day"
        constraints = [
            models.UniqueConstraint(fields=["created_day", "category_id", "priority"], name="backlog_day_key")
        ]


CHANNEL_BRANCHES = (
    Branch(day=day_of("created_at"), received_count=ONE),
    Branch(
        when=(present("resolved_at"),),
        day=day_of("resolved_at"),
        resolved_count=ONE,
        resolution_seconds_sum=RESOLUTION_SECONDS,
    ),
)


class ChannelFigures(models.Model):
    """What channel statistics count: received (by created day), resolved and resolution sums (by resolved
    day)."""

    channel = models.CharField(max_length=10)
    received_count = models.IntegerField(default=0)
    resolved_count = models.IntegerField(default=0)
    resolution_seconds_sum = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class ChannelStatsByDay(ChannelFigures):
    """ChannelFigures per local day × channel × category × priority (filtered dashboards)."""

    day = models.DateField()
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)

    contributions = ReadModel("channel", *CHANNEL_BRANCHES)

    class Meta:
        db_table = "complaint_channel_by_day"
        constraints = [
            models.UniqueConstraint(fields=["day", "channel", "category_id", "priority"], name="channel_day_key")
        ]


class ChannelDaily(ChannelFigures):
    """complaint_channel_by_day rolled up to day × channel: what the unfiltered dashboard reads."""

    day = models.DateField()

    contributions = ReadModel("channel_day", *CHANNEL_BRANCHES)

    class Meta:
        db_table = "complaint_channel_daily"
        constraints = [models.UniqueConstraint(fields=["day", "channel"], name="channel_daily_key")]


ARRIVAL_BRANCHES = (Branch(day=day_of("created_at"), hour=hour_of("created_at"), received_count=ONE),)


class ArrivalsByHour(models.Model):
    """Complaints received per local day × local hour (the wall clock's: DST's repeated hour counts in it
    twice over, the skipped one stays empty) × category × priority: when work arrives (filtered dashboards)."""

    day = models.DateField()
    hour = models.SmallIntegerField()
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)
    received_count = models.IntegerField(default=0)

    contributions = ReadModel("arrivals", *ARRIVAL_BRANCHES)

    class Meta:
        db_table = "complaint_arrivals_by_hour"
        constraints = [
            models.UniqueConstraint(fields=["day", "hour", "category_id", "priority"], name="arrivals_hour_key")
        ]


class ArrivalsHourly(models.Model):
    """complaint_arrivals_by_hour rolled up to day × hour: what the unfiltered dashboard's heat map reads."""

    day = models.DateField()
    hour = models.SmallIntegerField()
    received_count = models.IntegerField(default=0)

    contributions = ReadModel("arrivals_hour", *ARRIVAL_BRANCHES)

    class Meta:
        db_table = "complaint_arrivals_hourly"
        constraints = [models.UniqueConstraint(fields=["day", "hour"], name="arrivals_hourly_key")]
