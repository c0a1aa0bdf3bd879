"""Prometheus metrics: request latency here; pipeline gauges are read when /metrics is scraped (helpdesk.ops).

Gunicorn runs several worker processes. With PROMETHEUS_MULTIPROC_DIR set (scripts/run.sh and the test server set
it; helpdesk/gunicorn.conf.py cleans up after dead workers), every process writes its samples there and one scrape
sums them all — without it, each scrape would see only the worker that happened to answer.
"""

import os
import time

from prometheus_client import REGISTRY, CollectorRegistry, Histogram, multiprocess

REQUEST_LATENCY = Histogram(
    "helpdesk_request_seconds",
    "Server time per request",
    ["method", "view", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def registry_for_scrape() -> CollectorRegistry:
    """A registry with the whole server's samples (all processes) and nothing else."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    registry = CollectorRegistry()
    registry.register(_SingleProcess())
    return registry


class _SingleProcess:
    """The default registry's samples (one process: tests, runserver)."""

    def collect(self):
        return REGISTRY.collect()


class RequestLatencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "unmatched"
        REQUEST_LATENCY.labels(request.method, view, str(response.status_code)).observe(time.perf_counter() - started)
        return response
