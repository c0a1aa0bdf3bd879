from django import forms

from reporting.facts import TARGET_SECONDS
from reporting.selectors import DEFAULT_PERIOD_DAYS, PERIOD_DAYS, Filters, Period, period_between, period_last


class DashboardFilterForm(forms.Form):
    """The dashboard's choices, all in the URL so a view can be bookmarked and shared.

    Always bind it to the query (an empty one means the default period)."""

    period = forms.ChoiceField(
        required=False, choices=[(str(d), f"Last {d} days") for d in PERIOD_DAYS] + [("custom", "Custom")]
    )
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    category = forms.IntegerField(required=False, min_value=1)
    priority = forms.ChoiceField(
        required=False, choices=[("", "Any priority")] + [(p, p.title()) for p in TARGET_SECONDS]
    )

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            if not data.get("start") or not data.get("end"):
                raise forms.ValidationError("Choose both dates for a custom period.")
            try:
                data["period_obj"] = period_between(data["start"], data["end"])
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from exc
        else:
            data["period_obj"] = period_last(int(data.get("period") or DEFAULT_PERIOD_DAYS))
        return data

    def error_messages(self) -> dict[str, list[str]]:
        return {
            "non_field_errors" if field == "__all__" else field: [e["message"] for e in errors]
            for field, errors in self.errors.get_json_data().items()
        }

    def selected_period(self) -> Period:
        return self.cleaned_data["period_obj"]

    def selected_filters(self) -> Filters:
        return Filters(
            category_id=self.cleaned_data.get("category") or None, priority=self.cleaned_data.get("priority") or None
        )
