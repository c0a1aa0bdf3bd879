from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without blocking writes: on a tenant of millions of complaints a plain CREATE INDEX would hold
    # submissions for the length of the build (about 20 s at 10 M here). CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [
        ("complaints", "0003_staff_list_sort_and_search_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="complaint",
            index=models.Index(
                fields=["status", "priority", "category", "created_at", "id"], name="complaint_filter_created"
            ),
        ),
    ]
