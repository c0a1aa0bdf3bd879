"""Import complaints from another help desk: a CSV file of any size, streamed with flat memory.

Pass 1 reads the file record by record, checks each row's shape in Python (complaints.import_format) and
COPYs the good rows into a temporary staging table, so nothing but the current record is held in memory. The
checks that need every row (a reference repeated in the file or already in the tenant, category spellings)
are SQL over that table.
Pass 2 reads the staging table back in chunks and writes what the services would leave behind (complaints.bulk:
complaint, history, first reply, one ComplaintImported outbox event each); the projector applies those events.

It is all one transaction: nothing is written unless every row is good, or with skip_invalid exactly the good
rows are. A problem with the file itself (no header, missing columns, a record the parser cannot read past) is
an ImportFileError whatever skip_invalid says, since rows after it cannot be trusted.
"""

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from complaints.bulk import BulkComplaint, bulk_write
from complaints.errors import DomainError
from complaints.import_format import COLUMNS, REQUIRED, TIMESTAMPS, check_row, history_of
from complaints.models import Category
from complaints.roles import Role, user_set_role
from complaints.services import category_save

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_FIELD_CHARS = 1_000_000
MAX_LINE_BYTES = 64 * MAX_FIELD_CHARS
CHUNK_ROWS = 5_000


class ImportFileError(Exception):
    """The file as a whole cannot be imported (the message names the line)."""


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass
class ImportResult:
    imported: int = 0
    skipped: int = 0  # bad rows (left out with skip_invalid; otherwise nothing was imported)
    error_count: int = 0
    categories_created: int = 0
    agents_created: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. category spellings merged


def _lines(handle, counter: list[int]) -> Iterator[str]:
    """The file's physical lines, decoded one by one (so a bad byte is reported on its line), refusing one too
    long to hold (readline would otherwise read it whole)."""
    while raw := handle.readline(MAX_LINE_BYTES + 1):
        counter[0] += 1
        if len(raw) > MAX_LINE_BYTES:
            raise ImportFileError(
                f"line {counter[0]}: longer than {MAX_LINE_BYTES:,} bytes; the file cannot be read past it"
            )
        try:
            yield raw.decode("utf-8-sig" if counter[0] == 1 else "utf-8")
        except UnicodeDecodeError:
            raise ImportFileError(f"line {counter[0]}: not UTF-8 text") from None


def _records(handle) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) per CSV record; a quoted field may span lines."""
    counter = [0]
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(_lines(handle, counter))
    last = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"line {last + 1}: {exc}; the file cannot be read past it") from None
        start, last = last + 1, reader.line_num
        if fields:  # a blank line is no record
            yield start, fields


STAGING = "import_staging"
_STAGED = ("line", *COLUMNS)


def _create_staging() -> None:
    timestamps = set(TIMESTAMPS)
    columns = ", ".join(f"{c} {'timestamptz' if c in timestamps else 'text'}" for c in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} (line bigint PRIMARY KEY, bad boolean NOT NULL, problem text, "
            f"{columns}) ON COMMIT DROP"
        )


def _stage(path: str, now: datetime, report: Callable[[RowError], None], progress) -> None:
    """Pass 1: check every record's shape and COPY it into the staging table (a bad one marked, with only its
    reference, so that repeats of it are still found)."""
    raw = connection.cursor().cursor  # psycopg cursor, for COPY
    with open(path, "rb") as handle:
        records = _records(handle)
        header = next(records, None)
        if header is None:
            raise ImportFileError("line 1: the file is empty (a header row is required)")
        names = [h.strip().lower() for h in header[1]]
        if missing := REQUIRED - set(names):
            raise ImportFileError(f"line {header[0]}: missing column(s): {', '.join(sorted(missing))}")
        if repeated := sorted({n for n in names if n and names.count(n) > 1}):
            raise ImportFileError(f"line {header[0]}: repeated column(s): {', '.join(repeated)}")
        unused = [None] * (len(COLUMNS) - 1)  # a bad row keeps only its reference
        with raw.copy(f"COPY {STAGING} (bad, {', '.join(_STAGED)}) FROM STDIN") as copy:
            for read, (line, fields) in enumerate(records, start=1):
                if progress and read % 1000 == 0:
                    progress("checked", read)
                problems = 0

                def bad(name, reason, line=line):
                    nonlocal problems
                    problems += 1
                    report(RowError(line, name, reason))

                if len(fields) != len(names):
                    bad("row", f"has {len(fields)} fields, the header has {len(names)}")
                    at = names.index("reference")
                    copy.write_row((True, line, fields[at].strip() if at < len(fields) else "", *unused))
                    continue
                clean = check_row(line, dict(zip(names, fields, strict=True)), now, bad)
                if problems:
                    copy.write_row((True, line, clean["reference"], *unused))
                else:
                    copy.write_row((False, line, *(clean[c] for c in COLUMNS)))


def _check_across_rows(report: Callable[[RowError], None]) -> int:
    """Marks and reports references repeated in the file (the first occurrence is kept) or already in the
    tenant. Returns how many rows are bad in all."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {STAGING} s SET bad = true,
                       problem = 'appears twice in the file (first on line ' || d.first || ')'
                FROM (SELECT line, first_value(line) OVER w AS first, row_number() OVER w AS nth
                      FROM {STAGING} WHERE reference <> '' WINDOW w AS (PARTITION BY reference ORDER BY line)) d
                WHERE s.line = d.line AND d.nth > 1"""
        )
        cursor.execute(
            f"""UPDATE {STAGING} s SET bad = true, problem = 'already exists in this help desk'
                FROM complaints_complaint c
                WHERE c.reference = s.reference AND s.problem IS NULL AND s.reference <> ''"""
        )
        after = 0
        while True:  # in pages: a file may repeat a million references
            cursor.execute(
                f"SELECT line, problem FROM {STAGING} WHERE problem IS NOT NULL AND line > %s ORDER BY line LIMIT 1000",
                [after],
            )
            if not (rows := cursor.fetchall()):
                break
            for line, problem in rows:
                report(RowError(line, "reference", problem))
            after = rows[-1][0]
        cursor.execute(f"SELECT count(*) FROM {STAGING} WHERE bad")
        return cursor.fetchone()[0]


def _categories(notes: list[str]) -> tuple[dict[str, Category], int]:
    """Category names that differ only in case are one category: an existing one of the tenant, else the
    spelling most rows use (ties: the one seen first). Each merge is said in a note. Returns every spelling of
    the file mapped to its category."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT category, count(*), min(line) FROM {STAGING} GROUP BY 1 ORDER BY 1")
        spellings: dict[str, list[tuple[str, int, int]]] = {}
        for name, rows, first in cursor.fetchall():
            spellings.setdefault(name.casefold(), []).append((name, rows, first))
    existing = {c.name.casefold(): c for c in Category.objects.all()}
    by_spelling: dict[str, Category] = {}
    created = 0
    for key, names in sorted(spellings.items()):
        names.sort(key=lambda n: (-n[1], n[2]))
        if key in existing:
            category, kept = existing[key], f"{existing[key].name} (existing)"
        else:
            try:
                category, kept = category_save(actor=None, name=names[0][0]), names[0][0]
                created += 1
            except DomainError:  # the database's case rules matched a name casefold() did not
                category = Category.objects.get(name__iexact=names[0][0])
                kept = f"{category.name} (existing)"
        others = [(name, rows) for name, rows, _ in names if name != category.name]
        if others:
            notes.append(f"{kept}: also matched " + "; ".join(f"{n}, {r:,} row{'s' * (r != 1)}" for n, r in others))
        by_spelling.update(dict.fromkeys((name for name, _, _ in names), category))
    return by_spelling, created


def _agents() -> "tuple[dict[str, User], int]":
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT assignee FROM {STAGING} WHERE assignee <> ''")
        usernames = {name for (name,) in cursor.fetchall()}
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


def _staged_chunks() -> Iterator[list[dict]]:
    after = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(_STAGED)} FROM {STAGING} WHERE line > %s ORDER BY line LIMIT %s",
                [after, CHUNK_ROWS],
            )
            rows = [dict(zip(_STAGED, row, strict=True)) for row in cursor.fetchall()]
        if not rows:
            return
        yield rows
        after = rows[-1]["line"]


def _bulk(r: dict, categories: dict, agents: dict) -> BulkComplaint:
    assignee = agents[r["assignee"]] if r["assignee"] else None
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
        transitions=history_of(r),
    )


def complaints_import(
    *,
    path: str,
    skip_invalid: bool = False,
    report: Callable[[RowError], None] = lambda error: None,
    progress: Callable[[str, int], None] | None = None,
) -> ImportResult:
    """Import a CSV file into the current tenant. Every problem is passed to report() as it is found.

    All or nothing, unless skip_invalid: then every good row is imported and each bad one reported.
    Raises ImportFileError (nothing imported) when the file itself cannot be read as a whole.
    """
    result = ImportResult()

    def counted(error: RowError) -> None:
        result.error_count += 1
        report(error)

    with transaction.atomic():
        _create_staging()
        _stage(path, timezone.now(), counted, progress)
        result.skipped = _check_across_rows(counted)
        if result.skipped and not skip_invalid:
            return result
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {STAGING} WHERE bad")
        categories, result.categories_created = _categories(result.notes)
        agents, result.agents_created = _agents()
        for rows in _staged_chunks():
            result.imported += bulk_write((_bulk(r, categories, agents) for r in rows), chunk_size=CHUNK_ROWS)
            if progress:
                progress("written", result.imported)
    return result
