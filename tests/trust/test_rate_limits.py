"""Every rate limit holds at its endpoint: past the rate, nothing more gets through.

Each limit is set to 2 an hour (a search to 2 a minute) and asked five times, with what the
limit counts held fixed and everything else varied (another address from the same client, the
same address from another client), in a cache of its own per limit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from itertools import count

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from crm import services as crm_services
from crm.models import Membership, User, Workspace
from tests.factories import PersonFactory
from tests.trust.summary import record

ASKED = 5
Request = Callable[[Client, int], HttpResponse]


def _cases(owner: User, person_pk: int, invitation_pk: int) -> dict[str, tuple[bool, Request]]:
    """Limit name -> (signed in as the owner?, the i-th request)."""
    from api import services as api_services

    _, api_secret = api_services.token_create(user=owner, workspace=owner.current_workspace, name="limits")

    def sign_up(email: str, address: str) -> Callable[[Client], HttpResponse]:
        data = {"email": email, "display_name": "N", "password1": "x", "password2": "y", "time_zone": "UTC"}
        return lambda client: client.post(reverse("signup"), data, REMOTE_ADDR=address)

    def search(url: str, **params: str) -> tuple[bool, Request]:
        return True, lambda client, i: client.get(url, params)

    return {
        "password_reset_per_address": (
            False,
            lambda c, i: c.post(reverse("password_reset"), {"email": owner.email}, REMOTE_ADDR=f"203.0.113.{i}"),
        ),
        "password_reset_per_ip": (
            False,
            lambda c, i: c.post(reverse("password_reset"), {"email": f"x{i}@example.com"}),
        ),
        "signup_per_address": (False, lambda c, i: sign_up("new@example.com", f"203.0.113.{i}")(c)),
        "signup_per_ip": (False, lambda c, i: sign_up(f"new{i}@example.com", "198.51.100.1")(c)),
        "invitation_per_address": (True, lambda c, i: c.post(reverse("members"), {"email": "friend@example.com"})),
        "invitation_per_user": (True, lambda c, i: c.post(reverse("members"), {"email": f"friend{i}@example.com"})),
        "invitation_resend_per_invitation": (
            True,
            lambda c, i: c.post(reverse("invitation_resend", args=[invitation_pk])),
        ),
        "digest_test_per_user": (True, lambda c, i: c.post(reverse("digests:send_test"))),
        "import_upload_per_user": (
            True,
            lambda c, i: c.post(
                reverse("imports:page"), {"file": SimpleUploadedFile("a.vcf", b"BEGIN:VCARD\nFN:A\nEND:VCARD\n")}
            ),
        ),
        "search_per_user (people)": search(reverse("people:list"), q="Ann"),
        "search_per_user (autocomplete)": search(reverse("people:autocomplete"), q="Ann"),
        "search_per_user (tags)": search(reverse("people:tag_suggestions"), q="v"),
        "search_per_user (companies)": search(reverse("people:companies"), q="Ann"),
        "search_per_user (conversations)": search(reverse("interactions:search"), q="Ann"),
        "search_per_user (who might be interested)": search(reverse("interactions:interested"), topic="sail"),
        "search_per_user (merge)": search(reverse("people:merge", args=[person_pk]), q="Ann"),
        "search_per_user (top-bar search)": search(reverse("search:results"), q="Ann"),
        "api_per_token": (
            False,
            lambda c, i: c.get(reverse("api:people"), headers={"Authorization": f"Bearer {api_secret}"}),
        ),
    }


@pytest.mark.django_db
def test_no_request_past_a_limit_gets_through(
    owner: User, workspace: Workspace, settings: SettingsWrapper, capsys: pytest.CaptureFixture[str]
) -> None:
    person = PersonFactory(workspace=workspace, first_name="Anna")
    membership = Membership.objects.get(user=owner, workspace=workspace)
    invitation = crm_services.invitation_create(membership=membership, email="pending@example.com")
    settings.RATE_LIMITS = {name: "2/m" if name == "search_per_user" else "2/h" for name in settings.RATE_LIMITS}
    tried, through, wrong = 0, 0, []
    addresses = count()

    for name, (signed_in, send) in _cases(owner, person.pk, invitation.pk).items():
        settings.CACHES = {
            **settings.CACHES,
            "ratelimit": {**settings.CACHES["ratelimit"], "KEY_PREFIX": uuid.uuid4().hex},
        }
        client = Client()
        if signed_in:
            client.force_login(owner)
        statuses = [send(client, next(addresses) % 250 + 1).status_code for _ in range(ASKED)]
        tried += ASKED
        through += sum(status != 429 for status in statuses[2:])
        if 429 in statuses[:2] or any(status >= 500 for status in statuses) or statuses[2:] != [429] * 3:
            wrong.append(f"{name}: {statuses}")

    record("rate limits", requests_tried=tried, over_the_limit_let_through=through)
    with capsys.disabled():
        print(f"\nrate limits: {tried} requests to {len(_cases(owner, 0, 0))} limits, {through} let through past one")
    assert wrong == []
    assert through == 0
