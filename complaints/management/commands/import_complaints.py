from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from complaints.importing import complaints_import
from tenants.selectors import tenant_schema_names


class Command(BaseCommand):
    help = "Import complaints from a CSV file (format in the README). Nothing is imported if any row is bad."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--schema", required=True)
        parser.add_argument("--skip-invalid", action="store_true", help="Import the good rows, report the bad ones")

    def handle(self, *args, file, schema, skip_invalid, **opts):
        tenant_schema_names(schema)
        try:
            with schema_context(schema):
                result = complaints_import(path=file, skip_invalid=skip_invalid)
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {file}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text") from exc
        for error in result.errors:
            self.stderr.write(str(error))
        if result.errors and not skip_invalid:
            raise CommandError(f"{len(result.errors)} problem(s) in {result.skipped} row(s); nothing was imported")
        # The read side catches up from one snapshot of the write side, set-based.
        call_command("rebuild_projections", schema=schema, stdout=self.stdout)
        self.stdout.write(
            f"{schema}: imported {result.imported} complaints ({result.skipped} bad rows skipped, "
            f"{result.categories_created} categories and {result.agents_created} agents created)"
        )
