"""A web process reads and renders at most DASHBOARD_RENDERS_PER_PROCESS dashboards at a time.

Under a threaded server every dashboard request of a process competes for its one interpreter lock with the
submissions it serves too: ten viewers arriving together took most of it at once, and a submission landing in
that moment waited behind them. Dashboards beyond the limit wait their turn asleep (they cost nothing meanwhile);
the submissions keep their share. A single-threaded worker serves one request at a time anyway.
"""

import threading
from contextlib import contextmanager

from django.conf import settings

_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _semaphore(limit: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        return _slots.setdefault(limit, threading.BoundedSemaphore(limit))


@contextmanager
def dashboard_turn():
    """Wait (asleep, at most DASHBOARD_TURN_WAIT_SECONDS, then go ahead anyway) for a free dashboard slot."""
    limit = settings.DASHBOARD_RENDERS_PER_PROCESS
    if limit <= 0:
        yield
        return
    slots = _semaphore(limit)
    acquired = slots.acquire(timeout=settings.DASHBOARD_TURN_WAIT_SECONDS)
    try:
        yield
    finally:
        if acquired:
            slots.release()
