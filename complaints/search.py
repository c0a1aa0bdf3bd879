"""Staff-list search: the exact reference, the exact customer address, else a substring served by the trigram
indexes, with a count that samples instead of scanning when a common term matches most of a big tenant."""

import json
from typing import cast

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.functions import Upper
from django.db.models.lookups import In

from complaints.models import (
    SEARCHED_COLUMNS,
    Complaint,
    CustomerAddress,
)
from complaints.paging import COUNT_CAP, CountedQuerySet, planner_settings

# Searching a substring needs at least one trigram for the trigram indexes; shorter terms only match a reference.
SEARCH_MIN_LENGTH = 3


def complaint_search(qs: QuerySet[Complaint], *, q: str) -> QuerySet[Complaint]:
    """An exact reference first, then an exact customer e-mail address (one index probe each); otherwise a
    substring of title, customer name or e-mail, served by the trigram indexes. A term too short for a trigram
    matches references only."""
    q = q.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL; the API passes the term on as typed
    if not q:
        return qs
    by_reference = qs.filter(reference__iexact=q)
    if len(q) < SEARCH_MIN_LENGTH or by_reference.exists():
        return by_reference
    if "@" in q:
        # A whole address is the customer, as a reference is the complaint: theirs alone (not the addresses
        # that merely contain it), through the exact-address index, whatever the tenant's size.
        by_email = qs.filter(customer_email__iexact=q)
        if by_email.exists():
            return by_email
    parts = substring_parts(q)
    match = _either(parts.values())
    matching = cast(CountedQuerySet, qs.filter(match))
    in_sample = None
    plan = _plan(matching)
    if plan["Plan Rows"] > DENSE_ESTIMATE:
        # The column the planner expects most matches in, alone, first: a dense term is nearly always dense in
        # one column, and testing one column of the sampled rows costs a third of testing all three.
        densest = _densest_part(plan, parts)
        if densest and _sample_matches(qs, match=parts[densest], wanted=COUNT_CAP + 1) > COUNT_CAP:
            return matching.knowing_at_least(COUNT_CAP + 1)  # its matches are matches: proven (see below)
        in_sample = _sample_matches(qs, match=match, wanted=COUNT_CAP + 1)
        if in_sample > COUNT_CAP:
            # Proven to have more than COUNT_CAP matches without collecting them (see below); the page's capped
            # count is then known too, instead of proving it a second time.
            return matching.knowing_at_least(COUNT_CAP + 1)
    # Row estimates for '%term%' are guesses. Guessing "many" makes PostgreSQL walk the sort index and filter,
    # which reads the whole table when the matches are few. So first collect up to COUNT_CAP + 1 matches
    # through the search indexes only (bitmap scans): few matches are then sorted directly.
    with planner_settings(qs.db, BITMAP_ONLY):
        ids = list(matching.order_by().values_list("id", flat=True)[: COUNT_CAP + 1])
    if len(ids) <= COUNT_CAP:
        return qs.filter(id__in=ids)
    matching = matching.knowing_at_least(COUNT_CAP + 1)
    if in_sample is None:
        in_sample = _sample_matches(qs, match=match, wanted=COUNT_CAP + 1)
    # More than COUNT_CAP matches, yet under 5 % of the sample. Walking the sort index reads about PAGE_ROWS /
    # density rows to fill a page; the bitmap reads every match, about density × rows. The sample's density
    # says which is fewer (a term in 0.1 % of 10 M complaints: a walk of 50,000 rows against 10,000 matches).
    rows = _estimated_rows(qs)
    if in_sample * in_sample * rows < PAGE_ROWS * SAMPLE_ROWS * SAMPLE_ROWS:
        return matching.planned(*BITMAP_ONLY)
    return matching


# Collecting COUNT_CAP + 1 matches through the trigram indexes costs in proportion to *all* the matches: each
# bitmap index scan returns every match before the heap is read (a word in 10 % of 10 M titles: a million-entry
# bitmap, ~1 s). So when the planner expects many matches, a sample of the rows first tries to prove there are
# more than COUNT_CAP: it reads at most SAMPLE_ROWS rows in storage order and stops at the COUNT_CAP + 1-th match
# (a term in 10 % of the complaints: ~10,000 rows, whatever the tenant's size). Only if that fails is the trigram
# probe run; when the planner expects at most DENSE_ESTIMATE matches the probe is cheap and runs first.
DENSE_ESTIMATE = 10 * COUNT_CAP
SAMPLE_ROWS = 20 * (COUNT_CAP + 1)
# The rows a list page reads (the API's page of 50, and one more to know if there is a next page).
PAGE_ROWS = 51
# A search's matches read through its indexes only, as a bitmap: never a walk of a sort index, never a table scan.
BITMAP_ONLY = ("enable_seqscan = off", "enable_indexscan = off")


def _plan(qs: QuerySet) -> dict:
    return json.loads(qs.order_by().explain(format="json"))[0]["Plan"]


def _estimated_rows(qs: QuerySet) -> float:
    return _plan(qs)["Plan Rows"]


def _densest_part(plan: dict, parts: dict[str, Q]) -> str | None:
    """The searched column whose index scan the plan expects the most rows from (None: no such scan, or one
    part only, which the whole match's sample tests anyway)."""
    expected: dict[str, float] = {}
    nodes = [plan]
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        for column in parts:
            if column in node.get("Index Name", ""):  # complaint_title_trgm, complaint_customer_email_upper, ...
                expected[column] = max(expected.get(column, 0), node["Plan Rows"])
    if len(parts) < 2 or not expected:
        return None
    return max(expected, key=lambda column: expected[column])


def _sample_matches(qs: QuerySet[Complaint], *, match: Q, wanted: int) -> int:
    """How many of the first SAMPLE_ROWS rows of `qs` (storage order, no sort) `match` holds, up to `wanted`.
    The match is the page's own (its SQL, compiled by Django), so the sample proves what the page will show."""
    connection = connections[qs.db]
    rows = qs.order_by().values(*SEARCHED_COLUMNS)[:SAMPLE_ROWS]
    sql, params = rows.query.sql_with_params()
    # The sampled rows are named as the table: the match's SQL reads "complaints_complaint"."title" and so on,
    # which are the subquery's columns.
    query = Complaint.objects.filter(match).query
    if set(query.alias_map) != {Complaint._meta.db_table}:  # a join would name a table the sample has not
        raise ValueError("the sample reads the complaint's own columns only")
    try:
        where, where_params = query.get_compiler(qs.db).compile(query.where)
    except EmptyResultSet:  # matches nothing (e.g. an empty list of addresses)
        return 0
    except FullResultSet:  # matches everything
        where, where_params = "TRUE", ()
    table = connection.ops.quote_name(Complaint._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM ({sql}) {table} WHERE {where} LIMIT %s) found",
            [*params, *where_params, wanted],
        )
        return cursor.fetchone()[0]


# More distinct addresses than this containing a term: the complaints' own trigram index serves the e-mail part.
MAX_ADDRESSES = 200


def substring_match(q: str) -> Q:
    """Case-insensitive '%q%' on title, customer name and e-mail (see substring_parts)."""
    return _either(substring_parts(q).values())


def substring_parts(q: str) -> dict[str, Q]:
    """Searched column -> its part of the substring match. Title and name through their trigram indexes
    (UPPER(col) LIKE, as the indexes are built); the e-mail through the tenant's distinct addresses
    (CustomerAddress), then the complaints with those addresses through the exact-address index (no part when
    no address contains the term)."""
    parts = {column: Q(**{f"{column}__icontains": q}) for column in SEARCHED_COLUMNS if column != "customer_email"}
    addresses = CustomerAddress.objects.containing(q, limit=MAX_ADDRESSES + 1)
    if len(addresses) > MAX_ADDRESSES:
        parts["customer_email"] = Q(customer_email__icontains=q)
    elif addresses:
        parts["customer_email"] = Q(In(Upper("customer_email"), addresses))
    return parts


def _either(parts) -> Q:
    match = Q()
    for part in parts:
        match |= part
    return match
