"""Database routing for the two schema-per-tenant aliases.

`default` holds the write side (and the public tenant registry); `reporting` holds only the read models.
"""

from django.conf import settings
from django_tenants.utils import get_public_schema_name

from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.tenancy import connections

READ_SIDE_APP = "reporting"
# Read-side tables of the reporting database's public schema (one row per tenant, not per-tenant tables).
READ_SIDE_PUBLIC_MODELS = {"tenantprojectionstatus"}


class ReportingRouter:
    """Sends the reporting app to the `reporting` alias and keeps everything else out of it.

    Must come before TenantSyncRouter: that router answers False for every alias but the tenant one.
    """

    def db_for_read(self, model, **hints):
        return READ_ALIAS if model._meta.app_label == READ_SIDE_APP else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == READ_SIDE_APP:
            # Read models live in tenant schemas of the reporting database only, never in its public schema;
            # the per-tenant status table is the other way round.
            in_public = connections[db].schema_name == get_public_schema_name()
            return db == READ_ALIAS and in_public == (model_name in READ_SIDE_PUBLIC_MODELS)
        if db == READ_ALIAS or db in settings.REPORTING_REPLICA_ALIASES:
            return False  # replicas replay the primary's schema; nothing is ever migrated on them
        return None


def mirror_tenant_to_reporting(db_wrapper, tenant) -> None:
    """EXTRA_SET_TENANT_METHOD: whenever `default` switches tenant, point `reporting` (and its replicas, which
    serve its readers) at the same schema.

    Covers requests (TenantMainMiddleware), schema_context, management commands and Celery tasks alike.
    The alias guard stops the recursion (set_tenant on `reporting` calls this hook again).
    """
    if db_wrapper.alias != WRITE_ALIAS:
        return
    for alias in (READ_ALIAS, *settings.REPORTING_REPLICA_ALIASES):
        reporting = connections[alias]
        if reporting.schema_name != tenant.schema_name or getattr(reporting, "tenant", None) is not tenant:
            reporting.set_tenant(tenant, include_public=db_wrapper.include_public_schema)
