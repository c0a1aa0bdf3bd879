"""Every report answers exactly what the OpenAPI schema documents: a real answer of each report endpoint is held
to the generated schema, with no field undocumented and none missing, and the output serializer that documents a
report is the only thing that can put a field into its answer."""

import copy

import jsonschema
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django_tenants.utils import schema_context

from complaints import services
from helpdesk.tenancy import connection
from reporting.api import DailyReport
from reporting.rebuild import rebuild_read_models
from tests.factories import ComplaintFactory, api_token

REPORT_PATHS = {
    "/api/reports/summary/",
    "/api/reports/daily/",
    "/api/reports/agents/",
    "/api/reports/categories/",
    "/api/reports/open-by-status/",
    "/api/reports/channels/",
    "/api/reports/arrivals/",
}


def strict_json_schema(node, components: dict):
    """An OpenAPI 3.0 schema as a JSON Schema that accepts nothing undocumented: references resolved, `nullable`
    turned into a null alternative, and every object closed (additionalProperties false) unless it says otherwise."""
    if isinstance(node, list):
        return [strict_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return strict_json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    out = {key: strict_json_schema(value, components) for key, value in node.items() if key != "nullable"}
    if out.get("type") == "object" or "properties" in out:
        out.setdefault("additionalProperties", False)
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def answer_schema(openapi: dict, path: str) -> dict:
    response = openapi["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return strict_json_schema(response, openapi["components"]["schemas"])


def validate(answer, schema: dict) -> None:
    jsonschema.validate(answer, schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


@pytest.fixture
def manager_api(committed):
    """A manager's token client on alpha, whose read models hold a row in every list a report answers with."""
    with schema_context("alpha"):
        world = committed["alpha"]
        billing, delivery = world.categories["Billing"], world.categories["Delivery"]
        resolved = ComplaintFactory(actor=world.alice, category=billing, channel="email", priority="high")
        ComplaintFactory(actor=world.alice, category=delivery, channel="phone", priority="low")
        held = ComplaintFactory(actor=world.alice, category=billing, priority="urgent")
        services.complaint_assign(complaint_id=resolved.pk, actor=world.alice, assignee=world.alice)
        services.complaint_transition(complaint_id=resolved.pk, actor=world.alice, to_status="resolved")
        services.complaint_transition(complaint_id=held.pk, actor=world.alice, to_status="on_hold")
        rebuild_read_models()
        token = api_token(world.carol)
    connection.set_schema_to_public()
    return Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {token}")


def test_every_report_answers_exactly_what_its_schema_documents(manager_api):
    openapi = manager_api.get("/api/schema/?format=json").json()
    reports = {path for path in openapi["paths"] if path.startswith("/api/reports/")}
    assert reports == REPORT_PATHS  # a new report is held to its schema here too
    for path in sorted(reports):
        response = manager_api.get(f"{path}?period=30")
        assert response.status_code == 200, path
        answer = response.json()
        lists = {key: value for key, value in answer.items() if isinstance(value, list)}
        assert lists and all(lists.values()), f"{path}: every list needs a row, or its rows go unchecked"
        validate(answer, answer_schema(openapi, path))


def test_the_schema_check_refuses_a_field_the_schema_does_not_document(manager_api):
    """The check above is not vacuous: an extra field, at the top or in a row, and a missing one, all fail it."""
    openapi = manager_api.get("/api/schema/?format=json").json()
    schema = answer_schema(openapi, "/api/reports/agents/")
    answer = manager_api.get("/api/reports/agents/?period=30").json()
    validate(answer, schema)
    for change in (
        lambda a: a.update(extra=1),
        lambda a: a["agents"][0].update(extra=1),
        lambda a: a["period"].update(extra=1),
        lambda a: a["agents"][0].pop("open_now"),
    ):
        changed = copy.deepcopy(answer)
        change(changed)
        with pytest.raises(jsonschema.ValidationError):
            validate(changed, schema)


def test_a_figure_the_output_serializer_does_not_declare_fails_the_report(manager_api, monkeypatch):
    """Output goes out through the documented serializer only: a figure added to a view but not to its serializer
    is an error at once, never an undocumented field (nor one dropped without a word)."""
    answer = DailyReport.figure_answer
    monkeypatch.setattr(DailyReport, "figure_answer", lambda self, data: {**answer(self, data), "weekly": []})
    with pytest.raises(ImproperlyConfigured, match=r"DailyReportSerializer does not declare \['weekly'\]"):
        manager_api.get("/api/reports/daily/?period=30")
