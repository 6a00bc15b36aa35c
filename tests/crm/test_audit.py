"""The audit log: every audited action leaves exactly one record, with who, when, from where and
what; a refused or failed one leaves none; owners see the workspace's, members their own."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from api.models import ApiToken, WebhookEndpoint
from carddav.models import AppPassword
from crm import audit
from crm.models import AuditEvent, Membership, User, Workspace
from crm.tasks import audit_prune_task
from exports.models import CalendarFeed
from imports.services.jobs import import_start
from inbound import services as inbound_services
from inbound.models import ApprovedSender
from people.models import Person
from tests.factories import PASSWORD, PersonFactory
from tests.imports.test_import_flow import GMAIL, read, upload
from tests.imports.test_restore import backup_of
from tests.imports.test_restore import upload as upload_backup
from tests.trust import summary

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def _member_id(user: User, workspace: Workspace) -> int:
    return Membership.objects.get(user=user, workspace=workspace).pk


def _people(workspace: Workspace, owner: User, n: int = 2) -> list[Person]:
    return PersonFactory.create_batch(n, workspace=workspace, owner=owner)


def _bulk(client: Client, people: list[Person], action: str, **extra: object) -> None:
    client.post(reverse("people:bulk"), {"ids": [p.pk for p in people], "action": action, **extra})


def _import(client: Client, workspace: Workspace) -> None:
    from imports import services

    job = upload(client, "contacts.vcf", GMAIL)
    read(job)
    import_start(job=job, default_action="create", actions={}, background=False)
    services.import_run(job_id=job.pk)


def _restore(client: Client, workspace: Workspace) -> None:
    from imports import services

    job_id = upload_backup(client, backup_of(2))["Location"].rstrip("/").split("/")[-1]
    services.import_read(job_id=int(job_id))
    client.post(reverse("imports:go", args=[job_id]), {"default_action": "create"})
    services.import_run(job_id=int(job_id))


# (name, the action done through the pages as the owner, the action recorded, words in the summary)
DONE: list[tuple[str, Callable[..., object], str, str]] = [
    ("invite", lambda c, w, o, m: c.post(reverse("members"), {"email": "new@example.com"}), "member_invited", "new@"),
    (
        "role",
        lambda c, w, o, m: c.post(reverse("member_role", args=[_member_id(m, w)]), {"role": "viewer"}),
        "member_role",
        "is now viewer",
    ),
    (
        "remove",
        lambda c, w, o, m: c.post(reverse("member_remove", args=[_member_id(m, w)])),
        "member_removed",
        "member@",
    ),
    ("vcf", lambda c, w, o, m: b"".join(c.get(reverse("exports:vcf")).streaming_content), "export", "as VCF"),
    (
        "vcf private",
        lambda c, w, o, m: b"".join(c.get(reverse("exports:vcf") + "?include_private=on").streaming_content),
        "export",
        "with private facts",
    ),
    ("csv", lambda c, w, o, m: b"".join(c.get(reverse("exports:csv")).streaming_content), "export", "as CSV"),
    (
        "backup",
        lambda c, w, o, m: b"".join(c.get(reverse("exports:backup")).streaming_content),
        "backup_downloaded",
        "backup",
    ),
    ("feed", lambda c, w, o, m: c.post(reverse("exports:feed_create")), "feed_created", "calendar"),
    (
        "delete",
        lambda c, w, o, m: c.post(reverse("people:delete", args=[_people(w, o, 1)[0].pk])),
        "person_deleted",
        "1 person",
    ),
    (
        "bulk tag",
        lambda c, w, o, m: _bulk(c, _people(w, o), "add_tag", tag="vip"),
        "bulk_action",
        "Add tag on 2 people",
    ),
    (
        "hand over",
        lambda c, w, o, m: _bulk(c, _people(w, o), "change_owner", owner=m.pk),
        "person_handed_over",
        "2 people over to member@",
    ),
    ("import", lambda c, w, o, m: _import(c, w), "import_finished", "1 new"),
    (
        "api token",
        lambda c, w, o, m: c.post(reverse("api_settings:tokens"), {"name": "Web shop", "write": "1"}),
        "api_token_created",
        "“Web shop” (read and write)",
    ),
    (
        "api token revoked",
        lambda c, w, o, m: c.post(reverse("api_settings:token_revoke", args=[_token(w, o).pk])),
        "api_token_revoked",
        "“Old script”",
    ),
    (
        "webhook",
        lambda c, w, o, m: c.post(
            reverse("api_settings:webhooks"), {"url": "http://127.0.0.1:9/hook/s3cret", "events": ["person.created"]}
        ),
        "webhook_added",
        "Webhook to 127.0.0.1 for person.created",
    ),
    (
        "webhook removed",
        lambda c, w, o, m: c.post(reverse("api_settings:webhook_delete", args=[_webhook(w, o).pk])),
        "webhook_removed",
        "127.0.0.1",
    ),
    ("logging address", lambda c, w, o, m: c.post(reverse("inbound:rotate")), "inbound_rotated", "old one"),
    (
        "sender",
        lambda c, w, o, m: c.post(reverse("inbound:sender_approve"), {"email": "Me@Home.example"}),
        "sender_approved",
        "me@home.example",
    ),
    (
        "sender removed",
        lambda c, w, o, m: c.post(reverse("inbound:sender_remove", args=[_sender(w, o).pk])),
        "sender_removed",
        "old@home.example",
    ),
]


def _token(workspace: Workspace, owner: User) -> ApiToken:
    return ApiToken.objects.create(workspace=workspace, user=owner, name="Old script", prefix="rpt_x", digest="0" * 64)


def _webhook(workspace: Workspace, owner: User) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        workspace=workspace, url="http://127.0.0.1:9/hook/s3cret", events=["person.created"], secret="whsec_x"
    )


def _sender(workspace: Workspace, owner: User) -> ApprovedSender:
    address = inbound_services.address_for(workspace=workspace, user=owner)
    return ApprovedSender.objects.create(address=address, email="old@home.example")


@pytest.mark.trust
@pytest.mark.parametrize(("name", "act", "action", "words"), DONE, ids=[d[0] for d in DONE])
def test_every_audited_action_leaves_exactly_one_record(
    owner_client: Client, owner: User, member: User, workspace: Workspace, name: str, act, action: str, words: str,
    settings: Settings,
) -> None:  # fmt: skip
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    before = AuditEvent.objects.count()

    act(owner_client, workspace, owner, member)

    events = list(AuditEvent.objects.all()[: AuditEvent.objects.count() - before])
    summary.record("audit", actions_done=1, without_one_record=int([e.action for e in events] != [action]))
    assert [e.action for e in events] == [action]
    event = events[0]
    assert words in event.summary
    assert event.actor == owner
    assert event.workspace == workspace
    # From where: the request's address; the import ran in the worker, which has none.
    assert event.ip_address == (None if name == "import" else "127.0.0.1")
    assert "s3cret" not in event.summary  # a webhook's path may hold a secret: the host only


@pytest.mark.trust
def test_a_contacts_sync_password_made_and_revoked_is_in_the_accounts_log(owner_client: Client, owner: User) -> None:
    owner_client.post(reverse("carddav:settings"), {"name": "Anna's iPhone"})
    (app_password,) = AppPassword.objects.filter(user=owner)
    owner_client.post(reverse("carddav:password_revoke", args=[app_password.pk]))
    owner_client.post(reverse("carddav:password_revoke", args=[app_password.pk]))  # once revoked, nothing to record
    events = list(AuditEvent.objects.order_by("id").values_list("action", "actor", "workspace", "summary"))
    assert events == [
        ("app_password_created", owner.pk, None, "Contacts sync password “Anna's iPhone”"),
        ("app_password_revoked", owner.pk, None, "Contacts sync password “Anna's iPhone”"),
    ]


@pytest.mark.trust
def test_a_restore_and_a_merge_and_a_regenerated_feed_each_leave_one(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    _restore(owner_client, workspace)
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["backup_restored"]

    anna, ben = Person.objects.for_workspace(workspace)[:2]
    owner_client.post(reverse("people:merge", args=[anna.pk]), {"other": ben.pk})
    owner_client.post(reverse("exports:feed_create"))
    owner_client.post(reverse("exports:feed_create"), {"regenerate": "1"})

    assert list(AuditEvent.objects.values_list("action", flat=True)[:3]) == [
        "feed_regenerated",
        "feed_created",
        "person_merged",
    ]
    assert CalendarFeed.objects.count() == 1


@pytest.mark.trust
def test_refused_and_failed_actions_leave_none(
    owner_client: Client, member_client: Client, owner: User, member: User, workspace: Workspace
) -> None:
    people = _people(workspace, owner)
    # Refused: a member may not take private facts, back up, delete, invite or manage roles.
    assert member_client.get(reverse("exports:vcf") + "?include_private=on").status_code == 403
    assert member_client.get(reverse("exports:backup")).status_code == 403
    member_client.post(reverse("people:delete", args=[people[0].pk]))
    member_client.post(reverse("members"), {"email": "x@example.com"})
    member_client.post(reverse("member_role", args=[_member_id(owner, workspace)]), {"role": "member"})
    # Failed: the last owner cannot step down or be removed; an unknown bulk action; a member
    # already in; a bad tag.
    owner_client.post(reverse("member_role", args=[_member_id(owner, workspace)]), {"role": "member"})
    owner_client.post(reverse("members"), {"email": "member@example.com"})
    _bulk(owner_client, people, "add_tag", tag="   ")
    # Failed too: a token without a name, a webhook to a private address; refused: a member's webhook.
    owner_client.post(reverse("api_settings:tokens"), {"name": "  "})
    owner_client.post(reverse("api_settings:webhooks"), {"url": "https://10.0.0.1/hook", "events": ["person.created"]})
    member_client.post(reverse("api_settings:webhooks"), {"url": "https://example.com/", "events": ["person.created"]})
    assert not ApiToken.objects.exists()
    assert not WebhookEndpoint.objects.exists()

    summary.record("audit", refused_with_a_record=AuditEvent.objects.count())
    assert not AuditEvent.objects.exists()


def test_logins_logouts_and_failures_are_recorded_for_the_account(client: Client, owner: User) -> None:
    client.post(reverse("login"), {"username": "owner@example.com", "password": "wrong"})
    client.post(reverse("login"), {"username": "nobody@example.com", "password": "wrong"})
    client.post(reverse("login"), {"username": "not an address", "password": "wrong"})
    client.post(
        reverse("login"), {"username": "owner@example.com", "password": PASSWORD}, HTTP_USER_AGENT="Firefox/140"
    )
    client.post(reverse("logout"))

    rows = list(AuditEvent.objects.order_by("id").values_list("action", "actor_email", "user_agent"))
    assert rows == [
        ("login_failed", "owner@example.com", ""),
        ("login_failed", "nobody@example.com", ""),
        ("login_failed", "", ""),
        ("login", "owner@example.com", "Firefox/140"),
        ("logout", "owner@example.com", ""),
    ]


def test_two_factor_changes_are_recorded(owner_client: Client, owner: User) -> None:
    from tests.crm.test_two_factor import turn_on

    turn_on(owner_client)
    owner_client.post(reverse("security_recovery_codes"))

    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "two_factor_added",
        "recovery_codes",
    ]


def test_owners_see_the_workspace_log_with_filters_and_members_only_their_own(
    owner_client: Client, member_client: Client, outsider_client: Client, owner: User, member: User, outsider: User
) -> None:
    with time_machine.travel(NOW - timedelta(days=3), tick=False):
        b"".join(owner_client.get(reverse("exports:csv")).streaming_content)
    with time_machine.travel(NOW, tick=False):
        b"".join(member_client.get(reverse("exports:vcf")).streaming_content)
        outsider_client.post(reverse("exports:feed_create"))
        audit.audit_record(action="login", actor=member, summary="Logged in with password")

    page = owner_client.get(reverse("workspace_audit")).content.decode()
    assert page.count("as CSV") == 1
    assert page.count("as VCF") == 1
    assert "Logged in with password" in page  # a member's login is the owner's to see
    assert "calendar feed" not in page  # another workspace's
    filtered = owner_client.get(reverse("workspace_audit"), {"actor": member.pk, "action": "export"}).content.decode()
    assert "as VCF" in filtered
    assert "as CSV" not in filtered
    since = owner_client.get(reverse("workspace_audit"), {"since": "2026-05-02"}).content.decode()
    assert "as CSV" not in since
    assert member_client.get(reverse("workspace_audit")).status_code == 403
    mine = member_client.get(reverse("my_activity")).content.decode()
    assert "as VCF" in mine
    assert "as CSV" not in mine


def test_the_csv_has_every_event_and_is_itself_recorded(owner_client: Client, owner: User) -> None:
    audit.audit_record(action="login", actor=owner, summary="=HYPERLINK(evil)")

    response = owner_client.get(reverse("workspace_audit_csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert rows[0][:4] == ["time (UTC)", "who", "action", "what"]
    assert [row[1:4] for row in rows[1:]] == [
        ["owner@example.com", "Audit log exported", "Exported the audit log as CSV"],
        ["owner@example.com", "Logged in", "'=HYPERLINK(evil)"],
    ]
    assert AuditEvent.objects.filter(action="audit_exported").count() == 1


def test_the_log_has_no_page_that_edits_or_deletes() -> None:
    from tests.trust.urls import url_patterns

    names = [name for name, _ in url_patterns() if "audit" in name]
    assert sorted(names) == ["workspace_audit", "workspace_audit_csv"]


def test_beat_prunes_events_past_the_retention(owner: User, settings) -> None:
    settings.AUDIT_RETENTION_DAYS = 30
    with time_machine.travel(NOW - timedelta(days=31), tick=False):
        audit.audit_record(action="login", actor=owner, summary="old")
    with time_machine.travel(NOW - timedelta(days=29), tick=False):
        audit.audit_record(action="login", actor=owner, summary="recent")

    with time_machine.travel(NOW, tick=False):
        assert audit_prune_task() == 1

    assert list(AuditEvent.objects.values_list("summary", flat=True)) == ["recent"]


def test_the_workspace_log_is_a_fixed_number_of_queries(
    owner_client: Client, owner: User, workspace: Workspace, django_assert_max_num_queries
) -> None:
    for n in (3, 60):
        for _ in range(n):
            audit.audit_record(action="export", actor=owner, workspace=workspace, summary="Exported")
        with django_assert_max_num_queries(12):
            assert owner_client.get(reverse("workspace_audit")).status_code == 200
