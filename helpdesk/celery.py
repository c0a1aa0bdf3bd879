import os

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
