"""Export a lived-in workspace, import it into an empty one, and compare: nothing lost on the way."""

from __future__ import annotations

import io
import zipfile
from io import StringIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from crm.models import Membership, User, Workspace
from exports import services as export_services
from exports.backup import MODELS, label, workspace_zip
from imports import services
from imports.models import ImportJob
from people.models import Person
from tests.factories import MembershipFactory, WorkspaceFactory


@pytest.fixture
def demo(db: None) -> tuple[User, Workspace]:
    call_command("seed_demo", "--people", "25", "--interactions", "120", stdout=StringIO())
    user = User.objects.get(email="demo@example.com")
    return user, user.current_workspace  # type: ignore[return-value]


def empty_workspace_for(user: User) -> Workspace:
    workspace = WorkspaceFactory(name="Restored")
    MembershipFactory(workspace=workspace, user=user, role=Membership.Role.OWNER)
    user.current_workspace = workspace
    user.save(update_fields=["current_workspace"])
    return workspace


def people_snapshot(workspace: Workspace) -> list[tuple[Any, ...]]:
    people = Person.objects.for_workspace(workspace).prefetch_related(
        "contact_methods", "family", "pets", "facts", "tags", "important_dates", "interactions", "needs", "promises"
    )
    return sorted(
        (
            p.first_name,
            p.last_name,
            p.nickname,
            p.company.name if p.company else "",
            p.job_title,
            p.notes,
            str(p.birthday),
            str(p.anniversary),
            p.preferred_channel,
            p.cadence,
            p.last_contacted_at,
            p.owner.email if p.owner else None,
            sorted((m.kind, m.label, m.value, m.is_primary) for m in p.contact_methods.all()),
            sorted(
                (f.relation, f.name, str(f.birthday), f.linked_person.full_name if f.linked_person else "")
                for f in p.family.all()
            ),
            sorted((pet.name, pet.species, str(pet.birthday)) for pet in p.pets.all()),
            sorted((f.fact_type, f.value, f.is_private, f.source_interaction is not None) for f in p.facts.all()),
            sorted((t.kind, t.name) for t in p.tags.all()),
            sorted((d.label, str(d.date)) for d in p.important_dates.all()),
            sorted((i.summary, i.occurred_at, i.kind, i.people.count()) for i in p.interactions.all()),
            sorted((n.title, n.status, n.updates.count()) for n in p.needs.all()),
            sorted((pr.text, pr.due_on, pr.kept_at) for pr in p.promises.all()),
            sorted((f.due_on, f.note, f.repeat_every, f.done_at) for f in p.follow_ups.all()),
        )
        for p in people
    )


def test_it_restores_a_workspace_backup_into_an_empty_workspace(demo: tuple[User, Workspace]) -> None:
    user, source = demo
    archive = b"".join(workspace_zip(source))
    before = people_snapshot(source)
    counts = {label(m): m.objects.for_workspace(source).count() for m in MODELS}  # type: ignore[attr-defined]
    assert counts["people.person"] == 25
    assert counts["interactions.interaction"] == 120

    target = empty_workspace_for(user)
    teammate = User.objects.get(email="demo+teammate@example.com")
    MembershipFactory(workspace=target, user=teammate)  # owners are found again by email
    client = Client()
    client.force_login(user)
    response = client.post(reverse("imports:page"), {"file": SimpleUploadedFile("backup.zip", archive)})
    job = ImportJob.objects.get(workspace=target)
    assert response.status_code == 302
    services.import_read(job_id=job.pk)  # the worker reads it: counts for the preview
    preview = client.get(job.get_absolute_url()).content.decode()
    assert "Restore this workspace backup?" in preview
    assert "25 people" in preview
    client.post(reverse("imports:go", args=[job.pk]), {"default_action": "create"})
    services.import_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.created) == (ImportJob.Status.DONE, 25), job.error
    assert {label(m): m.objects.for_workspace(target).count() for m in MODELS} == counts  # type: ignore[attr-defined]
    after = people_snapshot(target)
    for a, b in zip(after, before, strict=True):
        assert a == b, [(i, x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    assert people_snapshot(source) == before  # the source is untouched


def test_it_refuses_a_backup_into_a_workspace_that_has_people(
    demo: tuple[User, Workspace], owner_client: Client, workspace: Workspace
) -> None:
    _, source = demo
    archive = b"".join(workspace_zip(source))
    Person.objects.create(workspace=workspace, first_name="Already here")
    response = owner_client.post(reverse("imports:page"), {"file": SimpleUploadedFile("backup.zip", archive)})
    assert "can only be restored into an empty workspace" in response.content.decode()
    assert Person.objects.for_workspace(workspace).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04 this is not really a zip", "damaged"),
        (b'{"format": "rapport-workspace", "version": 1, "models": {"people.person": [{"id": [1]}]}}', "with an id"),
        (b'{"format": "rapport-workspace", "version": 9, "models": {}}', "newer version"),
        (b'{"format": "something-else"}', "not a Rapport workspace backup"),
        (
            b'{"format": "rapport-workspace", "version": 1, "models": {"people.person": [{"id": 1, "first_name": "A",'
            b' "birthday_day": 31, "birthday_month": 2}]}}',
            "February has no day 31",
        ),
        (b'{"format": "rapport-workspace", "version": 1, "models": {"people.person": [{"id": 1}]}}', "blank"),
        (
            b'{"format": "rapport-workspace", "version": 1, "models": {"people.person": '
            b'[{"id": 1, "first_name": "A", "created_at": 5, "photo": [1]}]}}',
            "wrong kind",
        ),
        (
            b'{"format": "rapport-workspace", "version": 1, "models": {"people.tag": '
            b'[{"id": 1, "name": "x", "kind": "label"}, {"id": 2, "name": "x", "kind": "label"}]}}',
            "contradicts itself",
        ),
    ],
)
def test_it_refuses_broken_backups_with_a_message(
    owner_client: Client, owner: User, workspace: Workspace, data: bytes, message: str
) -> None:
    response = owner_client.post(reverse("imports:page"), {"file": SimpleUploadedFile("backup.json", data)})
    job = ImportJob.objects.filter(workspace=workspace).first()
    if job is not None:  # the JSON is read in the background, and rows are checked when it runs
        services.import_read(job_id=job.pk)
        job.refresh_from_db()
        if job.status == ImportJob.Status.READY:
            owner_client.post(reverse("imports:go", args=[job.pk]), {"default_action": "create"})
            services.import_run(job_id=job.pk)
            job.refresh_from_db()
        assert job.status == ImportJob.Status.FAILED
        assert message in job.error
    else:
        assert message in response.content.decode()
    assert not Person.objects.exists()


def test_it_refuses_a_zip_bomb(owner_client: Client, workspace: Workspace, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 100_000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("workspace.json", b" " * 5_000_000)
    response = owner_client.post(reverse("imports:page"), {"file": SimpleUploadedFile("b.zip", out.getvalue())})
    assert "unpacks to far more" in response.content.decode()


def test_only_owners_download_the_whole_workspace(owner_client: Client, member_client: Client) -> None:
    response = owner_client.get(reverse("exports:backup"))
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert "workspace.json" in archive.namelist()
    assert member_client.get(reverse("exports:backup")).status_code == 403


def test_it_round_trips_people_through_vcard(demo: tuple[User, Workspace]) -> None:
    user, source = demo
    people = export_services.export_people(
        Person.objects.for_workspace(source), membership=user.memberships.get(workspace=source), include_private=True
    )
    data = "".join(export_services.vcards(people)).encode()
    target = empty_workspace_for(user)

    job = services.import_upload(workspace=target, user=user, file_name="all.vcf", data=data)
    services.import_read(job_id=job.pk)
    services.import_start(job=job, default_action="merge", actions={})
    services.import_run(job_id=job.pk)

    def card_view(workspace: Workspace) -> list[tuple[Any, ...]]:
        return sorted(
            (
                p.first_name,
                p.last_name,
                p.company.name if p.company else "",
                str(p.birthday),
                str(p.anniversary),
                sorted(m.value for m in p.contact_methods.all() if m.kind in {"email", "phone"}),
                sorted(t.name for t in p.tags.all()),
                sorted(f.name for f in p.family.all()),
            )
            for p in Person.objects.for_workspace(workspace).prefetch_related("contact_methods", "tags", "family")
        )

    assert card_view(target) == card_view(source)
