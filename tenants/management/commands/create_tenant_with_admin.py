import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant (schemas in both databases), its domain and its first admin user, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True, help="Schema name, e.g. acme")
        parser.add_argument("--name", required=True, help="Organisation name shown in the UI")
        parser.add_argument("--domain", required=True, help="Host name, e.g. acme.localhost")
        parser.add_argument("--admin-username", default="admin")
        parser.add_argument("--admin-email", default="")
        parser.add_argument(
            "--time-zone", default="UTC", help="IANA name, e.g. America/New_York: dashboards count its local days"
        )
        parser.add_argument("--admin-password", help="Prompted for when omitted (or read from ADMIN_PASSWORD)")

    def handle(self, *args, **opts):
        import os

        password = opts["admin_password"] or os.environ.get("ADMIN_PASSWORD") or getpass.getpass("Admin password: ")
        try:
            tenant = tenant_create(
                schema_name=opts["schema"],
                name=opts["name"],
                domain=opts["domain"],
                admin_username=opts["admin_username"],
                admin_email=opts["admin_email"],
                admin_password=password,
                time_zone=opts["time_zone"],
            )
        except ValidationError as exc:
            reasons = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise CommandError(reasons) from exc
        self.stdout.write(self.style.SUCCESS(f"Created tenant {tenant.schema_name} at {opts['domain']}"))
