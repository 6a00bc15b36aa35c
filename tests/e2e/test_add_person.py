"""Adding a customer one has just met, in the browser: their email and phone first, their family
and pets in the same save, a family member picked by name, and every mistake shown next to its
field where the eye can see it (``is_visible()``, not only somewhere in the HTML)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Locator, expect

from crm.models import Membership, User
from people.models import ContactMethod, FamilyMember, Person, Pet
from tests.e2e.browser import Visitor, field, log_in
from tests.factories import InteractionFactory, MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def on_monday() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def ngozi(db: None) -> User:
    """An owner with a workspace of her own, and Chidi already in it."""
    workspace = WorkspaceFactory(name="Okafor Imports")
    user = UserFactory(email="ngozi@example.com", display_name="Ngozi Okafor", current_workspace=workspace)
    MembershipFactory(workspace=workspace, user=user, role=Membership.Role.OWNER)
    PersonFactory(workspace=workspace, first_name="Chidi", last_name="Okafor", owner=user)
    return user


def _row(visitor: Visitor, name: str) -> Locator:
    """The formset row (a card) holding the input of this name."""
    return visitor.page.locator("[data-formset-row]").filter(has=visitor.page.locator(f'[name="{name}"]'))


def _error(visitor: Visitor, name: str, message: str) -> Locator:
    """The message, looked for inside the row or field block of this input only."""
    # crispy-forms wraps each field in a div.mb-3; the last one around the input is its own.
    block = visitor.page.locator(f'div.mb-3:has([name="{name}"])').last
    return block.get_by_text(message, exact=True)


def test_it_adds_a_customer_with_email_phone_family_and_pets_and_shows_every_mistake(
    visit: Callable[..., Visitor], ngozi: User, on_monday: None
) -> None:
    me = visit()
    page = me.page
    log_in(me, ngozi.email)
    me.goto("/people/new/")

    field(me, "First name").fill("Amaka")
    field(me, "Last name").fill("Eze")
    expect(page.locator("[name=contacts-0-kind]")).to_have_value("email")
    expect(page.locator("[name=contacts-1-kind]")).to_have_value("phone")
    page.locator("[name=contacts-0-value]").fill("Amaka@Eze.example")
    page.locator("[name=contacts-0-label]").fill("work")
    page.locator("[name=contacts-1-value]").fill("0803 555")  # too short to exist
    page.locator("[name=contacts-1-label]").fill("mobile")
    page.get_by_role("button", name="Add another contact").click()
    page.locator("[name=contacts-2-kind]").select_option(label="Email")
    page.locator("[name=contacts-2-value]").fill("amaka@home.example")
    page.locator("[name=birthday_day]").fill("31")
    page.locator("[name=birthday_month]").select_option(label="February")

    page.locator("[name=family-0-relation]").select_option(label="Spouse")
    page.locator("[name=family-0-name]").fill("Chidi")
    # The family link is picked by name with the shared picker, never typed as a number.
    expect(page.get_by_placeholder("Person number")).to_have_count(0)
    picker = _row(me, "family-0-name").get_by_label("Search people by name")
    picker.fill("Chi")
    expect(_row(me, "family-0-name").locator("datalist option")).to_have_count(1)
    picker.press("Enter")
    chidi = Person.objects.get(first_name="Chidi")
    expect(page.locator("[name=family-0-linked_person]")).to_have_value(str(chidi.pk))
    page.get_by_role("button", name="Add another family member").click()
    page.locator("[name=family-1-relation]").select_option(label="Child")
    page.locator("[name=family-1-name]").fill("Obi")
    page.locator("[name=family-1-birthday_day]").fill("30")
    page.locator("[name=family-1-birthday_month]").select_option(label="February")
    page.locator("[name=pets-0-name]").fill("Bingo")
    page.get_by_role("button", name="Add another pet").click()
    page.locator("[name=pets-1-name]").fill("Tiger")
    page.get_by_role("button", name="Save").click()
    me.audit()

    # Refused, nothing written, every message next to its field and visible, nothing typed lost.
    expect(_error(me, "birthday_day", "February has no day 31.")).to_be_visible()
    expect(_error(me, "family-1-birthday_day", "February has no day 30.")).to_be_visible()
    phone_error = "This phone number does not exist. Check the digits and the country code."
    expect(_error(me, "contacts-1-value", phone_error)).to_be_visible()
    assert not Person.objects.filter(first_name="Amaka").exists()
    assert not ContactMethod.objects.exists()
    expect(page.locator("[name=contacts-0-value]")).to_have_value("Amaka@Eze.example")
    expect(page.locator("[name=contacts-2-value]")).to_have_value("amaka@home.example")
    expect(page.locator("[name=family-1-name]")).to_have_value("Obi")
    expect(page.locator("[name=pets-1-name]")).to_have_value("Tiger")
    expect(page.locator("[name=family-0-linked_person]")).to_have_value(str(chidi.pk))
    me.screenshot("add-person-errors")

    page.locator("[name=birthday_day]").fill("28")
    page.locator("[name=family-1-birthday_day]").fill("14")
    page.locator("[name=contacts-1-value]").fill("+234 803 555 0142")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Amaka Eze")).to_be_visible()
    me.audit()

    contact = page.get_by_role("region", name="Contact")
    expect(contact).to_contain_text("Email (work) ★")
    expect(contact.get_by_role("link", name="amaka@eze.example")).to_be_visible()
    expect(contact.get_by_role("link", name="amaka@home.example")).to_be_visible()
    expect(contact).to_contain_text("Phone (mobile) ★")
    expect(contact.get_by_role("link", name="+234 803 555 0142")).to_be_visible()
    family = page.get_by_role("region", name="Family")
    expect(family.get_by_role("link", name="Chidi", exact=True)).to_have_attribute("href", f"/people/{chidi.pk}/")
    expect(family).to_contain_text("Obi, child")
    pets = page.get_by_role("region", name="Pets")
    expect(pets).to_contain_text("Bingo")
    expect(pets).to_contain_text("Tiger")
    amaka = Person.objects.get(first_name="Amaka")
    assert FamilyMember.objects.filter(person=amaka).count() == 2
    assert Pet.objects.filter(person=amaka).count() == 2


def test_family_pet_and_contact_errors_are_visible_on_their_own_pages(
    visit: Callable[..., Visitor], ngozi: User, on_monday: None
) -> None:
    chidi = Person.objects.get(first_name="Chidi")
    me = visit()
    page = me.page
    log_in(me, ngozi.email)

    me.goto(f"/people/{chidi.pk}/family/")
    page.locator("[name=items-0-relation]").select_option(label="Child")
    page.locator("[name=items-0-name]").fill("Ada")
    page.get_by_role("button", name="Add another family member").click()
    page.locator("[name=items-1-relation]").select_option(label="Child")
    page.locator("[name=items-1-name]").fill("Bola")
    page.locator("[name=items-1-birthday_day]").fill("31")
    page.locator("[name=items-1-birthday_month]").select_option(label="April")
    page.get_by_role("button", name="Save").click()
    me.audit()
    expect(_error(me, "items-1-birthday_day", "April has no day 31.")).to_be_visible()
    assert not FamilyMember.objects.exists()
    page.locator("[name=items-1-birthday_day]").fill("30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Family of {chidi} saved.")).to_be_visible()
    me.audit()
    assert sorted(FamilyMember.objects.values_list("name", flat=True)) == ["Ada", "Bola"]

    me.goto(f"/people/{chidi.pk}/pets/")
    page.locator("[name=items-0-name]").fill("Rex")
    page.locator("[name=items-0-birthday_day]").fill("12")  # no month
    page.get_by_role("button", name="Save").click()
    me.audit()
    expect(_error(me, "items-0-birthday_day", "Enter a complete value.")).to_be_visible()

    me.goto(f"/people/{chidi.pk}/edit/")
    page.locator("[name=contacts-0-kind]").select_option(label="Email")
    page.locator("[name=contacts-0-value]").fill("chidi-at-home")
    page.locator("[name=dates-0-label]").fill("Company founded")
    page.locator("[name=dates-0-date_day]").fill("29")
    page.locator("[name=dates-0-date_month]").select_option(label="February")
    page.locator("[name=dates-0-date_year]").fill("2023")
    page.get_by_role("button", name="Save").click()
    me.audit()
    expect(_error(me, "contacts-0-value", "Enter a valid email address.")).to_be_visible()
    expect(_error(me, "dates-0-date_day", "February 2023 has no day 29.")).to_be_visible()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_edit_and_delete_stay_aligned_when_a_conversation_title_wraps(
    visit: Callable[..., Visitor], ngozi: User, on_monday: None, phone: bool
) -> None:
    chidi = Person.objects.get(first_name="Chidi")
    workspace = ngozi.current_workspace
    long_title = "Talked through the whole autumn order, the shipping to Abuja and Lagos, and the new price list " * 2
    InteractionFactory(workspace=workspace, people=[chidi], summary="Short call", occurred_at=NOW)
    InteractionFactory(workspace=workspace, people=[chidi], summary=long_title.strip(), occurred_at=NOW)
    me = visit(phone=phone)
    log_in(me, ngozi.email)

    me.goto(f"/people/{chidi.pk}/")
    timeline = me.page.get_by_role("region", name="Timeline")
    rows = timeline.get_by_role("listitem")
    expect(rows).to_have_count(2)
    boxes = []
    for row in (rows.filter(has_text="Short call"), rows.filter(has_text="autumn order")):
        edit = row.get_by_role("link", name="Edit", exact=True).bounding_box()
        delete = row.get_by_role("link", name="Delete", exact=True).bounding_box()
        title = row.locator("strong").bounding_box()
        assert edit is not None
        assert delete is not None
        assert title is not None
        assert abs(edit["y"] - delete["y"]) < 1, "Edit and Delete on one line"
        boxes.append((delete["x"] + delete["width"], title))
    (short_right, _), (long_right, long_title_box) = boxes
    assert abs(short_right - long_right) < 1, "Delete ends at the same right edge under a short and a long title"
    assert long_title_box["height"] > 30, "the long title wraps within its column"
    assert long_title_box["x"] + long_title_box["width"] < long_right
    me.screenshot("timeline-long-title")
