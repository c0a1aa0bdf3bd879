"""The test world: two tenants with named personas, created once per test session.

alpha (alpha.localhost): alice and bob are agents, carol is a manager, ada is an admin.
beta (beta.localhost): charlie is a manager, dave is an agent.
"""

from dataclasses import dataclass, field
from typing import TypedDict

from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from complaints.models import Category
from complaints.roles import Role, user_set_role
from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connection
from tenants.models import Tenant
from tenants.services import tenant_create

PASSWORD = "persona-pass-123"


class TenantSpec(TypedDict):
    users: dict[str, str]  # username -> role
    categories: list[str]


SPEC: dict[str, TenantSpec] = {
    "alpha": {
        "users": {"alice": Role.AGENT, "bob": Role.AGENT, "carol": Role.MANAGER, "ada": Role.ADMIN},
        "categories": ["Billing", "Delivery", "Product"],
    },
    "beta": {
        "users": {"charlie": Role.MANAGER, "dave": Role.AGENT, "betadmin": Role.ADMIN},
        "categories": ["Billing", "Support"],
    },
}


@dataclass
class TenantWorld:
    schema: str
    domain: str
    tenant: Tenant
    users: dict = field(default_factory=dict)
    categories: dict = field(default_factory=dict)

    def __getattr__(self, name):
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)

    def activate(self):
        connection.set_tenant(self.tenant)


def ensure_base_data(schema: str) -> TenantWorld:
    spec = SPEC[schema]
    tenant = Tenant.objects.get(schema_name=schema)
    world = TenantWorld(schema=schema, domain=f"{schema}.localhost", tenant=tenant)
    User = get_user_model()
    with schema_context(schema):
        for username, role in spec["users"].items():
            user, created = User.objects.get_or_create(username=username, defaults={"first_name": username.title()})
            if created:
                user.set_password(PASSWORD)
                user.save()
                user_set_role(user=user, role=role)
            world.users[username] = user
        for name in spec["categories"]:
            world.categories[name] = Category.objects.get_or_create(name=name)[0]
    return world


def build_world() -> dict[str, TenantWorld]:
    for schema in SPEC:
        if not Tenant.objects.filter(schema_name=schema).exists():
            admin = next(u for u, r in SPEC[schema]["users"].items() if r == Role.ADMIN)
            tenant_create(
                schema_name=schema,
                name=schema.title() + " Corp",
                domain=f"{schema}.localhost",
                admin_username=admin,
                admin_password=PASSWORD,
            )
    return {schema: ensure_base_data(schema) for schema in SPEC}


def reset_tenant_data(worlds: dict[str, TenantWorld]) -> None:
    """Empty every complaint (with the customer addresses it recorded) and read model of the test tenants (committed
    tests), keeping the personas."""
    from reporting.readmodel import READ_MODELS

    read_tables = [
        "complaint_fact",
        "category_dim",
        "agent_dim",
        "projection_checkpoint",
        "projection_dead_letter",
        *(m.table for m in READ_MODELS),
    ]
    User = get_user_model()
    for world in worlds.values():
        Tenant.objects.filter(schema_name=world.schema).update(time_zone="UTC")
        world.tenant.time_zone = "UTC"
        with schema_context(world.schema):
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE complaints_outboxevent, complaints_comment, complaints_statushistory, "
                    "complaints_complaint, complaints_customeraddress, complaints_importrun RESTART IDENTITY CASCADE"
                )
                cursor.execute("ALTER SEQUENCE complaints_reference_seq RESTART")
                cursor.execute("TRUNCATE axes_accessattempt, axes_accessfailurelog, knox_authtoken CASCADE")
            Category.objects.exclude(name__in=SPEC[world.schema]["categories"]).delete()
            User.objects.exclude(username__in=SPEC[world.schema]["users"]).delete()
            from django.db import connections

            with connections[READ_ALIAS].cursor() as cursor:
                cursor.execute(f"TRUNCATE {', '.join(read_tables)}")
                # The checkpoint's published figures (reporting.status) go with it.
                cursor.execute("DELETE FROM public.projection_tenant_status WHERE schema_name = %s", [world.schema])
