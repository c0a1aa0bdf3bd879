import os

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from complaints.models import Complaint
from complaints.roles import Role, user_set_role
from tenants.models import Tenant
from tenants.services import tenant_create

DEMO_SCHEMA, DEMO_DOMAIN = "demo", "demo.localhost"
DEMO_USERS = {
    "admin": (Role.ADMIN, "Alex", "Admin"),
    "manager": (Role.MANAGER, "Morgan", "Manager"),
    "agent": (Role.AGENT, "Avery", "Agent"),
}


class Command(BaseCommand):
    help = "Create (or reuse) the demo tenant at demo.localhost with admin/manager/agent users and seeded data."

    def add_arguments(self, parser):
        parser.add_argument("--complaints", type=int, default=3000)
        parser.add_argument("--months", type=int, default=12)

    def handle(self, *args, complaints, months, **opts):
        password = os.environ.get("DEMO_PASSWORD")
        if not password:
            raise CommandError("Set DEMO_PASSWORD (the demo users' password).")
        if not Tenant.objects.filter(schema_name=DEMO_SCHEMA).exists():
            tenant_create(
                schema_name=DEMO_SCHEMA,
                name="Demo Retail Ltd",
                domain=DEMO_DOMAIN,
                admin_username="admin",
                admin_password=password,
            )
            self.stdout.write(f"created tenant {DEMO_SCHEMA} at {DEMO_DOMAIN}")
        User = get_user_model()
        with schema_context(DEMO_SCHEMA):
            for username, (role, first, last) in DEMO_USERS.items():
                user, _ = User.objects.get_or_create(username=username)
                user.first_name, user.last_name = first, last
                user.set_password(password)  # the demo's password is whatever DEMO_PASSWORD says this run
                user.save()
                user_set_role(user=user, role=role)
            empty = not Complaint.objects.exists()
        if empty and complaints:
            call_command("seed_demo", schema=DEMO_SCHEMA, complaints=complaints, months=months, stdout=self.stdout)
