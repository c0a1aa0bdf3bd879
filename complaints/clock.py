"""The write side's clock: every service reads the time here, once per change.

One indirection so that tests can run the services on another day (property tests spread work over weeks,
hand-made worlds need exact instants) without patching Django's clock for the whole process.
"""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
