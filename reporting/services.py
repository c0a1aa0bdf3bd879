"""Commands of the read side."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connections
from reporting.models import DeadLetter, ProjectionCheckpoint
from reporting.outbox import Event
from reporting.projector import EventBatch, PoisonEvent, lock_checkpoint
from reporting.status import publish


def dead_letter_retry(*, dead_letter_id: int) -> str:
    """Re-apply a dead-lettered event (its payload as stored in the letter, which an operator may have fixed).

    Returns "applied", "superseded" (a later event of the same complaint already carries newer state: nothing to
    do) or "failed" (still poison; the error is updated). Holds the checkpoint lock, like the projector.
    """
    with transaction.atomic(using=READ_ALIAS):
        checkpoint = lock_checkpoint()
        letter = DeadLetter.objects.using(READ_ALIAS).select_for_update().get(pk=dead_letter_id)
        if letter.resolved_at:
            return letter.resolution
        event = Event(
            letter.event_id,
            0,
            letter.event_type,
            letter.complaint_id,
            letter.complaint_version,
            letter.payload,
            letter.occurred_at,
        )
        batch = EventBatch(checkpoint.time_zone)
        batch.preload([event])
        now = timezone.now()
        try:
            applied = batch.apply(event)
        except PoisonEvent as exc:
            letter.error, letter.attempts, letter.last_failed_at = str(exc), letter.attempts + 1, now
            letter.save(update_fields=["error", "attempts", "last_failed_at"])
            return "failed"
        batch.write()
        if applied:  # the read models changed: the figures' version moves (reporting.freshness)
            ProjectionCheckpoint.objects.using(READ_ALIAS).filter(id=1).update(
                applied_at=now, events_applied=F("events_applied") + 1
            )
        letter.resolved_at, letter.resolution = now, "applied" if applied else "superseded"
        letter.save(update_fields=["resolved_at", "resolution"])
        publish()
        return letter.resolution


def projection_refresh_request() -> None:
    """Queue an immediate catch-up of the current tenant's read models (the dashboard's Refresh button)."""
    from reporting.tasks import project_tenant

    schema_name = connections[READ_ALIAS].schema_name
    project_tenant.apply_async(args=[schema_name], headers={"_schema_name": schema_name}, priority=0)
