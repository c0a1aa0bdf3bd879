import csv
import io
import os
import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django_tenants.utils import schema_context

from complaints import import_staging, importing
from complaints.import_format import COLUMNS
from complaints.models import Category, Comment, Complaint, OutboxEvent, StatusHistory
from helpdesk.databases import READ_ALIAS
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
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def row(n: int, **changes) -> dict:
    """A good open row with reference R-n."""
    return dict(GOOD[1], **{"reference": f"R-{n}", **changes})


def references(schema="alpha") -> list[str]:
    with schema_context(schema):
        return sorted(Complaint.objects.values_list("reference", flat=True))


def run(path, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_complaints", path, schema="alpha", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def refused(path, match, **options) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match=match):
        call_command("import_complaints", path, schema="alpha", stdout=io.StringIO(), stderr=err, **options)
    return err.getvalue()


def test_import_writes_complaints_history_and_up_to_date_read_models(committed, tmp_path):
    call_command("import_complaints", write(tmp_path, GOOD), schema="alpha")
    with schema_context("alpha"):
        zd1 = Complaint.objects.get(reference="ZD-1")
        assert zd1.assignee is not None
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
    assert "line 3: reference: appears twice in the file (first on line 2)" in err
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
    with pytest.raises(CommandError, match=r"line 1: missing column\(s\): category, created_at, customer_email"):
        call_command("import_complaints", str(path), schema="alpha")
    with pytest.raises(CommandError, match="No tenant with schema 'nope'"):
        call_command("import_complaints", str(path), schema="nope")


# --- hostile and messy input (issue 13) ---------------------------------------------------------------------


@pytest.mark.parametrize("skip_invalid", [False, True])
def test_nul_byte_is_a_line_message_and_never_stops_the_good_rows(committed, tmp_path, skip_invalid):
    path = write(tmp_path, [row(1), row(2, title="bad\x00title"), row(3)])
    if skip_invalid:
        out, err = run(path, skip_invalid=True)
        assert err.strip() == "line 3: title: contains a NUL character"
        assert references() == ["R-1", "R-3"]
        assert "imported 2 complaints (1 bad rows skipped" in out
    else:
        err = refused(path, "1 problem\\(s\\) in 1 row\\(s\\); nothing was imported")
        assert err.strip() == "line 3: title: contains a NUL character"
        assert references() == []


def test_field_over_the_csv_module_default_limit_is_a_line_message(committed, tmp_path):
    path = write(tmp_path, [row(1), row(2, description="x" * 131_073), row(3, description="y" * 100_000)])
    out, err = run(path, skip_invalid=True)
    assert err.strip() == "line 3: description: longer than 100,000 characters"
    assert references() == ["R-1", "R-3"]


def test_field_the_parser_cannot_hold_stops_with_one_line_and_imports_nothing(committed, tmp_path):
    path = write(tmp_path, [row(1), row(2, description="x\n" * 600_000)])  # 1.2 M characters over many lines
    refused(path, r"^line 3: field larger than field limit \(1000000\); .* nothing was imported$", skip_invalid=True)
    assert references() == []


def test_physical_line_too_long_to_hold_stops_before_reading_it_whole(committed, tmp_path, monkeypatch):
    monkeypatch.setattr(import_staging, "MAX_LINE_BYTES", 5_000)
    path = write(tmp_path, [row(1), row(2, title="x" * 6_000)])
    refused(path, r"^line 3: longer than 5,000 bytes; the file cannot be read past it; nothing", skip_invalid=True)
    assert references() == []


@pytest.mark.parametrize(
    "content,message",
    [
        ("", "line 1: the file is empty"),
        (
            "Reference,Created_at\nX,2025-01-01T00:00:00+00:00\n",
            "line 1: missing column\\(s\\): category, customer_email",
        ),
        (",".join(COLUMNS + ["title"]) + "\n", "line 1: repeated column\\(s\\): title"),
    ],
)
def test_file_without_the_required_columns_fails_even_with_skip_invalid(committed, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    refused(str(path), message, skip_invalid=True)
    assert references() == []


def test_missing_columns_exit_non_zero_with_one_line_and_no_traceback(committed, tmp_path):
    path = tmp_path / "header-only.csv"
    path.write_text("Reference,Created_at\n")
    done = subprocess.run(
        [sys.executable, "manage.py", "import_complaints", str(path), "--schema", "alpha", "--skip-invalid"],
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test"},
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "CommandError: line 1: missing column(s): category, customer_email, customer_name, priority, status, title; "
        "nothing was imported"
    ]


def test_not_utf8_in_the_middle_names_the_line_and_imports_nothing(committed, tmp_path):
    path = write(tmp_path, [row(1), row(2)])
    with open(path, "ab") as handle:
        handle.write(b"R-3,2025-04-01T09:00:00+00:00,,,,new,Billing,low,,,caf\xe9,,B,b@example.com,\n")
    refused(path, "^line 4: not UTF-8 text; nothing was imported$", skip_invalid=True)
    assert references() == []


def test_line_numbers_are_the_files_lines_when_quoted_fields_span_lines(committed, tmp_path):
    rows = [row(1, description="first\nsecond\nthird"), row(2, priority="meh"), row(3, title="two\nlines"), row(4)]
    rows.append(row(5, status="bogus"))
    err = refused(write(tmp_path, rows), "nothing was imported")
    # header 1; R-1 on lines 2-4; R-2 on 5; R-3 on 6-7; R-4 on 8; R-5 on 9
    assert err.strip().splitlines() == [
        "line 5: priority: must be one of low, medium, high, urgent",
        "line 9: status: must be one of new, in_progress, on_hold, resolved, closed",
    ]


def test_rows_with_a_wrong_number_of_fields_are_refused(committed, tmp_path):
    path = write(tmp_path, [row(1)])
    with open(path, "a") as handle:
        handle.write("R-2,too,few\n")
    out, err = run(path, skip_invalid=True)
    assert err.strip() == "line 3: row: has 3 fields, the header has 16"
    assert references() == ["R-1"]


def test_rows_that_close_or_resolve_before_they_open_are_refused(committed, tmp_path):
    closes_early = dict(GOOD[0], reference="E-1", closed_at="2025-03-01T07:00:00+01:00")
    resolves_early = dict(GOOD[0], reference="E-2", resolved_at="2025-02-28T09:00:00+01:00")
    err = refused(write(tmp_path, [closes_early, resolves_early]), "nothing was imported")
    assert "line 2: closed_at: is before created_at" in err
    assert "line 3: resolved_at: is before created_at" in err
    assert references() == []


def test_timestamps_across_a_dst_change_and_odd_offsets_are_stored_as_instants(committed, tmp_path):
    # 02:45 in summer time (+02:00) is 00:45 UTC; 02:15 after the clocks went back (+01:00) is 01:15 UTC:
    # earlier on the wall clock, later in fact, so this resolution is valid.
    dst = dict(
        GOOD[0],
        reference="DST-1",
        created_at="2025-10-26T02:45:00+02:00",
        first_response_at="2025-10-26T02:05:00+01:00",
        resolved_at="2025-10-26T02:15:00+01:00",
        closed_at="2025-10-26T03:00:00+01:00",
    )
    odd = row(2, created_at="2025-01-01T00:00:00+18:37")  # Python accepts it; PostgreSQL would not
    future = row(3, created_at="2999-01-01T00:00:00+00:00")
    ancient = row(4, created_at="0001-01-01T00:00:00+01:00")
    out, err = run(write(tmp_path, [dst, odd, future, ancient]), skip_invalid=True)
    assert err.strip().splitlines() == [
        "line 4: created_at: not an ISO 8601 timestamp with offset from 1970 to now (in the future)",
        "line 5: created_at: not an ISO 8601 timestamp with offset from 1970 to now (out of range)",
    ]
    with schema_context("alpha"):
        c = Complaint.objects.get(reference="DST-1")
        assert (c.created_at, c.resolved_at) == (
            datetime(2025, 10, 26, 0, 45, tzinfo=UTC),
            datetime(2025, 10, 26, 1, 15, tzinfo=UTC),
        )
        assert Complaint.objects.get(reference="R-2").created_at == datetime(2024, 12, 31, 5, 23, tzinfo=UTC)
        assert compare_read_models() == []


def test_references_lose_surrounding_spaces_only(committed, tmp_path):
    run(write(tmp_path, [row(1, reference="  ZD 7 "), row(2, reference="zd 7")]))
    assert references() == ["ZD 7", "zd 7"]
    err = refused(write(tmp_path, [row(3, reference="ZD 7")], "again.csv"), "nothing was imported")
    assert err.strip() == "line 2: reference: already exists in this help desk"


def test_case_variant_categories_merge_under_the_most_used_spelling_and_say_so(committed, tmp_path):
    rows = [row(i, category="Elevator") for i in range(3)]
    rows += [row(10 + i, category="ELEVATOR") for i in range(5)]
    rows += [row(20, category="elevator")]
    rows += [row(30 + i, category="BILLING") for i in range(2)]  # the tenant has "Billing"
    rows += [row(40, category="Noise"), row(41, category="NOISE")]  # a tie: the spelling seen first
    out, _ = run(write(tmp_path, rows))
    notes = [line for line in out.splitlines() if "also matched" in line]
    assert notes == [
        "Billing (existing): also matched BILLING, 2 rows",
        "ELEVATOR: also matched Elevator, 3 rows; elevator, 1 row",
        "Noise: also matched NOISE, 1 row",
    ]
    with schema_context("alpha"):
        counts = {c.name: c.complaints.count() for c in Category.objects.all()}
        assert counts == {"Billing": 2, "Delivery": 0, "Product": 0, "ELEVATOR": 9, "Noise": 2}
        assert compare_read_models() == []


def test_hundreds_of_categories_and_agents_import_and_project(committed, tmp_path):
    rows = [
        row(i, category=f"Category {i % 300:03d}", assignee=f"agent{i % 150}", status="in_progress") for i in range(900)
    ]
    out, err = run(write(tmp_path, rows))
    assert err == ""
    assert "imported 900 complaints (0 bad rows skipped, 300 categories and 150 agents created)" in out
    with schema_context("alpha"):
        assert Category.objects.count() == 3 + 300
        assert compare_read_models() == []
        assert stat("complaint_stats_by_day", "created_count") == 900
        assert stat("agent_workload", "open_count") == 900


def test_import_reaches_the_read_side_through_events_without_a_rebuild(committed, tmp_path, monkeypatch):
    import reporting.rebuild

    def no_rebuild(*args, **kwargs):
        raise AssertionError("an import must not rebuild the read models")

    # The command's module first: imported by this very patch if nothing imported it yet, it must bind the real
    # function (else the undo would restore the fake, and a later test's rebuild would raise).
    monkeypatch.setattr("reporting.management.commands.rebuild_projections.rebuild_read_models", no_rebuild)
    monkeypatch.setattr(reporting.rebuild, "rebuild_read_models", no_rebuild)
    monkeypatch.setattr(importing, "CHUNK_ROWS", 2)  # several chunks from the staging table
    run(write(tmp_path, [row(1), row(2), row(3), row(4), row(5)]))
    with schema_context("alpha"):
        imported = OutboxEvent.objects.filter(event_type="ComplaintImported").count()
        assert imported == 5
        with connections[READ_ALIAS].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM complaint_fact")
            assert cursor.fetchone()[0] == 5
        assert stat("complaint_stats_by_day", "created_count") == 5
        assert compare_read_models() == []


def test_progress_shows_rows_and_rate(committed, tmp_path, monkeypatch):
    monkeypatch.setattr("complaints.management.commands.import_complaints.Progress.interval", 0.0)
    out, err = run(write(tmp_path, [row(i) for i in range(2500)]), progress=True, chunk_rows=1000)
    assert "rows checked (" in err and "rows written (" in err
    assert " rows/s)" in err
    assert re.search(r" rows/s, about \d+ s left\)", err)  # an estimate while a phase is under way
    assert "imported 2,500 complaints" in out


@pytest.mark.parametrize("name,reason", [("missing.csv", "No such file or directory"), ("", "Is a directory")])
def test_a_path_that_is_no_readable_file_is_one_line(committed, tmp_path, name, reason):
    refused(str(tmp_path / name), f"^Cannot read .*: {reason}$")
    assert references() == []


def test_case_variants_beyond_ascii_merge_by_casefold(committed, tmp_path):
    rows = [row(1, category="Straße"), row(2, category="Straße"), row(3, category="STRASSE"), row(4, category="Ärger")]
    rows.append(row(5, category="ÄRGER"))
    out, _ = run(write(tmp_path, rows))
    assert [line for line in out.splitlines() if "also matched" in line] == [
        "Straße: also matched STRASSE, 1 row",
        "Ärger: also matched ÄRGER, 1 row",
    ]
    with schema_context("alpha"):
        assert {c.name: c.complaints.count() for c in Category.objects.filter(complaints__isnull=False).distinct()} == {
            "Straße": 3,
            "Ärger": 2,
        }


@pytest.mark.parametrize(
    "username",
    [
        "<script>alert(1)</script>",
        "evil\u202etxt.exe",  # right-to-left override: shows reversed after it
        "zero\u200bwidth",
        "two words",
        "ｆｕｌｌｗｉｄｔｈ",  # logs in as "fullwidth" (NFKC): a second spelling of someone else
        "tab\there",
        "x" * 151,
    ],
)
def test_an_assignee_username_django_would_refuse_is_a_line_error_and_nothing_is_imported(
    committed, tmp_path, capsys, username
):
    """Issue 26 #9: the importer created users whose names reached dashboards and CSV files raw."""
    rows = [dict(GOOD[0]), dict(GOOD[1], reference="ZD-3", assignee=username)]
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_complaints", write(tmp_path, rows), schema="alpha")
    assert "line 3: assignee: invalid assignee username" in capsys.readouterr().err
    with schema_context("alpha"):
        from django.contrib.auth import get_user_model

        assert Complaint.objects.count() == 0
        assert not get_user_model().objects.filter(username__in=["olduser", username]).exists()


def test_usernames_of_other_scripts_and_punctuation_django_allows_are_imported(committed, tmp_path):
    rows = [dict(GOOD[0], assignee="Zoë.o+1@x"), dict(GOOD[1], reference="ZD-3", assignee="李雷_ops-2")]
    call_command("import_complaints", write(tmp_path, rows), schema="alpha")
    with schema_context("alpha"):
        from django.contrib.auth import get_user_model

        assert set(get_user_model().objects.filter(is_active=False).values_list("username", flat=True)) >= {
            "Zoë.o+1@x",
            "李雷_ops-2",
        }
