"""Event -> read model lag on each broker: the lag phase (scenarios/lag.py) again with the worker and this
process on RabbitMQ, in the benchmark's own vhost (named after its write database), beside the run's Redis figure.
The Redis worker is stopped meanwhile, so the two never share the cores."""

import shutil

from benchmarks.processes import Processes
from benchmarks.scenarios.lag import measure_lag
from helpdesk import launchers
from helpdesk.databases import WRITE_ALIAS


def lag_on_rabbitmq(procs: Processes, *, rate: float, seconds: float, agent) -> dict:
    from celery import current_app
    from django.conf import settings

    if shutil.which("rabbitmqctl") is None:
        return {"skipped": "rabbitmqctl not found: RabbitMQ is not installed here"}
    vhost = settings.DATABASES[WRITE_ALIAS]["NAME"]
    url = f"{launchers.RABBITMQ_URL}/{vhost}"
    launchers.create_vhost(vhost)
    procs.stop_workers()
    try:
        launchers.use_broker(current_app, url)
        procs.worker({"BENCH_CELERY_BROKER_URL": url})
        return {"broker": "rabbitmq", **measure_lag(rate=rate, seconds=seconds, agent=agent)}
    finally:
        procs.stop_workers()
        launchers.use_broker(current_app, settings.CELERY_BROKER_URL)
        procs.worker()
        launchers.delete_vhost(vhost)


def table_rows(size: str, entry: dict) -> list[tuple]:
    rows = []
    for key, broker in (("lag", "Redis"), ("lag_rabbitmq", "RabbitMQ")):
        lag = entry.get(key)
        if not lag:
            continue
        if "skipped" in lag:
            rows.append((f"event->read model lag on {broker}", size, "not measured", "", lag["skipped"]))
            continue
        rows.append(
            (
                f"event->read model lag p50/p99 (ms) @{lag['achieved_rate_per_s']}/s, {broker}",
                size,
                f"{lag['p50_ms']} / {lag['p99_ms']}",
                "",
                f"{lag['visible']}/{lag['submitted']} seen; submit p50/p99 "
                f"{lag['submit']['p50_ms']} / {lag['submit']['p99_ms']} ms",
            )
        )
    return rows
