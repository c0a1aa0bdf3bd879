import functools
import os

from celery.worker.consumer import Consumer
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.local")

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
