"""Pass 1 of an import (complaints.importing): the file read record by record with flat memory, each row's shape
checked (complaints.import_format) and COPYed into a temporary staging table, then the checks that need every
row (references repeated in the file or already in the tenant) as SQL over that table."""

import csv
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError

from complaints.import_format import COLUMNS, REQUIRED, TIMESTAMPS, check_row
from helpdesk.tenancy import connection

MAX_FIELD_CHARS = 1_000_000
MAX_LINE_BYTES = 64 * MAX_FIELD_CHARS


class ImportFileError(Exception):
    """The file as a whole cannot be imported (the message names the line)."""


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


def _lines(handle, counter: list[int], digest) -> Iterator[str]:
    """The file's physical lines, decoded one by one (so a bad byte is reported on its line), refusing one too
    long to hold (readline would otherwise read it whole). Each line is added to `digest` (the run's identity)."""
    while raw := handle.readline(MAX_LINE_BYTES + 1):
        digest.update(raw)
        counter[0] += 1
        if len(raw) > MAX_LINE_BYTES:
            raise ImportFileError(
                f"line {counter[0]}: longer than {MAX_LINE_BYTES:,} bytes; the file cannot be read past it"
            )
        try:
            yield raw.decode("utf-8-sig" if counter[0] == 1 else "utf-8")
        except UnicodeDecodeError:
            raise ImportFileError(f"line {counter[0]}: not UTF-8 text") from None


def _records(handle, digest) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) per CSV record; a quoted field may span lines."""
    counter = [0]
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(_lines(handle, counter, digest))
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


@contextmanager
def staging() -> Iterator[None]:
    """The staging table: temporary (the session's own, gone with it), kept across the chunks' commits."""
    timestamps = set(TIMESTAMPS)
    columns = ", ".join(f"{c} {'timestamptz' if c in timestamps else 'text'}" for c in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")  # an earlier import's in this session, if it failed
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} (line bigint PRIMARY KEY, bad boolean NOT NULL, problem text, {columns})"
        )
    try:
        yield
    finally:
        quietly(f"DROP TABLE IF EXISTS {STAGING}")


def quietly(sql: str, params: list | None = None) -> None:
    """Clean-up that must not hide why the import stopped: with the connection gone, so is what it cleans up."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        pass


def stage(path: str, now: datetime, report: Callable[[RowError], None], progress) -> str:
    """Pass 1: check every record's shape and COPY it into the staging table (a bad one marked, with only its
    reference, so that repeats of it are still found). Returns the file's SHA-256."""
    raw = connection.cursor().cursor  # psycopg cursor, for COPY
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        size = max(os.fstat(handle.fileno()).st_size, 1)
        records = _records(handle, digest)
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
                    progress("checked", read, handle.tell() / size)
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
    return digest.hexdigest()


def check_across_rows(report: Callable[[RowError], None], *, written_through: int) -> int:
    """Marks and reports references repeated in the file (the first occurrence is kept) or already in the
    tenant, except on the lines an interrupted run of this file has written. Returns how many rows are bad."""
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
                WHERE c.reference = s.reference AND s.problem IS NULL AND s.reference <> '' AND s.line > %s""",
            [written_through],
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
