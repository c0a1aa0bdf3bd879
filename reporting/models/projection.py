"""The projection's own state, in the tenant's schema of the `reporting` database (the checkpoint, dead letters)
and in the public schema (each tenant's status, for health checks and the sweep)."""

from django.db import models


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


class TenantProjectionStatus(models.Model):
    """One row per tenant in the reporting database's *public* schema: the figures of its checkpoint that
    /healthz and /metrics need, so that a probe reads every tenant with one query instead of opening each
    schema (see reporting.status). Written only where the tenant's checkpoint is, in the same transaction and
    under its row lock, and only when a figure changed: an idle tenant costs no write. No row: nothing was
    ever waiting and nothing is dead-lettered."""

    schema_name = models.CharField(max_length=63, primary_key=True)
    pending_count = models.IntegerField(default=0)
    oldest_pending_at = models.DateTimeField(null=True)
    dead_letters = models.IntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "projection_tenant_status"
        indexes = [
            # What a probe reads: the tenants with something to report, however many are idle.
            models.Index(
                fields=["schema_name"],
                name="projection_status_attention",
                condition=models.Q(pending_count__gt=0) | models.Q(dead_letters__gt=0),
            )
        ]


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
