"""The bench tenant: created in freshly made benchmark databases, then grown to each size with demo data."""

import os
import secrets
import time

SCHEMA, DOMAIN = "bench", "bench.localhost"


def setup_tenant() -> dict:
    """The bench tenant with a manager and an agent (random passwords; tokens for the HTTP phases)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from complaints.roles import Role, user_set_role
    from helpdesk.api.auth import api_token_create
    from tenants.models import Tenant
    from tenants.services import tenant_create, tenant_delete

    # Fresh benchmark databases every run: each size is measured on exactly that many complaints, and what an
    # earlier (or interrupted) run left behind — cloned tenants share their template's sequences — cannot break it.
    call_command("setup_databases", drop=True, verbosity=0)
    if existing := Tenant.objects.filter(schema_name=SCHEMA).first():
        tenant_delete(tenant=existing)
    tenant_create(
        schema_name=SCHEMA,
        name="Benchmark Ltd",
        domain=DOMAIN,
        admin_username="admin",
        admin_password=secrets.token_urlsafe(12),
    )
    with schema_context(SCHEMA):
        users = {}
        for username, role in (("manager", Role.MANAGER), ("agent", Role.AGENT)):
            user = get_user_model().objects.create_user(username=username, password=secrets.token_urlsafe(12))
            user_set_role(user=user, role=role)
            users[username] = (user, api_token_create(user=user)[0])
    return users


def grow_to(size: int, months: int) -> dict:
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from complaints import demo_data
    from complaints.bulk import bulk_write
    from complaints.models import Complaint

    with schema_context(SCHEMA):
        have = Complaint.objects.count()
        missing = max(size - have, 0)
        started = time.perf_counter()
        if missing:
            categories = demo_data.ensure_categories(8)
            agents = demo_data.ensure_agents(12)
            bulk_write(
                demo_data.generate(count=missing, months=months, categories=categories, agents=agents, seed=size)
            )
        seconds = time.perf_counter() - started
    call_command("rebuild_projections", schema=SCHEMA, verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    return {"complaints": size, "seeded": missing, "seed_seconds": round(seconds, 2)}
