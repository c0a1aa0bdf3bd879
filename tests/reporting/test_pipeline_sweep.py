"""The sweep, the pipeline's safety net: a lost broker message is caught up without any hook (real worker)."""

import pytest
from django_tenants.utils import schema_context

from reporting.rebuild import compare_read_models
from tests.brokers import BROKERS
from tests.conftest import wait_for
from tests.factories import ComplaintFactory
from tests.reporting.helpers import stat

# On each broker (tests/brokers.py).
pytestmark = [pytest.mark.pipeline, pytest.mark.parametrize("broker", BROKERS, indirect=True, scope="module")]


def test_a_lost_broker_message_is_caught_up_by_the_sweep(committed, celery_worker, monkeypatch):
    monkeypatch.setattr("complaints.signals.current_app.send_task", lambda *a, **k: None)  # the message is lost
    with schema_context("beta"):
        world = committed["beta"]
        ComplaintFactory(actor=world.dave, category=world.categories["Support"])
        wait_for(lambda: stat("complaint_stats_by_day", "created_count") == 1, timeout=8, message="sweep")
        assert compare_read_models() == []
