"""Roles are Django groups with permissions, created in every tenant schema after its migrations."""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from helpdesk.access import ASSIGN_ANY, CHANGE_TENANT_SETTINGS, MANAGE_CATEGORIES, VIEW_DASHBOARD, WORK_COMPLAINTS


class Role:
    AGENT = "agent"
    MANAGER = "manager"
    ADMIN = "admin"
    ALL = (AGENT, MANAGER, ADMIN)
    LABELS = {AGENT: "Agent", MANAGER: "Manager", ADMIN: "Admin"}


_AGENT_PERMS = [
    "complaints.view_complaint",
    "complaints.add_complaint",
    WORK_COMPLAINTS,
    "complaints.view_comment",
    "complaints.add_comment",
    "complaints.view_category",
    "complaints.view_statushistory",
]
_MANAGER_PERMS = _AGENT_PERMS + [VIEW_DASHBOARD, ASSIGN_ANY]
_ADMIN_PERMS = _MANAGER_PERMS + [
    "complaints.add_category",
    MANAGE_CATEGORIES,
    "auth.view_user",
    "auth.add_user",
    CHANGE_TENANT_SETTINGS,
    "complaints.view_outboxevent",
]
ROLE_PERMISSIONS = {Role.AGENT: _AGENT_PERMS, Role.MANAGER: _MANAGER_PERMS, Role.ADMIN: _ADMIN_PERMS}


def ensure_role_groups() -> None:
    """Create or update the three role groups in the current schema (idempotent)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        query = Q()
        for perm in perms:
            app_label, codename = perm.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(query))


def user_set_role(*, user, role: str) -> None:
    if role not in Role.ALL:
        raise ValueError(f"Unknown role {role!r}")
    ensure_role_groups()
    user.groups.set([Group.objects.get(name=role)])
    # Only admins use the Django admin site; the staff UI is for everyone.
    user.is_staff = role == Role.ADMIN
    user.save(update_fields=["is_staff"])


def user_role(user) -> str | None:
    if not user.is_authenticated:
        return None
    names = {g.name for g in user.groups.all()}
    for role in (Role.ADMIN, Role.MANAGER, Role.AGENT):
        if role in names:
            return role
    return Role.ADMIN if user.is_superuser else None


def user_display_name(user) -> str:
    return (user.get_full_name() or user.username) if user else ""
