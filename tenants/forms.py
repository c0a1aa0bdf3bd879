from django import forms

from tenants.models import Tenant, time_zone_names


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in time_zone_names()]


class TimeZoneField(forms.ChoiceField):
    """A select of every IANA zone: a typo cannot get through, and an unknown name is a form error."""

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", _time_zone_choices)
        kwargs.setdefault("help_text", Tenant._meta.get_field("time_zone").help_text)
        super().__init__(**kwargs)


class TenantTimeZoneForm(forms.Form):
    time_zone = TimeZoneField(label="Time zone")
