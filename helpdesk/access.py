"""Who may open what: one place for the role checks of views and API.

The permission names below are the only spelling of them outside the migrations (roles, services, views, API
and admin import them); the custom codenames are declared on complaints.models.Complaint.Meta.permissions.
"""

from functools import wraps

from django.contrib.auth import backends
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q

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


class ModelBackend(backends.ModelBackend):
    """Django's, reading a user's own permissions and their groups' in one query instead of two: every page and
    API request checks one (a role is a group), and each query cost a round trip and ~0.5 ms of ORM work."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            granted = Q(user=user_obj) | Q(group__user=user_obj)
            perms = Permission.objects.all() if user_obj.is_superuser else Permission.objects.filter(granted)
            names = perms.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in names}
        return user_obj._perm_cache
