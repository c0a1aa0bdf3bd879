"""The broker as an operator sees it: publisher confirms on RabbitMQ, and the broker-up metric on each broker."""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django_tenants.utils import schema_context

from complaints.models import Complaint
from helpdesk.brokers import transport_options
from helpdesk.launchers import rabbitmqctl
from tests.brokers import BROKERS
from tests.factories import ComplaintFactory


@pytest.mark.parametrize("url", ["rabbit://guest:secret@host/vh", "127.0.0.1:5672", ""])
def test_a_broker_url_of_no_known_broker_is_refused_at_start_without_echoing_it(url):
    with pytest.raises(ImproperlyConfigured, match="CELERY_BROKER_URL must start with redis:// or amqp://") as info:
        transport_options(url)
    assert "secret" not in str(info.value)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "amqp://guest:guest@127.0.0.1:5672/vh"])
def test_confirms_and_timeouts_by_broker(url):
    options = transport_options(url)
    assert options["max_retries"] == 0
    assert options.get("confirm_publish", False) is url.startswith("amqp")


def _broker_up(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("helpdesk_broker_up{"))


@pytest.mark.parametrize("broker", BROKERS, indirect=True, scope="module")
def test_the_broker_up_metric_follows_the_broker(committed, broker):
    scheme = "redis" if broker.name == "redis" else "amqp"
    client = Client(HTTP_HOST="localhost")
    assert _broker_up(client.get("/metrics").content.decode()) == f'helpdesk_broker_up{{transport="{scheme}"}} 1.0'
    broker.stop()
    try:
        response = client.get("/metrics")
        assert response.status_code == 200
        assert _broker_up(response.content.decode()) == f'helpdesk_broker_up{{transport="{scheme}"}} 0.0'
    finally:
        broker.start()
    assert _broker_up(client.get("/metrics").content.decode()) == f'helpdesk_broker_up{{transport="{scheme}"}} 1.0'


@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True, scope="module")
def test_a_publish_rabbitmq_refuses_is_known_to_the_sender_and_the_complaint_is_kept(
    committed, broker, rabbitmq, caplog
):
    # A queue that refuses every message (full at length 0): RabbitMQ answers the publish with a nack, which
    # only a publisher with confirms hears; without them the message would vanish and the log say nothing.
    rabbitmqctl(
        "set_policy", "-p", rabbitmq.vhost, "--apply-to", "queues", "refuse", "^celery$",
        '{"max-length": 0, "overflow": "reject-publish"}',
    )  # fmt: skip
    try:
        with caplog.at_level(logging.WARNING, logger="complaints.signals"), schema_context("alpha"):
            world = committed["alpha"]
            ComplaintFactory(actor=world.alice, category=world.categories["Billing"])
            assert Complaint.objects.count() == 1  # the complaint is committed; the sweep will project it
    finally:
        rabbitmqctl("clear_policy", "-p", rabbitmq.vhost, "refuse")
    assert [r.getMessage() for r in caplog.records] == ["could not queue projection; the sweep will catch up"]
