"""Each row of a preview knows why it may be someone already known (a stored kind, not text to
compare), and the preview acts on it: a very similar name is suggested as skipped."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.test import Client

from crm.models import Workspace
from imports.models import ImportRow
from people.models import ContactMethod
from tests.factories import PersonFactory
from tests.imports.test_import_flow import read, upload

pytestmark = pytest.mark.django_db

Kind = ImportRow.MatchKind

CARDS = b"""BEGIN:VCARD
N:Other;Person
EMAIL:anna@example.com
END:VCARD
BEGIN:VCARD
N:Someone;Else
TEL:123456789
END:VCARD
BEGIN:VCARD
N:Marx;Carl
END:VCARD
BEGIN:VCARD
N:Doe;Jon
END:VCARD
BEGIN:VCARD
N:New;Nora
EMAIL:nora@example.com
END:VCARD
BEGIN:VCARD
N:Again;Nora
EMAIL:nora@example.com
END:VCARD
"""


def test_it_stores_why_each_row_may_be_someone_known(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg")
    ContactMethod.objects.create(workspace=workspace, person=anna, kind="email", value="anna@example.com")
    bob = PersonFactory(workspace=workspace, first_name="Bob", last_name="Stone")
    ContactMethod.objects.create(workspace=workspace, person=bob, kind="phone", value="123456789")
    carl = PersonFactory(workspace=workspace, first_name="Carl", last_name="Marx")
    john = PersonFactory(workspace=workspace, first_name="John", last_name="Doe")

    job = read(upload(owner_client, "kinds.vcf", CARDS))  # type: ignore[arg-type]

    rows = ImportRow.objects.filter(job=job).order_by("number")
    assert [(r.match_kind, r.duplicate_of_id) for r in rows] == [
        (Kind.EMAIL, anna.pk),
        (Kind.PHONE, bob.pk),
        (Kind.SAME_NAME, carl.pk),
        (Kind.SIMILAR_NAME, john.pk),
        (Kind.NONE, None),
        (Kind.IN_FILE, None),
    ]
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert page.count("(skipped unless you choose)") == 1
    jon = rows[3]
    assert f'name="row-{jon.pk}" id="row-{jon.pk}">' in page
    jon_select = page.split(f'name="row-{jon.pk}"', 1)[1].split("</select>", 1)[0]
    assert '<option value="skip" selected>' in jon_select
    carl_select = page.split(f'name="row-{rows[2].pk}"', 1)[1].split("</select>", 1)[0]
    assert "selected" not in carl_select
    assert "skipped: same email nora@example.com, as card or line 5 of this file" in page
    assert '<span class="badge badge-soft badge-neutral">1</span> repeated in this file' in page
    assert '<span class="badge badge-soft badge-done">1</span> new' in page


def test_it_gives_rows_read_before_the_kind_was_stored_their_kind(owner_client: Client, workspace: Workspace) -> None:
    job = read(upload(owner_client, "kinds.vcf", CARDS))  # type: ignore[arg-type]
    reasons = {
        1: "same email anna@example.com",
        2: "same phone 123456789",
        3: "same name",
        4: "very similar name",
        5: "",
        6: "same email nora@example.com, as card or line 5 of this file",
    }
    for number, reason in reasons.items():
        ImportRow.objects.filter(job=job, number=number).update(match_reason=reason, match_kind="")

    migration = importlib.import_module("imports.migrations.0004_importrow_match_kind")
    migration.kinds_from_reasons(apps, None)

    kinds = dict(ImportRow.objects.filter(job=job).values_list("number", "match_kind"))
    assert kinds == {
        1: Kind.EMAIL,
        2: Kind.PHONE,
        3: Kind.SAME_NAME,
        4: Kind.SIMILAR_NAME,
        5: Kind.NONE,
        6: Kind.IN_FILE,
    }
