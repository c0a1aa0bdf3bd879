"""Per-tenant admin. Complaints are read-only here except through actions, which call the services."""

from django.contrib import admin, messages
from django_tenants.utils import get_public_schema_name

from complaints import services
from complaints.errors import DomainError
from complaints.models import Category, Comment, Complaint, OutboxEvent, Status, StatusHistory


class TenantOnlyAdmin(admin.ModelAdmin):
    """These tables exist in tenant schemas only: hide them from the public host's admin."""

    def has_module_permission(self, request):
        return request.tenant.schema_name != get_public_schema_name() and super().has_module_permission(request)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StatusHistoryInline(ReadOnlyInline):
    model = StatusHistory
    fields = readonly_fields = ("changed_at", "from_status", "to_status", "changed_by", "note")


class CommentInline(ReadOnlyInline):
    model = Comment
    fields = readonly_fields = ("created_at", "author", "internal", "body")


@admin.register(Complaint)
class ComplaintAdmin(TenantOnlyAdmin):
    list_display = ("reference", "title", "status", "priority", "category", "assignee", "created_at")
    list_filter = ("status", "priority", "channel", "category", "assignee")
    search_fields = ("reference", "title", "customer_name", "customer_email")
    date_hierarchy = "created_at"
    list_select_related = ("category", "assignee")
    inlines = [StatusHistoryInline, CommentInline]
    actions = ["assign_to_me", "mark_in_progress", "mark_resolved", "close"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Complaint._meta.fields]

    def has_add_permission(self, request):
        return False  # complaints are submitted through the staff UI or the API (services)

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail is kept

    def _each(self, request, queryset, do, done: str):
        ok, refused = 0, []
        for complaint in queryset:
            try:
                do(complaint)
                ok += 1
            except DomainError as exc:
                refused.append(f"{complaint.reference}: {exc.message}")
        if ok:
            self.message_user(request, f"{ok} complaint(s) {done}.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="Assign to me")
    def assign_to_me(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda c: services.complaint_assign(complaint_id=c.pk, actor=request.user, assignee=request.user),
            "assigned to you",
        )

    def _move(self, request, queryset, status: str):
        self._each(
            request,
            queryset,
            lambda c: services.complaint_transition(
                complaint_id=c.pk, actor=request.user, to_status=status, note="via admin"
            ),
            f"moved to {status}",
        )

    @admin.action(description="Move to In progress")
    def mark_in_progress(self, request, queryset):
        self._move(request, queryset, Status.IN_PROGRESS)

    @admin.action(description="Mark resolved")
    def mark_resolved(self, request, queryset):
        self._move(request, queryset, Status.RESOLVED)

    @admin.action(description="Close")
    def close(self, request, queryset):
        self._move(request, queryset, Status.CLOSED)


@admin.register(Category)
class CategoryAdmin(TenantOnlyAdmin):
    list_display = ("name", "active")
    list_filter = ("active",)
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: complaints keep their category

    def save_model(self, request, obj, form, change):
        try:
            saved = services.category_save(
                actor=request.user, name=obj.name, active=obj.active, category_id=obj.pk if change else None
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = saved.pk


@admin.register(Comment)
class CommentAdmin(TenantOnlyAdmin):
    list_display = ("complaint", "author", "internal", "created_at")
    list_filter = ("internal",)
    search_fields = ("complaint__reference", "body")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Comment._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(TenantOnlyAdmin):
    """The domain events, for support and audit (read-only)."""

    list_display = ("id", "event_type", "complaint_id", "complaint_version", "occurred_at")
    list_filter = ("event_type",)
    search_fields = ("complaint_id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
