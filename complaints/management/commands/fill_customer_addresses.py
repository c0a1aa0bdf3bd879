from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from complaints.models import CustomerAddress
from tenants.selectors import tenant_schema_names


class Command(BaseCommand):
    help = (
        "Add the customer addresses the e-mail search probes for complaints that lack them (idempotent). Run once "
        "after upgrading to the release that added them, when every process runs the new code."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Only this tenant (default: all)")

    def handle(self, *args, schema=None, **opts):
        for name in tenant_schema_names(schema):
            with schema_context(name):
                added = CustomerAddress.objects.fill_from_complaints()
            self.stdout.write(f"{name}: {added:,} addresses added")
