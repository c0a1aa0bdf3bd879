"""Prometheus metrics: request latency here; pipeline gauges are filled when /metrics is scraped."""

import time

from prometheus_client import Histogram

REQUEST_LATENCY = Histogram(
    "helpdesk_request_seconds",
    "Server time per request",
    ["method", "view", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


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
