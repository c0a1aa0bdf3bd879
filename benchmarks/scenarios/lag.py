"""Event -> read model lag: complaints submitted at a steady rate, each timed until the read side shows it (and,
given a streaming replica's address, until the replica shows it too: how far its replay trails the primary)."""

import threading
import time

from benchmarks.stats import summary_ms
from benchmarks.tenant import SCHEMA
from helpdesk.databases import READ_ALIAS


def measure_lag(*, rate: float, seconds: float, agent, replica_dsn: str | None = None) -> dict:
    from django.db import connections
    from django_tenants.utils import schema_context

    from complaints.models import Category
    from complaints.services import complaint_submit

    committed_at: dict[int, float] = {}
    submit_seconds: list[float] = []  # each submission, its on-commit publish included
    seen_at: dict[int, float] = {}
    done = threading.Event()

    seen_on_replica: dict[int, float] = {}
    query = "SELECT complaint_id FROM complaint_fact WHERE complaint_id > %s"

    def poll(fetch, seen: dict[int, float]) -> None:
        """Every 10 ms, the complaints fetch(last id) returns, each noted with when it was first seen, until
        every committed one has been (or 30 s after the last submission)."""
        last = 0
        while not done.is_set() or any(c not in seen for c in list(committed_at)):
            rows = fetch(last)
            now = time.perf_counter()
            for (cid,) in rows:
                seen.setdefault(cid, now)
                last = max(last, cid)
            if done.is_set() and time.perf_counter() - finished > 30:
                break
            time.sleep(0.01)

    def watch():
        # A separate connection (Django connections are per thread) polls the read side.
        def fetch(last: int) -> list:
            with connections[READ_ALIAS].cursor() as cursor:
                cursor.execute(query, [last])
                return cursor.fetchall()

        with schema_context(SCHEMA):
            poll(fetch, seen_at)
            connections.close_all()

    def watch_replica():
        import psycopg

        assert replica_dsn is not None
        with psycopg.connect(replica_dsn, autocommit=True) as replica:
            replica.execute(f"SET search_path TO {SCHEMA}")
            poll(lambda last: replica.execute(query, [last]).fetchall(), seen_on_replica)

    finished = float("inf")
    watcher = threading.Thread(target=watch, daemon=True)
    replica_watcher = threading.Thread(target=watch_replica, daemon=True) if replica_dsn else None
    if replica_watcher:
        replica_watcher.start()
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
    result = {
        "target_rate_per_s": rate,
        "achieved_rate_per_s": round(achieved, 1),
        "submitted": len(committed_at),
        "visible": len(lags),
        **summary_ms(lags),
        "submit": summary_ms(submit_seconds),
    }
    if replica_watcher:
        replica_watcher.join(timeout=60)
        both = [c for c in committed_at if c in seen_at and c in seen_on_replica]
        result["replica"] = {
            "visible": len([c for c in committed_at if c in seen_on_replica]),
            # From the commit until the replica shows it: what a manager reading the replica waits.
            "lag": summary_ms([max(seen_on_replica[c] - committed_at[c], 0.0) for c in both]),
            # From the primary's read models showing it until the replica does: the replay's share.
            "replay": summary_ms([max(seen_on_replica[c] - seen_at[c], 0.0) for c in both]),
        }
    return result
