import pytest
from django.test import Client

from complaints import services
from complaints.models import Category, Complaint, OutboxEvent
from tests.factories import ComplaintFactory

VALID = {
    "title": "Parcel never arrived",
    "description": "Ordered on Monday.",
    "customer_name": "Jo Bloggs",
    "customer_email": "jo@example.com",
    "customer_phone": "",
    "channel": "email",
    "priority": "high",
}


@pytest.fixture
def complaint(alpha):
    return ComplaintFactory(
        actor=alpha.alice,
        category=alpha.categories["Billing"],
        title="Broken <b>kettle</b>",
        description="<script>alert('x')</script>",
        customer_name="Ann",
    )


@pytest.mark.parametrize("url", ["/complaints/", "/complaints/new/", "/complaints/1/", "/dashboard/"])
def test_anonymous_users_are_sent_to_the_login_page(alpha, url):
    response = Client(HTTP_HOST=alpha.domain).get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_new_complaint_with_bad_input_shows_field_errors_and_keeps_values(client_for, alpha):
    client = client_for(alpha, alpha.alice)
    data = {**VALID, "customer_email": "not-an-email", "title": "", "category": alpha.categories["Billing"].pk}
    response = client.post("/complaints/new/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-customer_email"' in html and 'data-testid="error-title"' in html
    assert 'value="Jo Bloggs"' in html  # what was entered is kept
    assert Complaint.objects.count() == 0


def test_new_complaint_redirects_to_it_with_its_reference(client_for, alpha):
    client = client_for(alpha, alpha.alice)
    response = client.post("/complaints/new/", {**VALID, "category": alpha.categories["Billing"].pk}, follow=True)
    complaint = Complaint.objects.get()
    assert response.redirect_chain[-1][0] == f"/complaints/{complaint.pk}/"
    assert f"Complaint {complaint.reference} was created." in response.content.decode()
    assert complaint.created_by == alpha.alice and complaint.channel == "email"


def test_list_filters_search_sort_and_shows_age(client_for, alpha):
    billing, delivery = alpha.categories["Billing"], alpha.categories["Delivery"]
    a = ComplaintFactory(actor=alpha.alice, category=billing, title="Late parcel", priority="urgent")
    b = ComplaintFactory(actor=alpha.alice, category=delivery, title="Wrong invoice", customer_name="Zed")
    services.complaint_assign(complaint_id=b.pk, actor=alpha.bob, assignee=alpha.bob)
    client = client_for(alpha, alpha.bob)

    def refs(query):
        html = client.get(f"/complaints/?{query}").content.decode()
        return [ref for ref in (a.reference, b.reference) if ref in html]

    assert refs("") == [a.reference, b.reference]
    assert refs(f"category={delivery.pk}") == [b.reference]
    assert refs("priority=urgent") == [a.reference]
    assert refs("assignee=me") == [b.reference]
    assert refs("assignee=none") == [a.reference]
    assert refs("q=zed") == [b.reference]
    assert refs(f"q={a.reference}") == [a.reference]
    assert refs("status=closed") == []
    html = client.get("/complaints/?sort=title").content.decode()
    assert html.index("Late parcel") < html.index("Wrong invoice")
    html = client.get("/complaints/?sort=-title").content.decode()
    assert html.index("Wrong invoice") < html.index("Late parcel")
    assert "minute" in html  # the age column
    # An inactive category still filters: the dashboard counts its complaints and links to them.
    Category.objects.filter(pk=delivery.pk).update(active=False)  # not delivery.save(): the world's object is shared
    response = client.get(f"/complaints/?category={delivery.pk}")
    assert response.status_code == 200 and "Delivery (inactive)</option>" in response.content.decode()
    # A filter that does not validate is an error beside its field (400); the others still apply.
    response = client.get("/complaints/?category=999999&q=zed")
    html = response.content.decode()
    assert response.status_code == 400 and "Select a valid choice" in html
    assert b.reference in html and a.reference not in html  # the search still applies
    response = client.get("/complaints/?q=" + "x" * 101)
    assert response.status_code == 400 and "at most 100 characters" in response.content.decode()
    assert a.reference in response.content.decode()  # no search: every complaint
    response = client.get("/complaints/?sort=" + "x" * 21)
    assert response.status_code == 400 and "at most 20 characters" in response.content.decode()


def test_list_is_paginated(client_for, alpha):
    for _ in range(27):
        ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    client = client_for(alpha, alpha.alice)
    assert "Page 1 of 2 · 27 complaints" in client.get("/complaints/").content.decode()
    assert "Page 2 of 2" in client.get("/complaints/?page=2").content.decode()


def test_detail_shows_only_allowed_moves_and_escapes_customer_text(client_for, alpha, complaint):
    html = client_for(alpha, alpha.alice).get(f"/complaints/{complaint.pk}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "Broken &lt;b&gt;kettle&lt;/b&gt;" in html
    moves = {m for m in ("in_progress", "on_hold", "resolved", "closed", "new") if f'data-testid="move-{m}"' in html}
    assert moves == {"in_progress", "on_hold", "resolved", "closed"}


def test_status_move_through_the_page(client_for, alpha, complaint):
    client = client_for(alpha, alpha.alice)
    response = client.post(
        f"/complaints/{complaint.pk}/transition/",
        {"to_status": "in_progress", "note": "Looking", "version": complaint.version},
        follow=True,
    )
    complaint.refresh_from_db()
    assert complaint.status == "in_progress"
    assert f"{complaint.reference} is now In progress." in response.content.decode()


def test_a_forbidden_move_gives_a_message_and_changes_nothing(client_for, alpha, complaint):
    client = client_for(alpha, alpha.alice)
    events = OutboxEvent.objects.count()
    response = client.post(
        f"/complaints/{complaint.pk}/transition/", {"to_status": "new", "version": complaint.version}, follow=True
    )
    assert "cannot move from New to New" in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == "new" and OutboxEvent.objects.count() == events


def test_a_stale_form_gives_a_message_and_changes_nothing(client_for, alpha, complaint):
    services.complaint_transition(complaint_id=complaint.pk, actor=alpha.bob, to_status="on_hold")
    client = client_for(alpha, alpha.alice)
    response = client.post(
        f"/complaints/{complaint.pk}/transition/", {"to_status": "resolved", "version": complaint.version}, follow=True
    )
    assert "changed by someone else meanwhile" in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == "on_hold"


def test_agent_takes_a_complaint_but_cannot_assign_it_to_someone_else(client_for, alpha, complaint):
    client = client_for(alpha, alpha.alice)
    html = client.get(f"/complaints/{complaint.pk}/").content.decode()
    assert 'data-testid="take"' in html and "Assign to</label>" not in html
    client.post(f"/complaints/{complaint.pk}/take/", {"version": complaint.version})
    complaint.refresh_from_db()
    assert complaint.assignee == alpha.alice
    response = client.post(
        f"/complaints/{complaint.pk}/assign/", {"assignee": alpha.bob.pk, "version": complaint.version}, follow=True
    )
    assert "Only managers can assign complaints to someone else." in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.assignee == alpha.alice


def test_manager_assigns_to_anyone(client_for, alpha, complaint):
    client = client_for(alpha, alpha.carol)
    client.post(f"/complaints/{complaint.pk}/assign/", {"assignee": alpha.bob.pk, "version": complaint.version})
    complaint.refresh_from_db()
    assert complaint.assignee == alpha.bob


def test_reply_and_internal_note_appear_in_the_timeline(client_for, alpha, complaint):
    client = client_for(alpha, alpha.alice)
    client.post(f"/complaints/{complaint.pk}/comment/", {"body": "We are sorry <3"})
    client.post(f"/complaints/{complaint.pk}/comment/", {"body": "Customer is a VIP", "internal": "on"})
    html = client.get(f"/complaints/{complaint.pk}/").content.decode()
    assert "We are sorry &lt;3" in html and "Customer is a VIP" in html
    assert html.count('class="t-reply"') == 1 and html.count('class="t-note"') == 1
    complaint.refresh_from_db()
    assert complaint.first_response_at is not None


def test_recategorize_through_the_page(client_for, alpha, complaint):
    client_for(alpha, alpha.alice).post(
        f"/complaints/{complaint.pk}/recategorize/",
        {"category": alpha.categories["Delivery"].pk, "priority": "urgent", "version": complaint.version},
    )
    complaint.refresh_from_db()
    assert (complaint.category.name, complaint.priority) == ("Delivery", "urgent")


def test_another_tenants_complaint_id_is_not_found_and_its_session_is_not_valid_here(
    client_for, alpha, beta, complaint
):
    beta_client = client_for(beta, beta.charlie)
    assert beta_client.get(f"/complaints/{complaint.pk}/").status_code == 404
    assert (
        beta_client.post(f"/complaints/{complaint.pk}/transition/", {"to_status": "closed", "version": 1}).status_code
        == 404
    )
    # Beta's session cookie, replayed on alpha's host, is nobody there.
    stolen = Client(HTTP_HOST=alpha.domain)
    stolen.cookies = beta_client.cookies
    assert stolen.get(f"/complaints/{complaint.pk}/").status_code == 302
    alpha.activate()
    complaint.refresh_from_db()
    assert complaint.status == "new"


def test_navigation_shows_the_dashboard_link_to_managers_only(client_for, alpha):
    assert 'data-testid="nav-dashboard"' not in client_for(alpha, alpha.alice).get("/complaints/").content.decode()
    assert 'data-testid="nav-dashboard"' in client_for(alpha, alpha.carol).get("/complaints/").content.decode()
