"""REST API of the write side. Serializers check shapes; every write goes through complaints.services."""

from datetime import UTC

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import filters, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from complaints import selectors, services
from complaints.forms import MAX_AGE_DAYS, ComplaintFilterForm
from complaints.models import (
    DESCRIPTION_MAX_LENGTH,
    OPEN_STATUSES,
    Category,
    Channel,
    Comment,
    Complaint,
    Priority,
    Status,
    StatusHistory,
)
from complaints.paging import COUNT_CAP, CappedPaginator
from complaints.roles import user_display_name
from helpdesk.api.permissions import CanManageCategories, CanWorkComplaints

User = get_user_model()


class UserRefSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="The display name: the full name, else the username.")

    class Meta:
        model = User
        fields = ["id", "username", "name"]

    def get_name(self, user) -> str:
        return user_display_name(user)


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "active"]


class ComplaintOutputSerializer(serializers.ModelSerializer):
    category = CategorySerializer(read_only=True)
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    created_by = UserRefSerializer(read_only=True, allow_null=True)
    allowed_transitions = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Complaint
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "customer_name",
            "customer_email",
            "customer_phone",
            "channel",
            "category",
            "priority",
            "status",
            "assignee",
            "created_by",
            "created_at",
            "assigned_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "updated_at",
            "reopen_count",
            "version",
            "allowed_transitions",
        ]


class ComplaintCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH)
    customer_name = serializers.CharField(max_length=120)
    customer_email = serializers.EmailField()
    customer_phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.filter(active=True))
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)


class ComplaintUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH, required=False)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.filter(active=True), required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you read; a newer one gives 409."
    )


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, min_value=1)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), allow_null=True)
    version = serializers.IntegerField(required=False, min_value=1)


class CommentSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "internal", "created_at"]
        read_only_fields = ["id", "author", "created_at"]
        extra_kwargs = {"body": {"max_length": 10000}}


class HistorySerializer(serializers.ModelSerializer):
    changed_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = StatusHistory
        fields = ["id", "from_status", "to_status", "changed_by", "changed_at", "note"]


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


def _local_day(help_text: str) -> django_filters.DateFilter:
    return django_filters.DateFilter(
        method="collect_local_time",
        help_text=help_text,
        validators=ComplaintFilterForm.base_fields["created_day_from"].validators,
    )


def _local_number(help_text: str, low: int, high: int) -> IntegerFilter:
    return IntegerFilter(method="collect_local_time", help_text=help_text, min_value=low, max_value=high)


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
    # In the tenant's local days and hours, as the dashboard counts (its links use these).
    created_day_from = _local_day("Received on or after this local day (YYYY-MM-DD, the tenant's time zone).")
    created_day_to = _local_day("Received on or before this local day.")
    resolved_day_from = _local_day("Resolved on or after this local day.")
    resolved_day_to = _local_day("Resolved on or before this local day.")
    assigned_day_from = _local_day("Assigned (last) on or after this local day.")
    assigned_day_to = _local_day("Assigned (last) on or before this local day.")
    age_min = _local_number("At least this many local days old (0: received today).", 0, MAX_AGE_DAYS)
    age_max = _local_number("At most this many local days old.", 0, MAX_AGE_DAYS)
    weekday = _local_number("Received on this ISO weekday (1 Monday .. 7 Sunday), local time.", 1, 7)
    hour = _local_number("Received in this local hour (0-23).", 0, 23)

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


class ComplaintSearch(filters.SearchFilter):
    """The staff list's search: an exact reference first, else a substring of title, customer name or e-mail."""

    search_description = (
        "An exact reference, or a substring (3+ characters) of the title, customer name or customer e-mail."
    )

    def filter_queryset(self, request, queryset, view):
        return selectors.complaint_search(queryset, q=request.query_params.get(self.search_param, ""))


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


def _version(data) -> int | None:
    return data.get("version")


class ComplaintViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Complaints of the tenant selected by the host name."""

    permission_classes = [CanWorkComplaints]
    serializer_class = ComplaintOutputSerializer
    filterset_class = ComplaintFilter
    filter_backends = [DjangoFilterBackend, ComplaintSearch, ComplaintOrdering]
    pagination_class = ComplaintPagination
    search_fields = ["reference", "title", "customer_name", "customer_email"]
    ordering_fields = list(API_ORDERING)
    ordering = ["-created_at"]

    def get_queryset(self):
        return Complaint.objects.select_related("category", "assignee", "created_by")

    def filter_queryset(self, queryset):
        # List filters, search and ordering belong to the list; get_object() must find the complaint by id alone
        # (a detail, comments or history request with ?status=closed is not a 404, a bad filter not a 400).
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def _out(self, complaint, code=status.HTTP_200_OK):
        complaint = selectors.complaint_get(complaint_id=complaint.pk)
        return Response(ComplaintOutputSerializer(complaint).data, status=code)

    @extend_schema(request=ComplaintCreateSerializer, responses={201: ComplaintOutputSerializer})
    def create(self, request):
        data = self._valid(ComplaintCreateSerializer, request.data)
        return self._out(services.complaint_submit(actor=request.user, **data), status.HTTP_201_CREATED)

    @extend_schema(request=ComplaintUpdateSerializer, responses=ComplaintOutputSerializer)
    def partial_update(self, request, pk=None):
        complaint = self.get_object()
        data = self._valid(ComplaintUpdateSerializer, request.data)
        version = _version(data)
        complaint = services.complaint_update(
            complaint_id=complaint.pk,
            actor=request.user,
            expected_version=version,
            **{f: data[f] for f in ("title", "description", "category", "priority") if f in data},
        )
        return self._out(complaint)

    @extend_schema(request=TransitionSerializer, responses=ComplaintOutputSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        complaint = self.get_object()
        data = self._valid(TransitionSerializer, request.data)
        return self._out(
            services.complaint_transition(
                complaint_id=complaint.pk,
                actor=request.user,
                to_status=data["status"],
                note=data["note"],
                expected_version=_version(data),
            )
        )

    @extend_schema(request=AssignSerializer, responses=ComplaintOutputSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        complaint = self.get_object()
        data = self._valid(AssignSerializer, request.data)
        return self._out(
            services.complaint_assign(
                complaint_id=complaint.pk,
                actor=request.user,
                assignee=data["assignee"],
                expected_version=_version(data),
            )
        )

    @extend_schema(methods=["GET"], responses=CommentSerializer(many=True), filters=False)
    @extend_schema(methods=["POST"], request=CommentSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"])
    def comments(self, request, pk=None):
        complaint = self.get_object()
        if request.method == "GET":
            comments = Comment.objects.filter(complaint=complaint).select_related("author")
            return self._paginated(comments, CommentSerializer)
        data = self._valid(CommentSerializer, request.data)
        comment = services.complaint_comment(
            complaint_id=complaint.pk, actor=request.user, body=data["body"], internal=data.get("internal", False)
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=HistorySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        complaint = self.get_object()
        return self._paginated(
            StatusHistory.objects.filter(complaint=complaint).select_related("changed_by"), HistorySerializer
        )

    def _paginated(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    @staticmethod
    def _valid(serializer_class, data) -> dict:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Categories: everyone who works complaints reads them; admins create and change them."""

    serializer_class = CategorySerializer
    queryset = Category.objects.order_by("name")
    filterset_fields = ["active"]
    search_fields = ["name"]
    ordering_fields = ["name"]

    def get_permissions(self):
        if self.action in ("create", "partial_update"):
            return [CanManageCategories()]
        return [CanWorkComplaints()]

    @extend_schema(request=CategorySerializer, responses={201: CategorySerializer})
    def create(self, request):
        serializer = CategorySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.category_save(
            actor=request.user,
            name=serializer.validated_data["name"],
            active=serializer.validated_data.get("active", True),
        )
        return Response(CategorySerializer(category).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CategorySerializer, responses=CategorySerializer)
    def partial_update(self, request, pk=None):
        category = self.get_object()
        serializer = CategorySerializer(category, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        saved = services.category_save(
            actor=request.user,
            name=data.get("name", category.name),
            active=data.get("active", category.active),
            category_id=category.pk,
        )
        return Response(CategorySerializer(saved).data)
