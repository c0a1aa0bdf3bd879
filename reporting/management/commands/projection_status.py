from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from reporting.freshness import projection_progress
from tenants.selectors import tenant_schema_names, tenant_time_zone


class Command(BaseCommand):
    help = (
        "Show each tenant's projection freshness: last applied event, pending events, lag, dead letters, and the "
        "time zone its read models count days in (with the new one while a zone change's rebuild is pending)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Only this tenant (default: all)")

    def handle(self, *args, schema=None, **opts):
        header = f"{'tenant':<16} {'last event':>10} {'applied at':<26} {'pending':>8} {'lag s':>7} {'dead':>5}"
        header += "  time zone"
        self.stdout.write(header)
        for name in tenant_schema_names(schema):
            with schema_context(name):
                f = projection_progress()
                wanted = tenant_time_zone(name)
            zone = f["time_zone"] if wanted == f["time_zone"] else f"{f['time_zone']} -> {wanted} (rebuild pending)"
            applied = f["applied_at"].isoformat(timespec="seconds") if f["applied_at"] else "never"
            self.stdout.write(
                f"{name:<16} {f['last_event_id'] or '-':>10} {applied:<26} "
                f"{f['pending_count']:>8} {f['lag_seconds']:>7.1f} {f['dead_letters']:>5}  {zone}"
            )
