"""Operational endpoints: health and Prometheus metrics."""

import redis
from django.conf import settings
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django_tenants.utils import get_public_schema_name, schema_context
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest

from tenants.selectors import tenant_schema_names

PROJECTION_LAG = Gauge("helpdesk_projection_lag_seconds", "Age of the oldest unapplied event", ["tenant"])
OUTBOX_BACKLOG = Gauge("helpdesk_outbox_pending_events", "Events not yet applied to the read models", ["tenant"])
DEAD_LETTERS = Gauge("helpdesk_projection_dead_letters", "Dead-lettered events awaiting a retry", ["tenant"])


def _check_database(alias: str) -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _check_redis() -> bool:
    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping())
    except Exception:
        return False


def _tenant_freshness(schema_names: list[str]) -> dict:
    from reporting.projector import freshness

    out = {}
    for name in schema_names:
        with schema_context(name):
            out[name] = freshness()
    return out


def healthz(request):
    checks = {
        "write_database": _check_database("default"),
        "reporting_database": _check_database("reporting"),
        "redis": _check_redis(),
    }
    body: dict = {"checks": checks}
    lag_ok = True
    if checks["write_database"] and checks["reporting_database"]:
        tenant = getattr(request, "tenant", None)
        schemas = (
            [tenant.schema_name] if tenant and tenant.schema_name != get_public_schema_name() else tenant_schema_names()
        )
        try:
            lags = {n: round(f["lag_seconds"], 3) for n, f in _tenant_freshness(schemas).items()}
        except Exception:
            lags, lag_ok = {}, False
        body["projection_lag_seconds"] = lags
        lag_ok = lag_ok and all(v <= settings.PROJECTION_LAG_WARNING_SECONDS for v in lags.values())
    checks["projection_lag"] = lag_ok
    healthy = all(checks.values())
    body["status"] = "ok" if healthy else "degraded"
    return JsonResponse(body, status=200 if healthy else 503)


def metrics(request):
    try:
        for name, f in _tenant_freshness(tenant_schema_names()).items():
            PROJECTION_LAG.labels(name).set(f["lag_seconds"])
            OUTBOX_BACKLOG.labels(name).set(f["pending_count"])
            DEAD_LETTERS.labels(name).set(f["dead_letters"])
    except Exception:
        pass  # a database down shows in /healthz; latency metrics are still worth serving
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
