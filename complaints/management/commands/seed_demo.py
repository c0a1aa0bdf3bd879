import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from complaints import demo_data
from complaints.bulk import bulk_write
from tenants.selectors import tenant_schema_names


class Command(BaseCommand):
    help = "Generate a believable history of complaints for a tenant (set-based), then update its read models."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True)
        parser.add_argument("--complaints", type=int, default=3000)
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--agents", type=int, default=8)
        parser.add_argument("--categories", type=int, default=8)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, **o):
        if o["complaints"] < 0 or not 1 <= o["months"] <= 120:
            raise CommandError("--complaints must be >= 0 and --months between 1 and 120")
        if not 1 <= o["agents"] <= 500 or not 1 <= o["categories"] <= 200:
            raise CommandError("--agents must be 1-500 and --categories 1-200")
        tenant_schema_names(o["schema"])  # a clear error for an unknown tenant
        started = time.monotonic()
        with schema_context(o["schema"]):
            categories = demo_data.ensure_categories(o["categories"])
            agents = demo_data.ensure_agents(o["agents"])
            written = bulk_write(
                demo_data.generate(
                    count=o["complaints"], months=o["months"], categories=categories, agents=agents, seed=o["seed"]
                )
            )
        wrote = time.monotonic() - started
        self.stdout.write(f"{o['schema']}: wrote {written} complaints in {wrote:.1f}s")
        # The read side catches up from one snapshot (set-based) instead of event by event.
        call_command("rebuild_projections", schema=o["schema"], stdout=self.stdout)
