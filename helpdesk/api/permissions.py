from rest_framework.permissions import BasePermission

from helpdesk.access import MANAGE_CATEGORIES, VIEW_DASHBOARD, WORK_COMPLAINTS


class _HasPerm(BasePermission):
    perm = ""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(self.perm))


class CanWorkComplaints(_HasPerm):
    perm = WORK_COMPLAINTS


class CanViewReports(_HasPerm):
    perm = VIEW_DASHBOARD
    message = "Reports are for managers."


class CanManageCategories(_HasPerm):
    perm = MANAGE_CATEGORIES
    message = "Only admins manage categories."
