from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from crm import services
from crm.models import Invitation, Membership, User, Workspace
from tests.factories import PASSWORD


def _send_and_get_link(invitation: Invitation, settings: SettingsWrapper) -> str:
    assert services.invitation_send(invitation_id=invitation.pk) is True
    body = mail.outbox[-1].body
    return re.search(re.escape(settings.SITE_URL) + r"(/invite/\S+/)", body).group(1)


@pytest.mark.django_db
def test_it_queues_the_invitation_email_for_the_worker(
    owner_client: Client, workspace: Workspace, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(reverse("members"), {"email": "Newbie@Example.com"}, follow=True)

    assert "Invitation to newbie@example.com queued: it will be sent shortly" in response.content.decode()
    invitation = Invitation.objects.get()
    assert (invitation.workspace, invitation.email, invitation.email_state) == (
        workspace,
        "newbie@example.com",
        "queued",
    )
    assert len(callbacks) == 1  # the send task, enqueued only once the row is committed
    assert "newbie@example.com" in response.content.decode()


@pytest.mark.django_db
def test_it_emails_a_signed_link_built_from_site_url(
    owner: User, workspace: Workspace, settings: SettingsWrapper
) -> None:
    settings.SITE_URL = "https://crm.example.org"
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="newbie@example.com")

    link = _send_and_get_link(invitation, settings)

    message = mail.outbox[0]
    assert message.to == ["newbie@example.com"]
    assert message.subject == "Olivia Owner invited you to Acme Bakery on Rapport"
    assert "https://crm.example.org/invite/" in message.alternatives[0][0]
    invitation.refresh_from_db()
    assert invitation.email_state == "sent"
    assert invitation.email_sent_at is not None
    # A redelivered task does not send it twice.
    assert services.invitation_send(invitation_id=invitation.pk) is False
    assert len(mail.outbox) == 1
    assert link.startswith("/invite/")


@pytest.mark.django_db
def test_a_new_person_signs_up_from_the_link_and_joins_as_member(
    owner: User, workspace: Workspace, settings: SettingsWrapper
) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="newbie@example.com")
    link = _send_and_get_link(invitation, settings)
    client = Client()

    landing = client.get(link).content.decode()
    assert "Join “Acme Bakery”" in landing
    signup = client.post(
        reverse("signup") + f"?next={link}",
        {
            "email": "newbie@example.com",
            "time_zone": "UTC",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": link,
        },
    )
    assert signup.url == link
    # Opening the link does not join (link scanners open links); the click does.
    assert not Membership.objects.filter(workspace=workspace, user__email="newbie@example.com").exists()
    joined = client.post(link, follow=True)

    assert "You joined “Acme Bakery”" in joined.content.decode()
    membership = Membership.objects.get(workspace=workspace, user__email="newbie@example.com")
    assert membership.role == Membership.Role.MEMBER
    assert membership.user.current_workspace == workspace
    invitation.refresh_from_db()
    assert invitation.status == "accepted"


@pytest.mark.django_db
def test_an_existing_user_joins_and_can_switch_between_workspaces(
    owner: User, outsider: User, workspace: Workspace, other_workspace: Workspace, settings: SettingsWrapper
) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email=outsider.email)
    link = _send_and_get_link(invitation, settings)
    client = Client()
    client.force_login(outsider)

    client.post(link)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Acme Bakery" in page
    assert "Rival Florists" in page

    client.post(reverse("workspace_switch", args=[other_workspace.pk]))
    outsider.refresh_from_db()
    assert outsider.current_workspace == other_workspace


@pytest.mark.django_db
def test_the_link_works_once(owner: User, member: User, settings: SettingsWrapper) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="x@example.com")
    link = _send_and_get_link(invitation, settings)
    first, second = Client(), Client()
    first.force_login(member)
    second.force_login(owner)
    first.post(link)

    response = second.post(link)

    assert response.status_code == 410
    assert "already been used" in response.content.decode()


@pytest.mark.django_db
def test_the_link_expires(owner: User, settings: SettingsWrapper) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="late@example.com")
    link = _send_and_get_link(invitation, settings)

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = Client().get(link)

    assert response.status_code == 410
    assert "expired" in response.content.decode()


@pytest.mark.django_db
def test_a_forged_or_withdrawn_link_is_refused(owner_client: Client, owner: User, settings: SettingsWrapper) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="w@example.com")
    link = _send_and_get_link(invitation, settings)

    assert Client().get(link[:-3] + "xx/").status_code == 410
    owner_client.post(reverse("invitation_revoke", args=[invitation.pk]))
    response = Client().get(link)
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


@pytest.mark.django_db
def test_it_refuses_to_invite_an_existing_member(owner_client: Client, member: User) -> None:
    response = owner_client.post(reverse("members"), {"email": "MEMBER@example.com"})

    assert response.status_code == 200
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_it_shows_a_field_error_for_a_bad_email(owner_client: Client) -> None:
    response = owner_client.post(reverse("members"), {"email": "not-an-email"})

    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()


@pytest.mark.django_db
def test_members_cannot_invite(member_client: Client) -> None:
    response = member_client.post(reverse("members"), {"email": "friend@example.com"})

    assert response.status_code == 403
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_a_failed_email_shows_on_the_members_page(owner_client: Client, owner: User) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="bounce@example.com")

    services.invitation_mark_failed(invitation_id=invitation.pk, error="Connection refused")

    page = owner_client.get(reverse("members")).content.decode()
    assert "Email failed: Connection refused" in page


@pytest.mark.django_db
def test_outsiders_cannot_touch_another_workspaces_invitations(outsider_client: Client, owner: User) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="z@example.com")

    assert outsider_client.post(reverse("invitation_revoke", args=[invitation.pk])).status_code == 404
    assert outsider_client.post(reverse("invitation_resend", args=[invitation.pk])).status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == "pending"


@pytest.mark.django_db
def test_a_send_abandoned_by_a_killed_worker_is_taken_again_later(owner: User, settings: SettingsWrapper) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="k@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(email_state="sending", email_claimed_at=timezone.now())

    assert services.invitation_send(invitation_id=invitation.pk) is False  # another worker may still be on it
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert services.invitation_send(invitation_id=invitation.pk) is True
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_accepted_invitation_cannot_be_withdrawn(owner_client: Client, owner: User, member: User) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="j@example.com")
    services.invitation_accept(invitation=invitation, user=member)

    response = owner_client.post(reverse("invitation_revoke", args=[invitation.pk]))

    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
