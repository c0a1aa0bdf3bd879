"""Schema-driven fuzzing of the API (schemathesis against our own OpenAPI schema), bounded to stay quick.

Every generated request, valid or not, must get no 5xx and a response that matches the schema (including the
documented error shape). Requests go to the real HTTP server as a manager of tenant alpha; filters and search
parameters get arbitrary strings, which is how their parameterization is exercised.
"""

import json

import pytest
import requests
import schemathesis
from django_tenants.utils import schema_context
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from tests.factories import ComplaintFactory, api_token

raw_schema = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
schema = schemathesis.openapi.from_dict(raw_schema).exclude(path_regex=r"/auth/token/")


@pytest.fixture(scope="module")
def fuzz_target(live_server_url, worlds, django_db_blocker):
    with django_db_blocker.unblock(), schema_context("alpha"):
        world = worlds["alpha"]
        ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
        token = api_token(world.carol)
    session = requests.Session()
    session.headers.update({"Host": "alpha.localhost", "Authorization": f"Token {token}"})
    yield live_server_url.format(host="127.0.0.1"), session


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_schema(case, fuzz_target):
    base_url, session = fuzz_target
    response = case.call(base_url=base_url, session=session, timeout=20)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
