from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from reporting.status import forget
from tenants.models import Tenant
from tenants.signals import tenant_time_zone_changed


@receiver(post_delete, sender=Tenant, dispatch_uid="reporting_forget_deleted_tenant")
def forget_deleted_tenant(sender, instance, **kwargs):
    # The read side's own record of a tenant (its row of the public status table) goes with the tenant; its schema
    # is dropped by tenants.signals with the write side's.
    forget(instance.schema_name)


@receiver(tenant_time_zone_changed)
def queue_time_zone_rebuild(sender, tenant, **kwargs):
    from reporting.tasks import queue_zone_rebuild

    schema_name = tenant.schema_name
    transaction.on_commit(lambda: queue_zone_rebuild(schema_name))
