from django.db.models.signals import post_delete
from django.dispatch import Signal, receiver
from django_tenants.models import TenantMixin
from django_tenants.signals import post_schema_sync
from django_tenants.utils import get_public_schema_name

from tenants.models import Tenant
from tenants.schemas import reporting_schema_create, reporting_schema_drop

# Sent inside the transaction that changed Tenant.time_zone; the read side queues its rebuild on commit.
tenant_time_zone_changed = Signal()


@receiver(post_schema_sync, sender=TenantMixin)
def create_reporting_schema(sender, tenant, **kwargs):
    # django-tenants creates the schema in `default` only; the read side needs its twin.
    if tenant.schema_name != get_public_schema_name():
        reporting_schema_create(schema_name=tenant.schema_name)


@receiver(post_delete, sender=Tenant)
def drop_reporting_schema(sender, instance, **kwargs):
    # post_delete, not Tenant.delete(): a queryset delete (the public admin's "Delete selected") never calls
    # delete() per object. django-tenants drops the write schema on the same signal (auto_drop_schema).
    if instance.schema_name != get_public_schema_name():
        reporting_schema_drop(schema_name=instance.schema_name)
