from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from complaints.models import Category, Complaint, OutboxEvent
from complaints.paging import CappedPaginator
from tests.factories import ComplaintFactory


def test_only_admins_reach_the_tenant_admin(client_for, alpha):
    assert client_for(alpha, alpha.carol).get("/admin/").status_code == 302  # managers are not staff
    response = client_for(alpha, alpha.ada).get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/admin/complaints/complaint/" in html and "/admin/auth/user/" in html
    assert "/admin/tenants/tenant/" not in html  # tenant provisioning is on the public host only


def test_admin_complaint_page_shows_history_read_only_and_actions_use_the_services(client_for, alpha):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    client = client_for(alpha, alpha.ada)
    page = client.get(f"/admin/complaints/complaint/{complaint.pk}/change/").content.decode()
    assert "Status history" in page and "Submitted" in page
    assert client.get("/admin/complaints/complaint/?status__exact=new&q=" + complaint.reference).status_code == 200
    events = OutboxEvent.objects.count()
    client.post("/admin/complaints/complaint/", {"action": "mark_resolved", "_selected_action": [complaint.pk]})
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    assert OutboxEvent.objects.count() == events + 1  # through the service: history and event written
    assert complaint.history.count() == 2
    # Resolved -> In progress is a reopen (allowed); In progress -> Closed is not: a message, and no change.
    client.post("/admin/complaints/complaint/", {"action": "mark_in_progress", "_selected_action": [complaint.pk]})
    complaint.refresh_from_db()
    assert complaint.status == "in_progress"
    events = OutboxEvent.objects.count()
    response = client.post(
        "/admin/complaints/complaint/", {"action": "close", "_selected_action": [complaint.pk]}, follow=True
    )
    assert "cannot move from In progress to Closed" in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == "in_progress" and OutboxEvent.objects.count() == events
    assert Complaint.objects.count() == 1


def test_admin_category_save_goes_through_the_service(client_for, alpha):
    client = client_for(alpha, alpha.ada)
    client.post("/admin/complaints/category/add/", {"name": "Returns", "active": "on"})
    assert Category.objects.filter(name="Returns").exists()
    assert OutboxEvent.objects.filter(event_type="CategoryChanged").count() == 1


def test_public_host_admin_offers_tenants_not_complaints(db, worlds):
    from django.contrib.auth.models import User

    from helpdesk.tenancy import connection

    connection.set_schema_to_public()
    root = User.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client = Client(HTTP_HOST="localhost")
    client.force_login(root)
    html = client.get("/admin/").content.decode()
    assert "/admin/tenants/tenant/" in html and "/admin/complaints/" not in html


def test_admin_complaint_form_is_read_only_a_post_changes_nothing(client_for, alpha):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    client = client_for(alpha, alpha.ada)
    url = f"/admin/complaints/complaint/{complaint.pk}/change/"
    page = client.get(url).content.decode()
    for field in ("title", "status", "priority", "category", "assignee", "description", "version"):
        assert f'name="{field}"' not in page, field  # shown as text, never as an input
    for inline in ("history", "comments"):  # the inlines take no new rows
        assert f'name="{inline}-MAX_NUM_FORMS" value="0"' in page or f'name="{inline}-TOTAL_FORMS" value="0"' in page
    before = (
        Complaint.objects.values().get(pk=complaint.pk),
        OutboxEvent.objects.count(),
        complaint.history.count(),
    )
    client.post(
        url,
        {
            "title": "Changed behind the services' back",
            "status": "closed",
            "priority": "urgent",
            "version": 99,
            "history-TOTAL_FORMS": "1",
            "history-INITIAL_FORMS": "0",
            "history-0-to_status": "closed",
            "history-0-note": "forged",
            "_save": "Save",
        },
    )
    after = (
        Complaint.objects.values().get(pk=complaint.pk),
        OutboxEvent.objects.count(),
        complaint.history.count(),
    )
    assert after == before


def test_the_admin_complaint_list_searches_as_the_staff_list_and_never_counts_every_complaint(
    client_for, alpha, monkeypatch
):
    billing = alpha.categories["Billing"]
    ann = ComplaintFactory(actor=alpha.alice, category=billing, customer_email="Ann.Lee@acme.test")
    jo = ComplaintFactory(actor=alpha.alice, category=billing, customer_email="jo.ann.lee@acme.test")
    other = ComplaintFactory(actor=alpha.alice, category=billing, customer_email="zed@globex.test")
    client = client_for(alpha, alpha.ada)

    def listed(q: str) -> set[str]:
        html = client.get("/admin/complaints/complaint/", {"q": q}).content.decode()
        return {c.reference for c in (ann, jo, other) if c.reference in html}

    assert listed("ann.lee") == {ann.reference, jo.reference}  # part of an address, any case
    assert listed("ANN.LEE@ACME.TEST") == {ann.reference}  # a whole address: that customer alone
    assert listed(other.reference.lower()) == {other.reference}
    monkeypatch.setattr(CappedPaginator, "cap", 2)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/complaints/complaint/").status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper() and "complaint" in q["sql"]]
    assert counts and all("LIMIT 3" in sql for sql in counts)  # capped at cap + 1, never the whole table


def test_the_admin_refuses_an_action_on_all_matches_at_once_and_offers_no_facet_counts(client_for, alpha):
    complaints = [ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"]) for _ in range(3)]
    client = client_for(alpha, alpha.ada)
    response = client.post(
        "/admin/complaints/complaint/",
        {"action": "close", "select_across": "1", "_selected_action": [complaints[0].pk], "index": "0"},
        follow=True,
    )
    assert "all matches at once is not offered" in response.content.decode()
    assert sorted(Complaint.objects.values_list("status", flat=True)) == ["new"] * 3  # nothing changed
    html = client.get("/admin/complaints/complaint/?_facets=1").content.decode()
    assert "Show counts" not in html and "Hide counts" not in html
