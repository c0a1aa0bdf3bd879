"""Staff pages. Each view parses input, calls one service or selector, and renders."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from complaints import selectors, services
from complaints.errors import DomainError
from complaints.forms import (
    AssignForm,
    CommentForm,
    ComplaintFilterForm,
    ComplaintForm,
    RecategorizeForm,
    TransitionForm,
    VersionForm,
)
from complaints.models import Complaint, Status
from complaints.paging import CappedPaginator
from helpdesk.access import ASSIGN_ANY, WORK_COMPLAINTS, role_required

PAGE_SIZE = 25


def _get_complaint(complaint_id: int) -> Complaint:
    try:
        return selectors.complaint_get(complaint_id=complaint_id)
    except Complaint.DoesNotExist:
        raise Http404("No such complaint") from None


@role_required(WORK_COMPLAINTS)
def complaint_list(request):
    form = ComplaintFilterForm(request.GET or None)
    filters: dict = {}
    if form.is_bound:
        # A filter that does not validate (a category deleted since it was bookmarked, a search too long)
        # is shown as an error beside its field, and the page answers 400; the filters that validate still apply.
        form.is_valid()
        filters = form.cleaned_data
    sort = filters.get("sort") or "-created"
    complaints = selectors.complaint_list(
        user=request.user,
        status=filters.get("status", ""),
        category=filters.get("category"),
        priority=filters.get("priority", ""),
        assignee=filters.get("assignee", ""),
        channel=filters.get("channel", ""),
        reopened=filters.get("reopened", ""),
        local=form.local_time(request.tenant.time_zone) if form.is_bound else None,
        q=filters.get("q", ""),
        sort=sort,
    )
    page = CappedPaginator(complaints, PAGE_SIZE, cap=selectors.list_count_cap()).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(
        request,
        "complaints/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "sort": sort,
            "sort_query": sort_query.urlencode(),
        },
        status=400 if form.errors else 200,
    )


@role_required(WORK_COMPLAINTS)
def complaint_new(request):
    form = ComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.complaint_submit(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Complaint {complaint.reference} was created.")
            return redirect("complaints:detail", complaint_id=complaint.pk)
    return render(request, "complaints/new.html", {"form": form}, status=400 if form.errors else 200)


@role_required(WORK_COMPLAINTS)
def complaint_detail(request, complaint_id: int):
    complaint = _get_complaint(complaint_id)
    return render(
        request,
        "complaints/detail.html",
        {
            "complaint": complaint,
            "timeline": selectors.complaint_timeline(complaint=complaint),
            "moves": [
                (s, "Reopen" if complaint.status == Status.RESOLVED and s == Status.IN_PROGRESS else Status(s).label)
                for s in complaint.allowed_transitions()
            ],
            "assign_form": AssignForm(initial={"assignee": complaint.assignee_id, "version": complaint.version}),
            "recategorize_form": RecategorizeForm(
                initial={
                    "category": complaint.category_id,
                    "priority": complaint.priority,
                    "version": complaint.version,
                }
            ),
            "comment_form": CommentForm(),
            "can_assign_any": request.user.has_perm(ASSIGN_ANY),
        },
    )


def _act(request, complaint_id: int, form_class, action) -> object:
    """Run one action from a posted form; refusals become a message and change nothing."""
    complaint = _get_complaint(complaint_id)
    form = form_class(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}" if field != "__all__" else " ".join(errors))
    else:
        try:
            note = action(complaint, form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if note:
                messages.success(request, note)
    return redirect("complaints:detail", complaint_id=complaint.pk)


@require_POST
@role_required(WORK_COMPLAINTS)
def complaint_transition(request, complaint_id: int):
    def action(complaint, data):
        moved = services.complaint_transition(
            complaint_id=complaint.pk,
            actor=request.user,
            to_status=data["to_status"],
            note=data["note"],
            expected_version=data["version"],
        )
        return f"{moved.reference} is now {moved.get_status_display()}."

    return _act(request, complaint_id, TransitionForm, action)


@require_POST
@role_required(WORK_COMPLAINTS)
def complaint_assign(request, complaint_id: int):
    def action(complaint, data):
        done = services.complaint_assign(
            complaint_id=complaint.pk, actor=request.user, assignee=data["assignee"], expected_version=data["version"]
        )
        return f"Assigned to {done.assignee.username}." if done.assignee else "Unassigned."

    return _act(request, complaint_id, AssignForm, action)


@require_POST
@role_required(WORK_COMPLAINTS)
def complaint_take(request, complaint_id: int):
    """Agents' one-click "Assign to me"."""

    def action(complaint, data):
        services.complaint_assign(
            complaint_id=complaint.pk, actor=request.user, assignee=request.user, expected_version=data["version"]
        )
        return "Assigned to you."

    return _act(request, complaint_id, VersionForm, action)


@require_POST
@role_required(WORK_COMPLAINTS)
def complaint_comment(request, complaint_id: int):
    def action(complaint, data):
        services.complaint_comment(
            complaint_id=complaint.pk, actor=request.user, body=data["body"], internal=data["internal"]
        )
        return "Internal note added." if data["internal"] else "Reply sent."

    return _act(request, complaint_id, CommentForm, action)


@require_POST
@role_required(WORK_COMPLAINTS)
def complaint_recategorize(request, complaint_id: int):
    def action(complaint, data):
        services.complaint_recategorize(
            complaint_id=complaint.pk,
            actor=request.user,
            category=data["category"],
            priority=data["priority"],
            expected_version=data["version"],
        )
        return "Category and priority saved."

    return _act(request, complaint_id, RecategorizeForm, action)


class PasswordChange(auth_views.PasswordChangeView):
    """A signed-in user's own password. Saving it revokes the user's API tokens and other sessions (see
    complaints.accounts); this session is kept by Django's update_session_auth_hash."""

    template_name = "registration/password_change.html"
    success_url = reverse_lazy("complaints:list")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Password changed. Your API tokens and other sessions were signed out.")
        return response

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)
