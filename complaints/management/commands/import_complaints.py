import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from complaints.importing import ImportFileError, complaints_import
from tenants.selectors import tenant_schema_names

MAX_PRINTED_ERRORS = 1000  # a file of a million bad rows should not bury the summary


class Progress:
    """`rows done (rows/s)` on one refreshed line, at most a few times a second."""

    interval = 0.25

    def __init__(self, stream):
        self.stream, self.started, self.shown = stream, time.monotonic(), 0.0

    def __call__(self, phase: str, rows: int) -> None:
        now = time.monotonic()
        if now - self.shown < self.interval:
            return
        self.shown = now
        rate = rows / max(now - self.started, 1e-9)
        self.stream.write(f"\r{rows:,} rows {phase} ({rate:,.0f} rows/s)\x1b[K", ending="")
        self.stream.flush()

    def done(self) -> None:
        if self.shown:
            self.stream.write("")


class Command(BaseCommand):
    help = "Import complaints from a CSV file (format in the README). Nothing is imported if any row is bad."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--schema", required=True)
        parser.add_argument("--skip-invalid", action="store_true", help="Import the good rows, report the bad ones")
        parser.add_argument(
            "--progress",
            action="store_true",
            help="Show rows done and rows/s (the default when stderr is a terminal)",
        )

    def handle(self, *args, file, schema, skip_invalid, progress, **opts):
        tenant_schema_names(schema)
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
            with schema_context(schema):
                result = complaints_import(path=file, skip_invalid=skip_invalid, report=report, progress=meter)
        except OSError as exc:  # missing, a directory, no permission...
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        except ImportFileError as exc:
            raise CommandError(f"{exc}; nothing was imported") from exc
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
        # The imported rows' events flow through the projector, as any change's do: the cost is the import's
        # size, not the tenant's. Run here so the read models are current when the command returns.
        call_command("catch_up_projections", schema=schema, stdout=self.stdout)
        self.stdout.write(
            f"{schema}: imported {result.imported:,} complaints ({result.skipped:,} bad rows skipped, "
            f"{result.categories_created} categories and {result.agents_created} agents created) "
            f"in {seconds:.1f}s"
        )
