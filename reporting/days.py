"""Which calendar day a moment belongs to: the tenant's local day, the one rule every read model buckets by.

A local day runs from local midnight to local midnight, so around a DST change it has 23 or 25 hours, and zones
with odd offsets (Asia/Kathmandu +5:45, Pacific/Chatham +12:45) shift its bounds by those minutes. Every read model
is bucketed by the SQL rule (projector, rebuild and check alike); the Python rule gives the dashboards' "today"
and must agree with it, which the time zone tests prove.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils import timezone


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def local_day_sql(column: str) -> str:
    """The same rule in SQL; the query's parameters must carry the zone as %(tz)s."""
    return f"({column} AT TIME ZONE %(tz)s)::date"


def local_hour_sql(column: str) -> str:
    """The local hour (0-23) of the moment, by the same rule: the wall clock's hour, so the hour repeated when
    clocks go back holds both of its halves and the hour skipped when they go forward holds nothing."""
    return f"extract(hour FROM {column} AT TIME ZONE %(tz)s)::int"


def local_today(zone: str) -> date:
    return local_day(timezone.now(), zone)


def day_start(day: date, zone: str) -> datetime:
    """The moment a local day begins (local midnight; zoneinfo resolves a midnight lost to DST forward)."""
    return datetime.combine(day, time.min, ZoneInfo(zone))
