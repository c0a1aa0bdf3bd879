"""The complaints API's list: filters (the staff list's, in the tenant's local days too), search, ordering, pages."""

from datetime import UTC

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from rest_framework import filters, serializers
from rest_framework.pagination import PageNumberPagination

from complaints import search, selectors
from complaints.forms import DAY_VALIDATORS, LOCAL_TIME, LocalTimeFilter
from complaints.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    Complaint,
    Priority,
    Status,
)
from complaints.paging import COUNT_CAP, CappedPaginator

User = get_user_model()


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """Any offset Python parses (up to ±23:59), normalized to UTC: PostgreSQL refuses offsets beyond ±15:59."""

    def to_python(self, value):
        parsed = super().to_python(value)
        try:
            return parsed.astimezone(UTC) if parsed else parsed
        except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise ValidationError("Enter a date/time within years 1–9999 in UTC.", code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class StatusFilter(django_filters.MultipleChoiceFilter):
    """Statuses, or "open" for every open one (the staff list's word)."""

    def filter(self, qs, value):
        if "open" in (value or ()):
            value = [*(s for s in value if s != "open"), *OPEN_STATUSES]
        return super().filter(qs, value)


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def local_time_filter(name: str, spec: LocalTimeFilter) -> django_filters.Filter:
    """The API's filter for one of the list's local-time filters, from the declaration the staff list's field is
    made from too; applied together with the others, in ComplaintFilter.filter_queryset."""
    if spec.bounds is None:
        return django_filters.DateFilter(
            field_name=name, method="collect_local_time", help_text=spec.help_text, validators=DAY_VALIDATORS
        )
    low, high = spec.bounds
    return IntegerFilter(
        field_name=name, method="collect_local_time", help_text=spec.help_text, min_value=low, max_value=high
    )


class ComplaintFilter(django_filters.FilterSet):
    status = StatusFilter(choices=[("open", "Open"), *Status.choices])
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all())
    assignee = django_filters.CharFilter(method="filter_assignee", help_text='A user id, "me" or "none".')
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    reopened = django_filters.ChoiceFilter(
        choices=[(selectors.REOPENED_YES, "Reopened"), (selectors.REOPENED_NO, "Never reopened")],
        method="filter_reopened",
        help_text='"yes": reopened at least once; "no": never.',
    )
    created_from = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_to = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Complaint
        fields = ["status", "priority", "category", "assignee", "created_from", "created_to"]

    def filter_assignee(self, queryset, name, value):
        try:
            return selectors.complaint_filter_assignee(queryset, user=self.request.user, assignee=value)
        except ValueError as exc:
            raise serializers.ValidationError({"assignee": [str(exc)]}) from None

    def filter_reopened(self, queryset, name, value):
        return selectors.complaint_filter_reopened(queryset, reopened=value)

    def collect_local_time(self, queryset, name, value):
        return queryset  # applied together, in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        local = {name: self.form.cleaned_data.get(name) for name in selectors.LOCAL_TIME_FILTERS}
        if not any(value is not None for value in local.values()):
            return queryset
        return selectors.complaint_filter_local_time(
            queryset, local=selectors.LocalTime(self.request.tenant.time_zone, **local)
        )


# Then the local-time filters, in the tenant's local days and hours as the dashboard counts (its links use them).
ComplaintFilter.base_filters.update((name, local_time_filter(name, spec)) for name, spec in LOCAL_TIME.items())


class ComplaintSearch(filters.SearchFilter):
    """The staff list's search: an exact reference first, else a substring of title, customer name or e-mail."""

    search_description = (
        "An exact reference, or a substring (3+ characters) of the title, customer name or customer e-mail."
    )

    def filter_queryset(self, request, queryset, view):
        return search.complaint_search(queryset, q=request.query_params.get(self.search_param, ""))


# API ordering names -> the staff list's sort names (each served by an index, each ending with id).
API_ORDERING = {
    "created_at": "created",
    "updated_at": "updated",
    "reference": "reference",
    "title": "title",
    "status": "status",
    "priority": "priority",
    "category": "category",
    "assignee": "assignee",
}


class ComplaintOrdering(filters.OrderingFilter):
    ordering_description = (
        "One of " + ", ".join(API_ORDERING) + " (prefix - for descending). Status and priority sort in lifecycle "
        "and urgency order, category and assignee by name; ties are broken by id, so pages never overlap."
    )

    def filter_queryset(self, request, queryset, view):
        if view.action != "list":  # a detail lookup filters the queryset further (GroupedRows cannot be)
            return queryset
        terms = self.get_ordering(request, queryset, view) or ["-created_at"]
        term = terms[0]
        sort = API_ORDERING[term.lstrip("-")]
        return selectors.complaint_order(queryset, sort=f"-{sort}" if term.startswith("-") else sort)


class TenantPaginator(CappedPaginator):
    """Counts exactly in a small tenant (complaints.selectors.list_count_cap)."""

    def __init__(self, object_list, per_page, *args, **kwargs):
        super().__init__(object_list, per_page, *args, cap=selectors.list_count_cap(), **kwargs)


class ComplaintPagination(PageNumberPagination):
    django_paginator_class = TenantPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        # paginate_queryset (which comes first) set the page, with this class's paginator
        assert self.page is not None and isinstance(self.page.paginator, CappedPaginator)
        response.data["count_capped"] = self.page.paginator.count_capped
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count"]["description"] = f"Exact up to {COUNT_CAP}; {COUNT_CAP + 1} means more."
        schema["properties"]["count_capped"] = {"type": "boolean", "description": f"More than {COUNT_CAP} match."}
        return schema
