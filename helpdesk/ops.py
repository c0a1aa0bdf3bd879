"""Operational endpoints: health and Prometheus metrics.

Who sees what: anyone may ask /healthz and gets the overall verdict and totals (for load balancers), never a
tenant's name. Per-tenant figures (/healthz details and all of /metrics) need `Authorization: Bearer
$METRICS_TOKEN`; without a configured token, /metrics answers only clients on this machine (loopback), and only
where the settings trust them (METRICS_TRUST_LOOPBACK: local and test settings; production requires a token).

What they cost does not grow with idle tenants: the projection figures come from reporting.health (one query of
the status table, the sweep's marks, a live read of the marked tenants only), not from each tenant's schema.
"""

import hmac
import ipaddress
import math
from typing import Any
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django_tenants.utils import get_public_schema_name
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from helpdesk.client import client_ip
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.metrics import registry_for_scrape
from tenants.selectors import tenant_schema_names


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


def _check_broker() -> bool:
    """Whether the Celery broker accepts a connection now (one attempt, the broker connection timeout: 1 s)."""
    from celery import current_app

    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        return True
    except Exception:
        return False


def _projection_overview(schema_names: list[str]):
    from reporting.health import overview

    return overview(schema_names)


def _replica_positions() -> dict:
    """Each reporting replica's position by name (None: down or refused); {} without replicas."""
    from reporting.replicas import positions

    return positions()


def _has_metrics_token(request) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def _is_local_client(request) -> bool:
    try:
        return ipaddress.ip_address(client_ip(request)).is_loopback
    except ValueError:
        return False


def healthz(request):
    checks = {
        "write_database": _check_database(WRITE_ALIAS),
        "reporting_database": _check_database(READ_ALIAS),
        "redis": _check_redis(),
    }
    body: dict = {"checks": checks}
    lag_ok, sweep_age = True, None
    if checks["write_database"] and checks["reporting_database"]:
        tenant: Any = getattr(request, "tenant", None)
        on_tenant_host = tenant is not None and tenant.schema_name != get_public_schema_name()
        schemas = [tenant.schema_name] if on_tenant_host else tenant_schema_names()
        try:
            seen = _projection_overview(schemas)
            lags = {name: round(seen.figures(name).lag_seconds(seen.now), 3) for name in schemas}
            sweep_age = seen.sweep_age_seconds
        except Exception:
            lags, lag_ok, sweep_age = {}, False, None
        limit = settings.PROJECTION_LAG_WARNING_SECONDS
        lagging = [v for v in lags.values() if v > limit]
        lag_ok = lag_ok and not lagging
        body["projection"] = {
            "tenants": len(lags),
            "tenants_lagging": len(lagging),
            "max_lag_seconds": max(lags.values(), default=0.0),
        }
        body["sweep_age_seconds"] = sweep_age
        if _has_metrics_token(request):
            body["projection_lag_seconds"] = lags
    checks["projection_lag"] = lag_ok
    # Replicas do not make the verdict: dashboards skip one that is down or behind (reporting.replicas).
    if replicas := _replica_positions():
        bound = settings.REPORTING_REPLICA_MAX_LAG_SECONDS
        body["reporting_replicas"] = {
            "configured": len(replicas),
            "serving": sum(1 for p in replicas.values() if p is not None and p.lag_seconds <= bound),
        }
        if _has_metrics_token(request):
            # None: the replica does not answer, or has replayed no commit yet (its lag is unknown).
            body["replica_lag_seconds"] = {
                name: round(p.lag_seconds, 3) if p is not None and math.isfinite(p.lag_seconds) else None
                for name, p in replicas.items()
            }
    # The beat's sweep stopped: idle tenants' "last updated" stops and a lost mark would go unnoticed. Unknown (no
    # sweep since the cache was emptied) is not counted against it.
    checks["sweep"] = sweep_age is None or sweep_age <= settings.PROJECTION_LAG_WARNING_SECONDS
    healthy = all(checks.values())
    body["status"] = "ok" if healthy else "degraded"
    return JsonResponse(body, status=200 if healthy else 503)


class PipelineCollector:
    """The projection figures, read at scrape time. When they cannot be read (reporting database down) they are
    absent, and helpdesk_pipeline_up says 0, so a dashboard never shows a stale value as current."""

    def collect(self):
        up = GaugeMetricFamily("helpdesk_pipeline_up", "1 when the projection figures below could be read")
        try:
            schemas = tenant_schema_names()
            seen = _projection_overview(schemas)
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        lag = GaugeMetricFamily(
            "helpdesk_projection_lag_seconds", "Age of the oldest unapplied event", labels=["tenant"]
        )
        pending = GaugeMetricFamily(
            "helpdesk_outbox_pending_events", "Events not yet applied to the read models", labels=["tenant"]
        )
        dead = GaugeMetricFamily(
            "helpdesk_projection_dead_letters", "Dead-lettered events awaiting a retry", labels=["tenant"]
        )
        for name in schemas:
            f = seen.figures(name)
            lag.add_metric([name], f.lag_seconds(seen.now))
            pending.add_metric([name], f.pending_count)
            dead.add_metric([name], f.dead_letters)
        up.add_metric([], 1)
        yield from (up, lag, pending, dead)
        if seen.sweep_age_seconds is not None:
            sweep = GaugeMetricFamily(
                "helpdesk_projection_sweep_age_seconds", "Seconds since the beat's sweep last ran"
            )
            sweep.add_metric([], seen.sweep_age_seconds)
            yield sweep


class BrokerCollector:
    """Whether the broker that carries the projector's tasks answers. While it is down, submissions still
    succeed and the sweep catches up once it is back; but the beat's sweep cannot reach a worker either, so
    nothing projects meanwhile."""

    def collect(self):
        from celery import current_app

        up = GaugeMetricFamily(
            "helpdesk_broker_up", "1 when the Celery broker accepts a connection", labels=["transport"]
        )
        up.add_metric([urlsplit(current_app.conf.broker_url).scheme], 1 if _check_broker() else 0)
        yield up


class ReplicaCollector:
    """Each reporting replica's replay lag (helpdesk_reporting_replica_lag_seconds, which the alert rules watch)
    and whether it answers as a replica; nothing without REPORTING_REPLICA_URLS."""

    def collect(self):
        replicas = _replica_positions()
        if not replicas:
            return
        up = GaugeMetricFamily(
            "helpdesk_reporting_replica_up",
            "1 when the reporting replica answers and is in recovery",
            labels=["replica"],
        )
        lag = GaugeMetricFamily(
            "helpdesk_reporting_replica_lag_seconds",
            "How far the reporting replica's replay is behind the primary's commits",
            labels=["replica"],
        )
        for name, where in replicas.items():
            up.add_metric([name], 0 if where is None else 1)
            if where is not None:
                lag.add_metric([name], where.lag_seconds)
        yield from (up, lag)


def metrics(request):
    trusted_local = settings.METRICS_TRUST_LOOPBACK and not settings.METRICS_TOKEN and _is_local_client(request)
    if not (_has_metrics_token(request) or trusted_local):
        return JsonResponse(
            {"error": {"code": "not_authenticated", "message": "Metrics need the metrics token.", "fields": {}}},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    registry: CollectorRegistry = registry_for_scrape()
    registry.register(PipelineCollector())
    registry.register(BrokerCollector())
    registry.register(ReplicaCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
