from complaints.roles import Role, user_role
from helpdesk.access import VIEW_DASHBOARD


def navigation(request):
    tenant = getattr(request, "tenant", None)
    role = user_role(request.user) if hasattr(request, "user") else None
    return {
        "tenant_name": getattr(tenant, "name", ""),
        "user_role": role,
        "user_role_label": Role.LABELS.get(role, "") if role else "",
        "can_view_dashboard": bool(role) and request.user.has_perm(VIEW_DASHBOARD),
    }
