"""A settable clock for the services (complaints.clock), so tests can place work on chosen days."""

from datetime import datetime, timedelta


class ServiceClock:
    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


def install(monkeypatch, start: datetime) -> ServiceClock:
    clock = ServiceClock(start)
    monkeypatch.setattr("complaints.clock.now", clock)
    return clock
