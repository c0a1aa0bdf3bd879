"""The bench tenant: created in freshly made benchmark databases, then grown to each size with demo data."""

import multiprocessing
import os
import secrets
import signal
import time
from datetime import datetime

SCHEMA, DOMAIN = "bench", "bench.localhost"
# From this many missing complaints the seed runs in one process per core: a single process leaves a core idle
# while PostgreSQL parses its COPY (10 M complaints: well over an hour in one process on this box).
PARALLEL_SEED_FROM = 1_000_000
PROGRESS_EVERY = 1_000_000
# The write tables a seed fills (vacuumed after it, see settle).
VACUUMED = ("complaints_complaint", "complaints_statushistory", "complaints_comment", "complaints_customeraddress")


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
    if reuse and _bench_tenant_exists():
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


def grow_to(size: int, months: int, schema: str = SCHEMA) -> dict:
    """The tenant grown to `size` complaints (never shrunk), then settled (see settle)."""
    from django_tenants.utils import schema_context

    from complaints.models import Complaint

    with schema_context(schema):
        have = Complaint.objects.count()
        missing = max(size - have, 0)
        started = time.perf_counter()
        if missing:
            # Millions of rows: building the list's indexes once afterwards is several times cheaper than
            # maintaining them row by row (the three trigram indexes above all).
            deferred = Complaint._meta.indexes if missing >= 1_000_000 else []
            _drop_indexes(Complaint, deferred)
            seed_complaints(schema, missing, months=months, seed=size)
        _create_indexes(Complaint, Complaint._meta.indexes)  # also those an interrupted run left dropped
        seconds = time.perf_counter() - started
    settle(schema)
    return {"complaints": size, "seeded": missing, "seed_seconds": round(seconds, 2)}


def settle(schema: str) -> None:
    """After a seed: what autovacuum would do in time (statistics, the visibility map, GIN pending lists), then
    the read models rebuilt from the write side and vacuumed in turn."""
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from helpdesk.tenancy import connection

    with schema_context(schema), connection.cursor() as cursor:
        for table in VACUUMED:
            cursor.execute(f"VACUUM ANALYZE {table}")
    call_command("rebuild_projections", schema=schema, verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    vacuum_read_models(schema)


def vacuum_read_models(schema: str) -> None:
    """What autovacuum does soon after a rebuild in production (it is off on these machines): a rebuild replaces
    every row of the tenant's read models, whose dead rows would otherwise weigh on the dashboards measured next."""
    from django.db import connections

    from helpdesk.databases import READ_ALIAS
    from reporting.facts import FACT_TABLE
    from reporting.readmodel import READ_MODELS

    with connections[READ_ALIAS].cursor() as cursor:
        for table in (FACT_TABLE, *(model.table for model in READ_MODELS)):
            cursor.execute(f'VACUUM ANALYZE "{schema}"."{table}"')


def _bench_tenant_exists() -> bool:
    """Whether an earlier run left the bench tenant (False on a machine where the bench databases are missing)."""
    from django.db import OperationalError

    from tenants.models import Tenant

    try:
        return Tenant.objects.filter(schema_name=SCHEMA).exists()
    except OperationalError:  # no benchmark database yet: nothing to reuse
        return False


def seed_complaints(schema: str, missing: int, *, months: int, seed: int) -> None:
    """`missing` more demo complaints in `schema` (8 categories, 12 agents), in parallel from PARALLEL_SEED_FROM."""
    from django_tenants.utils import schema_context

    from complaints import demo_data
    from complaints.bulk import bulk_write

    with schema_context(schema):
        categories, agents = demo_data.ensure_categories(8), demo_data.ensure_agents(12)
        if missing < PARALLEL_SEED_FROM:
            bulk_write(
                demo_data.generate(count=missing, months=months, categories=categories, agents=agents, seed=seed)
            )
            return
    _seed_in_parallel(schema, missing, months=months, seed=seed, categories=categories, agents=agents)


def _seed_in_parallel(schema: str, missing: int, *, months: int, seed: int, categories: list, agents: list) -> None:
    """`missing` complaints written by one process per core, each its own share with its own seed. Ids and
    references are reserved per chunk in one statement (complaints.bulk), so the writers never collide."""
    from django.db import connections
    from django.utils import timezone

    processes = max(1, os.cpu_count() or 1)
    shares = [missing // processes + (1 if i < missing % processes else 0) for i in range(processes)]
    now = timezone.now()  # one "now" for every share, as one generator would have
    jobs = [
        (schema, share, months, seed * 100 + i, [c.pk for c in categories], [a.pk for a in agents], now)
        for i, share in enumerate(shares)
    ]
    connections.close_all()  # a forked child must open its own connections, never share the parent's sockets
    print(f"   seeding {missing} complaints in {processes} processes", flush=True)
    # The children inherit the benchmark's SIGTERM handler, which prints "terminated": the pool's own
    # SIGTERM to its finished workers is the ordinary end.
    reset = (signal.SIGTERM, signal.SIG_DFL)
    with multiprocessing.get_context("fork").Pool(processes, initializer=signal.signal, initargs=reset) as pool:
        pool.starmap(_seed_share, jobs)


def _seed_share(
    schema: str, count: int, months: int, seed: int, category_ids: list, agent_ids: list, now: datetime
) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connections
    from django_tenants.utils import schema_context

    from complaints import demo_data
    from complaints.bulk import bulk_write
    from complaints.models import Category

    def reporting(rows):
        for done, row in enumerate(rows, start=1):
            yield row
            if done % PROGRESS_EVERY == 0:
                print(f"   seed {seed}: {done} of {count}", flush=True)

    try:
        with schema_context(schema):
            by_id = Category.objects.in_bulk(category_ids)
            users = get_user_model().objects.in_bulk(agent_ids)
            generated = demo_data.generate(
                count=count,
                months=months,
                categories=[by_id[pk] for pk in category_ids],
                agents=[users[pk] for pk in agent_ids],
                seed=seed,
                now=now,
            )
            bulk_write(reporting(generated))
    finally:
        connections.close_all()


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
