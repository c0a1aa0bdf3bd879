from django.db import migrations


class Migration(migrations.Migration):
    """pg_trgm (trigram indexes for the staff list's substring search) in the write database's public schema.

    An extension exists once per database, in one schema. A shared app's migration runs on `public` before any
    tenant schema is migrated, so the tenant migrations that build trigram indexes find the operator class
    through the tenant search_path (`<tenant>, public`), and parallel tenant migrations never race to create it.
    The reporting database does not need it (the router keeps this app out of it).
    """

    dependencies = [("tenants", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
            migrations.RunSQL.noop,  # objects outside this app may use it; never dropped by a rollback
        ),
    ]
