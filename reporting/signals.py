from django.db import transaction
from django.dispatch import receiver

from tenants.signals import tenant_time_zone_changed


@receiver(tenant_time_zone_changed)
def queue_time_zone_rebuild(sender, tenant, **kwargs):
    from reporting.tasks import queue_zone_rebuild

    schema_name = tenant.schema_name
    transaction.on_commit(lambda: queue_zone_rebuild(schema_name))
