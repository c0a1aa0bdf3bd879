import csv

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from complaints.importing import COLUMNS
from complaints.models import Category, Comment, Complaint, StatusHistory
from reporting.rebuild import compare_read_models
from tests.reporting.helpers import stat

GOOD = [
    {
        "reference": "ZD-1",
        "created_at": "2025-03-01T09:00:00+01:00",
        "first_response_at": "2025-03-01T10:00:00+01:00",
        "resolved_at": "2025-03-02T09:00:00+01:00",
        "closed_at": "2025-03-05T09:00:00+01:00",
        "status": "closed",
        "category": "Shipping",
        "priority": "high",
        "assignee": "olduser",
        "channel": "email",
        "title": "Late",
        "description": "x",
        "customer_name": "A",
        "customer_email": "a@example.com",
        "customer_phone": "",
    },
    {
        "reference": "ZD-2",
        "created_at": "2025-04-01T09:00:00+00:00",
        "first_response_at": "",
        "resolved_at": "",
        "closed_at": "",
        "status": "new",
        "category": "Billing",
        "priority": "low",
        "assignee": "",
        "channel": "",
        "title": "Bill",
        "description": "",
        "customer_name": "B",
        "customer_email": "b@example.com",
        "customer_phone": "123",
    },
]


def write(tmp_path, rows, name="import.csv"):
    path = tmp_path / name
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def test_import_writes_complaints_history_and_up_to_date_read_models(committed, tmp_path):
    call_command("import_complaints", write(tmp_path, GOOD), schema="alpha")
    with schema_context("alpha"):
        zd1 = Complaint.objects.get(reference="ZD-1")
        assert (zd1.status, zd1.category.name, zd1.assignee.username) == ("closed", "Shipping", "olduser")
        assert not zd1.assignee.is_active  # imported agents cannot log in until enabled
        moves = list(StatusHistory.objects.filter(complaint=zd1).values_list("from_status", "to_status", "changed_at"))
        assert [(f, t) for f, t, _ in moves] == [
            ("", "new"),
            ("new", "in_progress"),
            ("in_progress", "resolved"),
            ("resolved", "closed"),
        ]
        assert [at for _, _, at in moves] == [zd1.created_at, zd1.first_response_at, zd1.resolved_at, zd1.closed_at]
        assert Comment.objects.filter(complaint=zd1).count() == 1
        assert Category.objects.filter(name="Shipping").exists()
        assert compare_read_models() == []
        assert stat("complaint_stats_by_day", "created_count") == 2
        assert stat("complaint_stats_by_day", "resolved_count") == 1


def test_bad_rows_are_reported_each_and_nothing_is_imported(committed, tmp_path, capsys):
    bad = [
        dict(GOOD[0]),
        dict(GOOD[1], reference="ZD-1", created_at="yesterday", priority="meh"),
        dict(GOOD[1], reference="ZD-3", status="resolved", customer_email="nope"),
    ]
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_complaints", write(tmp_path, bad), schema="alpha")
    err = capsys.readouterr().err
    assert "line 3: reference: appears twice in the file" in err
    assert "line 3: created_at: not an ISO 8601 timestamp" in err
    assert "line 3: priority: must be one of low, medium, high, urgent" in err
    assert "line 4: resolved_at: is required for a resolved complaint" in err
    assert "line 4: customer_email: not a valid email address" in err
    with schema_context("alpha"):
        assert Complaint.objects.count() == 0
        assert not Category.objects.filter(name="Shipping").exists()


def test_skip_invalid_imports_the_good_rows(committed, tmp_path):
    rows = [GOOD[0], dict(GOOD[1], created_at="2025-04-01T09:00:00")]  # no offset
    call_command("import_complaints", write(tmp_path, rows), schema="alpha", skip_invalid=True)
    with schema_context("alpha"):
        assert list(Complaint.objects.values_list("reference", flat=True)) == ["ZD-1"]


def test_existing_reference_and_missing_columns_are_refused(committed, tmp_path, capsys):
    call_command("import_complaints", write(tmp_path, GOOD[:1]), schema="alpha")
    with pytest.raises(CommandError):
        call_command("import_complaints", write(tmp_path, GOOD[:1], "again.csv"), schema="alpha")
    assert "reference: already exists" in capsys.readouterr().err
    path = tmp_path / "short.csv"
    path.write_text("reference,title\nX,Y\n")
    with pytest.raises(CommandError):
        call_command("import_complaints", str(path), schema="alpha")
    assert "missing column(s)" in capsys.readouterr().err
    with pytest.raises(CommandError, match="No tenant with schema 'nope'"):
        call_command("import_complaints", str(path), schema="nope")
