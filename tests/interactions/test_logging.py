"""Logging conversations: the full form, the quick log, edit and delete, last contacted."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import User, Workspace
from interactions.models import FollowUp, Interaction, Need, Promise
from people.models import Person, ProfileFact
from tests.factories import InteractionFactory, PersonFactory


def _full_log(people: list[Person], **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "meeting",
        "occurred_at": "2026-11-20T10:30",
        "people": [p.pk for p in people],
        "summary": "Lunch at their bakery",
        "notes": "They are *expanding*",
        "sentiment": "positive",
        "follow_up_on": "2026-11-27",
        "follow_up_note": "Send the quote",
        "promises-TOTAL_FORMS": "1",
        "promises-INITIAL_FORMS": "0",
        "promises-0-direction": "mine",
        "promises-0-text": "Send the quote by Friday",
        "promises-0-due_on": "2026-11-27",
        "needs-TOTAL_FORMS": "1",
        "needs-INITIAL_FORMS": "0",
        "needs-0-title": "A second oven",
        "needs-0-details": "Demand doubled",
        "facts-TOTAL_FORMS": "1",
        "facts-INITIAL_FORMS": "0",
        "facts-0-fact_type": "favourite_restaurant",
        "facts-0-value": "Dishoom",
    }
    data.update(extra)
    return data


@pytest.mark.django_db
def test_one_form_logs_the_conversation_and_everything_it_raised(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="A")
    ben = PersonFactory(workspace=workspace, first_name="Ben", last_name="B")

    response = owner_client.post(reverse("interactions:create"), _full_log([anna, ben]), follow=True)

    interaction = Interaction.objects.get()
    assert set(interaction.people.all()) == {anna, ben}
    assert (interaction.kind, interaction.sentiment, interaction.created_by) == ("meeting", "positive", owner)
    # 10:30 in the owner's time zone (Europe/London, GMT in November).
    assert interaction.occurred_at == datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    follow_up = FollowUp.objects.get()
    assert (follow_up.person, follow_up.due_on.isoformat(), follow_up.note) == (anna, "2026-11-27", "Send the quote")
    promise = Promise.objects.get()
    assert (promise.person, promise.text, promise.interaction) == (anna, "Send the quote by Friday", interaction)
    need = Need.objects.get()
    assert (need.person, need.title, list(need.interactions.all())) == (anna, "A second oven", [interaction])
    fact = ProfileFact.objects.get()
    assert (fact.section, fact.value, fact.source_interaction) == ("lifestyle", "Dishoom", interaction)
    for person in (anna, ben):
        person.refresh_from_db()
        assert person.last_contacted_at == interaction.occurred_at
    assert "Logged: Lunch at their bakery" in response.content.decode()


@pytest.mark.django_db
def test_a_bad_row_saves_nothing_and_keeps_what_was_typed(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    data = _full_log([anna], **{"facts-0-fact_type": "", "facts-0-value": "Something learned"})

    response = owner_client.post(reverse("interactions:create"), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose what kind of fact this is." in page
    assert "Lunch at their bakery" in page
    assert "Send the quote by Friday" in page
    assert not Interaction.objects.exists()
    assert not Promise.objects.exists()


@pytest.mark.django_db
def test_a_summary_and_a_person_are_required(owner_client: Client) -> None:
    response = owner_client.post(reverse("interactions:create"), _full_log([], summary=""))

    page = response.content.decode()
    assert "Choose who you talked with." in page
    assert "This field is required." in page
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_people_of_another_workspace_cannot_be_logged(
    owner_client: Client, workspace: Workspace, other_workspace: Workspace
) -> None:
    mine = PersonFactory(workspace=workspace)
    theirs = PersonFactory(workspace=other_workspace)

    full = owner_client.post(reverse("interactions:create"), _full_log([mine, theirs]))
    quick = owner_client.post(
        reverse("interactions:quick"), {"quick-person": theirs.pk, "quick-kind": "call", "quick-summary": "Hi"}
    )

    assert "Select a valid choice" in full.content.decode()
    assert quick.status_code == 400
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_a_need_of_someone_else_cannot_be_marked_solved(owner_client: Client, workspace: Workspace) -> None:
    from interactions import services

    anna, ben = PersonFactory(workspace=workspace), PersonFactory(workspace=workspace)
    services.need_open(person=anna, title="Anna's problem")  # so the form offers needs at all
    bens_need = services.need_open(person=ben, title="Ben's problem")

    response = owner_client.post(reverse("interactions:create"), _full_log([anna], solved_needs=[bens_need.pk]))

    assert "Select a valid choice" in response.content.decode()
    assert not Interaction.objects.exists()
    bens_need.refresh_from_db()
    assert bens_need.status == "open"


@pytest.mark.django_db
def test_solving_a_need_in_a_conversation_records_it(owner_client: Client, workspace: Workspace) -> None:
    from interactions import services

    anna = PersonFactory(workspace=workspace)
    need = services.need_open(person=anna, title="Cheaper flour")

    owner_client.post(reverse("interactions:create"), _full_log([anna], solved_needs=[need.pk]))

    need.refresh_from_db()
    assert need.status == "solved"
    assert need.solved_on == timezone.localdate()
    assert need.interactions.count() == 1
    assert [u.status for u in need.updates.order_by("at", "id")] == ["open", "solved"]


@pytest.mark.django_db
def test_quick_log_takes_seconds_and_resets_the_clock(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, last_contacted_at=timezone.now() - timedelta(days=90))
    next_week = (timezone.localdate() + timedelta(days=7)).isoformat()

    response = owner_client.post(
        reverse("interactions:quick"),
        {
            "quick-person": anna.pk,
            "quick-kind": "call",
            "quick-summary": "Checked in",
            "quick-follow_up_on": next_week,
            "next": "/people/",
        },
    )

    assert response.status_code == 302
    assert response.url == "/people/"
    anna.refresh_from_db()
    assert timezone.now() - anna.last_contacted_at < timedelta(minutes=1)
    assert FollowUp.objects.get().due_on.isoformat() == next_week


@pytest.mark.django_db
def test_it_records_a_promise_made_in_the_quick_log(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    data = {
        "quick-person": anna.pk,
        "quick-kind": "call",
        "quick-summary": "Pricing",
        "quick-promise": "Send the quote",
    }

    response = owner_client.post(reverse("interactions:quick"), data)

    assert response.status_code == 302
    promise = Promise.objects.get()
    assert (promise.person, promise.text, promise.direction) == (anna, "Send the quote", Promise.Direction.MINE)
    assert promise.interaction == Interaction.objects.get()
    page = owner_client.get(anna.get_absolute_url()).content.decode()
    assert "Send the quote" in page


@pytest.mark.django_db
def test_quick_log_errors_keep_what_was_typed(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Annabel")

    response = owner_client.post(
        reverse("interactions:quick"), {"quick-person": anna.pk, "quick-kind": "visit", "quick-summary": ""}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page
    assert f'<option value="{anna.pk}" selected>Annabel' in page
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_quick_log_never_redirects_off_site(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)

    response = owner_client.post(
        reverse("interactions:quick"),
        {"quick-person": anna.pk, "quick-kind": "call", "quick-summary": "x", "next": "https://evil.example/"},
    )

    assert response.url == anna.get_absolute_url()


@pytest.mark.django_db
def test_every_page_offers_the_quick_log_with_the_l_shortcut(owner_client: Client) -> None:
    page = owner_client.get(reverse("people:list")).content.decode()

    assert 'id="quick-log"' in page
    assert "press L" in page
    assert 'name="quick-summary"' in page


@pytest.mark.django_db
def test_the_quick_log_on_every_page_never_shows_what_someone_else_typed(
    owner_client: Client, member_client: Client, workspace: Workspace
) -> None:
    """The empty quick-log fields are rendered once and reused: a failed log must not be what is reused."""
    anna = PersonFactory(workspace=workspace, first_name="Annabel")
    failed = owner_client.post(
        reverse("interactions:quick"),
        {"quick-person": anna.pk, "quick-kind": "visit", "quick-summary": "", "quick-promise": "Typed-by-owner"},
    )
    assert "Typed-by-owner" in failed.content.decode()

    for client in (member_client, owner_client):
        page = client.get(reverse("dashboard")).content.decode()
        modal = page[page.index('id="quick-log"') :]
        assert 'name="quick-summary"' in modal
        assert "Typed-by-owner" not in modal
        assert "Annabel" not in modal
        assert "This field is required." not in modal


@pytest.mark.django_db
def test_the_quick_log_modal_posts_with_its_own_visitors_csrf_token(
    owner_client: Client, member: User, workspace: Workspace
) -> None:
    owner_client.get(reverse("dashboard"))  # someone else's page rendered the shared fields first
    anna = PersonFactory(workspace=workspace)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    page = browser.get(reverse("people:list")).content.decode()
    modal = page[page.index('id="quick-log"') :]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', modal).group(1)

    response = browser.post(
        reverse("interactions:quick"),
        {"csrfmiddlewaretoken": token, "quick-person": anna.pk, "quick-kind": "call", "quick-summary": "Hello"},
    )

    assert response.status_code == 302
    assert Interaction.objects.filter(summary="Hello").exists()


@pytest.mark.django_db
def test_editing_or_deleting_keeps_last_contacted_right(owner_client: Client, workspace: Workspace) -> None:
    anna, ben = PersonFactory(workspace=workspace), PersonFactory(workspace=workspace)
    older = InteractionFactory(workspace=workspace, people=[anna], occurred_at=timezone.now() - timedelta(days=30))
    latest = InteractionFactory(workspace=workspace, people=[anna], occurred_at=timezone.now() - timedelta(days=1))
    from interactions.services import people_refresh_last_contacted

    people_refresh_last_contacted(person_ids=[anna.pk, ben.pk])

    owner_client.post(
        reverse("interactions:edit", args=[latest.pk]),
        {
            "kind": "call",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "people": [ben.pk],
            "summary": "Moved",
        },
    )
    anna.refresh_from_db()
    ben.refresh_from_db()
    assert anna.last_contacted_at == older.occurred_at
    assert ben.last_contacted_at is not None

    confirm = owner_client.get(reverse("interactions:delete", args=[older.pk]))
    assert "Delete this conversation?" in confirm.content.decode()
    owner_client.post(reverse("interactions:delete", args=[older.pk]))
    anna.refresh_from_db()
    assert anna.last_contacted_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["interactions:edit", "interactions:delete"])
def test_another_workspaces_conversation_is_a_404(outsider_client: Client, workspace: Workspace, name: str) -> None:
    interaction = InteractionFactory(workspace=workspace, people=[PersonFactory(workspace=workspace)], summary="Secret")

    assert outsider_client.get(reverse(name, args=[interaction.pk])).status_code == 404
    assert outsider_client.post(reverse(name, args=[interaction.pk]), {"summary": "x"}).status_code == 404
    assert Interaction.objects.filter(pk=interaction.pk, summary="Secret").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["²", "9" * 25, "-1", "abc"])
def test_hostile_ids_are_refused_not_a_500(owner_client: Client, workspace: Workspace, bad: str) -> None:
    anna = PersonFactory(workspace=workspace)

    assert owner_client.get(reverse("interactions:create"), {"person": bad}).status_code == 200
    assert owner_client.post(reverse("interactions:create"), {**_full_log([anna]), "people": [bad]}).status_code == 200
    quick = owner_client.post(
        reverse("interactions:quick"), {"quick-person": bad, "quick-summary": "x", "quick-kind": "call"}
    )
    assert quick.status_code == 400
    bulk = owner_client.post(reverse("people:bulk"), {"ids": [bad], "action": "archive"})
    assert bulk.status_code == 302
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_a_conversation_cannot_be_dated_in_the_future(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)

    with time_machine.travel(datetime(2026, 6, 1, 10, tzinfo=UTC), tick=False):
        response = owner_client.post(reverse("interactions:create"), _full_log([anna], occurred_at="2026-06-02T10:00"))

    assert "A conversation cannot be in the future" in response.content.decode()
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_a_conversation_with_an_archived_person_can_still_be_edited(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, archived_at=timezone.now())
    interaction = InteractionFactory(workspace=workspace, people=[anna], summary="Old")

    owner_client.post(
        reverse("interactions:edit", args=[interaction.pk]),
        {"kind": "call", "occurred_at": "2026-01-05T10:00", "people": [anna.pk], "summary": "Old, corrected"},
    )

    interaction.refresh_from_db()
    assert interaction.summary == "Old, corrected"
