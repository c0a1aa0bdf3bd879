"""reporting.0009 fills the new columns and tables of a tenant already projected from its facts, in the zone its
read models are built with: after the migration the read models equal the write side, with no rebuild."""

from datetime import UTC, datetime

from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context

from complaints import services
from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connections
from reporting.rebuild import compare_read_models, rebuild_read_models
from tenants.models import Tenant
from tests.clock import install
from tests.factories import ComplaintFactory
from tests.reporting.helpers import stat

BEFORE, AFTER = ("reporting", "0008_daily_rollups"), ("reporting", "0009_arrivals_and_reopen_rates")


def _migrate(target) -> None:
    executor = MigrationExecutor(connections[READ_ALIAS])
    executor.migrate([target])


def test_the_migration_fills_arrivals_and_reopen_counts_from_the_facts(committed, monkeypatch):
    clock = install(monkeypatch, datetime(2026, 3, 28, 22, 30, tzinfo=UTC))  # 23:30 in Berlin, then DST
    with schema_context("alpha"):
        w = committed["alpha"]
        Tenant.objects.filter(schema_name="alpha").update(time_zone="Europe/Berlin")
        for hour, reopen in ((22, True), (1, True), (3, False)):
            clock.set(datetime(2026, 3, 28 if hour == 22 else 29, hour, 30, tzinfo=UTC))
            c = ComplaintFactory(actor=w.alice, category=w.categories["Billing"], priority="high")
            services.complaint_assign(complaint_id=c.pk, actor=w.carol, assignee=w.bob)
            services.complaint_transition(complaint_id=c.pk, actor=w.bob, to_status="resolved")
            if reopen:
                for status in ("in_progress", "resolved", "in_progress"):
                    services.complaint_transition(complaint_id=c.pk, actor=w.bob, to_status=status)
        rebuild_read_models()
        try:
            _migrate(BEFORE)
            with connections[READ_ALIAS].cursor() as cursor:  # as 0008's projector counted: reopens (2 each)
                for table in ("agent_performance_summary", "agent_daily_summary"):
                    cursor.execute(f"UPDATE {table} SET reopened_count = reopened_count * 2")
            _migrate(AFTER)
            assert compare_read_models() == []
            assert stat("complaint_arrivals_hourly", "received_count") == 3
            assert stat("agent_daily_summary", "reopened_count") == 2  # complaints, though each reopened twice
        finally:
            _migrate(AFTER)
