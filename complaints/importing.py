"""Import complaints from another help desk: a CSV file, validated whole before anything is written."""

import csv
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from complaints.bulk import BulkComplaint, Transition, bulk_write
from complaints.models import Category, Channel, Complaint, Priority, Status
from complaints.roles import Role, user_set_role
from complaints.services import category_save

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
]
REQUIRED = {"reference", "created_at", "status", "category", "priority", "title", "customer_name", "customer_email"}
TIMESTAMPS = ("created_at", "first_response_at", "resolved_at", "closed_at")


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


def _timestamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2025-03-01T09:30:00+01:00")
    return parsed


def _validate(line: int, row: dict, seen: set[str], existing: set[str]) -> tuple[dict | None, list[RowError]]:
    errors: list[RowError] = []

    def bad(field, reason):
        errors.append(RowError(line, field, reason))

    clean = {k: (row.get(k) or "").strip() for k in COLUMNS}
    for field in sorted(REQUIRED):
        if not clean[field]:
            bad(field, "is required")
    for field in TIMESTAMPS:
        if clean[field]:
            try:
                clean[field] = _timestamp(clean[field])
            except ValueError as exc:
                bad(field, f"not an ISO 8601 timestamp with offset ({exc})")
                clean[field] = None
        else:
            clean[field] = None
    if clean["status"] and clean["status"] not in Status.values:
        bad("status", f"must be one of {', '.join(Status.values)}")
    if clean["priority"] and clean["priority"] not in Priority.values:
        bad("priority", f"must be one of {', '.join(Priority.values)}")
    clean["channel"] = clean["channel"] or Channel.EMAIL
    if clean["channel"] not in Channel.values:
        bad("channel", f"must be one of {', '.join(Channel.values)}")
    if clean["customer_email"]:
        try:
            validate_email(clean["customer_email"])
        except ValidationError:
            bad("customer_email", "not a valid email address")
    for field, limit in (
        ("reference", 32),
        ("title", 200),
        ("customer_name", 120),
        ("category", 80),
        ("assignee", 150),
        ("customer_phone", 40),
    ):
        if len(clean[field]) > limit:
            bad(field, f"longer than {limit} characters")
    ref = clean["reference"]
    if ref in seen:
        bad("reference", "appears twice in the file")
    elif ref in existing:
        bad("reference", "already exists in this help desk")
    seen.add(ref)
    created, first, resolved, closed = (clean[t] for t in TIMESTAMPS)
    if created:
        for field in ("first_response_at", "resolved_at", "closed_at"):
            if clean[field] and clean[field] < created:
                bad(field, "is before created_at")
    status = clean["status"]
    if status in (Status.RESOLVED,) and not resolved:
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
    return (None if errors else clean), errors


def _history(clean: dict) -> list[Transition]:
    """Status moves consistent with the timestamps (the lifecycle's shortest path to the final status)."""
    status, created = clean["status"], clean["created_at"]
    started = clean["first_response_at"] or created
    moves: list[Transition] = []
    if status in (Status.IN_PROGRESS, Status.ON_HOLD) or clean["resolved_at"]:
        moves.append(Transition(Status.NEW, Status.IN_PROGRESS, started, "Imported"))
    if status == Status.ON_HOLD:
        moves.append(Transition(Status.IN_PROGRESS, Status.ON_HOLD, started, "Imported"))
    if clean["resolved_at"]:
        moves.append(Transition(Status.IN_PROGRESS, Status.RESOLVED, clean["resolved_at"], "Imported"))
    if status == Status.CLOSED:
        before = Status.RESOLVED if clean["resolved_at"] else Status.NEW
        moves.append(Transition(before, Status.CLOSED, clean["closed_at"], "Imported"))
    return moves


@dataclass
class ImportResult:
    imported: int
    skipped: int
    errors: list[RowError]
    categories_created: int = 0
    agents_created: int = 0


def complaints_import(*, path: str, skip_invalid: bool = False) -> ImportResult:
    """Validate every row first; import nothing if any is bad (unless skip_invalid), else all in one go."""
    existing = set(Complaint.objects.values_list("reference", flat=True))
    rows, errors, seen, skipped = [], [], set(), 0
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = REQUIRED - set(reader.fieldnames or [])
        if missing:
            return ImportResult(0, 0, [RowError(1, ", ".join(sorted(missing)), "missing column(s)")])
        for line, row in enumerate(reader, start=2):
            clean, row_errors = _validate(line, row, seen, existing)
            if clean:
                rows.append(clean)
            else:
                skipped += 1
                errors.extend(row_errors)
    if errors and not skip_invalid:
        return ImportResult(0, skipped, errors)
    with transaction.atomic():  # categories, agents and complaints: all or nothing
        categories, new_categories = _get_or_create_categories({r["category"] for r in rows})
        agents, new_agents = _get_or_create_agents({r["assignee"] for r in rows if r["assignee"]})
        imported = bulk_write((_bulk(r, categories, agents) for r in rows), chunk_size=10**9)
    return ImportResult(imported, skipped, errors, new_categories, new_agents)


def _bulk(r: dict, categories: dict, agents: dict) -> BulkComplaint:
    assignee = agents.get(r["assignee"]) if r["assignee"] else None
    return BulkComplaint(
        reference=r["reference"],
        title=r["title"],
        description=r["description"],
        customer_name=r["customer_name"],
        customer_email=r["customer_email"],
        customer_phone=r["customer_phone"],
        category=categories[r["category"]],
        priority=r["priority"],
        channel=r["channel"],
        status=r["status"],
        created_at=r["created_at"],
        assignee=assignee,
        assigned_at=(r["first_response_at"] or r["created_at"]) if assignee else None,
        first_response_at=r["first_response_at"],
        first_response_body="(imported reply)",
        resolved_at=r["resolved_at"],
        closed_at=r["closed_at"],
        transitions=_history(r),
    )


def _get_or_create_categories(names: set[str]) -> tuple[dict, int]:
    found = {c.name.lower(): c for c in Category.objects.all()}
    created = 0
    out = {}
    for name in sorted(names):
        if name.lower() not in found:
            found[name.lower()] = category_save(actor=None, name=name)
            created += 1
        out[name] = found[name.lower()]
    return out, created


def _get_or_create_agents(usernames: set[str]) -> tuple[dict, int]:
    User = get_user_model()
    found = {u.username: u for u in User.objects.filter(username__in=usernames)}
    created = 0
    for username in sorted(usernames - found.keys()):
        user = User(username=username, is_active=False)  # imported history: no login until an admin enables it
        user.set_unusable_password()
        user.save()
        user_set_role(user=user, role=Role.AGENT)
        found[username] = user
        created += 1
    return found, created
