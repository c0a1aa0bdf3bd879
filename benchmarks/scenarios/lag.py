"""Event -> read model lag: complaints submitted at a steady rate, each timed until the read side shows it."""

import threading
import time

from benchmarks.stats import summary_ms
from benchmarks.tenant import SCHEMA
from helpdesk.databases import READ_ALIAS


def measure_lag(*, rate: float, seconds: float, agent) -> dict:
    from django.db import connections
    from django_tenants.utils import schema_context

    from complaints.models import Category
    from complaints.services import complaint_submit

    committed_at: dict[int, float] = {}
    submit_seconds: list[float] = []  # each submission, its on-commit publish included
    seen_at: dict[int, float] = {}
    done = threading.Event()

    def watch():
        # A separate connection (Django connections are per thread) polls the read side every 10 ms.
        with schema_context(SCHEMA):
            last = 0
            while not done.is_set() or any(c not in seen_at for c in list(committed_at)):
                with connections[READ_ALIAS].cursor() as cursor:
                    cursor.execute("SELECT complaint_id FROM complaint_fact WHERE complaint_id > %s", [last])
                    now = time.perf_counter()
                    for (cid,) in cursor.fetchall():
                        seen_at.setdefault(cid, now)
                        last = max(last, cid)
                if done.is_set() and time.perf_counter() - finished > 30:
                    break
                time.sleep(0.01)
            connections.close_all()

    finished = float("inf")
    watcher = threading.Thread(target=watch, daemon=True)
    with schema_context(SCHEMA):
        category = Category.objects.order_by("id")[0]
        watcher.start()
        interval, start = 1 / rate, time.perf_counter()
        count = int(rate * seconds)
        for i in range(count):
            target = start + i * interval
            if (delay := target - time.perf_counter()) > 0:
                time.sleep(delay)
            submit_started = time.perf_counter()
            complaint = complaint_submit(
                actor=agent,
                title="Lag",
                description="x",
                customer_name="L",
                customer_email="l@example.com",
                category=category,
            )
            committed_at[complaint.pk] = time.perf_counter()
            submit_seconds.append(committed_at[complaint.pk] - submit_started)
        achieved = count / (time.perf_counter() - start)
    finished = time.perf_counter()
    done.set()
    watcher.join(timeout=60)
    # Seen before submit() returned counts as 0: the projection beat our own bookkeeping.
    lags = [max(seen_at[c] - t, 0.0) for c, t in committed_at.items() if c in seen_at]
    return {
        "target_rate_per_s": rate,
        "achieved_rate_per_s": round(achieved, 1),
        "submitted": len(committed_at),
        "visible": len(lags),
        **summary_ms(lags),
        "submit": summary_ms(submit_seconds),
    }
