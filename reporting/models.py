"""Read models, in the tenant's schema of the `reporting` database (see helpdesk.routers).

Every table is maintained incrementally by reporting.projector from domain events, and can be rebuilt from the
write side by reporting.rebuild. Days are the tenant's local days in the zone the
checkpoint names (reporting.days). Agent id 0 stands for "unassigned".
"""

from django.db import models


class ComplaintFact(models.Model):
    """One row per complaint: its current projection-relevant state. Lets the projector subtract a complaint's
    old contribution and add its new one when it is reopened, reassigned or recategorized."""

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

    class Meta:
        db_table = "complaint_fact"


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


class ComplaintStatsByDay(models.Model):
    """Per UTC day × category × priority: created (by created day), resolved and resolution sums (by resolved
    day), first responses and their sums (by first-response day)."""

    day = models.DateField()
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)
    created_count = models.IntegerField(default=0)
    resolved_count = models.IntegerField(default=0)
    resolved_within_target = models.IntegerField(default=0)
    resolution_seconds_sum = models.BigIntegerField(default=0)
    first_response_count = models.IntegerField(default=0)
    first_response_seconds_sum = models.BigIntegerField(default=0)

    class Meta:
        db_table = "complaint_stats_by_day"
        constraints = [models.UniqueConstraint(fields=["day", "category_id", "priority"], name="stats_day_key")]


class AgentFigures(models.Model):
    """What agent read models count: assigned (by assignment day), resolved and resolution sums (by resolved
    day), first responses (by first-response day), reopens (by the complaint's created day)."""

    assigned_count = models.IntegerField(default=0)
    resolved_count = models.IntegerField(default=0)
    reopened_count = models.IntegerField(default=0)
    resolution_seconds_sum = models.BigIntegerField(default=0)
    first_response_count = models.IntegerField(default=0)
    first_response_seconds_sum = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class AgentPerformanceSummary(AgentFigures):
    """AgentFigures per UTC day × agent × category × priority."""

    day = models.DateField()
    agent_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)

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

    class Meta:
        db_table = "agent_daily_summary"
        constraints = [models.UniqueConstraint(fields=["day", "agent_id"], name="agent_day_key")]


class AgentWorkload(models.Model):
    """Open complaints now, per agent (0 = unassigned) × category × priority."""

    agent_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)
    open_count = models.IntegerField(default=0)

    class Meta:
        db_table = "agent_workload"
        constraints = [models.UniqueConstraint(fields=["agent_id", "category_id", "priority"], name="workload_key")]


class ComplaintCategoryDistribution(models.Model):
    """All-time per category × priority: total, open now, resolved (resolved or closed)."""

    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)
    total = models.IntegerField(default=0)
    open = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)

    class Meta:
        db_table = "complaint_category_distribution"
        constraints = [models.UniqueConstraint(fields=["category_id", "priority"], name="category_dist_key")]


class StatusCount(models.Model):
    status = models.CharField(max_length=12)
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)
    count = models.IntegerField(default=0)

    class Meta:
        db_table = "complaint_status_counts"
        constraints = [models.UniqueConstraint(fields=["status", "category_id", "priority"], name="status_count_key")]


class OpenBacklogByDay(models.Model):
    """Open complaints now, by their created day; ages are bucketed when read (age moves with the clock)."""

    created_day = models.DateField()
    category_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)
    open_count = models.IntegerField(default=0)

    class Meta:
        db_table = "open_backlog_by_day"
        constraints = [
            models.UniqueConstraint(fields=["created_day", "category_id", "priority"], name="backlog_day_key")
        ]


class ProjectionCheckpoint(models.Model):
    """The tenant's progress through its event stream (one row). Written in the same transaction as the
    projection rows it covers; its row lock serializes projectors of one tenant.

    What has been applied (see reporting.projector): every event whose transaction is visible in
    `applied_snapshot`, plus, while a batch is in progress, the events visible in `batch_snapshot` but not in
    `applied_snapshot` up to (`last_tx_id`, `last_event_id`) in (tx_id, id) order."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # PostgreSQL snapshots of the write database, as text ("xmin:xmax:xip,..."); "" = none yet / no batch.
    applied_snapshot = models.TextField(default="", blank=True)
    batch_snapshot = models.TextField(default="", blank=True)
    last_tx_id = models.BigIntegerField(default=0)
    last_event_id = models.BigIntegerField(default=0)
    last_event_at = models.DateTimeField(null=True)
    applied_at = models.DateTimeField(null=True)
    # When the read side was last known to hold every committed event (set by projector and sweep).
    caught_up_at = models.DateTimeField(null=True)
    events_applied = models.BigIntegerField(default=0)
    pending_count = models.IntegerField(default=0)
    oldest_pending_at = models.DateTimeField(null=True)
    rebuilt_at = models.DateTimeField(null=True)
    # The zone whose local days every read model is bucketed by. Only a rebuild changes it, in the transaction
    # that rebuckets everything: the projector and the dashboards use it, not the tenant's (maybe newer) zone.
    # db_default too: rows inserted by raw SQL (the freshness benchmark's tenants) get one.
    time_zone = models.CharField(max_length=64, default="UTC", db_default="UTC")

    class Meta:
        db_table = "projection_checkpoint"


class DeadLetter(models.Model):
    """An event that kept failing. The tenant's later events flow past it; an admin can retry it."""

    event_id = models.BigIntegerField(unique=True)
    event_type = models.CharField(max_length=40)
    complaint_id = models.BigIntegerField(null=True)
    complaint_version = models.PositiveIntegerField(null=True)
    payload = models.JSONField()
    occurred_at = models.DateTimeField()
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=0)
    dead = models.BooleanField(default=False, help_text="Gave up retrying; the checkpoint moved past it.")
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=20, blank=True)

    class Meta:
        db_table = "projection_dead_letter"
        ordering = ["-last_failed_at"]

    def __str__(self) -> str:
        return f"event {self.event_id} ({self.event_type})"
