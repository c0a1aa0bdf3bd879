from collections.abc import Iterable

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import connection, models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Cast, Upper

from complaints.paging import CountedQuerySet


class Status(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


# The one limit on a description, for every way in (staff form, API, services).
DESCRIPTION_MAX_LENGTH = 20_000

OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD)

# The lifecycle. Any move not listed here is refused.
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED),
    Status.IN_PROGRESS: (Status.ON_HOLD, Status.RESOLVED),
    Status.ON_HOLD: (Status.IN_PROGRESS, Status.RESOLVED),
    Status.RESOLVED: (Status.CLOSED, Status.IN_PROGRESS),
    Status.CLOSED: (),
}


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


# The service level promised per priority: a complaint resolved within this many hours of its submission is
# "resolved within target" on the dashboard.
RESOLUTION_TARGET_HOURS = {Priority.URGENT: 4, Priority.HIGH: 24, Priority.MEDIUM: 72, Priority.LOW: 7 * 24}


class Channel(models.TextChoices):
    WEB = "web", "Web"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    API = "api", "API"


def _rank(field: str, choices: type[models.TextChoices]) -> Case:
    """A choice column in its lifecycle (or urgency) order rather than alphabetically."""
    return Case(
        *(When(**{field: value}, then=Value(i)) for i, value in enumerate(choices.values)),
        output_field=models.IntegerField(),
    )


# Sort keys of the staff list; the very same expressions are indexed below, so a sort by them reads an index.
STATUS_RANK = _rank("status", Status)
PRIORITY_RANK = _rank("priority", Priority)
# Substring search (case-insensitive LIKE) on these is served by trigram indexes; pg_trgm lives in `public`.
SEARCHED_COLUMNS = ("title", "customer_name", "customer_email")


class Category(models.Model):
    name = models.CharField(max_length=80, unique=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        # Names that differ only in case are one category: the database holds that rule, so two concurrent
        # creates cannot both pass the service's check (category_save turns the clash into a DomainError).
        constraints = [
            models.UniqueConstraint(
                Upper("name"),
                name="category_name_folded_unique",
                violation_error_message="A category of this name (in any case) exists already.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CustomerAddressManager(models.Manager["CustomerAddress"]):
    def record(self, emails: Iterable[str]) -> None:
        """Add the addresses not yet known, upper-cased by PostgreSQL as the search compares them.

        No unique constraint: an insert racing a unique key waits for the other transaction, and an import
        holds its transaction for minutes, which would hold every submission naming one of its customers. Two
        writers adding the same new address at once leave it twice; `containing` reads distinct addresses."""
        self._add_unknown("SELECT DISTINCT UPPER(email) AS address FROM unnest(%s::text[]) AS email", [list(emails)])

    def fill_from_complaints(self) -> int:
        """Add the addresses of every complaint not yet known (after an upgrade: those a process of the previous
        release wrote while the migration that created this table ran). Returns how many were added."""
        return self._add_unknown(
            f"SELECT DISTINCT UPPER(customer_email) AS address FROM {Complaint._meta.db_table}", []
        )

    def _add_unknown(self, addresses_sql: str, params: list) -> int:
        table = self.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (address) SELECT new.address FROM ({addresses_sql}) new "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} known WHERE known.address = new.address)",
                params,
            )
            return cursor.rowcount

    def containing(self, term: str, *, limit: int) -> list[str]:
        """Up to `limit` distinct addresses with `term` in them, any case (through the trigram index)."""
        pattern = f"%{connection.ops.prep_for_like_query(term)}%"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT address FROM {self.model._meta.db_table} WHERE address LIKE UPPER(%s) LIMIT %s",
                [pattern, limit],
            )
            return [address for (address,) in cursor.fetchall()]


class CustomerAddress(models.Model):
    """Every customer e-mail address the tenant's complaints carry, upper-cased (once; twice after a race).

    Searching part of an address probes these with a trigram index, so its cost follows the tenant's customers,
    not their complaints: the complaints' own trigram index costs in proportion to the complaints sharing the
    term's rarest trigram, and a repeat customer's complaints all share all of them. Written wherever a complaint
    gets its address (complaint_submit, bulk writes); an address whose complaints are gone stays, and simply
    matches nothing."""

    address = models.CharField(max_length=254)

    objects = CustomerAddressManager()

    class Meta:
        indexes = [
            models.Index(fields=["address"], name="customer_address"),
            GinIndex(OpClass("address", name="gin_trgm_ops"), name="customer_address_trgm"),
        ]

    def __str__(self) -> str:
        return self.address


class Complaint(models.Model):
    reference = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField()
    customer_name = models.CharField(max_length=120)
    customer_email = models.EmailField()
    customer_phone = models.CharField(max_length=40, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="complaints")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_complaints"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    reopen_count = models.PositiveIntegerField(default=0)
    # Bumped by every change: orders the complaint's events and detects stale forms (optimistic concurrency).
    version = models.PositiveIntegerField(default=1)

    objects = CountedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["resolved_at"]),
            # One (sort key, id) index per sort of the staff list: a page is read in order and the scan stops.
            models.Index(fields=["created_at", "id"], name="complaint_created_id"),
            models.Index(fields=["updated_at", "id"], name="complaint_updated_id"),
            models.Index(fields=["title", "id"], name="complaint_title_id"),
            models.Index(STATUS_RANK, "id", name="complaint_status_rank_id"),
            models.Index(PRIORITY_RANK, "id", name="complaint_priority_rank_id"),
            models.Index(fields=["category", "id"], name="complaint_category_id"),
            models.Index(fields=["assignee", "id"], name="complaint_assignee_id"),
            # The unassigned ones in id order (the last group of the assignee sort): `assignee IS NULL` does not
            # make the index above yield id order, as `assignee = 3` does, so that group walked the whole table.
            models.Index(fields=["id"], condition=Q(assignee__isnull=True), name="complaint_unassigned_id"),
            # The list's filters together, newest first: a page and its capped count read only matching entries
            # (through (status, created_at) they walked every complaint of the status; at 10 M off the cache).
            models.Index(
                fields=["status", "priority", "category", "created_at", "id"], name="complaint_filter_created"
            ),
            # Search: the exact reference and the exact customer e-mail (case-insensitive), and substrings of the
            # searched columns.
            models.Index(Upper("reference"), name="complaint_reference_upper"),
            models.Index(Upper("customer_email"), name="complaint_customer_email_upper"),
            *(
                GinIndex(OpClass(Upper(column), name="gin_trgm_ops"), name=f"complaint_{column}_trgm")
                for column in SEARCHED_COLUMNS
            ),
        ]
        permissions = [
            ("view_dashboard", "Can view manager dashboards and reports"),
            ("assign_any", "Can assign complaints to any agent"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def allowed_transitions(self) -> tuple[str, ...]:
        return ALLOWED_TRANSITIONS[self.status]


class StatusHistory(models.Model):
    """Append-only audit of status moves; the first row (from_status "") records the submission."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name_plural = "status history"


class Comment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    internal = models.BooleanField(default=False, help_text="Internal notes are never shown to the customer.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]


class EventType(models.TextChoices):
    COMPLAINT_CREATED = "ComplaintCreated"
    COMPLAINT_STATUS_CHANGED = "ComplaintStatusChanged"
    COMPLAINT_ASSIGNED = "ComplaintAssigned"
    COMPLAINT_RECATEGORIZED = "ComplaintRecategorized"
    COMPLAINT_COMMENTED = "ComplaintCommented"
    COMPLAINT_FIRST_RESPONSE = "ComplaintFirstResponse"
    COMPLAINT_DETAILS_CHANGED = "ComplaintDetailsChanged"
    # A complaint that arrived whole (demo seed, import from another help desk), carrying its final state.
    COMPLAINT_IMPORTED = "ComplaintImported"
    CATEGORY_CHANGED = "CategoryChanged"
    AGENT_CHANGED = "AgentChanged"


class OutboxEvent(models.Model):
    """A domain event, written in the same transaction as the change it records (transactional outbox).

    `tx_id` is the writing transaction's id. The projector reads events in (tx_id, id) order and only below the
    oldest transaction still running, so an event whose transaction commits late is never skipped.
    """

    tx_id = models.BigIntegerField(
        db_default=Cast(Cast(models.Func(function="pg_current_xact_id"), models.TextField()), models.BigIntegerField()),
        editable=False,
    )
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    complaint_id = models.BigIntegerField(null=True, blank=True)
    complaint_version = models.PositiveIntegerField(null=True, blank=True)
    payload = models.JSONField()
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["tx_id", "id"], name="outbox_order")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_type}"


class ImportRun(models.Model):
    """One file's import (complaints.importing). Its complaints are written in committed chunks, and each chunk
    advances `written_through_line` in its own transaction: after an interruption, running the same file again
    (the same `file_sha256`) continues after the last chunk that committed, so no row is written twice."""

    file_name = models.CharField(max_length=1000)
    file_sha256 = models.CharField(max_length=64)
    rows_to_write = models.PositiveIntegerField()
    rows_written = models.PositiveIntegerField(default=0)
    written_through_line = models.BigIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # At most one unfinished run per file: the one a re-run of that file continues.
            models.UniqueConstraint(
                fields=["file_sha256"], condition=Q(finished_at__isnull=True), name="one_unfinished_run_per_file"
            )
        ]

    def __str__(self) -> str:
        return f"import #{self.pk} of {self.file_name}"
