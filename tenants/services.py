import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from complaints.roles import Role, user_set_role
from helpdesk.databases import BOTH_ALIASES
from tenants.models import Domain, Tenant, validate_time_zone
from tenants.signals import tenant_time_zone_changed

SCHEMA_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
RESERVED_SCHEMAS = {get_public_schema_name(), "information_schema", *BOTH_ALIASES}


def _validate_new_tenant(*, schema_name: str, domain: str, time_zone: str) -> None:
    errors: dict[str, list[str]] = {}
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        errors["time_zone"] = exc.messages
    if not SCHEMA_NAME_RE.match(schema_name) or schema_name in RESERVED_SCHEMAS or schema_name.startswith("pg_"):
        errors["schema_name"] = [
            "Use 2-41 lowercase letters, digits or underscores, starting with a letter (not a reserved name)."
        ]
    elif Tenant.objects.filter(schema_name__iexact=schema_name).exists() or schema_exists(schema_name):
        errors["schema_name"] = [f"The schema name '{schema_name}' is already taken."]
    if Domain.objects.filter(domain__iexact=domain).exists():
        errors["domain"] = [f"The domain '{domain}' is already taken."]
    if errors:
        raise ValidationError(errors)


def tenant_create(
    *,
    schema_name: str,
    name: str,
    domain: str,
    admin_username: str,
    admin_password: str,
    admin_email: str = "",
    time_zone: str = "UTC",
) -> Tenant:
    """Create a tenant, its schemas in both databases, its primary domain and its first admin user.

    Schema creation cannot share one transaction with the rows (migrations run in their own), so a failure
    at any step removes everything created before it: nothing is left half-made.
    """
    _validate_new_tenant(schema_name=schema_name, domain=domain, time_zone=time_zone)
    tenant = Tenant(schema_name=schema_name, name=name, time_zone=time_zone)
    tenant.save(verbosity=0)  # creates and migrates the schema in both databases (see tenants.signals)
    try:
        with transaction.atomic():
            Domain.objects.create(domain=domain.lower(), tenant=tenant, is_primary=True)
            with schema_context(schema_name):
                user = get_user_model().objects.create_user(
                    username=admin_username, email=admin_email, password=admin_password
                )
                user_set_role(user=user, role=Role.ADMIN)
    except Exception:
        tenant_delete(tenant=tenant)
        raise
    return tenant


def tenant_set_time_zone(*, tenant: Tenant, time_zone: str) -> Tenant:
    """Change the tenant's time zone. The read models keep the zone they were built with until the rebuild this
    queues (after the commit) replaces them, so dashboards never mix days of two zones."""
    validate_time_zone(time_zone)
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        changed = locked.time_zone != time_zone
        if changed:
            locked.time_zone = time_zone
            locked.save(update_fields=["time_zone"])
            tenant_time_zone_changed.send(sender=Tenant, tenant=locked)
    tenant.time_zone = time_zone
    return tenant


def tenant_delete(*, tenant: Tenant) -> None:
    """Delete the tenant and drop its schema in both databases."""
    with schema_context(get_public_schema_name()):
        tenant.delete(force_drop=True)  # the post_delete receiver drops the reporting schema


PUBLIC_DOMAINS = ("localhost", "127.0.0.1")


def ensure_public_tenant() -> Tenant:
    """The public schema's own row, so the bare host (localhost) serves the provisioning admin and ops."""
    tenant = Tenant.objects.filter(schema_name=get_public_schema_name()).first()
    if tenant is None:
        tenant = Tenant(schema_name=get_public_schema_name(), name="Public")
        tenant.save(verbosity=0)
    for i, domain in enumerate(PUBLIC_DOMAINS):
        Domain.objects.get_or_create(domain=domain, defaults={"tenant": tenant, "is_primary": i == 0})
    return tenant
