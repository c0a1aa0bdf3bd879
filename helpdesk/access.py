"""Who may open what: one place for the role checks of views and API.

The permission names below are the only spelling of them outside the migrations (roles, services, views, API
and admin import them); the custom codenames are declared on complaints.models.Complaint.Meta.permissions.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

WORK_COMPLAINTS = "complaints.change_complaint"
VIEW_DASHBOARD = "complaints.view_dashboard"
ASSIGN_ANY = "complaints.assign_any"
MANAGE_CATEGORIES = "complaints.change_category"
# Only admins manage the tenant's users; the same people set the tenant's own settings (its time zone).
CHANGE_TENANT_SETTINGS = "auth.change_user"


def role_required(perm: str):
    """Login required (anonymous users go to the login page); a logged-in user without `perm` gets 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
