"""REST API of the write side. Serializers check shapes; every write goes through complaints.services."""

from django.contrib.auth import get_user_model
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from complaints import selectors, services
from complaints.api_filters import (
    API_ORDERING,
    ComplaintFilter,
    ComplaintOrdering,
    ComplaintPagination,
    ComplaintSearch,
)
from complaints.models import (
    DESCRIPTION_MAX_LENGTH,
    Category,
    Channel,
    Comment,
    Complaint,
    Priority,
    Status,
    StatusHistory,
)
from complaints.roles import user_display_name
from helpdesk.api import output
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
        return Response(output.shared(ComplaintOutputSerializer).to_representation(complaint), status=code)

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
