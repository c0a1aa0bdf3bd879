from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without blocking writes, as 0004 and 0006. CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [
        ("complaints", "0006_customer_email_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="complaint",
            index=models.Index(
                condition=models.Q(("assignee__isnull", True)), fields=["id"], name="complaint_unassigned_id"
            ),
        ),
    ]
