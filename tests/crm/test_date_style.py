"""Dates follow the user's own date style, typed and shown alike; the time-zone list is places."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import html5lib
import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from crm import dateformats
from crm import services as crm_services
from crm.models import Membership, Signup, User, Workspace
from digests import services as digest_services
from people.models import Person
from reminders import services as reminder_services
from tests.factories import PersonFactory, UserFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
MET = date(2025, 3, 5)  # 5 March: "03/05/2025" in the US, "05/03/2025" in the UK


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _user(workspace: Workspace, style: str, **fields: object) -> User:
    user = UserFactory(date_style=style, current_workspace=workspace, **fields)
    Membership.objects.create(workspace=workspace, user=user, role="owner")
    return user


def _field(page: str, name: str) -> dict[str, str]:
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    (element,) = [e for e in tree.iter() if e.get("name") == name]
    return dict(element.attrib)


def _edit_data(person: Person, **overrides: str) -> dict[str, str]:
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "owner": str(person.owner_id),
        "met_on": "",
        **{f"{prefix}-{key}": "0" for prefix in ("contacts", "dates") for key in ("TOTAL_FORMS", "INITIAL_FORMS")},
    }
    return {**data, **overrides}


# --- Typed and shown alike ------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("style", "shown_in_form", "placeholder", "on_page", "typed", "stored", "shown_after"),
    [
        ("en-us", "03/05/2025", "mm/dd/yyyy", "Mar 5, 2025", "04/07/2025", date(2025, 4, 7), "Apr 7, 2025"),
        ("en-gb", "05/03/2025", "dd/mm/yyyy", "5 Mar 2025", "04/07/2025", date(2025, 7, 4), "4 Jul 2025"),
        ("iso", "2025-03-05", "yyyy-mm-dd", "2025-03-05", "2025-07-04", date(2025, 7, 4), "2025-07-04"),
        ("de", "05.03.2025", "dd.mm.yyyy", "05.03.2025", "04.07.2025", date(2025, 7, 4), "04.07.2025"),
    ],
)
def test_a_date_is_typed_and_shown_in_the_users_style_on_the_person_page_and_its_form(
    workspace: Workspace,
    style: str,
    shown_in_form: str,
    placeholder: str,
    on_page: str,
    typed: str,
    stored: date,
    shown_after: str,
) -> None:
    user = _user(workspace, style)
    client = _client(user)
    person = PersonFactory(workspace=workspace, owner=user, how_we_met="Trade fair", met_on=MET)

    page = client.get(person.get_absolute_url()).content.decode()
    assert f"How we met: Trade fair ({on_page})" in page

    form = client.get(reverse("people:edit", args=[person.pk])).content.decode()
    met_on = _field(form, "met_on")
    assert (met_on["value"], met_on["placeholder"]) == (shown_in_form, placeholder)

    response = client.post(reverse("people:edit", args=[person.pk]), _edit_data(person, met_on=typed), follow=True)
    person.refresh_from_db()
    assert person.met_on == stored
    assert f"({shown_after})" in response.content.decode()
    again = client.get(reverse("people:edit", args=[person.pk])).content.decode()
    assert _field(again, "met_on")["value"] == typed


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_date_that_does_not_fit_the_style_is_refused_next_to_the_field_and_kept(workspace: Workspace) -> None:
    user = _user(workspace, "en-us")
    person = PersonFactory(workspace=workspace, owner=user)

    # 13/05/2025 is 13 May to a British eye; in the US there is no month 13.
    response = _client(user).post(reverse("people:edit", args=[person.pk]), _edit_data(person, met_on="13/05/2025"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid date as mm/dd/yyyy, for example 12/31/2025." in page
    assert _field(page, "met_on")["value"] == "13/05/2025"  # nothing typed is lost
    person.refresh_from_db()
    assert person.met_on is None


@pytest.mark.parametrize(
    ("style", "typed", "read"),
    [
        ("en-us", "3/5/2025", date(2025, 3, 5)),
        ("en-gb", "3/5/2025", date(2025, 5, 3)),
        ("en-gb", "3.5.2025", date(2025, 5, 3)),
        ("en-us", "2025-03-05", date(2025, 3, 5)),  # year first is always yyyy-mm-dd
        ("de", "2025-03-05", date(2025, 3, 5)),
        ("iso", "2025/3/5", date(2025, 3, 5)),
    ],
)
def test_typed_dates_are_read_in_the_styles_order(style: str, typed: str, read: date) -> None:
    assert dateformats.parse_date(typed, style=dateformats.get_style(style)) == read


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("05/03/25", "Enter a valid date with the year in full: dd/mm/yyyy"),
        ("31/02/2025", "February 2025 has no day 31."),
        ("yesterday", "Enter a valid date as dd/mm/yyyy"),
        ("00/01/0000", "Enter a valid date as dd/mm/yyyy"),
    ],
)
def test_a_date_that_cannot_be_read_says_how_to_type_it(typed: str, message: str) -> None:
    with pytest.raises(Exception, match=re.escape(message)):
        dateformats.parse_date(typed, style=dateformats.get_style("en-gb"))


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_birthday_inputs_come_in_the_order_the_user_writes_dates(workspace: Workspace) -> None:
    def order(style: str) -> list[str]:
        page = _client(_user(workspace, style)).get(reverse("people:create")).content.decode()
        return re.findall(r'name="birthday_(day|month|year)"', page)

    assert order("en-us") == ["month", "day", "year"]
    assert order("en-gb") == ["day", "month", "year"]
    assert order("iso") == ["year", "month", "day"]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_conversation_time_round_trips_in_the_users_style(workspace: Workspace) -> None:
    user = _user(workspace, "en-us", time_zone="Africa/Lagos")
    person = PersonFactory(workspace=workspace, owner=user)
    client = _client(user)

    form = client.get(reverse("interactions:create")).content.decode()
    assert _field(form, "occurred_at")["value"] == "03/02/2026 10:00"  # 09:00 UTC is 10:00 in Lagos
    data = {"kind": "call", "occurred_at": "03/01/2026 2:30 pm", "people": str(person.pk), "summary": "Quote",
            **{f"{prefix}-{key}": "0" for prefix in ("promises", "needs", "facts")
               for key in ("TOTAL_FORMS", "INITIAL_FORMS")}}  # fmt: skip
    client.post(reverse("interactions:create"), data)

    interaction = person.interactions.get()
    assert interaction.occurred_at == datetime(2026, 3, 1, 13, 30, tzinfo=UTC)
    page = client.get(person.get_absolute_url()).content.decode()
    assert "Mar 1, 2026, 14:30" in page


@pytest.mark.django_db
def test_the_digest_writes_dates_in_the_recipients_style(workspace: Workspace) -> None:
    for email, style in (("us@example.com", "en-us"), ("uk@example.com", "en-gb")):
        user = _user(
            workspace,
            style,
            email=email,
            digest="weekly",
            digest_weekday=0,
            digest_since=datetime(2020, 1, 1, tzinfo=UTC),
        )
        person = PersonFactory(workspace=workspace, owner=user)
        reminder_services.follow_up_create(person=person, due_on=date(2026, 2, 26), note="Send the quote")
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        for run_id in digest_services.digest_dispatch(users=list(User.objects.all()), now=now):
            digest_services.digest_send(run_id=run_id)

    bodies = {message.to[0]: (message.body, message.alternatives[0][0]) for message in mail.outbox}
    assert all("was due Thu, Feb 26" in body for body in bodies["us@example.com"])
    assert all("Monday, March 2, 2026" in body for body in bodies["us@example.com"])
    assert all("was due Thu 26 Feb" in body for body in bodies["uk@example.com"])
    assert all("Monday 2 March 2026" in body for body in bodies["uk@example.com"])


# --- Preset from the browser -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "style"),
    [
        ("en-US,en;q=0.9", "en-us"),
        ("en-GB,en;q=0.9", "en-gb"),
        ("en-NG", "en-gb"),
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("fr-FR", "en-gb"),
        ("sv-SE", "iso"),
        ("nl;q=0.5, en-US;q=0.9", "en-us"),
        ("", "en-gb"),
        ("*", "en-gb"),
    ],
)
def test_the_browsers_language_gives_the_style(header: str, style: str) -> None:
    assert dateformats.style_from_accept_language(header) == style


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_sign_up_presets_the_style_from_the_browser_and_keeps_it(client: Client) -> None:
    page = client.get(reverse("signup"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    chosen = re.search(r'<option value="([^"]+)" selected>English \(US\)', page)
    assert chosen
    assert chosen[1] == "en-us"

    password = "Kq8#vLp2!xZt"
    data = {"email": "ada@example.com", "time_zone": "America/Chicago", "password1": password, "password2": password}
    client.post(reverse("signup"), data, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")  # as preset, even if not posted
    signup = Signup.objects.get()
    user = crm_services.signup_confirm(token=crm_services.signup_token(signup), password=password)

    assert (signup.date_style, user.date_style) == ("en-us", "en-us")


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_user_who_never_chose_gets_the_browsers_style_on_their_first_page(workspace: Workspace) -> None:
    never_chose = _user(workspace, "")
    chose = _user(workspace, "iso")

    _client(never_chose).get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="en-US")
    _client(chose).get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="en-US")

    never_chose.refresh_from_db()
    chose.refresh_from_db()
    assert (never_chose.date_style, chose.date_style) == ("en-us", "iso")


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_style_is_changed_in_settings(owner: User, owner_client: Client) -> None:
    page = owner_client.get(reverse("account_settings")).content.decode()
    assert "English (US): mm/dd/yyyy" in page
    data = {"display_name": "Olivia", "time_zone": "Europe/London", "date_style": "en-us", "digest": "weekly",
            "digest_weekday": "0", "digest_hour": "8", "date_lead_days": "7"}  # fmt: skip

    owner_client.post(reverse("account_settings"), data)

    owner.refresh_from_db()
    assert owner.date_style == "en-us"


# --- Time zones ----------------------------------------------------------------------------


def _zone_select(page: str) -> tuple[dict[str, list[tuple[str, str]]], str | None]:
    """The time-zone select's options by optgroup ("" outside any), and the selected value."""
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    (select,) = [e for e in tree.iter("select") if e.get("name") == "time_zone"]
    groups: dict[str, list[tuple[str, str]]] = {}
    selected = None
    for child in select:
        options = list(child.iter("option")) if child.tag == "optgroup" else [child]
        for option in options:
            groups.setdefault(child.get("label", "") if child.tag == "optgroup" else "", []).append(
                (option.get("value"), option.text)
            )
            if option.get("selected") is not None:
                selected = option.get("value")
    return groups, selected


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_settings_offer_places_grouped_by_region_without_factory_or_localtime(owner_client: Client) -> None:
    page = owner_client.get(reverse("account_settings")).content.decode()
    groups, selected = _zone_select(page)
    values = {value for options in groups.values() for value, _ in options}

    assert {"Africa", "America", "Asia", "Australia", "Europe", "Pacific"} <= set(groups)
    assert ("Africa/Lagos", "Lagos (UTC+01:00)") in groups["Africa"]
    assert ("America/Argentina/Buenos_Aires", "Argentina / Buenos Aires (UTC-03:00)") in groups["America"]
    assert ("Asia/Kolkata", "Kolkata (UTC+05:30)") in groups["Asia"]
    assert groups[""] == [("UTC", "UTC")]
    junk = {"Factory", "localtime", "posixrules", "Etc/GMT+5", "US/Eastern", "Asia/Calcutta", "GB", "EST5EDT"}
    assert not values & junk
    assert not any(value.startswith("Etc/") for value in values)
    assert selected == "Europe/London"
    assert 'data-zone-filter="1"' in page


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_stored_old_zone_name_shows_as_its_place_and_saves_as_it(owner: User, owner_client: Client) -> None:
    User.objects.filter(pk=owner.pk).update(time_zone="Asia/Calcutta")
    _, selected = _zone_select(owner_client.get(reverse("account_settings")).content.decode())
    assert selected == "Asia/Kolkata"

    data = {"display_name": "Olivia", "time_zone": "Asia/Calcutta", "digest": "weekly", "digest_weekday": "0",
            "digest_hour": "8", "date_lead_days": "7"}  # fmt: skip
    response = owner_client.post(reverse("account_settings"), data, follow=True)  # as a browser reporting the old name

    assert "Settings saved." in response.content.decode()
    owner.refresh_from_db()
    assert owner.time_zone == "Asia/Kolkata"


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_stored_zone_that_is_no_place_stays_chosen_when_other_settings_are_saved(
    owner: User, owner_client: Client
) -> None:
    User.objects.filter(pk=owner.pk).update(time_zone="EST5EDT")
    groups, selected = _zone_select(owner_client.get(reverse("account_settings")).content.decode())
    assert selected == "EST5EDT"
    assert groups["Your current zone"] == [("EST5EDT", "EST5EDT (UTC-05:00)")]

    data = {"display_name": "New name", "time_zone": "EST5EDT", "digest": "weekly", "digest_weekday": "0",
            "digest_hour": "8", "date_lead_days": "7"}  # fmt: skip
    owner_client.post(reverse("account_settings"), data)
    owner.refresh_from_db()
    assert (owner.display_name, owner.time_zone) == ("New name", "EST5EDT")

    data["time_zone"] = "Factory"  # not theirs, not a place: refused
    response = owner_client.post(reverse("account_settings"), data)
    assert "Select a valid choice" in response.content.decode()
