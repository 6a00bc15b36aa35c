"""The sessions list with "log out this one", emails about a new device and a changed password
or second factor (sent once from the outbox), and a workspace's idle timeout."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from crm.models import AuditEvent, SecurityNotice, User, UserSession, Workspace
from crm.tasks import send_security_notice_task
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def browser(user_agent: str, email: str = "owner@example.com") -> Client:
    client = Client(HTTP_USER_AGENT=user_agent)
    assert client.post(reverse("login"), {"username": email, "password": PASSWORD}).status_code == 302
    return client


def deliver() -> list[str]:
    for notice in SecurityNotice.objects.filter(email_state="queued"):
        send_security_notice_task(notice.pk)
    return [message.subject for message in mail.outbox]


def test_it_lists_the_sessions_and_logs_out_another_one(owner: User) -> None:
    laptop, phone = browser(FIREFOX), browser(IPHONE)

    page = laptop.get(reverse("security")).content.decode()
    assert "Firefox on Windows" in page
    assert "Mobile Safari on iOS (iPhone)" in page
    assert page.count("Log out this one") == 1  # not offered for the session in use
    other = UserSession.objects.get(user_agent=IPHONE)
    laptop.post(reverse("security_session_end", args=[other.pk]))

    assert phone.get(reverse("dashboard"))["Location"].startswith(reverse("login"))
    assert laptop.get(reverse("dashboard")).status_code == 200
    assert AuditEvent.objects.filter(action="session_ended", summary__contains="iOS").count() == 1


def test_nobody_logs_out_someone_elses_session(owner: User, outsider_client: Client) -> None:
    browser(FIREFOX)
    row = UserSession.objects.get(user=owner)

    assert outsider_client.post(reverse("security_session_end", args=[row.pk])).status_code == 404
    assert UserSession.objects.filter(pk=row.pk).exists()


def test_a_login_from_a_new_device_is_emailed_once(owner: User) -> None:
    browser(FIREFOX)
    assert deliver() == []  # the first login: nothing to compare with
    browser(FIREFOX)
    assert deliver() == []  # the same browser again
    browser(IPHONE)

    assert deliver() == ["New login to your Rapport account"]
    assert "Mobile Safari on iOS (iPhone) from 127.0.0.1" in mail.outbox[0].body
    assert deliver() == ["New login to your Rapport account"]  # sent once, however often hinted


def test_a_changed_password_is_emailed_and_recorded(owner: User) -> None:
    client = browser(FIREFOX)
    new = "another-long-pass-phrase-42"
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )

    assert response.status_code == 302
    assert deliver() == ["Your Rapport password was changed"]
    assert "changed in Settings" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="password_changed").count() == 1


def test_a_changed_second_factor_is_emailed(owner_client: Client, owner: User) -> None:
    from tests.crm.test_two_factor import turn_on

    turn_on(owner_client)

    assert deliver() == ["Two-factor login of your Rapport account changed"]
    assert "an authenticator app was added" in mail.outbox[0].body


def test_an_idle_session_is_logged_out_after_the_workspaces_timeout(
    owner_client: Client, member: User, workspace: Workspace
) -> None:
    owner_client.post(reverse("workspace_idle_timeout"), {"minutes": "15"})
    assert owner_client.post(reverse("workspace_idle_timeout"), {"minutes": "7"}).status_code == 302  # refused
    workspace.refresh_from_db()
    assert workspace.idle_timeout_minutes == 15
    with time_machine.travel(NOW, tick=False):
        client = browser(FIREFOX, "member@example.com")
    with time_machine.travel(NOW + timedelta(minutes=14), tick=False):
        assert client.get(reverse("dashboard")).status_code == 200
    with time_machine.travel(NOW + timedelta(minutes=28), tick=False):
        assert client.get(reverse("dashboard")).status_code == 200  # 14 minutes after the last page
    with time_machine.travel(NOW + timedelta(minutes=44), tick=False):
        response = client.get(reverse("dashboard"), follow=True)

    assert re.search(r"logged out after 15 minutes without activity", response.content.decode())
    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert not UserSession.objects.filter(user=member).exists()
    assert AuditEvent.objects.filter(action="idle_timeout").count() == 1
