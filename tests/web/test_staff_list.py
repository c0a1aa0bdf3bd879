"""The staff list's search, sorts and paging (HTML and API): every ordering is total, pages never overlap or skip,
counting stops at a cap, and the indexes behind them are usable from a tenant's schema."""

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from complaints import search, selectors, services
from complaints.models import Complaint, CustomerAddress
from complaints.paging import CappedPaginator, CountedQuerySet, GroupedRows
from tests.factories import ComplaintFactory


def api_as(world, user) -> APIClient:
    client = APIClient(HTTP_HOST=world.domain)
    client.force_authenticate(user)
    return client


PRIORITY_ORDER = ["low", "medium", "high", "urgent"]
STATUS_ORDER = ["new", "in_progress", "on_hold", "resolved", "closed"]


@pytest.fixture
def many(alpha):
    """120 complaints with many ties on every sort key (3 categories, 2 assignees + unassigned, 2 titles)."""
    categories = list(alpha.categories.values())
    moves = {1: ["in_progress"], 2: ["on_hold"], 3: ["resolved"], 4: ["closed"]}
    for i in range(120):
        complaint = ComplaintFactory(
            actor=alpha.alice,
            category=categories[i % 3],
            priority=PRIORITY_ORDER[i % 4],
            title="Same title" if i % 2 else "Other title",
        )
        if i % 3:
            services.complaint_assign(
                complaint_id=complaint.pk, actor=alpha.carol, assignee=[alpha.alice, alpha.bob][i % 2]
            )
        for status in moves.get(i % 5, []):
            services.complaint_transition(complaint_id=complaint.pk, actor=alpha.carol, to_status=status)
    return list(Complaint.objects.select_related("category", "assignee"))


# Independent oracle: plain Python keys over the write models, ties broken by id.
ORACLE = {
    "priority": lambda c: (PRIORITY_ORDER.index(c.priority), c.pk),
    "status": lambda c: (STATUS_ORDER.index(c.status), c.pk),
    "category": lambda c: (c.category.name, c.pk),
    "assignee": lambda c: (c.assignee is None, c.assignee.username if c.assignee else "", c.pk),
    "title": lambda c: (c.title, c.pk),
    "reference": lambda c: (c.pk,),
    "created": lambda c: (c.created_at, c.pk),
    "updated": lambda c: (c.updated_at, c.pk),
}
API_NAMES = {"created": "created_at", "updated": "updated_at"}


def expected_ids(complaints, sort: str) -> list[int]:
    ordered = [c.pk for c in sorted(complaints, key=ORACLE[sort.lstrip("-")])]
    return ordered[::-1] if sort.startswith("-") else ordered


def api_pages(client, query: str) -> tuple[list[int], int]:
    ids, url, pages = [], f"/api/complaints/?{query}", 0
    while url:
        body = client.get(url).json()
        ids += [c["id"] for c in body["results"]]
        url, pages = body["next"], pages + 1
    return ids, pages


def test_api_pages_of_every_ordering_are_in_order_and_cover_every_complaint_once(alpha, many):
    client = api_as(alpha, alpha.alice)
    for sort in [*ORACLE, *(f"-{name}" for name in ORACLE)]:
        name = sort.lstrip("-")
        ids, pages = api_pages(client, f"ordering={sort.replace(name, API_NAMES.get(name, name))}")
        assert (sort, pages, len(set(ids))) == (sort, 3, 120)
        assert ids == expected_ids(many, sort), sort


def test_api_pages_go_on_past_the_count_cap_without_repeats(alpha, many, monkeypatch):
    monkeypatch.setattr(selectors, "SMALL_TENANT_COMPLAINTS", 0)  # counted as a big tenant's
    monkeypatch.setattr(CappedPaginator, "cap", 60)
    client = api_as(alpha, alpha.alice)
    for sort in ("priority", "-status", "category", "-assignee"):
        first = client.get(f"/api/complaints/?ordering={sort}").json()
        assert (first["count"], first["count_capped"]) == (61, True)
        ids, pages = api_pages(client, f"ordering={sort}")
        assert (pages, ids) == (3, expected_ids(many, sort))
    assert client.get("/api/complaints/?page=4").status_code == 404
    monkeypatch.setattr(selectors, "MAX_NAME_GROUPS", 1)  # too many names: one join sort, same order
    for sort in ("category", "-assignee"):
        ids, pages = api_pages(client, f"ordering={sort}")
        assert (pages, ids) == (3, expected_ids(many, sort))


def test_html_pages_of_a_sort_are_in_order_and_cover_every_complaint_once(alpha, client_for, many):
    client = client_for(alpha, alpha.alice)
    by_reference = {c.reference: c.pk for c in many}
    for sort in ["priority", "-status", "category", "-assignee", "title"]:
        ids = []
        for page in range(1, 6):  # 120 complaints, 25 a page
            html = client.get(f"/complaints/?sort={sort}&page={page}").content.decode()
            rows = html.split('data-testid="complaint-table"')[1].split("</table>")[0]
            ids += [pk for ref, pk in sorted(by_reference.items(), key=lambda kv: rows.find(kv[0])) if ref in rows]
        assert ids == expected_ids(many, sort), sort


def test_rows_sorted_by_name_iterate_and_index_in_the_order_of_their_pages(alpha, many):
    for sort in ["category", "-assignee"]:
        rows = selectors.complaint_order(Complaint.objects.order_by(), sort=sort)
        assert isinstance(rows, GroupedRows)
        expected = expected_ids(many, sort)
        assert [c.pk for c in rows] == expected, sort
        assert [rows[i].pk for i in (0, 41, 119)] == [expected[i] for i in (0, 41, 119)], sort
        with pytest.raises(IndexError):
            rows[120]


def test_an_exact_reference_is_found_first_and_alone(alpha):
    billing = alpha.categories["Billing"]
    target = ComplaintFactory(actor=alpha.alice, category=billing, title="Refund please")
    ComplaintFactory(actor=alpha.alice, category=billing, title=f"About {target.reference} again")
    client = api_as(alpha, alpha.alice)
    found = client.get(f"/api/complaints/?search={target.reference.lower()}").json()
    assert [c["id"] for c in found["results"]] == [target.pk] and found["count"] == 1


@pytest.mark.parametrize("cap", [1000, 1])  # few matches sorted directly; more than the cap: filtered in place
def test_search_matches_substrings_of_title_customer_and_email_case_insensitively(alpha, monkeypatch, cap):
    monkeypatch.setattr(search, "COUNT_CAP", cap)
    billing = alpha.categories["Billing"]
    a = ComplaintFactory(actor=alpha.alice, category=billing, title="Parcel lost", customer_email="x@acme.test")
    b = ComplaintFactory(actor=alpha.alice, category=billing, title="Other", customer_name="Ann Parcelle")
    c = ComplaintFactory(actor=alpha.alice, category=billing, title="Other", customer_email="zoe@globex.test")

    def ids(q):
        return sorted(c.pk for c in selectors.complaint_list(user=alpha.alice, q=q))

    assert ids("PARCEL") == sorted([a.pk, b.pk])
    assert ids("globex") == [c.pk]
    assert ids("acme.te") == [a.pk]
    assert ids("nothing-like-this") == []
    assert ids("glo\x00bex") == [c.pk]  # a NUL (PostgreSQL refuses it) is dropped, not a 500
    assert ids("pa") == []  # too short for a substring; only a whole reference would match
    assert ids(c.reference) == [c.pk]
    with connection.cursor() as cursor:  # the probe's planner settings end with it (tests run in a transaction)
        cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan')")
        assert cursor.fetchone() == ("on", "on")


@pytest.mark.parametrize("sample_rows", [10, 1])  # the sample proves "many"; it does not: the trigram probe decides
def test_a_term_the_planner_expects_often_is_tried_on_a_sample_first_with_the_same_results(
    alpha, monkeypatch, sample_rows
):
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    monkeypatch.setattr(search, "DENSE_ESTIMATE", -1)  # "expected often", whatever the estimate
    monkeypatch.setattr(search, "SAMPLE_ROWS", sample_rows)
    billing = alpha.categories["Billing"]
    parcels = [ComplaintFactory(actor=alpha.alice, category=billing, title=f"Parcel {i}") for i in range(4)]
    ComplaintFactory(actor=alpha.alice, category=billing, title="Other")
    with CaptureQueriesContext(connection) as queries:
        found = selectors.complaint_list(user=alpha.alice, q="parcel", sort="title")
        ids = [complaint.pk for complaint in found]
    assert ids == [c.pk for c in parcels]
    probed = any("enable_indexscan = off" in q["sql"] for q in queries.captured_queries)
    assert probed is (sample_rows == 1)  # 10 rows hold the 3 matches wanted; 1 row cannot


def test_the_count_stops_at_its_cap_in_html_and_api(alpha, client_for, monkeypatch):
    monkeypatch.setattr(selectors, "SMALL_TENANT_COMPLAINTS", 0)  # counted as a big tenant's
    monkeypatch.setattr(CappedPaginator, "cap", 5)
    for _ in range(7):
        ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    body = api_as(alpha, alpha.alice).get("/api/complaints/").json()
    assert body["count"] == 6 and body["count_capped"] is True and len(body["results"]) == 7
    assert body["next"] is None
    html = client_for(alpha, alpha.alice).get("/complaints/").content.decode()
    assert "Page 1 · more than 5 complaints" in html and "Page 1 of" not in html
    filtered = api_as(alpha, alpha.alice).get("/api/complaints/?priority=urgent").json()
    assert filtered["count"] == 0 and filtered["count_capped"] is False


def test_a_small_tenants_list_counts_exactly_past_the_cap_in_html_and_api(alpha, client_for, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 5)
    monkeypatch.setattr(selectors, "SMALL_TENANT_COMPLAINTS", 100)  # 7 complaints: a small tenant
    for _ in range(7):
        ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    body = api_as(alpha, alpha.alice).get("/api/complaints/").json()
    assert (body["count"], body["count_capped"]) == (7, False)
    html = client_for(alpha, alpha.alice).get("/complaints/").content.decode()
    assert "Page 1 of 1 · 7 complaints" in html and "more than" not in html


def test_a_detail_request_ignores_a_name_ordering(alpha):
    complaint = ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"])
    response = api_as(alpha, alpha.alice).get(f"/api/complaints/{complaint.pk}/?ordering=category")
    assert response.status_code == 200 and response.json()["id"] == complaint.pk


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        # Tiny test tables would be read sequentially; forbid that to see whether the index can serve the query.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    return queryset.explain()


def test_the_tenant_search_path_finds_pg_trgm_in_public_and_its_indexes_serve_search_and_sorts(alpha):
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert cursor.fetchone()[0].replace('"', "") == "alpha, public"
        cursor.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone()[0] == "public"
        cursor.execute("SELECT similarity('parcel', 'parcels') > 0.5")  # a pg_trgm function, found via public
        assert cursor.fetchone()[0] is True
    base = Complaint.objects.order_by()
    ComplaintFactory(actor=alpha.alice, category=alpha.categories["Billing"], customer_email="parcel@acme.test")
    plan = _plan(base.filter(search.substring_match("parcel")))
    # Title and name through their trigram indexes; the e-mail through the addresses, then the exact-address index.
    assert {"complaint_title_trgm", "complaint_customer_name_trgm", "complaint_customer_email_upper"} <= set(
        plan.replace("(", " ").replace(")", " ").split()
    )
    CustomerAddress.objects.record(f"customer{i}@example.test" for i in range(5000))  # worth an index
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list('customer_address_trgm'::regclass)")  # as VACUUM would
        cursor.execute("ANALYZE complaints_customeraddress")
        cursor.execute("EXPLAIN SELECT address FROM complaints_customeraddress WHERE address LIKE UPPER('%parcel%')")
        assert "customer_address_trgm" in " ".join(row[0] for row in cursor.fetchall())
    assert "complaint_customer_email_trgm" in _plan(base.filter(customer_email__icontains="parcel"))  # too many
    assert "complaint_customer_email_upper" in _plan(base.filter(customer_email__iexact="parcel@acme.test"))
    assert "complaint_reference_upper" in _plan(base.filter(reference__iexact="c-000001"))
    assert "complaint_priority_rank_id" in _plan(selectors.complaint_order(base, sort="-priority")[:25])
    assert "complaint_status_rank_id" in _plan(selectors.complaint_order(base, sort="status")[:25])
    assert "complaint_updated_id" in _plan(selectors.complaint_order(base, sort="-updated")[:25])
    # Every filter at once, newest first: a page reads only matching index entries, in order.
    filtered = selectors.complaint_list(
        user=alpha.alice, status="closed", priority="urgent", category=alpha.categories["Billing"].pk
    )
    assert not isinstance(filtered, GroupedRows)  # newest first: one queryset
    assert "complaint_filter_created" in _plan(filtered[:25])
    by_category = selectors.complaint_order(base, sort="category")
    assert isinstance(by_category, GroupedRows)
    groups = by_category.groups
    assert len(groups) == 3 and all("complaint_category_id" in _plan(group[:25]) for group in groups)
    # The unassigned group in id order, both ways: `IS NULL` does not give (assignee, id) the order `= 3` does.
    for sort in ("assignee", "-assignee"):
        by_assignee = selectors.complaint_order(base, sort=sort)
        assert isinstance(by_assignee, GroupedRows)
        unassigned = [group for group in by_assignee.groups if "IS NULL" in str(group.query)]
        assert len(unassigned) == 1 and "complaint_unassigned_id" in _plan(unassigned[0][10:35])


def test_the_filter_menus_render_what_djangos_select_renders(alpha):
    from django import forms

    from complaints.forms import ComplaintFilterForm
    from complaints.models import Category

    Category.objects.create(name='Returns & "refunds" <b>')  # escaped, as Django escapes it

    def form():
        bound = ComplaintFilterForm(
            {"status": "open", "category": str(alpha.categories["Billing"].pk), "assignee": "me"}
        )
        assert bound.is_valid(), bound.errors
        return bound

    quick, plain = form(), form()
    for name in ("status", "category", "priority", "assignee"):
        field = plain.fields[name]
        assert field.widget.__class__.__name__ == "QuickSelect"
        field.widget = forms.Select(choices=getattr(field, "choices", ()))
        expected = "".join(line.strip() for line in str(plain[name]).splitlines())
        assert str(quick[name]) == expected, name
    assert "Returns &amp; &quot;refunds&quot; &lt;b&gt;" in str(quick["category"])
    assert 'value="me" selected' in str(quick["assignee"]) and 'value="open" selected' in str(quick["status"])
    assert f'value="{alpha.categories["Billing"].pk}" selected' in str(quick["category"])
    for unknown in ("999999", "x", "1.5"):  # no such (active) category: the form says so, no lookup, no 500
        assert not ComplaintFilterForm({"category": unknown}).is_valid()


@pytest.mark.parametrize("addresses", ["through the addresses", "too many addresses: the e-mail itself"])
def test_the_sample_counts_what_the_pages_match_counts_in_every_column(alpha, monkeypatch, addresses):
    if addresses.startswith("too many"):
        monkeypatch.setattr(search, "MAX_ADDRESSES", 0)
    billing = alpha.categories["Billing"]
    ComplaintFactory(actor=alpha.alice, category=billing, title="Parcel lost")
    ComplaintFactory(actor=alpha.alice, category=billing, customer_name="Ann Parcelle")
    for i in range(3):
        ComplaintFactory(actor=alpha.alice, category=billing, title="Other", customer_email=f"parcel{i}@acme.test")
    ComplaintFactory(actor=alpha.alice, category=billing, title="Other", customer_email="someone@acme.test")
    base = Complaint.objects.order_by()
    for term, expected in (("parcel", 5), ("PARCEL0@", 1), ("zzqqxxw", 0)):
        match = search.substring_match(term)
        assert base.filter(match).count() == expected, term
        assert search._sample_matches(base, match=match, wanted=100) == expected, term
        assert search._sample_matches(base, match=match, wanted=2) == min(expected, 2), term
    with pytest.raises(ValueError):  # a match on another table cannot be read from the sampled columns
        search._sample_matches(base, match=Q(category__name__icontains="bill"), wanted=2)


# The rows as the list's template wrote them before complaint_rows: the oracle for its markup.
TEMPLATE_ROWS = """{% for c in page %}
<tr>
  <td><a href="{% url 'complaints:detail' c.pk %}">{{ c.reference }}</a></td>
  <td class="long-text" title="{{ c.title }}">{{ c.title|truncatechars:80 }}</td>
  <td class="long-text">{{ c.customer_name|truncatechars:60 }}</td>
  <td><span class="status s-{{ c.status }}">{{ c.get_status_display }}</span></td>
  <td><span class="prio p-{{ c.priority }}">{{ c.get_priority_display }}</span></td>
  <td class="long-text">{{ c.category.name }}</td>
  <td>{% if c.assignee %}{% firstof c.assignee.get_full_name c.assignee.username %}{% else %}—{% endif %}</td>
  <td title="{{ c.created_at|date:'Y-m-d H:i' }}">{{ c.created_at|timesince }}</td>
</tr>
{% empty %}<tr><td colspan="8">No complaints match.</td></tr>{% endfor %}"""


def test_the_list_rows_render_what_the_template_rendered(alpha):
    import re

    from django.template import engines
    from django.utils import timezone

    from complaints.models import Category

    category = Category.objects.create(name='Bills & <i>"fees"</i>')
    tricky = [
        ComplaintFactory(actor=alpha.alice, category=category, title="<script>alert(1)</script> & 'quotes'"),
        ComplaintFactory(actor=alpha.alice, category=category, title="x" * 80, customer_name="y" * 61),
        ComplaintFactory(actor=alpha.alice, category=category, title="é" * 79 + "e\u0301" * 3),  # combining marks
        ComplaintFactory(actor=alpha.alice, category=category, title="Cafe\u0301", customer_name="Zoë " * 20),
    ]
    services.complaint_assign(complaint_id=tricky[0].pk, actor=alpha.carol, assignee=alpha.bob)
    page = list(Complaint.objects.select_related("category", "assignee").order_by("id"))
    engine = engines["django"]
    python = engine.from_string("{% load complaint_rows %}{% complaint_rows page %}")
    template = engine.from_string(TEMPLATE_ROWS)

    def tight(html: str) -> str:
        return re.sub(r">\s+<", "><", html.strip())

    for zone in ("UTC", "Pacific/Chatham", "America/St_Johns"):  # the date cell is in the tenant's zone
        with timezone.override(zone):
            assert tight(python.render({"page": page})) == tight(template.render({"page": page})), zone
    assert tight(python.render({"page": []})) == tight(template.render({"page": []}))
    assert "&lt;script&gt;" in python.render({"page": page})


@pytest.mark.parametrize("page_rows", [10**9, 0])  # the sample's density says which plan reads fewer rows
def test_more_matches_than_the_cap_but_sparse_are_read_as_a_bitmap_or_a_walk_with_the_same_results(
    alpha, monkeypatch, page_rows
):
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    monkeypatch.setattr(search, "DENSE_ESTIMATE", -1)
    monkeypatch.setattr(search, "SAMPLE_ROWS", 1)  # one row cannot prove 3 matches: "sparse"
    monkeypatch.setattr(search, "PAGE_ROWS", page_rows)
    monkeypatch.setattr(CappedPaginator, "cap", 2)
    billing = alpha.categories["Billing"]
    parcels = [ComplaintFactory(actor=alpha.alice, category=billing, title=f"Parcel {i}") for i in range(4)]
    ComplaintFactory(actor=alpha.alice, category=billing, title="Other")
    with CaptureQueriesContext(connection) as queries:
        found = selectors.complaint_list(user=alpha.alice, q="parcel", sort="-created")
        page = CappedPaginator(found, 3).page(1)
        rows = [c.pk for c in page]
    assert rows == [c.pk for c in parcels][::-1][:3] and page.paginator.count == 3  # "more than 2", not counted
    sql = [q["sql"] for q in queries.captured_queries]
    page_query = next(i for i, s in enumerate(sql) if "ORDER BY" in s and "LIMIT 4" in s)
    as_bitmap = any("SET LOCAL enable_indexscan = off" in s for s in sql[page_query - 3 : page_query])
    assert as_bitmap is (page_rows > 0)
    with connection.cursor() as cursor:  # the page's planner settings end with it
        cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan')")
        assert cursor.fetchone() == ("on", "on")


def test_the_densest_part_is_the_column_whose_index_scan_the_plan_expects_most_rows_from():
    parts = {"title": Q(title="a"), "customer_name": Q(customer_name="a"), "customer_email": Q(customer_email="a")}

    def scan(index, rows):
        return {"Node Type": "Bitmap Index Scan", "Index Name": index, "Plan Rows": rows}

    plan = {
        "Node Type": "Bitmap Heap Scan",
        "Plan Rows": 900,
        "Plans": [
            {
                "Node Type": "BitmapOr",
                "Plan Rows": 900,
                "Plans": [
                    scan("complaint_title_trgm", 100),
                    scan("complaint_customer_name_trgm", 700),
                    scan("complaint_customer_email_upper", 100),
                ],
            }
        ],
    }
    assert search._densest_part(plan, parts) == "customer_name"
    assert search._densest_part({"Node Type": "Seq Scan", "Plan Rows": 900}, parts) is None  # nothing to go by
    assert search._densest_part(plan, {"title": parts["title"]}) is None  # one part: the whole match anyway


def test_a_dense_term_is_proven_by_its_densest_column_alone_with_the_same_results(alpha, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    monkeypatch.setattr(search, "DENSE_ESTIMATE", -1)
    monkeypatch.setattr(search, "_densest_part", lambda plan, parts: "title")
    billing = alpha.categories["Billing"]
    parcels = {ComplaintFactory(actor=alpha.alice, category=billing, title=f"Parcel {i}").pk for i in range(4)}
    ComplaintFactory(actor=alpha.alice, category=billing, title="Other", customer_name="Ann Parcelle")
    ComplaintFactory(actor=alpha.alice, category=billing, title="Other")
    with CaptureQueriesContext(connection) as queries:
        found = search.complaint_search(Complaint.objects.all(), q="parcel")
    samples = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT count(*) FROM (SELECT 1")]
    assert len(samples) == 1 and "title" in samples[0].split("WHERE")[-1]
    assert "customer_name" not in samples[0].split("WHERE")[-1]  # the title alone proved it
    assert isinstance(found, CountedQuerySet) and found.known_at_least() == 3
    assert {c.pk for c in found} == parcels | {c.pk for c in Complaint.objects.filter(customer_name="Ann Parcelle")}
