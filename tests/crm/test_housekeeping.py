"""Beat removes sign-up, reset and notice rows once every link in them is dead, and expired
sessions with their row in the sessions list; nothing younger, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse

from crm.housekeeping import housekeeping_prune
from crm.models import Invitation, PasswordResetRequest, SecurityNotice, Signup, UserSession
from tests.factories import PASSWORD, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)


def _rows_made(at: datetime, user) -> None:
    Signup.objects.create(email=f"new-{at:%j}@example.com", kind=Signup.Kind.NEW, created_at=at)
    PasswordResetRequest.objects.create(user=user, created_at=at, state=PasswordResetRequest.State.SENT)
    SecurityNotice.objects.create(user=user, kind=SecurityNotice.Kind.PASSWORD, created_at=at)


def test_it_removes_email_rows_older_than_the_keep_days_whatever_their_state(settings) -> None:
    settings.OUTBOX_KEEP_DAYS = 30
    user = UserFactory()
    _rows_made(NOW - timedelta(days=31), user)
    _rows_made(NOW - timedelta(days=29), user)
    stuck = PasswordResetRequest.objects.create(user=user, created_at=NOW - timedelta(days=40))  # still queued

    removed = housekeeping_prune(now=NOW)

    assert removed["crm.Signup"] == 1
    assert removed["crm.SecurityNotice"] == 1
    assert removed["crm.PasswordResetRequest"] == 2
    assert not PasswordResetRequest.objects.filter(pk=stuck.pk).exists()
    for model in (Signup, PasswordResetRequest, SecurityNotice):
        assert list(model.objects.values_list("created_at", flat=True)) == [NOW - timedelta(days=29)]
    assert housekeeping_prune(now=NOW) == dict.fromkeys(removed, 0)  # a repeat removes nothing


def test_a_sign_up_link_still_valid_is_kept_even_with_a_shorter_keep(settings) -> None:
    settings.OUTBOX_KEEP_DAYS = 1
    settings.SIGNUP_MAX_AGE_HOURS = 72
    Signup.objects.create(email="late@example.com", kind=Signup.Kind.NEW, created_at=NOW - timedelta(hours=60))

    housekeeping_prune(now=NOW)

    assert Signup.objects.filter(email="late@example.com").exists()


def test_invitations_stay_for_the_members_page(settings) -> None:
    settings.OUTBOX_KEEP_DAYS = 30
    Invitation.objects.create(workspace=WorkspaceFactory(), email="x@example.com", created_at=NOW - timedelta(days=400))

    housekeeping_prune(now=NOW)

    assert Invitation.objects.count() == 1


def _logged_in(user) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_an_expired_session_leaves_the_sessions_list_and_a_live_one_stays() -> None:
    user = UserFactory()
    with time_machine.travel(NOW - timedelta(days=60), tick=False):
        old = _logged_in(user)
    with time_machine.travel(NOW, tick=False):
        live = _logged_in(user)
        assert UserSession.objects.filter(user=user).count() == 2

        removed = housekeeping_prune(now=NOW)

    assert removed["crm.UserSession"] == 1
    (left,) = UserSession.objects.filter(user=user)
    assert left.session_key == live.session.session_key
    assert not SessionStore().exists(old.session.session_key)
