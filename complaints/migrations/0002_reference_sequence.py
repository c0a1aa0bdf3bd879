from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = [
        # Per-tenant counter behind the human references (C-000123); created in the tenant's schema.
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS complaints_reference_seq",
            "DROP SEQUENCE IF EXISTS complaints_reference_seq",
        ),
    ]
