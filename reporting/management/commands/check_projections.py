from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from reporting.rebuild import check_read_models
from tenants.selectors import tenant_schema_names


class Command(BaseCommand):
    help = (
        "Recompute every figure from the write tables and compare with the read models (events not applied yet "
        "are applied first, then rolled back); non-zero exit on a difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Only this tenant (default: all)")

    def handle(self, *args, schema=None, **opts):
        total = 0
        for name in tenant_schema_names(schema):
            with schema_context(name):
                differences = check_read_models()
            for line in differences:
                self.stdout.write(f"{name}: {line}")
            self.stdout.write(f"{name}: {'OK' if not differences else f'{len(differences)} differences'}")
            total += len(differences)
        if total:
            raise CommandError(f"{total} differences between the read models and the write database")
