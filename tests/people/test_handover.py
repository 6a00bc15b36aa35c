"""Handing a customer to a teammate: a promise stays with whoever made it, the new owner is told
(the bell at once, a line in their next digest), and every list says who promised."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from crm.models import Membership, User, Workspace
from digests import services as digest_services
from interactions import services as interaction_services
from interactions.models import Interaction, Promise
from people.models import Handover, Person
from people.services import people_bulk_update
from reminders import services as reminder_services
from reminders.handover import handovers_to_tell
from reminders.models import ReminderOccurrence
from tests.factories import MembershipFactory, PersonFactory, UserFactory

# Wednesday 4 March 2026, mid-morning (the standing users' time zone is UTC).
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen() -> object:
    with time_machine.travel(NOW, tick=False):
        yield


def _text(response: object) -> str:
    """The page as a reader sees it: tags gone, whitespace collapsed."""
    page = response.content.decode()  # type: ignore[attr-defined]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _section(response: object, heading_id: str) -> str:
    page = response.content.decode()  # type: ignore[attr-defined]
    start = page.index(f'aria-labelledby="{heading_id}"')
    part = page[start : page.index("</section>", start)]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", part)).split())


@pytest.fixture
def anna(workspace: Workspace, owner: User, member: User) -> Person:
    """Olivia's customer, with what a customer comes with: a follow-up, a need, Olivia's own
    promise and one of Anna's."""
    anna = PersonFactory(workspace=workspace, owner=owner, first_name="Anna", last_name="Berg")
    interaction_services.interaction_log(
        workspace=workspace,
        user=owner,
        people=[anna],
        summary="Talked about the spring order",
        outcomes=interaction_services.Outcomes(
            follow_up_on=date(2026, 3, 6),
            follow_up_note="Call about the order",
            promises=[interaction_services.PromiseInput(text="Send the quote", due_on=date(2026, 3, 5))],
            needs=[interaction_services.NeedInput(title="Cheaper shipping to Abuja")],
        ),
    )
    interaction_services.promise_create(person=anna, user=owner, text="Pay the deposit", direction="theirs")
    return anna


def _edit(client: Client, person: Person, owner: User) -> object:
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "owner": owner.pk,
        **{f"{prefix}-{n}": "0" for prefix in ("contacts", "dates") for n in ("TOTAL_FORMS", "INITIAL_FORMS")},
    }
    return client.post(reverse("people:edit", args=[person.pk]), data, follow=True)


@pytest.mark.django_db
def test_it_keeps_a_promise_with_whoever_made_it_when_the_customer_is_handed_over(
    owner_client: Client, member_client: Client, owner: User, member: User, anna: Person
) -> None:
    response = _edit(owner_client, anna, member)

    assert "Anna Berg saved." in _text(response)
    anna.refresh_from_db()
    assert anna.owner == member
    assert Promise.objects.get(text="Send the quote").made_by == owner  # still Olivia's word
    olivias = _section(owner_client.get(reverse("dashboard")), "promises-heading")
    mos = _section(member_client.get(reverse("dashboard")), "promises-heading")
    assert "You promised Send the quote · Anna Berg" in olivias
    assert "Olivia Owner promised Send the quote · Anna Berg" in mos
    assert "They promised Pay the deposit · Anna Berg" in mos  # Anna's own promise came with her
    assert "Pay the deposit" not in olivias
    assert "I promised" not in olivias + mos


@pytest.mark.django_db
def test_the_person_page_says_who_promised_to_each_viewer(
    owner_client: Client, member_client: Client, viewer_client: Client, member: User, anna: Person
) -> None:
    _edit(owner_client, anna, member)
    url = reverse("people:detail", args=[anna.pk])

    olivia, mo, vera = (_section(c.get(url), "open-heading") for c in (owner_client, member_client, viewer_client))

    assert "You promised Send the quote" in olivia
    assert "Olivia Owner promised Send the quote" in mo
    assert "Olivia Owner promised Send the quote" in vera
    assert "They promised Pay the deposit" in mo
    assert "Promise: Olivia Owner promised: Send the quote" in _text(member_client.get(url))  # the timeline


@pytest.mark.django_db
def test_the_new_owner_finds_what_they_received_on_the_bell(
    owner_client: Client, member_client: Client, anna: Person, member: User
) -> None:
    _edit(owner_client, anna, member)

    dashboard = member_client.get(reverse("dashboard")).content.decode()
    assert 'aria-label="Reminders: 1 new"' in dashboard
    assert 'aria-label="Reminders: 1 new"' not in owner_client.get(reverse("dashboard")).content.decode()
    bell = _text(member_client.get(reverse("reminders:notifications")))
    assert (
        "Wed 4 Mar: Olivia Owner handed Anna Berg over to you, with 1 open follow-up, 1 open need and "
        "2 open promises, 1 of them made by Olivia Owner, who keeps it."
    ) in bell
    assert 'aria-label="Reminders"' in member_client.get(reverse("dashboard")).content.decode()  # now seen


@pytest.mark.django_db
def test_a_manager_handing_a_members_customer_on_names_both(
    owner_client: Client, workspace: Workspace, member: User, owner: User
) -> None:
    tunde = UserFactory(email="tunde@example.com", display_name="Tunde", current_workspace=workspace)
    MembershipFactory(workspace=workspace, user=tunde, role=Membership.Role.MEMBER)
    chidi = PersonFactory(workspace=workspace, owner=member, first_name="Chidi", last_name="Okafor")

    _edit(owner_client, chidi, tunde)

    (note,) = ReminderOccurrence.objects.filter(user=tunde)
    assert note.text == "Olivia Owner handed Chidi Okafor over to you from Mo Member."
    handover = Handover.objects.get()
    assert (handover.from_user, handover.to_user, handover.by) == (member, tunde, owner)


@pytest.mark.django_db
def test_the_new_owners_next_digest_lists_what_they_received_once(
    owner_client: Client, owner: User, member: User, workspace: Workspace, anna: Person
) -> None:
    User.objects.filter(pk__in=[owner.pk, member.pk]).update(
        digest="weekly", digest_weekday=0, digest_hour=8, digest_since=datetime(2020, 1, 1, tzinfo=UTC)
    )
    _edit(owner_client, anna, member)
    monday = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)

    with time_machine.travel(monday, tick=False):
        runs = digest_services.digest_dispatch(
            users=list(User.objects.filter(pk__in=[owner.pk, member.pk])), now=monday
        )
        assert [digest_services.digest_send(run_id=r) for r in runs] == ["sent", "sent"]

    by_user = {m.to[0]: m for m in mail.outbox}
    mos = by_user[member.email]
    assert "1 person handed over to you" in mos.subject
    assert (
        "HANDED OVER TO YOU\n"
        "==================\n\n"
        "* Anna Berg, from Olivia Owner, with 1 open follow-up, 1 open need and 2 open promises (Wed 4 Mar)\n"
        "  Follow-up: Call about the order (Fri 6 Mar)\n"
        "  Need: Cheaper shipping to Abuja\n"
        "  Olivia Owner promised: Send the quote (due Thu 5 Mar)\n"
        "  They promised: Pay the deposit\n"
    ) in mos.body
    assert "Handed over to you" in mos.alternatives[0][0]
    assert "Olivia Owner promised: Send the quote" in mos.alternatives[0][0]
    # Olivia's own digest still holds her word, in her words; nothing was handed to her.
    olivias = by_user[owner.email]
    assert "* You promised: Send the quote (Anna Berg, due Thu 5 Mar)" in olivias.body
    assert "HANDED OVER" not in olivias.body

    mail.outbox.clear()
    next_monday = monday + timedelta(days=7)
    with time_machine.travel(next_monday, tick=False):
        for run in digest_services.digest_dispatch(users=[member], now=next_monday):
            digest_services.digest_send(run_id=run)
    assert all("HANDED OVER" not in m.body for m in mail.outbox)  # told once


@pytest.mark.django_db
def test_a_failed_digest_still_tells_the_new_owner_in_its_retry(
    owner_client: Client, member: User, anna: Person, settings
) -> None:
    User.objects.filter(pk=member.pk).update(
        digest="daily", digest_hour=8, digest_since=datetime(2020, 1, 1, tzinfo=UTC)
    )
    _edit(owner_client, anna, member)
    morning = datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    settings.EMAIL_BACKEND = "tests.digests.test_digests.FailingBackend"

    with time_machine.travel(morning, tick=False):
        (run,) = digest_services.digest_dispatch(users=[User.objects.get(pk=member.pk)], now=morning)
        with pytest.raises(OSError, match="closed"):
            digest_services.digest_send(run_id=run)
        assert Handover.objects.get().told_at is None
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert digest_services.digest_send(run_id=run) == "sent"

    assert "HANDED OVER TO YOU" in mail.outbox[0].body
    assert Handover.objects.get().told_at is not None


@pytest.mark.django_db
def test_bulk_change_owner_hands_each_person_over(
    owner_client: Client, owner: User, member: User, workspace: Workspace, anna: Person
) -> None:
    carl = PersonFactory(workspace=workspace, owner=owner, first_name="Carl", last_name="Ek")
    mine = PersonFactory(workspace=workspace, owner=member, first_name="Dora", last_name="Fox")

    owner_client.post(
        reverse("people:bulk"), {"action": "change_owner", "owner": member.pk, "ids": [anna.pk, carl.pk, mine.pk]}
    )

    assert set(Person.objects.filter(owner=member).values_list("first_name", flat=True)) == {"Anna", "Carl", "Dora"}
    # Dora was Mo's already: nothing was handed over.
    assert sorted(h.person.first_name for h in Handover.objects.all()) == ["Anna", "Carl"]
    assert sorted(ReminderOccurrence.objects.filter(user=member).values_list("text", flat=True)) == [
        "Olivia Owner handed Anna Berg over to you, with 1 open follow-up, 1 open need and 2 open promises, "
        "1 of them made by Olivia Owner, who keeps it.",
        "Olivia Owner handed Carl Ek over to you.",
    ]
    assert Promise.objects.get(text="Send the quote").made_by == owner


@pytest.mark.django_db
def test_taking_a_customer_over_yourself_tells_nobody(member_client: Client, member: User, anna: Person) -> None:
    _edit(member_client, anna, member)

    anna.refresh_from_db()
    assert anna.owner == member
    assert not ReminderOccurrence.objects.exists()
    assert Handover.objects.get().told_at is not None  # kept as history, not for a digest


@pytest.mark.django_db
def test_a_viewer_cannot_hand_a_customer_over(viewer_client: Client, member: User, owner: User, anna: Person) -> None:
    edit = _edit(viewer_client, anna, member)
    bulk = viewer_client.post(reverse("people:bulk"), {"action": "change_owner", "owner": member.pk, "ids": [anna.pk]})

    assert edit.status_code == 403
    assert bulk.status_code == 403
    anna.refresh_from_db()
    assert anna.owner == owner
    assert not Handover.objects.exists()
    assert not ReminderOccurrence.objects.exists()


@pytest.mark.django_db
def test_an_outsider_cannot_hand_over_or_see_who_promised(
    outsider_client: Client, outsider: User, owner: User, anna: Person
) -> None:
    assert _edit(outsider_client, anna, outsider).status_code == 404
    assert outsider_client.get(reverse("people:detail", args=[anna.pk])).status_code == 404
    assert "Send the quote" not in outsider_client.get(reverse("dashboard")).content.decode()
    anna.refresh_from_db()
    assert anna.owner == owner
    assert not Handover.objects.exists()


@pytest.mark.django_db
def test_the_search_pages_say_who_promised(
    owner_client: Client, member_client: Client, member: User, anna: Person, counters_in_memory: None
) -> None:
    _edit(owner_client, anna, member)

    found = _text(member_client.get(reverse("search:results"), {"q": "quote"}))
    notes = _text(member_client.get(reverse("interactions:search"), {"q": "quote"}))

    assert "Olivia Owner promised · Anna Berg" in found
    assert "Olivia Owner promised: Send the quote" in notes


@pytest.mark.django_db
def test_a_promise_without_a_known_maker_is_the_owners_and_a_lost_account_is_we(
    owner: User, member: User, workspace: Workspace
) -> None:
    person = PersonFactory(workspace=workspace, owner=member, first_name="Ola")
    noted = interaction_services.promise_create(person=person, text="Send the brochure")  # an import, say

    assert noted.made_by == member
    Promise.objects.filter(pk=noted.pk).update(made_by=None)
    noted.refresh_from_db()
    assert noted.said_by(owner) == "We promised"


@pytest.mark.django_db
def test_the_migration_gives_old_promises_the_maker_they_had(owner: User, member: User, workspace: Workspace) -> None:
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("interactions.migrations.0007_promise_made_by").backfill_makers
    person = PersonFactory(workspace=workspace, owner=owner)
    logged = Interaction.objects.create(workspace=workspace, summary="Call", created_by=member)
    from_call = Promise.objects.create(workspace=workspace, person=person, interaction=logged, text="A")
    by_hand = Promise.objects.create(workspace=workspace, person=person, text="B")

    backfill(apps, None)

    assert Promise.objects.get(pk=from_call.pk).made_by == member  # who logged the conversation
    assert Promise.objects.get(pk=by_hand.pk).made_by == owner  # read as the owner's until now


@pytest.mark.django_db
@pytest.mark.parametrize("makers", [1, 8])
def test_listing_promises_by_many_teammates_costs_the_same_queries(
    owner_client: Client, owner: User, workspace: Workspace, makers: int, django_assert_max_num_queries
) -> None:
    person = PersonFactory(workspace=workspace, owner=owner, first_name="Anna", last_name="Berg")
    for i in range(makers):
        teammate = UserFactory(email=f"t{i}@example.com", display_name=f"Teammate {i}")
        MembershipFactory(workspace=workspace, user=teammate, role=Membership.Role.MEMBER)
        interaction_services.promise_create(person=person, user=teammate, text=f"Promise {i}")
    reminder_services.follow_up_create(person=person, due_on=date(2026, 3, 5))

    with django_assert_max_num_queries(27):  # four of them for the rows' "Ask about" lines
        dashboard = owner_client.get(reverse("dashboard"))
    with django_assert_max_num_queries(22):
        page = owner_client.get(reverse("people:detail", args=[person.pk]))

    assert f"Teammate {makers - 1} promised Promise {makers - 1}" in _section(dashboard, "promises-heading")
    assert f"Teammate {makers - 1} promised Promise {makers - 1}" in _section(page, "open-heading")


@pytest.mark.django_db
@pytest.mark.parametrize("people", [1, 6])
def test_the_digests_hand_over_line_costs_the_same_queries_for_one_or_many(
    owner: User, member: User, workspace: Workspace, people: int, django_assert_max_num_queries
) -> None:
    book = [PersonFactory(workspace=workspace, owner=owner, first_name=f"P{i}") for i in range(people)]
    for p in book:
        interaction_services.promise_create(person=p, user=owner, text=f"Quote for {p.first_name}")
        reminder_services.follow_up_create(person=p, due_on=date(2026, 3, 20))
    people_bulk_update(
        membership=Membership.objects.get(user=owner),
        people=Person.objects.filter(pk__in=[p.pk for p in book]),
        action="change_owner",
        owner=member,
    )

    with django_assert_max_num_queries(5):
        received = handovers_to_tell(user=member)
        lines = [
            (h.person.first_name, len(h.person.open_follow_ups), [p.said_by(member) for p in h.person.open_promises])
            for h in received
        ]

    assert len(lines) == people
    assert all(line[1:] == (1, ["Olivia Owner promised"]) for line in lines)


@pytest.mark.django_db
def test_the_calendar_feed_names_a_teammates_promise(
    owner_client: Client, member_client: Client, member: User, anna: Person
) -> None:
    from exports.models import CalendarFeed

    _edit(owner_client, anna, member)
    member_client.post(reverse("exports:feed_create"))
    feed = Client().get(reverse("exports:feed", args=[CalendarFeed.objects.get(user=member).token]))

    assert "SUMMARY:Olivia Owner promised Anna Berg: Send the quote" in feed.content.decode()


@pytest.mark.django_db
def test_the_edit_form_says_what_a_hand_over_does(owner_client: Client, anna: Person) -> None:
    page = _text(owner_client.get(reverse("people:edit", args=[anna.pk])))

    assert "the new owner is told; a promise stays with whoever made it" in page
