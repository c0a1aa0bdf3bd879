from functools import cache
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import connection, models
from django_tenants.models import DomainMixin, TenantMixin

# The tz database's geographic areas. Outside them are names that are no place's zone, and some that do harm:
# `localtime` (this server's zone, read differently by Python and by PostgreSQL), `Factory`, `posixrules`,
# `Etc/GMT-14` (POSIX signs: 14 hours *ahead* of UTC), legacy `EST`, `US/Eastern`, `right/...`.
TIME_ZONE_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
)


def _postgresql_zone_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_timezone_names")
        return {name for (name,) in cursor.fetchall()}


@cache
def time_zone_names() -> list[str]:
    """The zones a tenant may choose, sorted: UTC and the names of the tz database's geographic areas
    (Europe/Paris, America/Argentina/Salta) that both zoneinfo and PostgreSQL know, so that both count a tenant's
    days from the same midnight. Read once per process (zoneinfo scans its files, PostgreSQL its own)."""
    canonical = {name for name in available_timezones() if name == "UTC" or name.split("/", 1)[0] in TIME_ZONE_AREAS}
    return sorted(canonical & _postgresql_zone_names())


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(f"'{value}' is not an IANA time zone name (such as Europe/Paris or America/New_York).")


class Tenant(TenantMixin):
    """A client organisation. Its schema exists in both databases (write side and reporting)."""

    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA name. Dashboards count days from local midnight to local midnight in this zone; "
        "changing it rebuilds the tenant's read models in the background.",
    )

    auto_create_schema = True
    auto_drop_schema = True

    def __str__(self) -> str:
        return self.name


class Domain(DomainMixin):
    pass
