"""Queries of the write side (real time): what the staff UI and the complaints API show."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Case, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Concat, ExtractHour, ExtractIsoWeekDay, NullIf, Trim, TruncDate
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThanOrEqual

from complaints import clock
from complaints.models import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    STATUS_RANK,
    Category,
    Comment,
    Complaint,
    StatusHistory,
)
from complaints.paging import GroupedRows, capped_count
from complaints.search import complaint_search
from helpdesk.access import WORK_COMPLAINTS

# A tenant with fewer complaints than this counts its lists exactly: counting them all costs a few milliseconds.
SMALL_TENANT_COMPLAINTS = 50_000


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
