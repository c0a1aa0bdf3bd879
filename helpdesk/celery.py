import functools
import logging
import os

from celery.beat import PersistentScheduler
from celery.worker.consumer import Consumer
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.local")

logger = logging.getLogger(__name__)

app = CeleryApp("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _beat_schedule() -> dict:
    # Periodic tasks are declared here and nowhere else.
    from django.conf import settings

    return {
        "projection-sweep": {
            "task": "reporting.tasks.sweep_tenants",
            "schedule": settings.PROJECTION_SWEEP_SECONDS,
            "options": {"expires": 10},
        },
    }


@app.on_after_finalize.connect
def _setup_periodic_tasks(sender, **kwargs):
    sender.conf.beat_schedule = _beat_schedule()


class PromptReconnectConsumer(Consumer):
    """Reconnect to the broker every second while it is away. Kombu's default back-off (2 s, growing by 2 s up to
    30 s) could leave the worker asleep for half a minute after Redis returns, and the read side with it."""

    def ensure_connected(self, conn):
        conn.ensure_connection = functools.partial(
            conn.ensure_connection, interval_start=0.5, interval_step=0.5, interval_max=1
        )
        return super().ensure_connected(conn)


class ReconnectingScheduler(PersistentScheduler):
    """Beat's scheduler, on a new broker connection after a failed send. Celery's keeps one connection for its
    whole life and, with publish retries off (see settings), never revives it: once RabbitMQ had been away, the
    sweep was never sent again (Redis hid this: its client reconnects by itself). The next tick reconnects, as
    promptly as the worker does."""

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        try:
            return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        except Exception:
            self.__dict__.pop("producer", None)
            connection = self.__dict__.pop("connection", None)
            if connection is not None:
                connection.collect()  # drop the dead socket without talking to the broker
            raise

    def _ensure_connected(self):
        return self.connection.ensure_connection(
            lambda exc, interval: logger.warning("beat: broker unreachable (%s), retrying", exc),
            max_retries=self.app.conf.broker_connection_max_retries,
            interval_start=0,
            interval_step=1,
            interval_max=1,
        )
