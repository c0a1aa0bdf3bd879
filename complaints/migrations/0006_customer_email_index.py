import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without blocking writes, as 0004: a plain CREATE INDEX would hold a large tenant's submissions for
    # the length of the build. CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [
        ("complaints", "0005_customer_email_search"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="complaint",
            index=models.Index(
                django.db.models.functions.text.Upper("customer_email"), name="complaint_customer_email_upper"
            ),
        ),
    ]
