from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from crm import services
from crm.models import Invitation, Membership, Signup, User, Workspace
from tests.factories import PASSWORD


def _confirm_link(signup: Signup, settings: SettingsWrapper) -> str:
    """The worker sends the sign-up's confirmation; the path of the link in it."""
    from crm.tasks import send_signup_email_task

    send_signup_email_task.apply(args=[signup.pk])
    assert mail.outbox[-1].to == [signup.email]
    return re.search(re.escape(settings.SITE_URL) + r"(/signup/confirm/\S+/)", mail.outbox[-1].body).group(1)


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
def test_a_new_person_signs_up_from_the_link_and_joins_as_member_at_once(
    owner: User, workspace: Workspace, settings: SettingsWrapper
) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="newbie@example.com")
    link = _send_and_get_link(invitation, settings)
    client = Client()

    landing = client.get(link).content.decode()
    assert "Join “Acme Bakery”" in landing
    signup_url = reverse("invitation_signup", args=[link.split("/")[2]])
    assert f'href="{signup_url}"' in landing
    assert f'href="{reverse("login")}?next={quote(link)}"' in landing
    # Opening the links does not join (link scanners open links); signing up does.
    assert client.get(signup_url).status_code == 200
    assert not User.objects.filter(email="newbie@example.com").exists()
    signup = client.post(signup_url, {"time_zone": "UTC", "password1": PASSWORD, "password2": PASSWORD})

    # Confirmed by an email to the invited address, like any sign-up: a forwarded invitation
    # gives its holder no account under someone else's address.
    assert signup.status_code == 200
    assert "Check your email to continue" in signup.content.decode()
    assert not User.objects.filter(email="newbie@example.com").exists()
    confirm = _confirm_link(Signup.objects.get(email="newbie@example.com"), settings)
    joined = client.post(confirm, {"password": PASSWORD})

    assert joined.status_code == 302
    assert joined.url == reverse("dashboard")
    page = client.get(joined.url).content.decode()
    assert "Welcome to Rapport! You joined “Acme Bakery”." in page
    membership = Membership.objects.get(workspace=workspace, user__email="newbie@example.com")
    assert membership.role == Membership.Role.MEMBER
    assert membership.user.current_workspace == workspace
    assert membership.user.check_password(PASSWORD)
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == ("accepted", membership.user)
    assert [m.to for m in mail.outbox] == [["newbie@example.com"], ["newbie@example.com"]]  # invitation, confirmation


@pytest.mark.django_db
def test_sign_up_from_the_invitation_locks_the_invited_email_even_if_another_is_posted(
    owner: User, workspace: Workspace, settings: SettingsWrapper
) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="newbie@example.com")
    signup_url = reverse("invitation_signup", args=[services.invitation_token(invitation)])
    client = Client()

    form = client.get(signup_url).content.decode()
    field = re.search(r"<input[^>]*name=\"email\"[^>]*>", form).group(0)
    assert 'value="newbie@example.com"' in field
    assert "disabled" in field
    assert "The address the invitation was sent to" in form
    response = client.post(
        signup_url,
        {"email": "attacker@example.com", "time_zone": "UTC", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    (signup,) = Signup.objects.all()
    assert (signup.email, signup.invitation) == ("newbie@example.com", invitation)  # the confirmation goes there
    assert not Signup.objects.filter(email="attacker@example.com").exists()


@pytest.mark.django_db
def test_sign_up_from_an_invitation_for_an_address_with_an_account_says_log_in(
    owner: User, outsider: User, workspace: Workspace
) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email=outsider.email)
    signup_url = reverse("invitation_signup", args=[services.invitation_token(invitation)])

    response = Client().post(signup_url, {"time_zone": "UTC", "password1": PASSWORD, "password2": PASSWORD})

    assert response.status_code == 200
    assert "An account with this address already exists. Log in to join." in response.content.decode()
    assert not Membership.objects.filter(workspace=workspace, user=outsider).exists()
    outsider.refresh_from_db()
    assert outsider.check_password(PASSWORD)
    invitation.refresh_from_db()
    assert invitation.status == "pending"


@pytest.mark.django_db
def test_sign_up_from_an_invitation_creates_nothing_when_the_form_is_invalid(owner: User) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="newbie@example.com")
    signup_url = reverse("invitation_signup", args=[services.invitation_token(invitation)])

    response = Client().post(signup_url, {"time_zone": "UTC", "password1": "12345", "password2": "12345"})

    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert not User.objects.filter(email="newbie@example.com").exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


@pytest.mark.django_db
def test_sign_up_from_a_used_or_forged_invitation_is_refused(owner: User, outsider: User) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email=outsider.email)
    token = services.invitation_token(invitation)
    services.invitation_accept(invitation=invitation, user=outsider)
    data = {"time_zone": "UTC", "password1": PASSWORD, "password2": PASSWORD}

    used = Client().post(reverse("invitation_signup", args=[token]), data)
    forged = Client().post(reverse("invitation_signup", args=[token[:-2] + "xx"]), data)

    assert (used.status_code, forged.status_code) == (410, 410)
    assert "already been used" in used.content.decode()
    assert User.objects.count() == 2


@pytest.mark.django_db
def test_a_different_logged_in_user_cannot_accept_a_forwarded_invitation(
    owner: User, outsider_client: Client, outsider: User, workspace: Workspace, settings: SettingsWrapper
) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="newbie@example.com")
    link = _send_and_get_link(invitation, settings)

    shown = outsider_client.get(link)
    posted = outsider_client.post(link)

    for response in (shown, posted):
        assert response.status_code == 403
        page = response.content.decode()
        assert "This invitation is for n…@example.com; log out or ask the owner to invite this address" in page
        assert "newbie@example.com" not in page
        assert "Acme Bakery" not in page
        log_out = re.search(r'<form method="post" action="/logout/">(?:(?!</form>).)*Log out and open', page, re.DOTALL)
        assert f'name="next" value="{link}"' in log_out.group(0)
    assert not Membership.objects.filter(workspace=workspace, user=outsider).exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    # Signing up from it while logged in leads back to the same refusal.
    signup = outsider_client.post(reverse("invitation_signup", args=[link.split("/")[2]]), {"time_zone": "UTC"})
    assert signup.url == link
    assert not Membership.objects.filter(workspace=workspace, user=outsider).exists()


@pytest.mark.django_db
def test_the_service_itself_refuses_an_account_with_another_address(
    owner: User, outsider: User, workspace: Workspace
) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="newbie@example.com")

    with pytest.raises(PermissionDenied, match=r"This invitation is for n…@example.com"):
        services.invitation_accept(invitation=invitation, user=outsider)

    assert not Membership.objects.filter(workspace=workspace, user=outsider).exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


@pytest.mark.django_db
def test_logging_out_from_the_refusal_comes_back_to_the_invitation(
    owner: User, outsider_client: Client, settings: SettingsWrapper
) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="newbie@example.com")
    link = _send_and_get_link(invitation, settings)

    response = outsider_client.post(reverse("logout"), {"next": link}, follow=True)

    assert response.redirect_chain == [(link, 302)]
    assert response.status_code == 200
    assert "Create an account to join" in response.content.decode()


@pytest.mark.django_db
def test_the_invited_user_accepts_whatever_the_case_of_either_address(
    owner: User, outsider: User, outsider_client: Client, workspace: Workspace
) -> None:
    User.objects.filter(pk=outsider.pk).update(email="Outsider@Example.COM")
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="OUTSIDER@example.com")

    response = outsider_client.post(reverse("invitation_accept", args=[services.invitation_token(invitation)]))

    assert response.status_code == 302
    assert Membership.objects.filter(workspace=workspace, user=outsider).exists()


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
def test_the_link_works_once(owner: User, outsider: User, settings: SettingsWrapper) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email=outsider.email)
    link = _send_and_get_link(invitation, settings)
    first, second = Client(), Client()
    first.force_login(outsider)
    second.force_login(outsider)
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
def test_an_accepted_invitation_cannot_be_withdrawn(owner_client: Client, owner: User, outsider: User) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email=outsider.email)
    services.invitation_accept(invitation=invitation, user=outsider)

    response = owner_client.post(reverse("invitation_revoke", args=[invitation.pk]))

    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
