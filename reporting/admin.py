from django.contrib import admin, messages

from helpdesk.access import MANAGE_CATEGORIES
from helpdesk.admin_sites import tenant_admin
from reporting.models import DeadLetter
from reporting.services import dead_letter_retry


@admin.register(DeadLetter, site=tenant_admin)
class DeadLetterAdmin(admin.ModelAdmin):
    """Events the projector gave up on. Fix the cause (code or payload), then retry."""

    list_display = ("event_id", "event_type", "complaint_id", "attempts", "dead", "last_failed_at", "resolution")
    list_filter = ("dead", "event_type", "resolution")
    readonly_fields = (
        "event_id",
        "event_type",
        "complaint_id",
        "complaint_version",
        "occurred_at",
        "error",
        "attempts",
        "dead",
        "first_failed_at",
        "last_failed_at",
        "resolved_at",
        "resolution",
    )
    fields = readonly_fields[:5] + ("payload",) + readonly_fields[5:]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_module_permission(self, request):
        return request.user.is_active and request.user.has_perm(MANAGE_CATEGORIES)

    has_view_permission = has_change_permission = lambda self, request, obj=None: self.has_module_permission(request)

    @admin.action(description="Retry the selected events")
    def retry(self, request, queryset):
        outcomes: dict[str, int] = {}
        for letter in queryset:
            outcome = dead_letter_retry(dead_letter_id=letter.pk)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        level = messages.WARNING if outcomes.get("failed") else messages.SUCCESS
        self.message_user(request, ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())), level)
