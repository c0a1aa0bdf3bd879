from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from reporting.readmodel import RULES
from reporting.selectors import DEFAULT_PERIOD_DAYS, PERIOD_DAYS, Filters, Period, period_between, period_last

# Far from date.min/date.max, which the previous period and the day after `end` would step past (OverflowError).
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)
OUT_OF_RANGE = f"Dates must be between {EARLIEST} and {LATEST}."
SUPPORTED_DATES = [MinValueValidator(EARLIEST, OUT_OF_RANGE), MaxValueValidator(LATEST, OUT_OF_RANGE)]


class DashboardFilterForm(forms.Form):
    """The dashboard's choices, all in the URL so a view can be bookmarked and shared.

    Always bind it to the query (an empty one means the default period)."""

    period = forms.ChoiceField(
        required=False, choices=[(str(d), f"Last {d} days") for d in PERIOD_DAYS] + [("custom", "Custom")]
    )
    start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From", validators=SUPPORTED_DATES
    )
    end = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To", validators=SUPPORTED_DATES
    )
    category = forms.IntegerField(required=False, min_value=1)
    priority = forms.ChoiceField(
        required=False, choices=[("", "Any priority")] + [(p, p.title()) for p in RULES.target_seconds]
    )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("period") == "custom":
            if self.has_error("start") or self.has_error("end"):
                return data  # the field's own message says what is wrong
            if not data.get("start") or not data.get("end"):
                raise forms.ValidationError("Choose both dates for a custom period.")
            try:
                data["period_obj"] = period_between(data["start"], data["end"])
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return data

    def error_messages(self) -> dict[str, list[str]]:
        return {
            "non_field_errors" if field == "__all__" else field: [e["message"] for e in errors]
            for field, errors in self.errors.get_json_data().items()
        }

    def selected_period(self, zone: str | None = None) -> Period:
        # "Last N days" ends on the read models' local today: in `zone` if the caller has read it already,
        # otherwise read from the reporting database when the figures are asked for (where an unreachable
        # database is a 503), not while checking the input.
        if "period_obj" in self.cleaned_data:
            return self.cleaned_data["period_obj"]
        return period_last(int(self.cleaned_data.get("period") or DEFAULT_PERIOD_DAYS), zone)

    def selected_filters(self) -> Filters:
        return Filters(
            category_id=self.cleaned_data.get("category") or None, priority=self.cleaned_data.get("priority") or None
        )
