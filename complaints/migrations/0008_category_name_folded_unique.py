"""Category names unique whatever their case, held by the database (issue 26 #2).

Case-duplicates made before this (by concurrent creates that each passed the Python check) are kept, not
merged: the first-created keeps its name, each later one is renamed "<name> (#<id>)" and a CategoryChanged event
tells the read side. Nothing of any complaint changes; an admin may then deactivate or rename them.
"""

import django.db.models.functions.text
from django.db import migrations, models
from django.utils import timezone

MAX_LENGTH = 80


def rename_case_duplicates(apps, schema_editor):
    Category = apps.get_model("complaints", "Category")
    OutboxEvent = apps.get_model("complaints", "OutboxEvent")
    seen: set[str] = set()
    for category in Category.objects.order_by("id"):
        key = category.name.upper()  # as PostgreSQL's UPPER, which the constraint uses, for these names
        if key not in seen:
            seen.add(key)
            continue
        suffix = f" (#{category.pk})"
        category.name = category.name[: MAX_LENGTH - len(suffix)] + suffix
        category.save(update_fields=["name"])
        seen.add(category.name.upper())
        OutboxEvent.objects.create(
            event_type="CategoryChanged",
            occurred_at=timezone.now(),
            payload={"category_id": category.pk, "name": category.name, "active": category.active},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0007_unassigned_index"),
    ]

    operations = [
        migrations.RunPython(rename_case_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="category",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Upper("name"),
                name="category_name_folded_unique",
                violation_error_message="A category of this name (in any case) exists already.",
            ),
        ),
    ]
