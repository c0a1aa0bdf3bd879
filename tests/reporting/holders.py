"""Transactions that stay open while a test goes on: the things that used to hold every dashboard back."""

import threading
from typing import Any

from django.db import connections, transaction
from django_tenants.utils import schema_context

# A transaction with an xid in another database of the same server (an unrelated application); the benchmark
# holds the same one.
from benchmarks.scenarios.freshness import unrelated_open_transaction as open_transaction_in_another_database

__all__ = ["HeldTransaction", "open_transaction_in_another_database"]


class HeldTransaction:
    """`work()` (a real service call) in its own thread and connection, in a transaction that stays open until
    commit(): its events are written but invisible, like a slow request's."""

    def __init__(self, schema: str, work):
        self.schema, self.work = schema, work
        self.result: Any = None
        self.error: BaseException | None = None
        self._ready, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            with schema_context(self.schema), transaction.atomic():
                self.result = self.work()
                self._ready.set()
                if not self._release.wait(timeout=120):
                    raise TimeoutError("held transaction never released")
        except BaseException as exc:  # handed to the test thread
            self.error = exc
        finally:
            self._ready.set()
            connections.close_all()

    def start(self) -> "HeldTransaction":
        self._thread.start()
        self._ready.wait(timeout=30)
        if self.error:
            raise self.error
        return self

    def commit(self):
        self._release.set()
        self._thread.join(timeout=30)
        if self.error:
            raise self.error
