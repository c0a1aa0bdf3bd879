import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from reporting import projector
from reporting.freshness import projection_progress
from tenants.selectors import tenant_schema_names


class Command(BaseCommand):
    help = "Apply a tenant's pending events now, in this process, and return once none is left."

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Only this tenant (default: all)")
        parser.add_argument("--timeout", type=float, default=600.0, help="Give up after this many seconds")
        parser.add_argument("--batch-size", type=int, default=2000, help="Events per projector transaction")

    def handle(self, *args, schema=None, timeout, batch_size, **opts):
        if batch_size < 1 or timeout <= 0:
            raise CommandError("--batch-size and --timeout must be positive")
        for name in tenant_schema_names(schema):
            with schema_context(name):
                applied, seconds = self._catch_up(name, timeout, batch_size)
            self.stdout.write(f"{name}: applied {applied:,} events in {seconds:.1f}s; read models current")

    @staticmethod
    def _catch_up(name: str, timeout: float, batch_size: int) -> tuple[int, float]:
        # Safe beside a running worker: both take the checkpoint lock, so each event is applied once.
        started = time.monotonic()
        deadline, applied = started + timeout, 0
        while True:
            result = projector.catch_up(time_budget=max(deadline - time.monotonic(), 0.1), batch_size=batch_size)
            applied += result.applied
            # Pending also counts events committed above the horizon (an older transaction still running).
            pending = projection_progress()["pending_count"]
            if pending == 0:
                return applied, time.monotonic() - started
            if time.monotonic() > deadline:
                raise CommandError(f"{name}: {pending:,} events still pending after {timeout:.0f}s")
            time.sleep(min(result.retry_after or 0.05, 1.0))
