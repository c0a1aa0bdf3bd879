import math

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError
from django_tenants.utils import schema_context

from reporting.freshness import projection_progress, replayed_last_event_id
from reporting.replicas import NotInRecovery, position, replica_aliases, replica_name
from tenants.selectors import tenant_schema_names, tenant_time_zone


class Command(BaseCommand):
    help = (
        "Show each tenant's projection freshness: last applied event, pending events, lag, dead letters, and the "
        "time zone its read models count days in (with the new one while a zone change's rebuild is pending). "
        "With REPORTING_REPLICA_URLS, also where each replica's replay stands and the last event it holds per tenant."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Only this tenant (default: all)")

    def handle(self, *args, schema=None, **opts):
        header = f"{'tenant':<16} {'last event':>10} {'applied at':<26} {'pending':>8} {'lag s':>7} {'dead':>5}"
        header += "  time zone"
        self.stdout.write(header)
        names = tenant_schema_names(schema)
        last_events = {}
        for name in names:
            with schema_context(name):
                f = projection_progress()
                wanted = tenant_time_zone(name)
            last_events[name] = f["last_event_id"]
            zone = f["time_zone"] if wanted == f["time_zone"] else f"{f['time_zone']} -> {wanted} (rebuild pending)"
            applied = f["applied_at"].isoformat(timespec="seconds") if f["applied_at"] else "never"
            self.stdout.write(
                f"{name:<16} {f['last_event_id'] or '-':>10} {applied:<26} "
                f"{f['pending_count']:>8} {f['lag_seconds']:>7.1f} {f['dead_letters']:>5}  {zone}"
            )
        for alias in replica_aliases():
            self._replica(alias, last_events)

    def _replica(self, alias: str, last_events: dict[str, int | None]) -> None:
        """What dashboards read from this replica: its replay lag, and per tenant the last event it holds."""
        name = replica_name(alias)
        try:
            where = position(alias)
        except (DatabaseError, NotInRecovery) as refused:
            reason = str(refused).strip().splitlines()[0] if str(refused).strip() else type(refused).__name__
            self.stdout.write(f"\nreplica {name}: not serving ({reason})")
            return
        bound = settings.REPORTING_REPLICA_MAX_LAG_SECONDS
        lag = "unknown" if math.isinf(where.lag_seconds) else f"{where.lag_seconds:.1f} s"
        verdict = "serving" if where.lag_seconds <= bound else "passed over"
        self.stdout.write(f"\nreplica {name}: replay lag {lag} (bound {bound:g} s: {verdict})")
        self.stdout.write(f"{'tenant':<16} {'last event':>10} {'on primary':>10}")
        for schema, primary in last_events.items():
            with schema_context(schema):
                try:
                    held = replayed_last_event_id(alias)
                except DatabaseError as failed:  # a schema the replica has not replayed yet, or a lost connection
                    reason = str(failed).strip().splitlines()[0]
                    self.stdout.write(f"{schema:<16} {'?':>10} {primary or '-':>10}  ({reason})")
                    continue
            self.stdout.write(f"{schema:<16} {held or '-':>10} {primary or '-':>10}")
