import pytest

from complaints import services
from complaints.models import Complaint, OutboxEvent
from tests.factories import ComplaintFactory

NEW = {"title": "Late", "description": "Two weeks", "customer_name": "Jo", "customer_email": "jo@example.com"}


def error(response):
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])
    return body["error"]


def test_token_endpoint_gives_a_token_that_authenticates(alpha, password, api_for):
    client = api_for(alpha)
    response = client.post("/api/auth/token/", {"username": "alice", "password": password})
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/complaints/").status_code == 200


def test_wrong_password_gets_400_and_no_token(alpha, api_for):
    response = api_for(alpha).post("/api/auth/token/", {"username": "alice", "password": "nope"})
    assert response.status_code == 400 and "token" not in response.json()


def test_unauthenticated_requests_get_401(alpha, api_for):
    response = api_for(alpha).get("/api/complaints/")
    assert response.status_code == 401 and error(response)["code"] == "not_authenticated"


def test_create_validates_and_writes_nothing_on_bad_input(alpha, api_for):
    client = api_for(alpha, alpha.alice)
    response = client.post("/api/complaints/", {**NEW, "customer_email": "nope", "category": 999}, format="json")
    assert response.status_code == 400
    fields = error(response)["fields"]
    assert set(fields) == {"customer_email", "category"}
    assert Complaint.objects.count() == 0 and OutboxEvent.objects.filter(complaint_id__isnull=False).count() == 0


def test_create_read_and_list_with_filters_search_and_ordering(alpha, api_for):
    client = api_for(alpha, alpha.alice)
    billing = alpha.categories["Billing"]
    created = client.post("/api/complaints/", {**NEW, "category": billing.pk, "priority": "urgent"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["reference"].startswith("C-") and body["channel"] == "api" and body["status"] == "new"
    assert body["allowed_transitions"] == ["in_progress", "on_hold", "resolved", "closed"]
    other = ComplaintFactory(actor=alpha.bob, category=alpha.categories["Delivery"], title="Broken box")
    services.complaint_assign(complaint_id=other.pk, actor=alpha.bob, assignee=alpha.bob)

    def refs(query):
        return [c["reference"] for c in client.get(f"/api/complaints/?{query}").json()["results"]]

    assert refs("") == [other.reference, body["reference"]]
    assert refs("ordering=created_at") == [body["reference"], other.reference]
    assert refs("priority=urgent") == [body["reference"]]
    assert refs(f"category={billing.pk}") == [body["reference"]]
    assert refs("assignee=none") == [body["reference"]]
    assert refs(f"assignee={alpha.bob.pk}") == [other.reference]
    assert refs("search=broken") == [other.reference]
    assert refs("status=new&status=in_progress") == [other.reference, body["reference"]]
    assert refs("created_from=2099-01-01T00:00:00Z") == []
    assert client.get("/api/complaints/?assignee=somebody").status_code == 400
    assert client.get(f"/api/complaints/{body['id']}/").json()["title"] == "Late"


def test_partial_update_goes_through_the_services_and_detects_conflicts(alpha, api_for):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    client = api_for(alpha, alpha.alice)
    response = client.patch(
        f"/api/complaints/{complaint.pk}/",
        {
            "title": "New title",
            "priority": "high",
            "category": alpha.categories["Delivery"].pk,
            "version": 1,
        },
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["priority"], response.json()["version"]) == (
        "New title",
        "high",
        3,
    )
    stale = client.patch(f"/api/complaints/{complaint.pk}/", {"title": "Again", "version": 1}, format="json")
    assert stale.status_code == 409 and error(stale)["code"] == "conflict"
    complaint.refresh_from_db()
    assert complaint.title == "New title"


def test_transition_assign_comment_history(alpha, api_for):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    client = api_for(alpha, alpha.alice)
    url = f"/api/complaints/{complaint.pk}"
    assert client.post(f"{url}/transition/", {"status": "in_progress"}, format="json").json()["status"] == "in_progress"
    refused = client.post(f"{url}/transition/", {"status": "new"}, format="json")
    assert refused.status_code == 400 and error(refused)["code"] == "invalid_transition"
    assert "status" in error(refused)["fields"]
    assert (
        client.post(f"{url}/assign/", {"assignee": alpha.alice.pk}, format="json").json()["assignee"]["id"]
        == alpha.alice.pk
    )
    forbidden = client.post(f"{url}/assign/", {"assignee": alpha.bob.pk}, format="json")
    assert forbidden.status_code == 403
    posted = client.post(f"{url}/comments/", {"body": "Hello", "internal": False}, format="json")
    assert posted.status_code == 201 and posted.json()["author"]["username"] == "alice"
    assert client.post(f"{url}/comments/", {"body": ""}, format="json").status_code == 400
    assert [c["body"] for c in client.get(f"{url}/comments/").json()["results"]] == ["Hello"]
    history = client.get(f"{url}/history/").json()["results"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [("", "new"), ("new", "in_progress")]


def test_manager_assigns_anyone_over_session_auth(alpha, api_for):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    client = api_for(alpha, alpha.carol, token=False)
    response = client.post(f"/api/complaints/{complaint.pk}/assign/", {"assignee": alpha.bob.pk}, format="json")
    assert response.status_code == 200 and response.json()["assignee"]["username"] == "bob"


def test_session_auth_requires_csrf_for_writes(alpha, api_for):
    from rest_framework.test import APIClient

    client = APIClient(HTTP_HOST=alpha.domain, enforce_csrf_checks=True)
    alpha.activate()
    client.force_login(alpha.alice)
    response = client.post("/api/complaints/", {**NEW, "category": alpha.categories["Billing"].pk}, format="json")
    assert response.status_code == 403 and Complaint.objects.count() == 0


def test_another_tenants_id_is_404_and_lists_never_mix_tenants(alpha, beta, api_for):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    beta_client = api_for(beta, beta.dave)
    assert beta_client.get(f"/api/complaints/{complaint.pk}/").status_code == 404
    assert (
        beta_client.post(f"/api/complaints/{complaint.pk}/transition/", {"status": "closed"}, format="json").status_code
        == 404
    )
    assert beta_client.get("/api/complaints/").json()["count"] == 0
    assert beta_client.get(f"/api/complaints/?search={complaint.reference}").json()["count"] == 0
    # Beta's token is worth nothing on alpha's host.
    stolen = api_for(alpha)
    stolen.credentials(HTTP_AUTHORIZATION=beta_client._credentials["HTTP_AUTHORIZATION"])
    assert stolen.get("/api/complaints/").status_code == 401


@pytest.mark.parametrize(("user", "expected"), [("alice", 403), ("carol", 403), ("ada", 201)])
def test_only_admins_create_categories(alpha, api_for, user, expected):
    response = api_for(alpha, alpha.users[user]).post("/api/categories/", {"name": "Returns"}, format="json")
    assert response.status_code == expected


def test_categories_list(alpha, api_for):
    names = [c["name"] for c in api_for(alpha, alpha.alice).get("/api/categories/").json()["results"]]
    assert names == ["Billing", "Delivery", "Product"]


def test_schema_and_docs_are_served(alpha, api_for):
    client = api_for(alpha, alpha.alice)
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200 and "/api/complaints/{id}/transition/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content and b"cdn" not in docs.content.lower()
