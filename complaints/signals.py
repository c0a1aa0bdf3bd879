"""React to new domain events by queueing the projector, strictly after the commit.

No business logic here: the receiver only schedules the hand-off. The task is sent by name, so the write side
never imports the read side.
"""

import logging

from celery import current_app
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_migrate, post_save, pre_save
from django.dispatch import receiver

from complaints.accounts import credentials_weakened, user_credentials_revoke
from complaints.contract import PENDING_TENANTS_KEY, PROJECT_TASK
from complaints.events import agent_event_record
from complaints.models import OutboxEvent
from helpdesk.databases import WRITE_ALIAS
from helpdesk.redis import redis_client
from helpdesk.tenancy import connection

logger = logging.getLogger(__name__)


def queue_projection(schema_name: str) -> None:
    """Mark the tenant for the sweep and ask a worker to apply its pending events. Never raises: if Redis is
    down, the sweep's periodic full pass finds the events once it is back (they are already committed)."""
    try:
        redis_client().sadd(PENDING_TENANTS_KEY, schema_name)
        current_app.send_task(PROJECT_TASK, args=[schema_name], headers={"_schema_name": schema_name})
    except Exception:  # broker unreachable, etc.
        logger.warning("could not queue projection; the sweep will catch up", extra={"tenant": schema_name})


@receiver(post_save, sender=OutboxEvent, dispatch_uid="outbox_event_queue_projection")
def outbox_event_saved(sender, instance, created, **kwargs):
    if not created:
        return
    # Capture the schema now: by the time on_commit runs, the caller may have left the tenant's context.
    schema_name = connection.schema_name
    transaction.on_commit(lambda: queue_projection(schema_name))


@receiver(pre_save, sender=get_user_model(), dispatch_uid="user_credentials_before")
def user_credentials_before(sender, instance, update_fields=None, **kwargs):
    # A security invariant, not business logic: it must hold whichever code saves the user (see complaints.accounts).
    if instance.pk is None or update_fields == frozenset({"last_login"}):
        instance._credentials_before = None
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("password", "is_active").first()
    instance._credentials_before = stored


@receiver(post_save, sender=get_user_model(), dispatch_uid="user_credentials_revoked")
def user_credentials_saved(sender, instance, created, **kwargs):
    if credentials_weakened(before=getattr(instance, "_credentials_before", None), user=instance):
        # The user's own password change page then keeps its session alive with update_session_auth_hash.
        user_credentials_revoke(user=instance)


@receiver(post_save, sender=get_user_model(), dispatch_uid="user_saved_agent_event")
def user_saved(sender, instance, created, update_fields=None, **kwargs):
    # Agents' display names are denormalized into the read side; tell it when a name may have changed.
    if connection.schema_name == "public" or update_fields == frozenset({"last_login"}):
        return
    agent_event_record(user=instance)


@receiver(post_migrate, dispatch_uid="complaints_role_groups")
def create_role_groups(sender, using=WRITE_ALIAS, **kwargs):
    if sender.name == "complaints" and using == WRITE_ALIAS and connection.schema_name != "public":
        from complaints.roles import ensure_role_groups

        ensure_role_groups()
