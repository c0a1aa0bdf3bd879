from django.db import transaction
from django.dispatch import receiver

from tenants.signals import tenant_time_zone_changed


@receiver(tenant_time_zone_changed)
def queue_time_zone_rebuild(sender, tenant, **kwargs):
    from reporting.tasks import rebuild_tenant

    schema_name = tenant.schema_name
    transaction.on_commit(lambda: rebuild_tenant.apply_async(args=[schema_name], headers={"_schema_name": schema_name}))
