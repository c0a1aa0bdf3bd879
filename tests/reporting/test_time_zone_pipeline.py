"""A zone change through a real Celery worker: the change commits, the rebuild task runs in the background, and the
read models switch to the new zone's days in one step."""

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from django.db import connections
from django_tenants.utils import schema_context

from helpdesk.databases import READ_ALIAS
from reporting.freshness import read_models_time_zone
from reporting.rebuild import compare_read_models
from tenants.models import Tenant
from tenants.services import tenant_set_time_zone
from tests.clock import install
from tests.conftest import wait_for
from tests.factories import ComplaintFactory
from tests.reporting.helpers import stat

pytestmark = pytest.mark.pipeline


def _created_by_day() -> Counter:
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute("SELECT day, SUM(created_count) FROM complaint_stats_by_day GROUP BY day")
        return Counter({d: int(n) for d, n in cursor.fetchall() if n})


def test_a_zone_change_is_rebuilt_by_the_worker(committed, hook_only_worker, monkeypatch):
    install(monkeypatch, datetime(2026, 3, 10, 20, 0, tzinfo=UTC))  # UTC 03-10, Tokyo 03-11 05:00
    w = committed["alpha"]
    with schema_context("alpha"):
        ComplaintFactory(actor=w.alice, category=w.categories["Billing"], priority="low")
        wait_for(lambda: stat("complaint_stats_by_day", "created_count") == 1, timeout=10, message="projection")
        assert _created_by_day() == Counter({date(2026, 3, 10): 1})

    tenant_set_time_zone(tenant=Tenant.objects.get(schema_name="alpha"), time_zone="Asia/Tokyo")

    with schema_context("alpha"):
        wait_for(lambda: read_models_time_zone() == "Asia/Tokyo", timeout=20, message="the zone rebuild")
        assert _created_by_day() == Counter({date(2026, 3, 11): 1})
        assert compare_read_models() == []
