"""The Add form with what someone just met gives first (email, phone), several family members and
pets in one save, a family link picked by name, and every field error shown next to its field."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from people.models import ContactMethod, FamilyMember, Person, Pet
from tests.factories import PersonFactory


def _management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial)}


def _add_data(owner: User, **rows: object) -> dict[str, object]:
    """The Add form as a browser sends it: the person, and the contacts, family and pets sections."""
    data: dict[str, object] = {"first_name": "Ngozi", "last_name": "Okafor", "owner": owner.pk}
    data |= _management("contacts", 2) | _management("family", 1) | _management("pets", 1)
    data |= {"contacts-0-kind": "email", "contacts-1-kind": "phone"}
    data.update(rows)
    return data


def _error_next_to(page: str, name: str) -> str:
    """The error message crispy-forms writes for the field of this input name ("" when none)."""
    match = re.search(rf'id="error_\d+_id_{re.escape(name)}"><strong>([^<]*)', page)
    return match[1] if match else ""


@pytest.mark.django_db
def test_the_add_form_opens_with_an_email_and_a_phone_row(owner_client: Client) -> None:
    page = owner_client.get(reverse("people:create")).content.decode()

    assert re.search(r'name="contacts-0-kind"[^>]*>.*?<option value="email" selected>', page, re.S)
    assert re.search(r'name="contacts-1-kind"[^>]*>.*?<option value="phone" selected>', page, re.S)
    assert 'name="contacts-0-label"' in page  # labels, as on Edit
    assert 'data-formset-add="contacts"' in page  # "Add another contact"
    assert 'id="contacts-empty-row"' in page


@pytest.mark.django_db
def test_it_adds_a_person_with_two_emails_a_phone_two_family_members_and_two_pets_in_one_save(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    data = _add_data(
        owner,
        **_management("contacts", 3),
        **_management("family", 2),
        **_management("pets", 2),
        **{
            "contacts-0-value": "Ngozi@Okafor.example",
            "contacts-0-label": "work",
            "contacts-1-value": "+234 803 555 0142",
            "contacts-1-label": "mobile",
            "contacts-2-kind": "email",
            "contacts-2-value": "ngozi@home.example",
            "family-0-relation": "spouse",
            "family-0-name": "Chidi",
            "family-1-relation": "child",
            "family-1-name": "Ada",
            "family-1-birthday_day": "3",
            "family-1-birthday_month": "9",
            "pets-0-name": "Max",
            "pets-0-species": "dog",
            "pets-1-name": "Tom",
            "pets-1-species": "cat",
        },
    )

    response = owner_client.post(reverse("people:create"), data, follow=True)

    person = Person.objects.get()
    methods = ContactMethod.objects.filter(person=person, workspace=workspace)
    assert sorted(methods.values_list("kind", "label", "value", "is_primary")) == [
        ("email", "", "ngozi@home.example", False),
        ("email", "work", "ngozi@okafor.example", True),
        ("phone", "mobile", "+2348035550142", True),
    ]
    assert sorted(FamilyMember.objects.filter(person=person).values_list("relation", "name")) == [
        ("child", "Ada"),
        ("spouse", "Chidi"),
    ]
    assert sorted(Pet.objects.filter(person=person).values_list("name", flat=True)) == ["Max", "Tom"]
    page = response.content.decode()
    assert "ngozi@okafor.example" in page
    assert "+234 803 555 0142" in page


@pytest.mark.django_db
def test_empty_rows_on_the_add_form_add_nothing(owner_client: Client, owner: User) -> None:
    owner_client.post(reverse("people:create"), _add_data(owner))

    person = Person.objects.get()
    assert not ContactMethod.objects.filter(person=person).exists()
    assert not FamilyMember.objects.exists()
    assert not Pet.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("contacts-1-value", "12345", "This phone number does not exist. Check the digits and the country code."),
        ("contacts-0-value", "ngozi-at-home", "Enter a valid email address."),
        ("family-0-birthday_day", "31", "February has no day 31."),
        ("pets-0-birthday_day", "30", "February has no day 30."),
    ],
)
def test_one_bad_field_on_the_add_form_saves_nothing_and_keeps_what_was_typed(
    owner_client: Client, owner: User, field: str, value: str, error: str
) -> None:
    data = _add_data(
        owner,
        **{
            "job_title": "Importer",
            "contacts-0-value": "ngozi@okafor.example",
            "contacts-1-value": "+234 803 555 0142",
            "family-0-relation": "spouse",
            "family-0-name": "Chidi",
            "family-0-birthday_day": "14",
            "family-0-birthday_month": "2",
            "pets-0-name": "Max",
            "pets-0-birthday_day": "14",
            "pets-0-birthday_month": "2",
        },
    )
    data[field] = value

    response = owner_client.post(reverse("people:create"), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert _error_next_to(page, field.removesuffix("_day")) == error
    assert not Person.objects.exists()
    assert not ContactMethod.objects.exists()
    assert not FamilyMember.objects.exists()
    assert not Pet.objects.exists()
    for typed in ("Importer", value, "Chidi", "Max"):
        assert f'value="{typed}"' in page, typed


@pytest.mark.django_db
def test_a_post_without_the_record_sections_still_adds_the_person(owner_client: Client, owner: User) -> None:
    owner_client.post(reverse("people:create"), {"first_name": "Ngozi", "owner": owner.pk})

    assert Person.objects.get().first_name == "Ngozi"


@pytest.mark.django_db
def test_several_family_members_are_added_in_one_save_on_the_family_page(
    owner_client: Client, workspace: Workspace
) -> None:
    person = PersonFactory(workspace=workspace)
    data = _management("items", 3)
    data |= {f"items-{i}-relation": "child" for i in range(3)}
    data |= {"items-0-name": "Ada", "items-1-name": "Bola", "items-2-name": "Chinedu"}

    owner_client.post(reverse("people:family", args=[person.pk]), data)

    assert sorted(FamilyMember.objects.filter(person=person).values_list("name", flat=True)) == [
        "Ada",
        "Bola",
        "Chinedu",
    ]


@pytest.mark.django_db
def test_several_pets_are_added_in_one_save_on_the_pets_page(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)
    data = _management("items", 2) | {"items-0-name": "Max", "items-1-name": "Tom"}

    owner_client.post(reverse("people:pets", args=[person.pk]), data)

    assert sorted(Pet.objects.filter(person=person).values_list("name", flat=True)) == ["Max", "Tom"]


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["people:family", "people:pets"])
def test_the_family_and_pet_pages_offer_another_row(owner_client: Client, workspace: Workspace, url_name: str) -> None:
    person = PersonFactory(workspace=workspace)

    page = owner_client.get(reverse(url_name, args=[person.pk])).content.decode()

    assert 'data-formset-add="items"' in page
    assert 'id="items-empty-row"' in page
    assert 'name="items-__prefix__-name"' in page
    assert "formsets.js" in page


@pytest.mark.django_db
def test_a_family_link_is_picked_by_name_never_typed_as_a_number(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg")
    FamilyMember.objects.create(workspace=workspace, person=person, relation="child", name="Anna", linked_person=anna)

    page = owner_client.get(reverse("people:family", args=[person.pk])).content.decode()

    assert "Person number" not in page
    assert 'type="number" name="items-0-linked_person"' not in page
    picker = re.search(r'<select name="items-0-linked_person"[^>]*>(.*?)</select>', page, re.S)
    assert picker is not None
    assert "data-person-search" in picker[0]
    # Only the linked person is in the page (the picker searches for others), by name.
    assert re.findall(r'<option value="(\d*)"', picker[1]) == ["", str(anna.pk)]
    assert "Anna Berg</option>" in picker[1]


@pytest.mark.django_db
def test_a_new_person_can_be_linked_to_a_family_member_already_in_rapport(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    chidi = PersonFactory(workspace=workspace, first_name="Chidi", last_name="Okafor")
    data = _add_data(
        owner, **{"family-0-relation": "spouse", "family-0-name": "Chidi", "family-0-linked_person": chidi.pk}
    )

    owner_client.post(reverse("people:create"), data)

    assert FamilyMember.objects.get().linked_person == chidi


@pytest.mark.django_db
def test_another_workspaces_person_cannot_be_linked_from_the_add_form(
    owner_client: Client, owner: User, other_workspace: Workspace
) -> None:
    stranger = PersonFactory(workspace=other_workspace, first_name="Stranger")
    data = _add_data(
        owner, **{"family-0-relation": "spouse", "family-0-name": "Chidi", "family-0-linked_person": stranger.pk}
    )

    response = owner_client.post(reverse("people:create"), data)

    page = response.content.decode()
    assert _error_next_to(page, "family-0-linked_person").startswith("Select a valid choice.")
    assert "Stranger" not in page  # neither linked nor named
    assert not Person.objects.filter(workspace=owner.current_workspace).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [2, 30])
def test_the_family_page_names_linked_people_in_a_fixed_number_of_queries(
    owner_client: Client, workspace: Workspace, count: int, django_assert_max_num_queries
) -> None:
    person = PersonFactory(workspace=workspace)
    for i in range(count):
        linked = PersonFactory(workspace=workspace, first_name=f"Kid{i}")
        FamilyMember.objects.create(
            workspace=workspace, person=person, relation="child", name=f"Kid {i}", linked_person=linked
        )
    url = reverse("people:family", args=[person.pk])
    data = _management("items", count + 1, count)
    for i, member in enumerate(FamilyMember.objects.filter(person=person)):
        data |= {
            f"items-{i}-id": str(member.pk),
            f"items-{i}-relation": "child",
            f"items-{i}-name": member.name,
            f"items-{i}-linked_person": str(member.linked_person_id),
            f"items-{i}-birthday_day": "31",  # refused: the page comes back with every row
            f"items-{i}-birthday_month": "2",
        }

    with django_assert_max_num_queries(9):
        page = owner_client.get(url).content.decode()
    # A refused save re-renders every row with its picked person: one query names them all.
    # Each saved row is checked as Django checks rows (its id, its link, the link's row): never
    # by naming the others.
    with django_assert_max_num_queries(10 + 3 * count):
        refused = owner_client.post(url, data).content.decode()

    assert f"Kid{count - 1}" in page
    assert refused.count("February has no day 31.") == count
    assert f">Kid{count - 1} " in refused


@pytest.mark.django_db
def test_a_birthday_error_is_marked_where_bootstrap_shows_it(owner_client: Client, owner: User) -> None:
    data = _add_data(owner, birthday_day="31", birthday_month="2")

    page = owner_client.post(reverse("people:create"), data).content.decode()

    # .invalid-feedback shows only after an .is-invalid sibling: the wrapper of day/month/year.
    assert re.search(
        r'<div class="d-flex gap-2 partial-date is-invalid">.*?</div>\s*'
        r'<div id="id_birthday_error" class="invalid-feedback">',
        page,
        re.S,
    )
