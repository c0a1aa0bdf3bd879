"""Forms check the shape of input; the services enforce the rules."""

from dataclasses import dataclass
from datetime import date
from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from complaints.models import DESCRIPTION_MAX_LENGTH, Channel, Complaint, Priority, Status
from complaints.selectors import (
    ASSIGNEE_ME,
    ASSIGNEE_NONE,
    LOCAL_TIME_FILTERS,
    REOPENED_NO,
    REOPENED_YES,
    LocalTime,
    agent_choices,
    category_choices,
    category_filter_choices,
    display_name,
)


class QuickSelect(forms.Select):
    """A select written in Python: Django's renders a template for every option (about 0.1 ms each here), and
    the staff list's filters list every category and agent of the tenant, hundreds in a large one, on each page.
    Same markup as Django's (no option groups, no per-option attributes: none of our selects has them)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = [option for _group, choices, _index in widget["optgroups"] for option in choices]
        return format_html(
            '<select name="{}"{}>{}</select>',
            widget["name"],
            flatatt(widget["attrs"]),
            format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((option["value"], " selected" if option["selected"] else "", option["label"]) for option in options),
            ),
        )


class ComplaintForm(forms.ModelForm):
    class Meta:
        model = Complaint
        fields = [
            "title",
            "description",
            "customer_name",
            "customer_email",
            "customer_phone",
            "channel",
            "category",
            "priority",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = category_choices()
        self.fields["title"].widget.attrs["autofocus"] = True
        # The services enforce the limit; checking it here too puts the message beside the field.
        self.fields["description"].validators.append(MaxLengthValidator(DESCRIPTION_MAX_LENGTH))
        self.fields["description"].widget.attrs["maxlength"] = DESCRIPTION_MAX_LENGTH


class VersionForm(forms.Form):
    """The complaint version the user saw: a change made meanwhile by someone else is refused (stale form)."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(required=False, max_length=2000)
    version = forms.IntegerField(widget=forms.HiddenInput)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=agent_choices(), required=False, empty_label="— unassigned —")
    version = forms.IntegerField(widget=forms.HiddenInput)


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=10000, label="Message")
    internal = forms.BooleanField(required=False, label="Internal note (not shown to the customer)")


class RecategorizeForm(forms.Form):
    category = forms.ModelChoiceField(queryset=category_choices())
    priority = forms.ChoiceField(choices=Priority.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)


# Far from date.min/date.max, which a day's bounds would step past (OverflowError): the dashboard's range too.
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)
OUT_OF_RANGE = f"Dates must be between {EARLIEST} and {LATEST}."
MAX_AGE_DAYS = 100 * 366
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_VALIDATORS = [MinValueValidator(EARLIEST, OUT_OF_RANGE), MaxValueValidator(LATEST, OUT_OF_RANGE)]


@dataclass(frozen=True)
class LocalTimeFilter:
    """One of the list's filters in the tenant's local days and hours (what the dashboard's links use), declared
    once: the staff list's field (below) and the API's filter (complaints.api_filters) are both made from it."""

    label: str  # the staff list's
    help_text: str  # the API's, in its schema
    bounds: tuple[int, int] | None = None  # a whole number's; None: a local day (YYYY-MM-DD)
    menu: tuple[str, ...] = ()  # the staff list's select for a number: its "any" label, then one per number

    def form_field(self) -> forms.Field:
        if self.bounds is None:
            widget = forms.DateInput(attrs={"type": "date"})
            return forms.DateField(required=False, label=self.label, widget=widget, validators=DAY_VALIDATORS)
        low, high = self.bounds
        if self.menu:
            choices = [("", self.menu[0]), *((str(n), label) for n, label in enumerate(self.menu[1:], low))]
            return forms.TypedChoiceField(
                required=False, coerce=int, empty_value=None, label=self.label, choices=choices, widget=QuickSelect
            )
        return forms.IntegerField(required=False, min_value=low, max_value=high, label=self.label)


LOCAL_TIME = {
    "created_day_from": LocalTimeFilter(
        "Received from", "Received on or after this local day (YYYY-MM-DD, the tenant's time zone)."
    ),
    "created_day_to": LocalTimeFilter("Received to", "Received on or before this local day."),
    "resolved_day_from": LocalTimeFilter("Resolved from", "Resolved on or after this local day."),
    "resolved_day_to": LocalTimeFilter("Resolved to", "Resolved on or before this local day."),
    "assigned_day_from": LocalTimeFilter("Assigned from", "Assigned (last) on or after this local day."),
    "assigned_day_to": LocalTimeFilter("Assigned to", "Assigned (last) on or before this local day."),
    "age_min": LocalTimeFilter(
        "Age from (days)", "At least this many local days old (0: received today).", (0, MAX_AGE_DAYS)
    ),
    "age_max": LocalTimeFilter("Age to (days)", "At most this many local days old.", (0, MAX_AGE_DAYS)),
    "weekday": LocalTimeFilter(
        "Received on",
        "Received on this ISO weekday (1 Monday .. 7 Sunday), local time.",
        (1, 7),
        ("Any day", *WEEKDAYS),
    ),
    "hour": LocalTimeFilter(
        "Received at hour",
        "Received in this local hour (0-23).",
        (0, 23),
        ("Any hour", *(f"{h:02d}:00–{h:02d}:59" for h in range(24))),
    ),
}
if tuple(LOCAL_TIME) != LOCAL_TIME_FILTERS:  # every filter the selector takes, and only those, in its order
    raise ImproperlyConfigured("complaints.forms.LOCAL_TIME must declare exactly selectors.LOCAL_TIME_FILTERS")


class ComplaintFilterForm(forms.Form):
    ASSIGNEES = [("", "Anyone"), (ASSIGNEE_ME, "Mine"), (ASSIGNEE_NONE, "Unassigned")]  # then each agent
    # Shown folded under "More filters" unless one is set: what the dashboard's links use.
    MORE = ("channel", "reopened", *LOCAL_TIME_FILTERS)

    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), ("open", "Open")] + Status.choices, widget=QuickSelect
    )
    category = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, widget=QuickSelect)
    priority = forms.ChoiceField(required=False, choices=[("", "Any priority")] + Priority.choices, widget=QuickSelect)
    assignee = forms.ChoiceField(required=False, choices=ASSIGNEES, widget=QuickSelect)
    q = forms.CharField(required=False, max_length=100, label="Search")
    sort = forms.CharField(required=False, max_length=20)
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel")] + Channel.choices, widget=QuickSelect)
    reopened = forms.ChoiceField(
        required=False,
        choices=[("", "Either"), (REOPENED_YES, "Reopened"), (REOPENED_NO, "Never reopened")],
        widget=QuickSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Plain (id, name) pairs, one query each: a ModelChoiceField reads its menu through a server-side cursor
        # (three round trips) and looks the chosen row up again to validate it.
        categories = [(str(pk), name) for pk, name in category_filter_choices()]
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", "Any category"), *categories]
        agents = [(str(pk), name) for pk, name in agent_choices().values_list("pk", "display_name")]
        # A former agent (deactivated, or now in another role) keeps the complaints the dashboard credits them.
        chosen = self.data.get("assignee", "") if self.is_bound else ""
        if chosen.isascii() and chosen.isdigit() and chosen not in {pk for pk, _ in agents}:
            former = get_user_model().objects.filter(pk=int(chosen[:18])).annotate(display_name=display_name())
            agents += [(str(pk), name) for pk, name in former.values_list("pk", "display_name")]
        cast(forms.ChoiceField, self.fields["assignee"]).choices = self.ASSIGNEES + agents

    def more_fields(self) -> list:
        return [self[name] for name in self.fields if name in self.MORE]

    def main_fields(self) -> list:
        return [self[name] for name in self.fields if name not in self.MORE and name != "sort"]

    def more_shown(self) -> bool:
        return any(self.data.get(name) for name in self.MORE) if self.is_bound else False

    def local_time(self, time_zone: str) -> LocalTime:
        """The local-time filters that validated, in the tenant's zone."""
        data = getattr(self, "cleaned_data", {})
        return LocalTime(time_zone, **{name: data.get(name) for name in LOCAL_TIME_FILTERS})


# Then the local-time filters, made from their declarations (the API's filter set makes its own from the same).
ComplaintFilterForm.base_fields.update((name, spec.form_field()) for name, spec in LOCAL_TIME.items())
