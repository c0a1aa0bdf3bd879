"""The import file's format: its columns, and what one row must hold to become a complaint (complaints.importing
streams the file; the checks that need every row are SQL there)."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from complaints.accounts import is_valid_username
from complaints.bulk import TransitionSql
from complaints.models import Channel, Priority, Status

COLUMNS = [
    "reference",
    "created_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "status",
    "category",
    "priority",
    "assignee",
    "channel",
    "title",
    "description",
    "customer_name",
    "customer_email",
    "customer_phone",
    "reopen_count",
]
REQUIRED = {"reference", "created_at", "status", "category", "priority", "title", "customer_name", "customer_email"}
TIMESTAMPS = ("created_at", "first_response_at", "resolved_at", "closed_at")
MAX_LENGTH = {
    "reference": 32,
    "title": 200,
    "description": 100_000,
    "customer_name": 120,
    "customer_email": 254,
    "category": 80,
    "assignee": 150,
    "customer_phone": 40,
}
# What the parser may hold at once. A longer field (characters) or physical line (bytes) stops the import:
# past it the parser cannot tell where the next record starts, so no later row could be trusted.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
# Checked once a row: a choices class's .values builds a new list on every call.
_STATUSES, _PRIORITIES, _CHANNELS = frozenset(Status.values), frozenset(Priority.values), frozenset(Channel.values)
MAX_REOPENS = 9_999
_REOPEN_COUNT = re.compile(r"[0-9]{1,4}")  # ASCII digits only (str.isdigit also takes "²")
_valid_username = lru_cache(maxsize=10_000)(is_valid_username)  # a file names a few agents on every row


def parse_timestamp(value: str, now: datetime) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2025-03-01T09:30:00+01:00")
    try:
        # Stored in UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts (up to ±23:59).
        parsed = parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None
    if parsed < EARLIEST:
        raise ValueError("before 1970")
    if parsed > now + timedelta(days=1):
        raise ValueError("in the future")
    return parsed


def check_row(line: int, row: dict, now: datetime, bad: Callable[[str, str], None]) -> dict:
    """The row's own checks (no database). Calls bad(field, reason) for each problem; returns the clean row."""
    clean = {k: row.get(k, "").strip() for k in COLUMNS}
    for name, value in clean.items():
        if "\x00" in value:
            bad(name, "contains a NUL character")
            clean[name] = value.replace("\x00", "")
    for name in sorted(REQUIRED):
        if not clean[name]:
            bad(name, "is required")
    for name, limit in MAX_LENGTH.items():
        if len(clean[name]) > limit:
            bad(name, f"longer than {limit:,} characters")
    if clean["assignee"] and not _valid_username(clean["assignee"]):
        # It becomes a user: the names Django's own forms accept, nothing that renders as markup or reversed text.
        bad(
            "assignee",
            "invalid assignee username (letters, digits and @ . + - _ only, no spaces or control characters)",
        )
    for name in TIMESTAMPS:
        value, clean[name] = clean[name], None
        if value:
            try:
                clean[name] = parse_timestamp(value, now)
            except ValueError as exc:
                bad(name, f"not an ISO 8601 timestamp with offset from 1970 to now ({exc})")
    if clean["status"] and clean["status"] not in _STATUSES:
        bad("status", f"must be one of {', '.join(Status.values)}")
    if clean["priority"] and clean["priority"] not in _PRIORITIES:
        bad("priority", f"must be one of {', '.join(Priority.values)}")
    clean["channel"] = clean["channel"] or Channel.EMAIL
    if clean["channel"] not in _CHANNELS:
        bad("channel", f"must be one of {', '.join(Channel.values)}")
    if clean["reopen_count"] and not _REOPEN_COUNT.fullmatch(clean["reopen_count"]):
        bad("reopen_count", f"must be a whole number from 0 to {MAX_REOPENS:,}")
    if clean["customer_email"]:
        try:
            validate_email(clean["customer_email"])
        except ValidationError:
            bad("customer_email", "not a valid email address")
    created, first, resolved, closed = (clean[t] for t in TIMESTAMPS)
    if created:
        for name in ("first_response_at", "resolved_at", "closed_at"):
            if clean[name] and clean[name] < created:
                bad(name, "is before created_at")
    status = clean["status"]
    if status == Status.RESOLVED and not resolved:
        bad("resolved_at", "is required for a resolved complaint")
    if status == Status.CLOSED and not closed:
        bad("closed_at", "is required for a closed complaint")
    if status in (Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD) and (resolved or closed):
        bad("status", "an open complaint cannot have resolved_at or closed_at")
    if status == Status.RESOLVED and closed:
        bad("closed_at", "a resolved (not closed) complaint cannot have closed_at")
    if resolved and closed and closed < resolved:
        bad("closed_at", "is before resolved_at")
    if first and not clean["assignee"]:
        bad("assignee", "is required when first_response_at is set (someone replied)")
    return clean


# The status moves of an imported complaint, consistent with its timestamps (the lifecycle's shortest path to its
# final status), as SQL over a staged row (complaints.bulk.write_selected writes them).
_STARTED = "COALESCE(first_response_at, created_at)"
HISTORY = (
    TransitionSql(
        f"'{Status.NEW.value}'",
        f"'{Status.IN_PROGRESS.value}'",
        _STARTED,
        f"(status IN ('{Status.IN_PROGRESS.value}', '{Status.ON_HOLD.value}') OR resolved_at IS NOT NULL)",
    ),
    TransitionSql(
        f"'{Status.IN_PROGRESS.value}'", f"'{Status.ON_HOLD.value}'", _STARTED, f"status = '{Status.ON_HOLD.value}'"
    ),
    TransitionSql(
        f"'{Status.IN_PROGRESS.value}'", f"'{Status.RESOLVED.value}'", "resolved_at", "resolved_at IS NOT NULL"
    ),
    TransitionSql(
        f"CASE WHEN resolved_at IS NOT NULL THEN '{Status.RESOLVED.value}' ELSE '{Status.NEW.value}' END",
        f"'{Status.CLOSED.value}'",
        "closed_at",
        f"status = '{Status.CLOSED.value}'",
    ),
)
