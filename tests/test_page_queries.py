"""Every page reads a fixed number of queries whatever the size of the book (issue 23): each one
is pinned here, measured on a book of 2 people and again after 12 more, and must be the same.

The table names every page a signed-in user opens (GET, HTML). A new page fails
``test_every_page_is_pinned`` until it is added here or to ``NOT_PAGES`` with the reason. The
API's endpoints are pinned in ``tests/api/test_query_counts.py``; downloads (vCard, CSV,
backup, feed), whose work grows with the book by design, in ``tests/exports``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from crm.models import User, Workspace
from interactions import services as interaction_services
from interactions.models import FollowUp, Interaction, Need
from people.models import FamilyMember, Person, Pet
from reminders import services as reminder_services
from tests.factories import PersonFactory


@dataclass
class Book:
    person: Person
    interaction: Interaction
    need: Need
    follow_up: FollowUp


Args = Callable[[Book], list[Any]]
NONE: Args = lambda book: []  # noqa: E731 - a table of one-liners
PERSON: Args = lambda book: [book.person.pk]  # noqa: E731

# url name -> (its arguments, the queries it reads, the same for any size of book).
PAGES: dict[str, tuple[Args, int]] = {
    "dashboard": (NONE, 28),
    "account_settings": (NONE, 6),
    "inbound:settings": (NONE, 14),
    "pwa:settings": (NONE, 6),
    "security": (NONE, 13),  # 12 when it runs first in its process, 13 after other tests: not the book
    "my_activity": (NONE, 7),
    "members": (NONE, 7),
    "workspace_audit": (NONE, 8),
    "workspace_create": (NONE, 5),
    "people:list": (NONE, 10),
    "people:create": (NONE, 6),
    "people:companies": (NONE, 7),
    "people:company": (lambda book: [book.person.company_id], 8),
    "people:detail": (PERSON, 23),
    "people:edit": (PERSON, 11),
    "people:history": (PERSON, 10),
    "people:family": (PERSON, 7),
    "people:pets": (PERSON, 7),
    "people:preferences": (PERSON, 6),
    "people:profile": (PERSON, 13),
    "people:merge": (PERSON, 6),
    "people:delete": (PERSON, 10),
    "interactions:list": (NONE, 8),
    "interactions:create": (NONE, 5),
    "interactions:edit": (lambda book: [book.interaction.pk], 9),
    "interactions:delete": (lambda book: [book.interaction.pk], 6),
    "interactions:needs": (NONE, 8),
    "interactions:need": (lambda book: [book.need.pk], 9),
    "interactions:need_create": (PERSON, 6),
    "interactions:promise_create": (PERSON, 6),
    "interactions:interested": (NONE, 7),
    "interactions:search": (NONE, 13),
    "search:results": (NONE, 10),
    "reminders:calendar": (NONE, 13),
    "reminders:notifications": (NONE, 7),
    "reminders:follow_up_edit": (lambda book: [book.follow_up.pk], 6),
    "reminders:follow_up_delete": (lambda book: [book.follow_up.pk], 6),
    "reminders:follow_up_create": (PERSON, 6),
    "reminders:cadences": (NONE, 6),
    "digests:preview": (NONE, 26),
    "exports:page": (NONE, 6),
    "exports:retention": (NONE, 5),
    "exports:person_privacy": (PERSON, 6),
    "imports:page": (NONE, 6),
    "api_settings:tokens": (NONE, 6),
    "api_settings:webhooks": (NONE, 7),
    "carddav:settings": (NONE, 8),
    "password_change": (NONE, 5),
}

# What a search page is asked, so that it searches (the empty form costs less).
QUERY = {
    "people:list": {"q": "berg"},
    "interactions:search": {"q": "call"},
    "search:results": {"q": "berg"},
    "interactions:interested": {"topic": "sailing"},
}

# Routes that are not pages a signed-in user reads, or are pinned elsewhere.
NOT_PAGES = {
    # Forms that only POST, or answer a POST's htmx swap.
    *[
        "logout",
        "security_totp_add",
        "security_totp_remove",
        "security_recovery_codes",
        "security_passkey_rename",
        "security_passkey_remove",
        "security_session_end",
        "account_delete",
        "log_out_everywhere",
        "member_remove",
        "member_role",
        "invitation_revoke",
        "invitation_resend",
        "workspace_idle_timeout",
        "workspace_two_factor",
        "workspace_rename",
        "workspace_delete",
        "workspace_switch",
        "inbound:rotate",
        "inbound:sender_approve",
        "inbound:sender_remove",
        "inbound:message_attach",
        "inbound:message_retry",
        "pwa:subscribe",
        "pwa:revoke",
        "people:bulk",
        "people:archive",
        "people:restore",
        "people:fact_delete",
        "interactions:quick",
        "interactions:need_status",
        "interactions:promise_keep",
        "reminders:follow_up_done",
        "reminders:follow_up_snooze",
        "reminders:follow_up_undo",
        "reminders:cadence_snooze",
        "reminders:cadence_snooze_undo",
        "reminders:date_dismiss",
        "reminders:date_undo",
        "reminders:cadence_delete",
        "digests:send_test",
        "exports:feed_create",
        "exports:feed_revoke",
        "imports:go",
        "imports:cancel",
        "api_settings:token_revoke",
        "api_settings:webhook_toggle",
        "api_settings:webhook_delete",
        "api_settings:delivery_redeliver",
        "carddav:password_revoke",
        "carddav:book_scope",
    ],
    # Before signing in, or from a link in an email (a token, not a book); a form's "done" page.
    *[
        "signup",
        "login_code",
        "password_reset",
        "password_reset_done",
        "password_reset_complete",
        "password_change_done",
        "login",
        "signup_confirm",
        "password_reset_confirm",
        "invitation_accept",
        "invitation_signup",
        "digests:action",
        "digests:unsubscribe",
    ],
    # Small JSON or fragments for widgets, the phone app's shell, health.
    *["people:tag_suggestions", "people:autocomplete", "manifest", "service_worker", "healthz", "favicon.ico"],
    # Downloads and the feed: pinned in tests/exports; their work grows with the book by design.
    *["exports:vcf", "exports:csv", "exports:backup", "exports:feed", "exports:subject_access", "workspace_audit_csv"],
    # A photo, a stored email, an import job: one row each, read by primary key.
    *[
        "people:photo",
        "inbound:message",
        "inbound:message_raw",
        "imports:detail",
        "imports:progress",
        "imports:mapping",
    ],
}


def _routes(patterns: list[Any], namespace: str = "") -> list[str]:
    names = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{pattern.namespace}:" if pattern.namespace else namespace
            names += _routes(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            names.append(f"{namespace}{pattern.name or pattern.pattern}")
    return names


def test_every_page_is_pinned() -> None:
    # The API (tests/api), Django's admin, CardDAV and the passkey endpoints have their own tests.
    outside = ("api:", "admin:", "carddav:dav", "carddav:well_known", "otp_webauthn:")
    routes = {name for name in _routes(get_resolver().url_patterns) if not name.startswith(outside)}
    assert routes, "the walk found no routes: it would check nothing"
    assert routes - PAGES.keys() - NOT_PAGES == set(), "pin these pages in PAGES, or say why not in NOT_PAGES"
    assert (PAGES.keys() | NOT_PAGES) - routes == set(), "these are no longer routes"


def _book(workspace: Workspace, owner: User, size: int, start: int) -> Book:
    first = None
    for i in range(start, start + size):
        person = PersonFactory(
            workspace=workspace, owner=owner, last_name=f"Berg{i}", company__name=f"Co {i}", tags=[f"t{i}", "sailing"]
        )
        FamilyMember.objects.create(
            workspace=workspace, person=person, name=f"Kid {i}", relation="child", birthday_day=5, birthday_month=5
        )
        Pet.objects.create(
            workspace=workspace, person=person, name=f"Rex {i}", species="dog", birthday_day=6, birthday_month=5
        )
        interaction = interaction_services.interaction_log(
            workspace=workspace, user=owner, people=[person], summary=f"Call {i} about sailing"
        )
        need = interaction_services.need_open(person=person, title=f"Sailing boat {i}")
        interaction_services.promise_create(person=person, text=f"Promise {i}", due_on=date(2026, 5, 5), user=owner)
        follow_up = reminder_services.follow_up_create(person=person, due_on=date(2026, 5, 4 + i % 5))
        first = first or Book(person, interaction, need, follow_up)
    assert first is not None
    return first


def _counts(client: Client, book: Book, assert_max: Callable[..., Any]) -> dict[str, int]:
    counts = {}
    for name, (args, most) in PAGES.items():
        url = reverse(name, args=args(book))
        # Once before: a first visit may make what the page then keeps (a logging address, the
        # session's "last seen"), the same at any size; the pin is what every later visit reads.
        client.get(url, QUERY.get(name, {}))
        with assert_max(most), CaptureQueriesContext(connection) as queries:
            response = client.get(url, QUERY.get(name, {}))
        assert response.status_code == 200, f"{name} answered {response.status_code}"
        counts[name] = len(queries)
    return counts


@pytest.mark.django_db
@pytest.mark.usefixtures("counters_in_memory")
@time_machine.travel("2026-05-06 10:00Z", tick=False)
def test_every_page_reads_the_same_queries_for_2_or_14_people(
    owner_client: Client, owner: User, workspace: Workspace, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    book = _book(workspace, owner, 2, 0)
    small = _counts(owner_client, book, django_assert_max_num_queries)
    _book(workspace, owner, 12, 2)
    assert _counts(owner_client, book, django_assert_max_num_queries) == small
