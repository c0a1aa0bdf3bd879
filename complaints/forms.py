"""Forms check the shape of input; the services enforce the rules."""

from typing import cast

from django import forms
from django.core.validators import MaxLengthValidator
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from complaints.models import DESCRIPTION_MAX_LENGTH, Complaint, Priority, Status
from complaints.selectors import ASSIGNEE_ME, ASSIGNEE_NONE, agent_choices, category_choices


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


class ComplaintFilterForm(forms.Form):
    ASSIGNEES = [("", "Anyone"), (ASSIGNEE_ME, "Mine"), (ASSIGNEE_NONE, "Unassigned")]  # then each agent

    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), ("open", "Open")] + Status.choices, widget=QuickSelect
    )
    category = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, widget=QuickSelect)
    priority = forms.ChoiceField(required=False, choices=[("", "Any priority")] + Priority.choices, widget=QuickSelect)
    assignee = forms.ChoiceField(required=False, choices=ASSIGNEES, widget=QuickSelect)
    q = forms.CharField(required=False, max_length=100, label="Search")
    sort = forms.CharField(required=False, max_length=20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Plain (id, name) pairs, one query each: a ModelChoiceField reads its menu through a server-side cursor
        # (three round trips) and looks the chosen row up again to validate it.
        categories = [(str(pk), name) for pk, name in category_choices().values_list("pk", "name")]
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", "Any category"), *categories]
        agents = [(str(pk), name) for pk, name in agent_choices().values_list("pk", "username")]
        cast(forms.ChoiceField, self.fields["assignee"]).choices = self.ASSIGNEES + agents
