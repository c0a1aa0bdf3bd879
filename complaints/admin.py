"""Per-tenant admin. Complaints are read-only here except through actions, which call the services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.db.models import Count
from django.http import HttpResponseRedirect

from complaints import search, services
from complaints.accounts import username_claim
from complaints.errors import DomainError
from complaints.models import Category, Comment, Complaint, OutboxEvent, Status, StatusHistory
from complaints.paging import CappedPaginator
from complaints.roles import Role, user_role, user_set_role
from helpdesk.admin_sites import tenant_admin
from helpdesk.api.auth import api_tokens_revoke

User = get_user_model()


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


@admin.register(Complaint, site=tenant_admin)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("reference", "title", "status", "priority", "category", "assignee", "created_at")
    list_filter = ("status", "priority", "channel", "category", "assignee")
    search_fields = ("reference", "title", "customer_name", "customer_email")  # searched as the staff list does
    list_select_related = ("category", "assignee")
    # A tenant of millions: the staff list's capped count instead of two full counts on every page (the
    # admin's "N results (M total)"), and no date hierarchy (its year/month links read every complaint's date).
    paginator = CappedPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a count per filter choice over every complaint

    def response_action(self, request, queryset, *args, **kwargs):
        # "Select all N" would act on every matching complaint, and N is capped: possibly millions in one request.
        if request.POST.get("select_across") == "1":
            self.message_user(
                request,
                "Select the complaints on the page to act on (all matches at once is not offered).",
                messages.WARNING,
            )
            return None
        return super().response_action(request, queryset, *args, **kwargs)

    inlines = [StatusHistoryInline, CommentInline]
    actions = ["assign_to_me", "mark_in_progress", "mark_resolved", "close"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Complaint._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        return search.complaint_search(queryset, q=search_term), False

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


@admin.register(Category, site=tenant_admin)
class CategoryAdmin(admin.ModelAdmin):
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
        except DomainError as exc:  # e.g. the same name created meanwhile by someone else (after the form's check)
            self.message_user(request, exc.message, messages.ERROR)
            request._category_refused = True  # read by the responses below
            return
        obj.pk = saved.pk

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_category_refused", False):
            return HttpResponseRedirect(request.path)  # back to the form, with the reason; nothing was saved
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "_category_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


@admin.register(Comment, site=tenant_admin)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("complaint", "author", "internal", "created_at")
    list_filter = ("internal",)
    search_fields = ("complaint__reference", "body")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Comment._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxEvent, site=tenant_admin)
class OutboxEventAdmin(admin.ModelAdmin):
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


class UserRoleForm(forms.ModelForm):
    """A tenant user as its admin may shape it: identity, active, and one role. Never superuser, staff or raw
    permissions — those fields are not on the form, so a crafted POST cannot set them."""

    role = forms.ChoiceField(choices=[(r, Role.LABELS[r]) for r in Role.ALL])

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email", "is_active")

    def __init__(self, *args, **kwargs):
        self.acting_user = kwargs.pop("acting_user", None)
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["role"].initial = user_role(self.instance)

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if self.instance.pk and self.instance.pk == getattr(self.acting_user, "pk", None):
            if cleaned.get("role") != Role.ADMIN or not cleaned.get("is_active", True):
                raise forms.ValidationError("You cannot remove your own admin role or deactivate yourself.")
        return cleaned


class UserAddForm(UserCreationForm):
    role = forms.ChoiceField(choices=[(r, Role.LABELS[r]) for r in Role.ALL], initial=Role.AGENT)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email")

    def clean_username(self):
        # The admin validates and saves in one transaction: the claim makes a concurrent add of the same name
        # wait here, then fail the check below with a form error (see username_claim).
        username = self.cleaned_data.get("username")
        if username:
            username_claim(username)
        return super().clean_username()


@admin.register(User, site=tenant_admin)
class TenantUserAdmin(DjangoUserAdmin):
    """The tenant's users and their roles (agent, manager, admin)."""

    form = UserRoleForm
    add_form = UserAddForm
    fieldsets = (
        (None, {"fields": ("username", "first_name", "last_name", "email")}),
        ("Access", {"fields": ("role", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "first_name", "last_name", "email", "role", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("username", "first_name", "last_name", "email", "role", "is_active", "api_tokens", "last_login")
    list_filter = ("is_active", "groups__name")
    filter_horizontal = ()
    actions = ["revoke_api_tokens"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups").annotate(token_count=Count("auth_token_set"))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form_class

        class BoundToActor(form_class):  # type: ignore[misc, valid-type]  # a subclass of this request's form
            def __init__(self, *args, **inner):
                super().__init__(*args, acting_user=request.user, **inner)

        return BoundToActor

    @admin.display(description="Role")
    def role(self, user) -> str:
        return Role.LABELS.get(user_role(user) or "", "—")

    @admin.display(description="API tokens", ordering="token_count")
    def api_tokens(self, user) -> int:
        return user.token_count

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        user_set_role(user=obj, role=form.cleaned_data["role"])

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: complaints keep their authors and assignees

    @admin.action(description="Revoke API tokens")
    def revoke_api_tokens(self, request, queryset):
        revoked = sum(api_tokens_revoke(user=user) for user in queryset)
        self.message_user(request, f"{revoked} API token(s) revoked.", messages.SUCCESS)
