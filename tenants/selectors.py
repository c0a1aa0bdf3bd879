from django.core.management.base import CommandError
from django_tenants.utils import get_public_schema_name

from tenants.models import Tenant


def tenant_schema_names(schema: str | None = None) -> list[str]:
    """Every tenant's schema name, or just `schema` (with a clear error when it is not a tenant)."""
    names = list(
        Tenant.objects.exclude(schema_name=get_public_schema_name())
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )
    if schema is None:
        return names
    if schema not in names:
        raise CommandError(f"No tenant with schema '{schema}'.")
    return [schema]


def tenant_time_zone(schema_name: str) -> str:
    """The tenant's time zone as set now (the read models may still be built with the previous one)."""
    return Tenant.objects.filter(schema_name=schema_name).values_list("time_zone", flat=True).first() or "UTC"
