"""From the quick log to the full form: "More details" keeps who, how, what and when to follow up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from crm.models import Workspace
from interactions.models import FollowUp, Interaction
from tests.factories import PersonFactory

QUICK = {
    "quick-kind": "whatsapp",
    "quick-summary": "Asked about the spring catalogue",
    "quick-follow_up_on": "27/03/2026",  # as typed, in the user's date style (UK here)
    "quick-promise": "Send the price list",
    "more": "1",
}


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 3, 20, 10, 0, tzinfo=UTC), tick=False):
        yield


def _selected(page: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S)
    assert select, f"no select {name}"
    return re.findall(r'<option value="([^"]*)" selected>', select.group(0))


@pytest.mark.django_db
def test_more_details_opens_the_full_form_with_everything_typed_in_the_quick_log(
    owner_client: Client, workspace: Workspace
) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg")
    on_her_page = anna.get_absolute_url()

    response = owner_client.post(
        reverse("interactions:create"), {**QUICK, "quick-person": anna.pk, "next": on_her_page}
    )

    assert response.status_code == 302
    address = urlsplit(response.url)
    assert address.path == reverse("interactions:create")
    # The words stay out of the address (browser history, server logs); the address names a draft.
    assert "spring" not in response.url
    assert "price" not in response.url
    assert set(parse_qs(address.query)) == {"draft", "next"}
    assert not Interaction.objects.exists()  # nothing saved yet
    owner_client.get(response.url)
    page = owner_client.get(response.url).content.decode()  # a reload keeps it all
    assert _selected(page, "people") == [str(anna.pk)]
    assert f'<option value="{anna.pk}" selected>Anna Berg</option>' in page
    assert _selected(page, "kind") == ["whatsapp"]
    assert 'value="Asked about the spring catalogue"' in page
    assert re.search(r'name="follow_up_on" value="27/03/2026"', page)  # in the user's date style
    assert re.search(r'name="promises-0-text" value="Send the price list"', page)
    assert f'name="next" value="{on_her_page}"' in page


@pytest.mark.django_db
def test_what_was_carried_over_is_saved_with_what_was_added_and_goes_back_to_her_page(
    owner_client: Client, workspace: Workspace
) -> None:
    anna = PersonFactory(workspace=workspace)
    start = owner_client.post(reverse("interactions:create"), {**QUICK, "quick-person": anna.pk}).url
    page = owner_client.get(start).content.decode()
    # What the browser sends back: the form as it was shown, and notes added.
    sent = {
        "kind": "whatsapp",
        "occurred_at": "2026-03-20T09:30",
        "people": [anna.pk],
        "summary": "Asked about the spring catalogue",
        "notes": "She wants it in print too",
        "follow_up_on": "2026-03-27",
        "promises-TOTAL_FORMS": re.search(r'name="promises-TOTAL_FORMS" value="(\d+)"', page).group(1),
        "promises-INITIAL_FORMS": re.search(r'name="promises-INITIAL_FORMS" value="(\d+)"', page).group(1),
        "promises-0-direction": "mine",
        "promises-0-text": "Send the price list",
        "needs-TOTAL_FORMS": "0",
        "needs-INITIAL_FORMS": "0",
        "facts-TOTAL_FORMS": "0",
        "facts-INITIAL_FORMS": "0",
    }

    response = owner_client.post(start, sent)

    assert response.status_code == 302
    assert response.url == anna.get_absolute_url()
    interaction = Interaction.objects.get()
    assert (interaction.kind, interaction.notes) == ("whatsapp", "She wants it in print too")
    assert [p.text for p in interaction.promises.all()] == ["Send the price list"]
    assert FollowUp.objects.get().due_on.isoformat() == "2026-03-27"


@pytest.mark.django_db
def test_the_quick_log_offers_more_details_after_log_it_so_enter_still_saves(owner_client: Client) -> None:
    page = owner_client.get(reverse("dashboard")).content.decode()
    modal = page[page.index('id="quick-log"') :]
    buttons = re.findall(r'<button type="submit"[^>]*>([^<]+)</button>', modal)
    assert buttons[:2] == ["Log it", "More details"]
    assert f'formaction="{reverse("interactions:create")}" formnovalidate' in modal

    failed = owner_client.post(reverse("interactions:quick"), {"quick-summary": "No one chosen"})
    assert failed.status_code == 400  # the quick log's own page, without JavaScript: the same two buttons
    page = failed.content.decode()
    assert page.index(">Log it</button>") < page.index(">More details</button>")


@pytest.mark.django_db
def test_someone_of_another_workspace_is_not_carried_over(
    owner_client: Client, workspace: Workspace, outsider_client: Client
) -> None:
    stranger = PersonFactory(first_name="Zebedee")  # another workspace's

    start = owner_client.post(reverse("interactions:create"), {**QUICK, "quick-person": stranger.pk}).url
    page = owner_client.get(start).content.decode()

    assert "Zebedee" not in page
    assert _selected(page, "people") == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "follow_up_on=2026-02-31",
        "follow_up_on=soon",
        "kind=carrier-pigeon",
        "person=abc",
        "person=99999999999999999999",
    ],
)
def test_an_address_the_form_cannot_start_from_is_an_empty_field_not_an_error(
    owner_client: Client, workspace: Workspace, query: str
) -> None:
    response = owner_client.get(f"{reverse('interactions:create')}?summary=Kept&{query}")

    assert response.status_code == 200
    assert 'value="Kept"' in response.content.decode()


@pytest.mark.django_db
def test_more_details_is_for_those_who_may_log(viewer_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)

    response = viewer_client.post(reverse("interactions:create"), {**QUICK, "quick-person": anna.pk})

    assert response.status_code == 403
