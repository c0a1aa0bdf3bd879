"""Schema-driven fuzzing of the API (schemathesis against our own OpenAPI schema), deterministic and bounded.

Every generated request, valid or not, must get no 5xx and a response that matches the schema (including the
documented error shape). Requests go to the real HTTP server of tenant alpha as each role (anonymous, agent,
manager, admin), every operation included (auth/token/ and the reports too); the admin's get every phase, and
must have got past authentication and permission on every operation (a revoked token or a throttle once
turned nearly all of them into 401s and 429s unseen). Generation is derandomized with
no example database, so a run gives the same verdict every time; `make fuzz` (tests/api/fuzz_explore.py) is the
randomized, much longer exploration. What the run commits is removed afterwards.
"""

import json
from collections import Counter
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
# Roles are nested, so every operation's permission check lets the admin through: the admin's requests reach
# every operation's validation and get every phase, the coverage phase's boundary and invalid values of each
# parameter included (about 60 requests an operation). The other roles' requests mostly end at the permission
# check: they get the schema's examples and generated cases only.
THOROUGH_ROLE = "admin"
REVOKE = "/api/auth/token/revoke/"
# What a fuzzing request that passed authentication and permission is answered (anything but these).
STOPPED_AT_THE_DOOR = {401, 403, 429}

raw_schema = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


def _schema(*, coverage: bool):
    loaded = schemathesis.openapi.from_dict(raw_schema)
    loaded.config.generation.update(deterministic=True, allow_x00=True, database="none")
    loaded.config.phases.coverage.enabled = coverage
    return loaded


every_phase = _schema(coverage=True)
without_coverage = _schema(coverage=False)
# (role, method and path) -> responses that got past authentication and permission; checked by the last test.
reached: Counter[tuple[str, str]] = Counter()


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
def live_server_env():
    # Token requests are fuzzed too: at the production rate (10 a minute) nearly all of them would be 429s.
    return {"TOKEN_RATE": "100000/min"}


@pytest.fixture(scope="module")
def fuzz_target(live_server_url, worlds, django_db_blocker):
    with fuzz_world(worlds, django_db_blocker) as (world, sessions):

        def new_token(role: str) -> None:
            """A fresh token for the role's session: a revoke case may have revoked every token of its user."""
            with django_db_blocker.unblock(), schema_context(world.schema):
                sessions[role].headers["Authorization"] = f"Token {api_token(world.users[ROLES[role]])}"

        yield live_server_url.format(host="127.0.0.1"), sessions, new_token


def _call_and_check(case, role: str, fuzz_target) -> None:
    base_url, sessions, new_token = fuzz_target
    response = case.call(base_url=base_url, session=sessions[role], timeout=20)
    if case.operation.path == REVOKE and ROLES[role]:
        new_token(role)
    if response.status_code not in STOPPED_AT_THE_DOOR:
        reached[(role, f"{case.operation.method.upper()} {case.operation.path}")] += 1
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance, content_type_conformance])


FUZZ_SETTINGS = settings(
    max_examples=6, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.mark.parametrize("role", [role for role in ROLES if role != THOROUGH_ROLE])
@without_coverage.parametrize()
@FUZZ_SETTINGS
def test_api_never_fails_and_matches_its_schema(case, role, fuzz_target):
    _call_and_check(case, role, fuzz_target)


# Parametrized like the test above: without a pytest parametrization, under pytest-xdist schemathesis collected
# this as one item that fuzzed the first operation only (the last test below caught it).
@pytest.mark.parametrize("role", [THOROUGH_ROLE])
@every_phase.parametrize()
@FUZZ_SETTINGS
def test_api_never_fails_and_matches_its_schema_at_every_boundary_as_admin(case, role, fuzz_target):
    _call_and_check(case, role, fuzz_target)


def test_the_admins_fuzzing_reached_every_operation_past_its_permission_check():
    """Last in the module: fuzzing that only ever hears 401 (a revoked token) or 429 (throttled) proves nothing."""
    operations = {f"{method.upper()} {path}" for path, item in raw_schema["paths"].items() for method in item}
    assert reached, "run the whole module: this test checks what the fuzzing tests before it reached"
    missed = sorted(name for name in operations if not reached[(THOROUGH_ROLE, name)])
    assert not missed, f"the admin's requests never got past authentication and permission for {missed}"
