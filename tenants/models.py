from functools import cache
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


@cache
def time_zone_names() -> list[str]:
    """Every IANA zone name zoneinfo knows, sorted (it scans the tz database once)."""
    return sorted(available_timezones())


def validate_time_zone(value: str) -> None:
    # Not just ZoneInfo(value): it also opens file-like keys ("posixrules", "right/UTC") that are no zone names.
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
