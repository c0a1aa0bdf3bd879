"""Celery tasks of the read side: thin wrappers that set the tenant and call the projector."""

import logging
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from reporting import projector
from reporting.rebuild import rebuild_read_models
from reporting.sweep import sweep_due

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError)
# How long a queued zone rebuild holds back further ones (if its message were lost, the next change queues again).
REBUILD_QUEUED_MARK_SECONDS = 600
# Per-tenant work: retried on transient errors only, with bounded exponential backoff; safe to redeliver.
TENANT_TASK: dict[str, Any] = dict(
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=1,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
)


@shared_task(**TENANT_TASK)
def project_tenant(self, schema_name: str) -> int:
    """Apply the tenant's pending events. Idempotent: running it twice, or on two workers at once, applies
    each event exactly once (the checkpoint row lock serializes them)."""
    with schema_context(schema_name):
        result = projector.catch_up()
    if result.retry_after is not None:
        # A failing event waits for its backoff; come back for it (and the events behind it) then.
        project_tenant.apply_async(
            args=[schema_name], countdown=result.retry_after, headers={"_schema_name": schema_name}
        )
    elif result.more_waiting:
        project_tenant.apply_async(args=[schema_name], headers={"_schema_name": schema_name})
    return result.applied


@shared_task(acks_late=False, ignore_result=True)
def sweep_tenants() -> int:
    """Periodic safety net: queue a catch-up for every tenant whose events have waited too long (a lost broker
    message, Redis down at commit time), and refresh the freshness figures (see reporting.sweep)."""
    schemas = list(
        get_tenant_model().objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True)
    )
    try:
        stale = sweep_due(schemas)
    except TRANSIENT_ERRORS:
        logger.warning("sweep could not reach a database", exc_info=True)
        return 0
    for schema_name in stale:
        project_tenant.apply_async(args=[schema_name], headers={"_schema_name": schema_name})
    return len(stale)


def _rebuild_queued_key(schema_name: str) -> str:
    return f"reporting:rebuild-queued:{schema_name}"


def queue_zone_rebuild(schema_name: str) -> None:
    """Queue the rebuild of a zone change, unless one is queued and has not started yet: ten changes in a second
    queue one rebuild, which builds in the zone current when it starts. If the cache cannot answer, it queues."""
    try:
        first = cache.add(_rebuild_queued_key(schema_name), 1, timeout=REBUILD_QUEUED_MARK_SECONDS)
    except Exception:
        first = True
    if first:
        rebuild_tenant.apply_async(args=[schema_name], headers={"_schema_name": schema_name})


@shared_task(**TENANT_TASK)
def rebuild_tenant(self, schema_name: str) -> int:
    """Rebuild the tenant's read models in its current time zone (queued when the zone changes), unless they are
    built in it already (a rebuild queued before this one built it, or the zone came back). Idempotent: a rebuild
    replaces everything; dashboards show the old figures, in the old zone, until it commits."""
    try:
        # Before reading the zone: a change committed from now on queues a rebuild of its own.
        cache.delete(_rebuild_queued_key(schema_name))
    except Exception:
        logger.warning("could not clear the rebuild mark", extra={"tenant": schema_name})
    with schema_context(schema_name):
        result = rebuild_read_models(unless_in_current_zone=True)
    message = "rebuilt read models" if result["rebuilt"] else "read models already in the current zone"
    logger.info(message, extra={"tenant": schema_name, "time_zone": result["time_zone"]})
    return result["complaints"]
