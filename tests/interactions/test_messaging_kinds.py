"""Conversations on the messaging apps people prefer: WhatsApp, Signal, Telegram, LinkedIn.

A person who prefers WhatsApp is logged as a WhatsApp conversation wherever "Log" starts, the
timeline and the conversation list filter by it, the digest says it, and a backup keeps it.
"""

from __future__ import annotations

import html
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from digests import services as digest_services
from exports.backup import workspace_zip
from imports import services as import_services
from imports.models import ImportJob
from interactions.models import CHANNEL_KINDS, Interaction
from people.models import Person
from reminders import services as reminder_services
from tests.factories import InteractionFactory, PersonFactory, WorkspaceFactory

MESSAGING = {"whatsapp": "WhatsApp", "signal": "Signal", "telegram": "Telegram", "linkedin": "LinkedIn"}
MONDAY_0800_LONDON = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 3, 20, 10, 0, tzinfo=UTC), tick=False):
        yield


def test_every_preferred_channel_is_logged_as_a_conversation_kind_and_each_app_as_itself() -> None:
    assert set(CHANNEL_KINDS) == set(Person.Channel.values)  # a new channel must say how it is logged
    assert set(CHANNEL_KINDS.values()) <= set(Interaction.Kind.values)
    for channel in MESSAGING:
        assert CHANNEL_KINDS[channel] == channel


@pytest.mark.django_db
@pytest.mark.parametrize(("channel", "label"), MESSAGING.items())
def test_log_on_the_page_of_someone_who_prefers_an_app_starts_as_that_app(
    owner_client: Client, workspace: Workspace, channel: str, label: str
) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna", preferred_channel=channel)

    page = owner_client.get(anna.get_absolute_url()).content.decode()

    log_link = f"{reverse('interactions:create')}?person={anna.pk}&amp;kind={channel}"
    assert f'href="{log_link}"' in page  # without JavaScript: the full form
    assert f'data-quick-log-kind="{channel}"' in page  # with it: the quick log
    form = owner_client.get(html.unescape(log_link)).content.decode()
    assert f'<option value="{channel}" selected>{label}</option>' in form


@pytest.mark.django_db
def test_a_quick_logged_whatsapp_message_says_so_and_shows_on_the_timeline(
    owner_client: Client, workspace: Workspace
) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg")

    response = owner_client.post(
        reverse("interactions:quick"),
        {"quick-person": anna.pk, "quick-kind": "whatsapp", "quick-summary": "Sent the price list"},
        follow=True,
    )

    assert Interaction.objects.get().kind == "whatsapp"
    page = response.content.decode()
    assert "Logged WhatsApp message with Anna Berg." in page
    assert (
        '<span class="badge badge-soft badge-neutral me-1">WhatsApp</span> <strong>Sent the price list</strong>' in page
    )


@pytest.mark.django_db
def test_the_timeline_and_the_conversation_list_filter_by_each_app(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    for kind in ("call", *MESSAGING):
        InteractionFactory(workspace=workspace, people=[anna], kind=kind, summary=f"Talk by {kind}")

    for url in (anna.get_absolute_url(), reverse("interactions:list")):
        everything = owner_client.get(url).content.decode()
        for kind, label in MESSAGING.items():
            if url == reverse("interactions:list"):
                assert f'href="?kind={kind}"' in everything
                assert f">{label}</a>" in everything
            else:  # the person page's one compact filter: a select of the kinds had with them
                assert f'<option value="{kind}">{label}</option>' in everything
            filtered = owner_client.get(url, {"kind": kind}).content.decode()
            assert f"Talk by {kind}" in filtered
            assert all(f"Talk by {other}" not in filtered for other in ("call", *MESSAGING) if other != kind)


@pytest.mark.django_db
def test_log_it_on_the_dashboard_and_log_outreach_start_with_the_persons_app(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    ngozi = PersonFactory(workspace=workspace, owner=owner, preferred_channel="signal", tags=["cycling"])
    reminder_services.follow_up_create(person=ngozi, due_on=datetime(2026, 3, 20, tzinfo=UTC).date(), note="Ask")
    ngozi.tags.update(kind="interest")

    dashboard = owner_client.get(reverse("dashboard")).content.decode()
    interested = owner_client.get(reverse("interactions:interested"), {"topic": "cycling"}).content.decode()

    assert f"?person={ngozi.pk}&amp;kind=signal" in dashboard
    assert f"?person={ngozi.pk}&amp;kind=signal" in interested


@pytest.mark.django_db
def test_the_digest_names_the_app_of_the_last_conversation_and_logs_on_the_persons_app(workspace: Workspace) -> None:
    from tests.digests.test_digests import _user

    user = _user(workspace, "dana@example.com")
    anna = PersonFactory(workspace=workspace, owner=user, first_name="Anna", preferred_channel="telegram")
    InteractionFactory(
        workspace=workspace,
        people=[anna],
        kind="linkedin",
        summary="Congratulated her on the new shop",
        occurred_at=MONDAY_0800_LONDON - timedelta(days=20),
    )
    reminder_services.follow_up_create(person=anna, due_on=MONDAY_0800_LONDON.date(), note="Send the quote")

    with time_machine.travel(MONDAY_0800_LONDON, tick=False):
        for run in digest_services.digest_dispatch(users=[user], now=MONDAY_0800_LONDON):
            assert digest_services.digest_send(run_id=run) == "sent"

    (message,) = mail.outbox
    for body in (message.body, message.alternatives[0][0]):
        assert "Last time (LinkedIn message): Congratulated her on the new shop" in body
        assert f"/interactions/new/?person={anna.pk}&amp;kind=telegram" in body or (
            f"/interactions/new/?person={anna.pk}&kind=telegram" in body
        )


@pytest.mark.django_db
def test_a_backup_keeps_the_app_each_conversation_was_on(owner_client: Client, workspace: Workspace) -> None:
    source = WorkspaceFactory(name="Source")
    anna = PersonFactory(workspace=source)
    for kind in MESSAGING:
        InteractionFactory(workspace=source, people=[anna], kind=kind, summary=f"On {kind}")
    archive = b"".join(workspace_zip(source))

    owner_client.post(reverse("imports:page"), {"file": SimpleUploadedFile("backup.zip", archive)})
    job = ImportJob.objects.get(workspace=workspace)
    import_services.import_read(job_id=job.pk)
    import_services.import_start(job=job, default_action="create", actions={}, background=False)
    import_services.import_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    restored = Interaction.objects.for_workspace(workspace).values_list("summary", "kind")
    assert sorted(restored) == sorted((f"On {kind}", kind) for kind in MESSAGING)


@pytest.mark.django_db
def test_the_downloaded_backup_names_the_app_in_its_json(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    InteractionFactory(workspace=workspace, people=[anna], kind="whatsapp", summary="Voice note")

    response = owner_client.get(reverse("exports:backup"))

    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        document = json.loads(archive.read("workspace.json"))
    (row,) = document["models"]["interactions.interaction"]
    assert (row["summary"], row["kind"]) == ("Voice note", "whatsapp")


@pytest.mark.django_db
def test_the_demo_workspace_has_conversations_on_every_app() -> None:
    call_command("seed_demo", "--people", "40", "--interactions", "200", stdout=StringIO())

    kinds = set(Interaction.objects.values_list("kind", flat=True))
    assert set(MESSAGING) <= kinds
    assert Person.objects.filter(preferred_channel="whatsapp").exists()
    linkedin = Person.objects.filter(preferred_channel="linkedin").first()
    assert linkedin is not None
    assert linkedin.channel_handle.startswith("linkedin.com/in/")
