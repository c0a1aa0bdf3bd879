import io
import logging
import threading
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections
from django_tenants.utils import schema_context

from complaints.import_staging import ImportFileError
from complaints.importing import CHUNK_ROWS, ImportBusy, ImportInterrupted, complaints_import
from tenants.selectors import tenant_schema_names

MAX_PRINTED_ERRORS = 1000  # a file of a million bad rows should not bury the summary
# Events per projector batch, in chunks: a batch's read-model upserts cost per group, not per event, so a batch
# of four chunks costs about half as much per row as four of one (2026-12-08, 100 k tenant: 5,000 events
# ~110 µs each, 20,000 ~74 µs, 50,000 ~49 µs). A projector that keeps up takes one chunk at a time; one that fell
# behind catches up in bigger, cheaper batches. Four bounds the events held in memory and the wait of a live
# change behind a batch.
PROJECTOR_BATCH_CHUNKS = 4
logger = logging.getLogger("complaints.importing")


class Projecting:
    """Catches the tenant's read models up on a thread of its own while the import writes, so the projector applies
    each committed chunk while the next one is being written instead of all of them after the last (the writer
    mostly waits for the database: the two overlap). It runs `catch_up_projections`, as the command does at the
    end: the checkpoint lock serializes it with a worker applying the same events, so each is applied once."""

    # Between catch-ups: the chunks committed meanwhile form the next batch (bigger batches cost less per row, see
    # PROJECTOR_BATCH_CHUNKS). A worker, if one runs, applies the tenant's live changes meanwhile; without one they
    # wait at most this plus a batch (the goal: within 5 s).
    pause = 2.0

    def __init__(self, schema: str, batch_size: int):
        self.schema, self.batch_size = schema, batch_size
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="import-projector", daemon=True)

    def __enter__(self) -> "Projecting":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join()

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                call_command(
                    "catch_up_projections", schema=self.schema, batch_size=self.batch_size, stdout=io.StringIO()
                )
                self.stopping.wait(self.pause)
        except Exception as exc:  # the command's own catch-up at the end reports what is wrong
            logger.warning("projecting during the import stopped: %s", exc)
        finally:
            connections.close_all()  # this thread's own connections


class Progress:
    """`rows done (rows/s, time left)` on one refreshed line, at most a few times a second. Each phase (checking
    the file, writing it) has its own rate and estimate."""

    interval = 0.25

    def __init__(self, stream):
        self.stream, self.shown, self.phase = stream, 0.0, ""
        self.started = time.monotonic()

    def __call__(self, phase: str, rows: int, share: float) -> None:
        now = time.monotonic()
        if phase != self.phase:
            self.phase, self.started, self.first = phase, now, rows  # a resumed run starts with rows written
        if now - self.shown < self.interval:
            return
        self.shown = now
        elapsed = max(now - self.started, 1e-9)
        rate = (rows - self.first) / elapsed
        left = f", about {_duration(elapsed * (1 - share) / share)} left" if 0 < share < 1 and rate else ""
        self.stream.write(f"\r{rows:,} rows {phase} ({rate:,.0f} rows/s{left})\x1b[K", ending="")
        self.stream.flush()

    def done(self) -> None:
        if self.shown:
            self.stream.write("")


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


class Command(BaseCommand):
    help = (
        "Import complaints from a CSV file (format in docs/operations.md). Nothing is imported if any row is bad; "
        "an interrupted import is finished by running it again with the same file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--schema", required=True)
        parser.add_argument("--skip-invalid", action="store_true", help="Import the good rows, report the bad ones")
        parser.add_argument(
            "--chunk-rows",
            type=int,
            default=CHUNK_ROWS,
            help=f"Rows written per transaction (default {CHUNK_ROWS:,}); memory grows with it",
        )
        parser.add_argument(
            "--progress",
            action="store_true",
            help="Show rows done and rows/s (the default when stderr is a terminal)",
        )

    def handle(self, *args, file, schema, skip_invalid, chunk_rows, progress, **opts):
        tenant_schema_names(schema)
        if chunk_rows < 1:
            raise CommandError("--chunk-rows must be at least 1")
        printed = 0

        def report(error):
            nonlocal printed
            printed += 1
            if printed <= MAX_PRINTED_ERRORS:
                self.stderr.write(f"\r{error}\x1b[K" if show else str(error))

        show = progress or self.stderr.isatty()
        meter = Progress(self.stderr) if show else None
        started = time.monotonic()
        try:
            with schema_context(schema), Projecting(schema, batch_size=PROJECTOR_BATCH_CHUNKS * chunk_rows):
                result = complaints_import(
                    path=file, skip_invalid=skip_invalid, report=report, progress=meter, chunk_rows=chunk_rows
                )
        except OSError as exc:  # missing, a directory, no permission...
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        except ImportFileError as exc:
            raise CommandError(f"{exc}; nothing was imported") from exc
        except ImportBusy as exc:
            raise CommandError(str(exc)) from exc
        except ImportInterrupted as exc:
            raise CommandError(str(exc)) from exc
        except KeyboardInterrupt:  # before anything was written: the file was still being checked
            raise CommandError("interrupted; nothing was imported") from None
        except DatabaseError as exc:
            raise CommandError(f"database error: {str(exc).strip().splitlines()[0]}; nothing was imported") from exc
        finally:
            if meter:
                meter.done()
        if printed > MAX_PRINTED_ERRORS:
            self.stderr.write(f"… and {printed - MAX_PRINTED_ERRORS:,} more problem(s)")
        if result.error_count and not skip_invalid:
            raise CommandError(f"{result.error_count} problem(s) in {result.skipped} row(s); nothing was imported")
        seconds = time.monotonic() - started
        for note in result.notes:
            self.stdout.write(note)
        if result.written_before:
            self.stdout.write(f"continued import #{result.run_id}: {result.written_before:,} rows were written before")
        # The imported rows' events flow through the projector, as any change's do: the cost is the import's
        # size, not the tenant's. Run here so the read models are current when the command returns.
        call_command(
            "catch_up_projections", schema=schema, batch_size=PROJECTOR_BATCH_CHUNKS * chunk_rows, stdout=self.stdout
        )
        self.stdout.write(
            f"{schema}: imported {result.imported:,} complaints ({result.skipped:,} bad rows skipped, "
            f"{result.categories_created} categories and {result.agents_created} agents created) "
            f"in {seconds:.1f}s"
        )
