"""Importing as a user does it: upload, (map columns), preview, choose, import, read the result."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image
from pytest_django.fixtures import Settings

from crm.models import User, Workspace
from imports import services
from imports.models import ImportJob, ImportRow
from people.models import ContactMethod, FamilyMember, Person
from tests.factories import PersonFactory
from tests.imports.test_reading import HOSTILE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GMAIL = (FIXTURES / "vcard" / "mangstadt_ez-vcard__John_Doe_GMAIL.vcf").read_bytes()


def upload(client: Client, name: str, data: bytes) -> ImportJob | None:
    response = client.post(reverse("imports:page"), {"file": SimpleUploadedFile(name, data)})
    if response.status_code == 200:
        return None  # the form came back with an error
    assert response.status_code == 302, response.content[:500]
    return ImportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def read(job: ImportJob) -> ImportJob:
    services.import_read(job_id=job.pk)  # what read_import_task runs in the worker
    job.refresh_from_db()
    return job


def go(client: Client, job: ImportJob, default_action: str = "merge", **choices: str) -> ImportJob:
    response = client.post(reverse("imports:go", args=[job.pk]), {"default_action": default_action, **choices})
    assert response.status_code == 302
    services.import_run(job_id=job.pk)  # what run_import_task runs in the worker
    job.refresh_from_db()
    return job


def import_file(client: Client, name: str, data: bytes, **choices: str) -> ImportJob:
    job = upload(client, name, data)
    assert job is not None
    if job.status == ImportJob.Status.MAPPING:
        mapping = {f"col_{i}": target for i, target in enumerate(job.mapping)}
        assert client.post(reverse("imports:mapping", args=[job.pk]), mapping).status_code == 302
    job = read(job)
    assert job.status == ImportJob.Status.READY, job.error
    assert client.get(job.get_absolute_url()).status_code == 200  # the preview
    return go(client, job, **choices)


def test_it_imports_a_gmail_card_with_everything_it_knows(owner_client: Client, workspace: Workspace) -> None:
    job = import_file(owner_client, "contacts.vcf", GMAIL)

    assert (job.status, job.created, job.failed) == (ImportJob.Status.DONE, 1, 0)
    person = Person.objects.for_workspace(workspace).get()
    assert (person.first_name, person.last_name, person.company.name) == ("John", "Doe", "IBM")
    assert str(person.birthday) == "22 March 1980"
    assert str(person.anniversary) == "1 March 1975"
    assert [(f.relation, f.name) for f in person.family.all()] == [("spouse", "Jenny")]
    emails = person.contact_methods.filter(kind="email")
    assert [(m.value, m.label, m.is_primary) for m in emails] == [("john.doe@ibm.com", "home", True)]
    assert person.contact_methods.filter(kind="phone").count() == 2
    assert "Favotire Color: Blue" in person.notes
    page = owner_client.get(person.get_absolute_url()).content.decode()
    assert "Jenny" in page
    assert "IBM" in page


def test_it_shows_a_preview_before_writing_anything(owner_client: Client, workspace: Workspace) -> None:
    PersonFactory(workspace=workspace, first_name="Jane", last_name="Doe")
    data = (FIXTURES / "vcard" / "mangstadt_ez-vcard__John_Doe_ANDROID.vcf").read_bytes()
    job = read(upload(owner_client, "android.vcf", data))  # type: ignore[arg-type]

    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "Preview: nothing is written yet" in page
    assert "john.doe@company.com" in page
    assert Person.objects.for_workspace(workspace).count() == 1
    assert job.total == 6


def test_it_finds_duplicates_and_lets_the_user_choose_for_each(owner_client: Client, workspace: Workspace) -> None:
    by_email = PersonFactory(workspace=workspace, first_name="Johnny")
    ContactMethod.objects.create(workspace=workspace, person=by_email, kind="email", value="John.Doe@company.com")
    by_phone = PersonFactory(workspace=workspace, first_name="Somebody")
    ContactMethod.objects.create(workspace=workspace, person=by_phone, kind="phone", value="123456789")
    data = (FIXTURES / "vcard" / "mangstadt_ez-vcard__John_Doe_ANDROID.vcf").read_bytes()
    job = read(upload(owner_client, "android.vcf", data))  # type: ignore[arg-type]

    rows = {r.duplicate_of_id: r for r in ImportRow.objects.filter(job=job, duplicate_of__isnull=False)}
    assert rows.keys() == {by_email.pk, by_phone.pk}
    assert rows[by_email.pk].match_reason == "same email john.doe@company.com"
    assert rows[by_phone.pk].match_reason == "same phone 123456789"
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "Possible duplicates" in page
    assert "Johnny" in page

    job = go(owner_client, job, "merge", **{f"row-{rows[by_phone.pk].pk}": "create"})

    # Card 5 shares a phone with card 4 of the same file: skipped rather than doubled.
    assert (job.created, job.merged, job.skipped) == (4, 1, 1)
    assert Person.objects.for_workspace(workspace).count() == 2 + 4
    by_email.refresh_from_db()
    assert by_email.first_name == "Johnny"  # a merge never overwrites what the user has


def test_it_flags_a_very_similar_name_as_a_possible_duplicate(owner_client: Client, workspace: Workspace) -> None:
    john = PersonFactory(workspace=workspace, first_name="John", last_name="Doe")
    PersonFactory(workspace=workspace, first_name="Mary", last_name="Doe")
    data = b"BEGIN:VCARD\nN:Doe;Jon\nEND:VCARD\nBEGIN:VCARD\nN:Doe;Jane\nEND:VCARD\n"
    job = read(upload(owner_client, "d.vcf", data))  # type: ignore[arg-type]
    jon, jane = ImportRow.objects.filter(job=job).order_by("number")
    assert (jon.duplicate_of, jon.match_reason) == (john, "very similar name")
    assert jane.duplicate_of is None


def test_it_creates_nobody_when_the_same_file_is_imported_again(owner_client: Client, workspace: Workspace) -> None:
    data = (FIXTURES / "vcard" / "audriga_jmap-php-icalendar_vcard__google_takeout_contacts.vcf").read_bytes()
    first = import_file(owner_client, "takeout.vcf", data)
    people = Person.objects.for_workspace(workspace)
    count, methods = people.count(), ContactMethod.objects.for_workspace(workspace).count()

    again = import_file(owner_client, "takeout.vcf", data)

    assert (first.created, again.created, again.merged) == (9, 0, 9)
    assert people.count() == count
    assert ContactMethod.objects.for_workspace(workspace).count() == methods


def _cards_in(data: bytes) -> int:
    """Cards in a fixture, counted without the reader: lines that open one (none of the
    fixtures nests an AGENT card)."""
    from imports.vcard import decode_file

    text, _ = decode_file(data)
    return sum(1 for line in text.splitlines() if line.strip().upper() == b"BEGIN:VCARD")


def test_it_imports_every_real_file_without_a_server_error(
    owner_client: Client, workspace: Workspace, settings: Settings
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "import_upload_per_user": "100/h"}  # one user, every file
    files = sorted((FIXTURES / "vcard").glob("*.vcf")) + sorted((FIXTURES / "csv").glob("*.*[vs]"))
    created = handled = total = 0
    for path in files:
        job = import_file(owner_client, path.name, path.read_bytes())
        assert job.status == ImportJob.Status.DONE, (path.name, job.error)
        assert job.failed == 0, (path.name, list(ImportRow.objects.filter(job=job).values_list("error", flat=True)))
        assert job.processed == job.total
        if path.suffix == ".vcf":  # every card of the file is accounted for
            assert job.total == _cards_in(path.read_bytes()), path.name
        assert job.created + job.merged + job.skipped + job.failed == job.total, path.name
        created += job.created
        handled += job.created + job.merged + job.skipped
        total += job.total
        assert owner_client.get(job.get_absolute_url()).status_code == 200
    assert handled == total == 73
    assert Person.objects.for_workspace(workspace).count() == created


@pytest.mark.parametrize("name", HOSTILE)
def test_the_counts_of_a_broken_file_add_up_to_its_cards(owner_client: Client, workspace: Workspace, name: str) -> None:
    data, names = HOSTILE[name]
    PersonFactory(workspace=workspace, first_name="Cy", last_name="")  # a merge too, where the file has Cy

    job = import_file(owner_client, name, data)

    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.total, job.created + job.merged + job.skipped + job.failed) == (len(names), len(names))
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert ("Not imported, and why" in page) == (job.failed > 0)  # and each failed card is listed with its reason


def test_it_keeps_photos_from_cards(owner_client: Client, workspace: Workspace) -> None:
    data = (FIXTURES / "vcard" / "mangstadt_ez-vcard__John_Doe_IPHONE.vcf").read_bytes()
    import_file(owner_client, "iphone.vcf", data)
    person = Person.objects.for_workspace(workspace).get()
    assert person.photo
    with person.photo.open() as image:
        assert Image.open(image).size == (400, 400)


def test_it_maps_the_columns_of_an_unknown_csv(owner_client: Client, workspace: Workspace) -> None:
    data = "Vorname;Nachname;Mail;Geburtstag;Firma\nAnna;Schmidt;anna@example.de;1985-04-15;Bäckerei\n".encode()
    job = upload(owner_client, "kontakte.csv", data)
    assert job is not None
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "What does each column hold?" in page
    assert "anna@example.de" in page

    refused = owner_client.post(reverse("imports:mapping", args=[job.pk]), {})
    assert "Map at least one column to a name" in refused.content.decode()

    mapping = {"col_0": "first_name", "col_1": "last_name", "col_2": "email", "col_3": "birthday", "col_4": "company"}
    assert owner_client.post(reverse("imports:mapping", args=[job.pk]), mapping).status_code == 302
    job = go(owner_client, read(job))

    person = Person.objects.for_workspace(workspace).get()
    assert (person.full_name, person.company.name, str(person.birthday)) == (
        "Anna Schmidt",
        "Bäckerei",
        "15 April 1985",
    )
    assert job.created == 1


def test_it_lists_exactly_which_cards_failed_and_why(owner_client: Client, workspace: Workspace) -> None:
    data = (
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Good One\nEND:VCARD\n"
        b"BEGIN:VCARD\nVERSION:3.0\nNOTE:nobody\nEND:VCARD\n"
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Bad Birthday\nBDAY:19723101\nEND:VCARD\n"
    )
    job = import_file(owner_client, "mixed.vcf", data)

    assert (job.created, job.failed) == (2, 1)
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "Not imported, and why" in page
    assert "No name, email, phone or organisation" in page
    assert "Imported, with something left out" in page
    assert "19723101" in page


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.vcf", b"", "The submitted file is empty."),
        ("spaces.vcf", b"  \n ", "The file is empty."),
        ("wide.csv", ",".join(f"c{i}" for i in range(10_000)).encode() + b"\n", "10,000 columns"),
        ("junk.csv", bytes(range(256)) * 100, "not text"),
    ],
)
def test_it_refuses_unreadable_files_with_a_message(
    owner_client: Client, workspace: Workspace, name: str, data: bytes, message: str
) -> None:
    response = owner_client.post(reverse("imports:page"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_it_refuses_a_file_over_the_size_limit(owner_client: Client, settings: Settings) -> None:
    settings.IMPORT_MAX_BYTES = 1000
    response = owner_client.post(reverse("imports:page"), {"file": SimpleUploadedFile("big.vcf", GMAIL)})
    assert "the most we import at once is 1000" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_it_fails_a_file_with_too_many_cards_and_writes_nothing(
    owner_client: Client, workspace: Workspace, settings: Settings
) -> None:
    settings.IMPORT_MAX_CONTACTS = 3
    data = b"".join(b"BEGIN:VCARD\nFN:P%d\nEND:VCARD\n" % i for i in range(2000))
    job = read(upload(owner_client, "many.vcf", data))  # type: ignore[arg-type]

    assert job.status == ImportJob.Status.FAILED
    assert "more than 3 cards" in job.error
    assert not ImportRow.objects.exists()
    assert not Person.objects.exists()
    assert "Nothing was written" in owner_client.get(job.get_absolute_url()).content.decode()


def test_it_shows_progress_and_refreshes_when_done(owner_client: Client, workspace: Workspace) -> None:
    job = read(upload(owner_client, "gmail.vcf", GMAIL))  # type: ignore[arg-type]
    owner_client.post(reverse("imports:go", args=[job.pk]), {"default_action": "merge"})
    progress = owner_client.get(reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "true"})
    assert "Importing: 0 of 1" in progress.content.decode()
    assert "HX-Refresh" not in progress

    services.import_run(job_id=job.pk)

    done = owner_client.get(reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"


def test_it_writes_in_bulk_whatever_the_number_of_cards(
    owner: User, workspace: Workspace, django_assert_max_num_queries: object
) -> None:
    def job_of(n: int) -> ImportJob:
        data = b"".join(
            b"BEGIN:VCARD\nN:P%d;Ann\nEMAIL:a%d@x.org\nTEL:+1 202 555 %04d\nCATEGORIES:golf,vip\nEND:VCARD\n"
            % (i, i, i)
            for i in range(n)
        )
        job = services.import_upload(workspace=workspace, user=owner, file_name="x.vcf", data=data)
        services.import_read(job_id=job.pk)
        services.import_start(job=job, default_action="merge", actions={})
        return job

    small, large = job_of(5), job_of(200)
    # 33: the claim is one UPDATE; the audit log's "import finished" row, in a savepoint, three;
    # the webhooks' look for endpoints wanting person.created, one.
    with django_assert_max_num_queries(33):  # type: ignore[operator]
        services.import_run(job_id=small.pk)
    with django_assert_max_num_queries(33):  # type: ignore[operator]
        services.import_run(job_id=large.pk)
    assert Person.objects.for_workspace(workspace).count() == 205


def test_it_hides_imports_from_other_workspaces(
    owner_client: Client, outsider_client: Client, workspace: Workspace
) -> None:
    job = read(upload(owner_client, "gmail.vcf", GMAIL))  # type: ignore[arg-type]
    for name in ("detail", "progress"):
        assert outsider_client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404
    for name in ("go", "cancel", "mapping"):
        assert outsider_client.post(reverse(f"imports:{name}", args=[job.pk]), {}).status_code == 404
    assert job.file_name not in outsider_client.get(reverse("imports:page")).content.decode()


def test_it_cancels_before_anything_is_written(owner_client: Client, workspace: Workspace) -> None:
    job = read(upload(owner_client, "gmail.vcf", GMAIL))  # type: ignore[arg-type]
    response = owner_client.post(reverse("imports:cancel", args=[job.pk]), follow=True)
    assert "Import cancelled" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED
    assert not Person.objects.exists()


def test_it_shows_csv_samples_inert_on_the_mapping_page(owner_client: Client, workspace: Workspace) -> None:
    data = b'Name,Email\n"<img src=x onerror=alert(1)>",<b hx-post="/people/1/delete/" hx-trigger="load">\n'
    job = upload(owner_client, "evil.csv", data)
    page = owner_client.get(job.get_absolute_url()).content.decode()  # type: ignore[union-attr]
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'hx-trigger="load"' not in page


def test_it_stores_cards_with_nul_bytes_surrogates_and_odd_charsets(owner_client: Client, workspace: Workspace) -> None:
    data = (
        b"BEGIN:VCARD\nVERSION:2.1\nN:Le\x00e;Ann\nNOTE;CHARSET=unicode_escape:caf\\u00e9 \\ud800 end\n"
        b"ORG:\xc3\x89COLE\nEND:VCARD\n"
        b"BEGIN:VCARD\nVERSION:2.1\nN:Roux;Bo\nORG:\xc3\xa9cole\nEND:VCARD\n"
    )
    job = import_file(owner_client, "odd.vcf", data)
    assert (job.status, job.created, job.failed) == (ImportJob.Status.DONE, 2, 0)
    ann, bo = Person.objects.for_workspace(workspace).order_by("first_name")
    assert ann.last_name == "Lee"
    assert ann.notes == "cafu00e9 ud800 end"  # unicode_escape is not trusted: no lone surrogate made
    assert ann.company == bo.company  # ÉCOLE and école are one company


def test_merging_a_card_keeps_one_spouse_and_one_phone(owner_client: Client, workspace: Workspace) -> None:
    ngozi = PersonFactory(workspace=workspace, first_name="Ngozi", last_name="Okafor")
    FamilyMember.objects.create(workspace=workspace, person=ngozi, relation="spouse", name="Chidi")
    ContactMethod.objects.create(workspace=workspace, person=ngozi, kind="phone", value="+1 202-555-0100")
    card = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Okafor;Ngozi;;;\r\nFN:Ngozi Okafor\r\nTEL;TYPE=CELL:(202) 555-0100\r\n"
        b"item1.X-ABRELATEDNAMES:Chidi Okafor\r\nitem1.X-ABLabel:_$!<Spouse>!$_\r\n"
        b"item2.X-ABRELATEDNAMES:Ada\r\nitem2.X-ABLabel:_$!<Child>!$_\r\nEND:VCARD\r\n"
    )

    job = import_file(owner_client, "ngozi.vcf", card)

    assert (job.created, job.merged) == (0, 1)
    family = sorted((f.relation, f.name) for f in ngozi.family.all())
    assert family == [("child", "Ada"), ("spouse", "Chidi Okafor")]
    assert ngozi.contact_methods.filter(kind="phone").count() == 1


@time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
def test_it_stores_no_year_outside_the_range_and_says_what_it_left_out(
    owner_client: Client, workspace: Workspace
) -> None:
    data = b"BEGIN:VCARD\nVERSION:4.0\nFN:Far Future\nBDAY:99991231\nANNIVERSARY:00010615\nEND:VCARD\n"

    job = import_file(owner_client, "far.vcf", data)

    assert (job.created, job.failed) == (1, 0)
    person = Person.objects.for_workspace(workspace).get()
    assert (person.birthday_day, person.birthday_month, person.birthday_year) == (31, 12, None)
    assert (person.anniversary_day, person.anniversary_month, person.anniversary_year) == (15, 6, None)
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "Imported, with something left out" in page
    assert "the year is outside 1850–2200" in page
