"""Import complaints from another help desk: a CSV file of any size, streamed with flat memory (pass 1 in
complaints.import_staging).

Pass 1 reads the file record by record, checks each row's shape in Python (complaints.import_format) and
COPYs the good rows into a temporary staging table, so nothing but the current record is held in memory. The
checks that need every row (a reference repeated in the file or already in the tenant, category spellings)
are SQL over that table. Nothing is written to the help desk unless every row is good (or, with skip_invalid,
exactly the good rows are written).
Pass 2 reads the staging table back in chunks and writes what the services would leave behind (complaints.bulk:
complaint, history, first reply, one ComplaintImported outbox event each), each chunk in its own transaction
with the progress of its ImportRun. Committed chunks keep the tenant's live events flowing (the projector
applies each chunk as it commits, between live changes, instead of one import-sized batch holding its
checkpoint), and they make an interrupted import resumable: running the same file again continues after the
last chunk that committed. A problem with the file itself (no header, missing columns, a record the parser
cannot read past) is an ImportFileError whatever skip_invalid says, since rows after it cannot be trusted.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.utils import timezone

from complaints.bulk import write_selected
from complaints.errors import DomainError
from complaints.import_format import HISTORY
from complaints.import_staging import (
    STAGING,
    RowError,
    check_across_rows,
    quietly,
    stage,
    staging,
)
from complaints.models import Category, ImportRun
from complaints.roles import Role, user_display_name, user_set_role
from complaints.services import category_save
from complaints.signals import queue_projection
from helpdesk.tenancy import connection

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CHUNK_ROWS = 5_000


class ImportBusy(Exception):
    """Another import into this tenant is running (imports of one tenant run one at a time)."""


class ImportInterrupted(Exception):
    """The import stopped while writing (Ctrl-C, a lost database connection): the chunks committed so far stay,
    recorded in the run, and running the same file again finishes it."""

    def __init__(self, run: ImportRun, cause: BaseException):
        self.run, self.cause = run, cause
        reason = "interrupted" if isinstance(cause, KeyboardInterrupt) else f"database error: {cause}".strip()
        super().__init__(
            f"{reason.splitlines()[0]}; import #{run.pk} stopped after {run.rows_written:,} of "
            f"{run.rows_to_write:,} rows: run the same command with the same file to finish it"
        )


@dataclass
class ImportResult:
    imported: int = 0
    skipped: int = 0  # bad rows (left out with skip_invalid; otherwise nothing was imported)
    error_count: int = 0
    categories_created: int = 0
    agents_created: int = 0
    run_id: int | None = None
    written_before: int = 0  # by earlier, interrupted invocations of the same run
    notes: list[str] = field(default_factory=list)  # e.g. category spellings merged


@contextmanager
def _one_import_at_a_time() -> Iterator[None]:
    """A session lock per tenant (released by the server if the process dies): two imports at once could both
    find a reference new and write it twice."""
    key = f"complaints_import:{connection.schema_name}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        if not cursor.fetchone()[0]:
            raise ImportBusy("another import into this help desk is running; try again when it has finished")
    try:
        yield
    finally:
        quietly("SELECT pg_advisory_unlock(hashtext(%s))", [key])


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


def _chunks(*, after: int, size: int) -> Iterator[tuple[int, int]]:
    """(after, through): the staged lines of each chunk of `size` rows, in the file's order."""
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT max(line) FROM (SELECT line FROM {STAGING} WHERE line > %s ORDER BY line LIMIT %s) AS chunk",
                [after, size],
            )
            (through,) = cursor.fetchone()
        if through is None:
            return
        yield after, through
        after = through


@dataclass(frozen=True)
class _Names:
    """What the staged rows' category spellings and assignee usernames stand for, as the arrays the chunks' SQL
    joins: spelling -> category (id, name), username -> user (id, display name)."""

    params: dict

    @classmethod
    def of(cls, categories: "dict[str, Category]", agents: "dict[str, User]") -> "_Names":
        spellings, users = sorted(categories), sorted(agents)
        return cls(
            {
                "spellings": spellings,
                "category_ids": [categories[s].pk for s in spellings],
                "category_names": [categories[s].name for s in spellings],
                "usernames": users,
                "user_ids": [agents[u].pk for u in users],
                "user_names": [user_display_name(agents[u]) for u in users],
            }
        )


# A chunk of staged rows as bulk.write_selected reads them: the category and assignee resolved, the reopen count a
# number (parameters: after, through and _Names' arrays).
_CHUNK = f"""(
    SELECT s.line AS ordinal, s.reference, s.title, s.description, s.customer_name, s.customer_email,
           s.customer_phone, s.channel, c.category_id::int AS category_id, c.category_name, s.priority, s.status,
           a.user_id::int AS assignee_id, COALESCE(a.user_name, '') AS assignee_name, s.created_at,
           s.first_response_at, s.resolved_at, s.closed_at, COALESCE(NULLIF(s.reopen_count, ''), '0')::int
           AS reopen_count, '(imported reply)' AS first_response_body
    FROM {STAGING} s
    JOIN unnest(%(spellings)s::text[], %(category_ids)s::bigint[], %(category_names)s::text[])
         AS c (spelling, category_id, category_name) ON c.spelling = s.category
    LEFT JOIN unnest(%(usernames)s::text[], %(user_ids)s::bigint[], %(user_names)s::text[])
         AS a (username, user_id, user_name) ON a.username = s.assignee
    WHERE s.line > %(after)s AND s.line <= %(through)s
)"""


def complaints_import(
    *,
    path: str,
    skip_invalid: bool = False,
    report: Callable[[RowError], None] = lambda error: None,
    progress: Callable[[str, int, float], None] | None = None,
    chunk_rows: int | None = None,
) -> ImportResult:
    """Import a CSV file into the current tenant. Every problem is passed to report() as it is found, and
    progress(phase, rows, share done) is called as it goes. Each chunk of `chunk_rows` rows commits on its own.

    Nothing is written unless every row is good; with skip_invalid, every good row is written and each bad one
    reported. Raises ImportFileError (nothing written) when the file itself cannot be read as a whole,
    ImportBusy when another import into the tenant is running, and ImportInterrupted when it stops part-way
    through writing (the same file imported again then finishes the run).
    """
    result = ImportResult()

    def counted(error: RowError) -> None:
        result.error_count += 1
        report(error)

    with _one_import_at_a_time(), staging():
        digest = stage(path, timezone.now(), counted, progress)
        run = ImportRun.objects.filter(file_sha256=digest, finished_at__isnull=True).first()
        result.skipped = check_across_rows(counted, written_through=run.written_through_line if run else 0)
        if result.skipped and not skip_invalid:
            return result
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {STAGING} WHERE bad")
                cursor.execute(f"SELECT count(*) FROM {STAGING}")
                (good,) = cursor.fetchone()
            categories, result.categories_created = _categories(result.notes)
            agents, result.agents_created = _agents()
            names = _Names.of(categories, agents)
            run = _run_for(run, path=path, digest=digest, rows=good)
        result.run_id, result.written_before = run.pk, run.rows_written
        try:
            for after, through in _chunks(after=run.written_through_line, size=chunk_rows or CHUNK_ROWS):
                _write_chunk(run, names, after=after, through=through)
                if progress:
                    progress("written", run.rows_written, run.rows_written / max(run.rows_to_write, 1))
        except (KeyboardInterrupt, DatabaseError) as exc:
            raise ImportInterrupted(run, exc) from exc
        run.finished_at = timezone.now()
        run.save(update_fields=["finished_at"])
    result.imported = run.rows_written
    return result


def _run_for(run: ImportRun | None, *, path: str, digest: str, rows: int) -> ImportRun:
    """The interrupted run of this very file, to continue, else a new one."""
    if run is None:
        return ImportRun.objects.create(
            file_name=os.path.basename(path), file_sha256=digest, rows_to_write=rows, started_at=timezone.now()
        )
    run.rows_to_write = rows  # the same file, but skip_invalid may differ from the first time
    run.save(update_fields=["rows_to_write"])
    return run


def _write_chunk(run: ImportRun, names: _Names, *, after: int, through: int) -> None:
    """The staged lines after `after` through `through` and the run's progress, committed together: a re-run
    continues exactly after it."""
    schema = connection.schema_name
    with transaction.atomic():
        written = write_selected(_CHUNK, {**names.params, "after": after, "through": through}, transitions=HISTORY)
        ImportRun.objects.filter(pk=run.pk).update(
            rows_written=run.rows_written + written, written_through_line=through
        )
        # As a service's event would: the projector applies this chunk now, between the tenant's live changes.
        transaction.on_commit(lambda: queue_projection(schema))
    run.rows_written += written  # committed: what an interruption from here on reports
    run.written_through_line = through
