"""Queries of the write side (real time): what the staff UI and the complaints API show."""

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import Case, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Concat, ExtractHour, ExtractIsoWeekDay, NullIf, Trim, TruncDate, Upper
from django.db.models.lookups import Exact, GreaterThanOrEqual, In, LessThanOrEqual

from complaints import clock
from complaints.models import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    SEARCHED_COLUMNS,
    STATUS_RANK,
    Category,
    Comment,
    Complaint,
    CustomerAddress,
    StatusHistory,
)
from complaints.paging import COUNT_CAP, CountedQuerySet, GroupedRows, capped_count, planner_settings
from helpdesk.access import WORK_COMPLAINTS

# A tenant with fewer complaints than this counts its lists exactly: counting them all costs a few milliseconds.
SMALL_TENANT_COMPLAINTS = 50_000

# Searching a substring needs at least one trigram for the trigram indexes; shorter terms only match a reference.
SEARCH_MIN_LENGTH = 3


# Sort name -> what the (column, id) index of Complaint.Meta serves. Every ordering ends with `id`, so pages
# never repeat or skip a row. Category and assignee are sorted by name, group by group (see _by_name).
SORT_KEYS: dict[str, str | Case] = {
    "reference": "id",
    "title": "title",
    "status": STATUS_RANK,
    "priority": PRIORITY_RANK,
    "created": "created_at",
    "updated": "updated_at",
}
SORT_BY_NAME = {"category": "category", "assignee": "assignee"}
# Beyond this many groups (e.g. thousands of users) a query per group costs more than the join sort it avoids.
MAX_NAME_GROUPS = 200


@dataclass(frozen=True)
class LocalTime:
    """Filters in the tenant's local days and hours, as the dashboard counts (None: not asked). A day range is
    inclusive; an age is whole local days since the created day (0 = created today)."""

    time_zone: str = "UTC"
    created_day_from: date | None = None
    created_day_to: date | None = None
    resolved_day_from: date | None = None
    resolved_day_to: date | None = None
    assigned_day_from: date | None = None
    assigned_day_to: date | None = None
    age_min: int | None = None
    age_max: int | None = None
    weekday: int | None = None  # ISO: 1 Monday .. 7 Sunday, of the created moment
    hour: int | None = None  # 0-23, of the created moment


LOCAL_TIME_FILTERS = tuple(name for name in LocalTime.__dataclass_fields__ if name != "time_zone")
# The reopened filter's words, the same in the staff list and the API.
REOPENED_YES, REOPENED_NO = "yes", "no"


def complaint_list(
    *,
    user,
    status: str = "",
    category: int | None = None,
    priority: str = "",
    assignee: str = "",
    channel: str = "",
    reopened: str = "",
    local: LocalTime | None = None,
    q: str = "",
    sort: str = "-created",
) -> QuerySet[Complaint] | GroupedRows:
    qs: QuerySet[Complaint] = Complaint.objects.select_related("category", "assignee")
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category_id=category)
    if priority:
        qs = qs.filter(priority=priority)
    if assignee:
        qs = complaint_filter_assignee(qs, user=user, assignee=assignee)
    if channel:
        qs = qs.filter(channel=channel)
    if reopened:
        qs = complaint_filter_reopened(qs, reopened=reopened)
    if local:
        qs = complaint_filter_local_time(qs, local=local)
    return complaint_order(complaint_search(qs, q=q), sort=sort)


def list_count_cap() -> int | None:
    """How far a list page counts: exactly in a small tenant, to the paginator's cap (None) in a big one (an
    exact count would
    read every matching complaint, a million there, for each page). The size is the planner's estimate of the
    table, kept by autovacuum; a table never analyzed is counted, up to the limit."""
    table = Complaint._meta.db_table
    with connections[Complaint.objects.db].cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    estimate = row[0] if row else -1
    if estimate < 0:
        estimate = capped_count(Complaint.objects.order_by(), SMALL_TENANT_COMPLAINTS + 1)
    return SMALL_TENANT_COMPLAINTS if estimate <= SMALL_TENANT_COMPLAINTS else None


def complaint_filter_reopened(qs: QuerySet[Complaint], *, reopened: str) -> QuerySet[Complaint]:
    """Raises ValueError for anything but "yes" (reopened at least once) or "no"."""
    if reopened == REOPENED_YES:
        return qs.filter(reopen_count__gt=0)
    if reopened == REOPENED_NO:
        return qs.filter(reopen_count=0)
    raise ValueError('Use "yes" or "no".')


LOCAL_DAY_COLUMNS = {"created": "created_at", "resolved": "resolved_at", "assigned": "assigned_at"}


def complaint_filter_local_time(qs: QuerySet[Complaint], *, local: LocalTime) -> QuerySet[Complaint]:
    """Complaints whose moments fall on those local days and hours, by the read side's rule: the local day of a
    moment is its date on the zone's wall clock (midnight to midnight, 23 or 25 hours around DST)."""
    zone = ZoneInfo(local.time_zone)
    ranges = {
        moment: [getattr(local, f"{moment}_day_from"), getattr(local, f"{moment}_day_to")]
        for moment in LOCAL_DAY_COLUMNS
    }
    if local.age_min is not None or local.age_max is not None:
        today = clock.now().astimezone(zone).date()
        created = ranges["created"]
        if local.age_max is not None:
            created[0] = max(filter(None, [created[0], today - timedelta(days=local.age_max)]))
        if local.age_min is not None:
            created[1] = min(filter(None, [created[1], today - timedelta(days=local.age_min)]))
    for moment, (first, last) in ranges.items():
        column = LOCAL_DAY_COLUMNS[moment]
        day = TruncDate(column, tzinfo=zone)
        # The column's own range (a day's margin: local midnights are not always one instant) lets its index
        # narrow the rows; the local day itself decides.
        if first is not None:
            start = datetime.combine(first, time.min, zone) - timedelta(days=1)
            qs = qs.filter(GreaterThanOrEqual(day, first), **{f"{column}__gte": start})
        if last is not None:
            end = datetime.combine(last, time.min, zone) + timedelta(days=2)
            qs = qs.filter(LessThanOrEqual(day, last), **{f"{column}__lt": end})
    if local.weekday is not None:
        qs = qs.filter(Exact(ExtractIsoWeekDay("created_at", tzinfo=zone), local.weekday))
    if local.hour is not None:
        qs = qs.filter(Exact(ExtractHour("created_at", tzinfo=zone), local.hour))
    return qs


# The assignee filter's words, the same in the staff list and the API: a user id, "me" or "none".
ASSIGNEE_ME, ASSIGNEE_NONE = "me", "none"
_USER_ID = re.compile(r"[1-9][0-9]{0,17}")  # ASCII digits that fit a bigint ("²".isdigit() is true, int() fails)


def complaint_filter_assignee(qs: QuerySet[Complaint], *, user, assignee: str) -> QuerySet[Complaint]:
    """Raises ValueError for anything but a user id, "me" or "none"."""
    if assignee == ASSIGNEE_ME:
        return qs.filter(assignee=user)
    if assignee == ASSIGNEE_NONE:
        return qs.filter(assignee__isnull=True)
    if _USER_ID.fullmatch(assignee):
        return qs.filter(assignee_id=int(assignee))
    raise ValueError('Use a user id, "me" or "none".')


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


def complaint_order(qs: QuerySet[Complaint], *, sort: str) -> QuerySet[Complaint] | GroupedRows:
    """Order by one sort name (`-` for descending), then id. Unknown names sort newest first."""
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name in SORT_BY_NAME:
        return _by_name(qs, field=SORT_BY_NAME[name], descending=descending)
    key = SORT_KEYS.get(name)
    if key is None:
        key, descending = "created_at", True
    expression = F(key) if isinstance(key, str) else key
    if descending:
        return qs.order_by(expression.desc(), F("id").desc())
    return qs.order_by(expression.asc(), F("id").asc())


def _by_name(qs: QuerySet[Complaint], *, field: str, descending: bool) -> QuerySet[Complaint] | GroupedRows:
    """By the related row's name, then id; none (no assignee) last. One group per related row, each served
    by the (field, id) index, so no query sorts the tenant's complaints (see GroupedRows)."""
    related = Complaint._meta.get_field(field).related_model
    if not isinstance(related, type):
        raise ValueError(f"{field!r} is not a relation of Complaint")
    # Users by the name the pages show them by (the dashboard's too): the full name, else the username.
    names = related._default_manager.annotate(sort_name=F("name") if related is Category else display_name())
    ids = list(names.order_by("sort_name", "id").values_list("id", flat=True)[: MAX_NAME_GROUPS + 1])
    if len(ids) > MAX_NAME_GROUPS:
        sort_name = F(f"{field}__name") if related is Category else display_name(f"{field}__")
        if descending:
            return qs.order_by(sort_name.desc(nulls_first=True), F("id").desc())
        return qs.order_by(sort_name.asc(nulls_last=True), F("id").asc())
    groups = [qs.filter(**{f"{field}_id": pk}) for pk in ids]
    if Complaint._meta.get_field(field).null:
        groups.append(qs.filter(**{f"{field}__isnull": True}))
    if descending:
        return GroupedRows([group.order_by("-id") for group in reversed(groups)])
    return GroupedRows([group.order_by("id") for group in groups])


def display_name(prefix: str = ""):
    """A user's display name in SQL (complaints.roles.user_display_name, and the read side's agent names)."""
    full = Trim(Concat(F(f"{prefix}first_name"), Value(" "), F(f"{prefix}last_name")))
    return Coalesce(NullIf(full, Value("")), F(f"{prefix}username"))


def complaint_get(*, complaint_id: int) -> Complaint:
    """Raises Complaint.DoesNotExist (a 404) for an id of another tenant: its rows are not in this schema."""
    return Complaint.objects.select_related("category", "assignee", "created_by").get(pk=complaint_id)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "status" | "reply" | "note"
    who: str
    text: str
    from_status: str = ""
    to_status: str = ""


def complaint_timeline(*, complaint: Complaint) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(
            at=h.changed_at,
            kind="status",
            who=h.changed_by.username if h.changed_by else "system",
            text=h.note,
            from_status=h.get_from_status_display(),
            to_status=h.get_to_status_display(),
        )
        for h in StatusHistory.objects.filter(complaint=complaint).select_related("changed_by")
    ]
    entries += [
        TimelineEntry(
            at=c.created_at,
            kind="note" if c.internal else "reply",
            who=c.author.username if c.author else "system",
            text=c.body,
        )
        for c in Comment.objects.filter(complaint=complaint).select_related("author")
    ]
    return sorted(entries, key=lambda e: e.at)


def category_choices() -> QuerySet[Category]:
    return Category.objects.filter(active=True).order_by("name")


def category_filter_choices() -> list[tuple[int, str]]:
    """Every category, inactive ones too (the dashboard counts their complaints), for filtering by."""
    return [
        (pk, name if active else f"{name} (inactive)")
        for pk, name, active in Category.objects.order_by("-active", "name").values_list("pk", "name", "active")
    ]


def agent_choices() -> QuerySet:
    """Active users who can work complaints."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__permissions__codename=WORK_COMPLAINTS.split(".")[1]) | Q(is_superuser=True))
        .distinct()
        .annotate(display_name=display_name())
        .order_by("display_name", "id")
    )
