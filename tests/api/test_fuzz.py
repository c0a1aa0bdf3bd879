"""Schema-driven fuzzing of the API (schemathesis against our own OpenAPI schema), deterministic and bounded.

Every generated request, valid or not, must get no 5xx and a response that matches the schema (including the
documented error shape). Requests go to the real HTTP server of tenant alpha as each role (anonymous, agent,
manager, admin), every operation included (auth/token/ and the reports too). Generation is derandomized with
no example database, so a run gives the same verdict every time; `make fuzz` (tests/api/fuzz_explore.py) is the
randomized, much longer exploration. What the run commits is removed afterwards.
"""

import json
from contextlib import contextmanager

import pytest
import requests
import schemathesis
from django.db import connection
from django_tenants.utils import schema_context
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from complaints.models import Category
from tests.factories import ComplaintFactory, api_token
from tests.world import reset_tenant_data

ROLES = {"anonymous": None, "agent": "alice", "manager": "carol", "admin": "ada"}

raw_schema = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
schema = schemathesis.openapi.from_dict(raw_schema)
schema.config.generation.update(deterministic=True, allow_x00=True, database="none")


def role_sessions(world) -> dict[str, requests.Session]:
    """A session per role on the tenant's host (token auth; none for anonymous)."""
    sessions = {}
    with schema_context(world.schema):
        for role, username in ROLES.items():
            session = requests.Session()
            session.headers["Host"] = world.domain
            if username:
                token = api_token(world.users[username])
                session.headers["Authorization"] = f"Token {token}"
            sessions[role] = session
    return sessions


@contextmanager
def fuzz_world(worlds, django_db_blocker):
    """Seed one complaint (so ids resolve) and yield the world; afterwards remove every complaint, comment,
    event and token the run committed, and put categories back as they were (admins may rename them)."""
    world = worlds["alpha"]
    with django_db_blocker.unblock(), schema_context("alpha"):
        categories = [(name, active, cid) for cid, name, active in Category.objects.values_list("id", "name", "active")]
        ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
    try:
        with django_db_blocker.unblock():
            sessions = role_sessions(world)
        yield world, sessions
    finally:
        with django_db_blocker.unblock():
            with schema_context("alpha"), connection.cursor() as cursor:
                # Two steps, so that names swapped or reused by the run never clash with the unique index.
                cursor.execute("UPDATE complaints_category SET name = 'fuzz-' || id")
                cursor.executemany("UPDATE complaints_category SET name = %s, active = %s WHERE id = %s", categories)
            reset_tenant_data(worlds)  # complaints, events, tokens, and the categories the run created


@pytest.fixture(scope="module")
def fuzz_target(live_server_url, worlds, django_db_blocker):
    with fuzz_world(worlds, django_db_blocker) as (world, sessions):
        yield live_server_url.format(host="127.0.0.1"), sessions


@pytest.mark.parametrize("role", list(ROLES))
@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_schema(case, role, fuzz_target):
    base_url, sessions = fuzz_target
    response = case.call(base_url=base_url, session=sessions[role], timeout=20)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
