import django.contrib.postgres.indexes
from django.db import migrations, models

# Idempotent (the addresses not yet known), as complaints.models.CustomerAddressManager.record writes them; also
# run by `manage.py fill_customer_addresses` after a release, for complaints an older process wrote meanwhile.
FILL = """
INSERT INTO complaints_customeraddress (address)
SELECT new.address FROM (SELECT DISTINCT UPPER(customer_email) AS address FROM complaints_complaint) new
WHERE NOT EXISTS (SELECT 1 FROM complaints_customeraddress known WHERE known.address = new.address)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0004_staff_list_filter_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerAddress",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("address", models.CharField(max_length=254)),
            ],
        ),
        migrations.AddIndex(
            model_name="customeraddress",
            index=models.Index(fields=["address"], name="customer_address"),
        ),
        migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="customeraddress",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass("address", name="gin_trgm_ops"), name="customer_address_trgm"
            ),
        ),
    ]
