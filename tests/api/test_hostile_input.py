"""Odd and hostile input on the API: a 400 with field messages in the one error shape, never a 500."""

import pytest

from tests.factories import ComplaintFactory


def _error(response, status=400) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


@pytest.mark.parametrize("offset", ["-17:44", "+18:37", "+23:59", "-23:59"])
@pytest.mark.parametrize("param", ["created_from", "created_to"])
def test_created_filters_accept_any_offset_python_parses(alpha, api_for, param, offset):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    api = api_for(alpha, alpha.alice)
    response = api.get(f"/api/complaints/?{param}=2020-01-01T00:00:00{offset.replace('+', '%2B')}")
    assert response.status_code == 200
    ids = [c["id"] for c in response.json()["results"]]
    # The complaint was created now: after 2020 (created_from) and not before it (created_to).
    assert ids == ([complaint.pk] if param == "created_from" else [])


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00%2B01:00", "9999-12-31T23:59:59-01:00"])
def test_created_filter_beyond_the_calendar_in_utc_is_a_400(alpha, api_for, value):
    error = _error(api_for(alpha, alpha.alice).get(f"/api/complaints/?created_to={value}"))
    assert list(error["fields"]) == ["created_to"]


@pytest.mark.parametrize("value", ["²", "١٢", "12" * 20, "-1", "0", "1.5"])
def test_assignee_that_is_not_an_id_is_a_400(alpha, api_for, value):
    error = _error(api_for(alpha, alpha.alice).get("/api/complaints/", {"assignee": value}))
    assert error["fields"] == {"assignee": ['Use a user id, "me" or "none".']}


@pytest.mark.parametrize("action", ["", "comments/", "history/"])
def test_detail_comments_and_history_ignore_list_filters(alpha, api_for, action):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    api = api_for(alpha, alpha.alice)
    # Filters that would exclude the complaint (or fail to parse) if they were applied.
    query = "status=closed&created_to=2020-01-01T00:00:00-17:44&assignee=²&search=nothing-matches&ordering=x"
    response = api.get(f"/api/complaints/{complaint.pk}/{action}?{query}")
    assert response.status_code == 200
    if action == "history/":
        assert [h["to_status"] for h in response.json()["results"]] == ["new"]
    elif action == "comments/":
        assert response.json()["results"] == []
    else:
        assert response.json()["id"] == complaint.pk


def test_schema_lists_no_filters_on_comments_and_history(alpha, api_for):
    paths = api_for(alpha, alpha.alice).get("/api/schema/?format=json").json()["paths"]
    for path in ("/api/complaints/{id}/comments/", "/api/complaints/{id}/history/"):
        names = {p["name"] for p in paths[path]["get"].get("parameters", [])}
        assert names == {"id", "page"}, path
    assert {"created_to", "assignee", "status"} <= {p["name"] for p in paths["/api/complaints/"]["get"]["parameters"]}


PERIODS = [
    ("0001-01-01", "0001-01-05", {"start", "end"}),
    ("9999-12-30", "9999-12-31", {"start", "end"}),
    ("1969-12-31", "1970-01-02", {"start"}),
    ("2026-01-01", "3000-01-01", {"end"}),
]


@pytest.mark.parametrize("start,end,bad_fields", PERIODS)
@pytest.mark.parametrize("report", ["summary", "daily", "agents", "categories"])
def test_report_period_outside_the_supported_years_is_a_400(alpha, api_for, report, start, end, bad_fields):
    response = api_for(alpha, alpha.carol).get(f"/api/reports/{report}/?period=custom&start={start}&end={end}")
    error = _error(response)
    assert error["fields"] == {field: ["Dates must be between 1970-01-01 and 2999-12-31."] for field in bad_fields}


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize("depth", [40, 1000, 100_000])
@pytest.mark.parametrize(
    "path,user",
    [
        ("/api/auth/token/", None),
        ("/api/complaints/", "alice"),
        ("/api/categories/", "ada"),
    ],
)
def test_deeply_nested_json_is_a_400_in_the_error_shape(alpha, api_for, path, user, depth):
    api = api_for(alpha, getattr(alpha, user) if user else None)
    body = '{"username": ' + _nested(depth) + ', "name": ' + _nested(depth) + "}"
    error = _error(api.post(path, data=body, content_type="application/json"))
    assert error["code"] == "parse_error"
    assert "nested" in error["message"]


def test_nested_json_on_a_complaint_action_writes_nothing(alpha, api_for):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    api = api_for(alpha, alpha.alice)
    body = '{"status": ' + _nested(2000) + "}"
    _error(api.post(f"/api/complaints/{complaint.pk}/transition/", data=body, content_type="application/json"))
    complaint.refresh_from_db()
    assert (complaint.status, complaint.version) == ("new", 1)


def test_ordinary_nesting_still_parses(alpha, api_for):
    api = api_for(alpha, alpha.alice)
    response = api.post("/api/complaints/", data='{"title": [["x"]]}', content_type="application/json")
    assert _error(response)["fields"]["title"] == ["Not a valid string."]
