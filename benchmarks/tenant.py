"""The bench tenant: created in freshly made benchmark databases, then grown to each size with demo data."""

import os
import secrets
import time

SCHEMA, DOMAIN = "bench", "bench.localhost"


def setup_tenant(reuse: bool = False) -> dict:
    """The bench tenant with a manager and an agent (random passwords; tokens for the HTTP phases).
    `reuse` keeps the databases and the tenant an earlier run left (to resume a long seed, e.g. 10 M)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from complaints.roles import Role, user_set_role
    from helpdesk.api.auth import api_token_create
    from tenants.models import Tenant
    from tenants.services import tenant_create, tenant_delete

    # Fresh benchmark databases every run: each size is measured on exactly that many complaints, and what an
    # earlier (or interrupted) run left behind — cloned tenants share their template's sequences — cannot break it.
    if reuse and Tenant.objects.filter(schema_name=SCHEMA).exists():
        with schema_context(SCHEMA):
            users = {}
            for username in ("manager", "agent"):
                user = get_user_model().objects.get(username=username)
                users[username] = (user, api_token_create(user=user)[0])
        return users
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
    from helpdesk.tenancy import connection

    with schema_context(SCHEMA):
        have = Complaint.objects.count()
        missing = max(size - have, 0)
        started = time.perf_counter()
        if missing:
            categories = demo_data.ensure_categories(8)
            agents = demo_data.ensure_agents(12)
            # Millions of rows: building the list's indexes once afterwards is several times cheaper than
            # maintaining them row by row (the three trigram indexes above all).
            deferred = Complaint._meta.indexes if missing >= 1_000_000 else []
            _drop_indexes(Complaint, deferred)
            bulk_write(
                demo_data.generate(count=missing, months=months, categories=categories, agents=agents, seed=size)
            )
        _create_indexes(Complaint, Complaint._meta.indexes)  # also those an interrupted run left dropped
        seconds = time.perf_counter() - started
        # What autovacuum would do in time (little work on tables it has seen): statistics and visibility map.
        with connection.cursor() as cursor:
            for table in ("complaints_complaint", "complaints_statushistory", "complaints_comment"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    call_command("rebuild_projections", schema=SCHEMA, verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    return {"complaints": size, "seeded": missing, "seed_seconds": round(seconds, 2)}


def _existing_indexes(model) -> set[str]:
    from helpdesk.tenancy import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s",
            [model._meta.db_table],
        )
        return {name for (name,) in cursor.fetchall()}


def _drop_indexes(model, indexes) -> None:
    from helpdesk.tenancy import connection

    existing = _existing_indexes(model)
    with connection.schema_editor() as editor:
        for index in indexes:
            if index.name in existing:
                editor.remove_index(model, index)


def _create_indexes(model, indexes) -> None:
    from helpdesk.tenancy import connection

    existing = _existing_indexes(model)
    missing = [index for index in indexes if index.name not in existing]
    if not missing:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
    try:
        for index in missing:
            with connection.schema_editor() as editor:
                editor.add_index(model, index)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET maintenance_work_mem")
