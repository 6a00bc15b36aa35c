"""import_contacts and export_contacts: the same import and export from a shell."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from crm.models import User, Workspace
from people.models import Person

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_imports_files_and_prints_totals_and_failures(owner: User, workspace: Workspace, tmp_path: Path) -> None:
    broken = tmp_path / "broken.vcf"
    broken.write_bytes(b"BEGIN:VCARD\nFN:Fine Person\nEND:VCARD\nBEGIN:VCARD\nNOTE:who?\nEND:VCARD\n")
    takeout = FIXTURES / "vcard" / "audriga_jmap-php-icalendar_vcard__google_takeout_contacts.vcf"
    csv_file = FIXTURES / "csv" / "roundcube_roundcubemail__tb_plain.csv"

    output = run("import_contacts", str(takeout), str(csv_file), str(broken), "--user", "OWNER@example.com")

    # Thunderbird's "Firstname Lastname" is Google's "firstName lastName": the same person, merged.
    assert output.splitlines()[-1] == "imported 10, merged 1, skipped 0, failed 1"
    assert f"{broken}:2: unnamed: No name, email, phone or organisation" in output
    assert Person.objects.for_workspace(workspace).count() == 10


def test_it_merges_on_a_second_run(owner: User, workspace: Workspace) -> None:
    takeout = str(FIXTURES / "vcard" / "audriga_jmap-php-icalendar_vcard__google_takeout_contacts.vcf")
    run("import_contacts", takeout, "--user", owner.email)
    assert run("import_contacts", takeout, "--user", owner.email).strip() == "imported 0, merged 9, skipped 0, failed 0"
    assert Person.objects.for_workspace(workspace).count() == 9


def test_it_reports_unreadable_files_and_still_exits_cleanly(owner: User, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    output = run("import_contacts", str(empty), str(tmp_path / "missing.vcf"), "--user", owner.email)
    assert f"{empty}: not imported: The file is empty." in output
    assert "missing.vcf: not imported:" in output
    assert output.splitlines()[-1] == "imported 0, merged 0, skipped 0, failed 0"


def test_it_refuses_an_unknown_user(db: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"No user nobody@example\.com"):
        run("import_contacts", str(tmp_path / "x.vcf"), "--user", "nobody@example.com")


@pytest.mark.parametrize("fmt", ["vcf", "csv", "json", "zip"])
def test_it_exports_in_every_format_and_imports_it_back(
    owner: User, workspace: Workspace, other_workspace: Workspace, outsider: User, tmp_path: Path, fmt: str
) -> None:
    gmail = FIXTURES / "vcard" / "mangstadt_ez-vcard__John_Doe_GMAIL.vcf"
    run("import_contacts", str(gmail), "--user", owner.email)
    target = tmp_path / f"out.{fmt}"

    call_command("export_contacts", "--user", owner.email, "--format", fmt, "-o", str(target), stderr=StringIO())

    data = target.read_bytes()
    if fmt == "json":
        assert json.loads(data)["models"]["people.person"][0]["first_name"] == "John"
    # The outsider's workspace is empty: every format goes back in.
    copy = tmp_path / f"copy.{fmt}"
    shutil.copy(target, copy)
    assert run("import_contacts", str(copy), "--user", outsider.email).startswith("imported 1,")
    restored = Person.objects.for_workspace(other_workspace).get()
    assert (restored.first_name, restored.last_name, restored.company.name) == ("John", "Doe", "IBM")
