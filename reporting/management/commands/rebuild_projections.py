from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from reporting.rebuild import rebuild_read_models
from tenants.selectors import tenant_schema_names


class Command(BaseCommand):
    help = "Rebuild every read model from the write database (set-based, swapped in atomically)."

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Only this tenant (default: all)")

    def handle(self, *args, schema=None, **opts):
        for name in tenant_schema_names(schema):
            with schema_context(name):
                stats = rebuild_read_models()
            self.stdout.write(f"{name}: rebuilt {stats['complaints']} complaints in {stats['seconds']:.2f}s")
