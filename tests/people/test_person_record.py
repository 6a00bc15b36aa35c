"""The person record: add, edit, dates, contacts, family, pets, preferences, profile, delete."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from crm.models import User, Workspace
from interactions.models import Interaction
from people.models import ContactMethod, FamilyMember, Person, Pet, ProfileFact
from tests.factories import InteractionFactory, PersonFactory


def _person_data(**overrides: object) -> dict[str, object]:
    data = {
        "first_name": "Anna",
        "last_name": "Berg",
        "nickname": "Annie",
        "company_name": "Berg Bakery",
        "job_title": "Owner",
        "tag_names": "Key-Account, golf",
        "how_we_met": "Trade fair",
        "met_on": "2024-03-02",
        "birthday_day": "15",
        "birthday_month": "4",
        "birthday_year": "",
        "notes": "Loves **sourdough**",
    }
    data.update(overrides)
    return data


def _edit_data(person: Person, **overrides: object) -> dict[str, object]:
    data = _person_data(**overrides)
    for prefix in ("contacts", "dates"):
        data.setdefault(f"{prefix}-TOTAL_FORMS", "0")
        data.setdefault(f"{prefix}-INITIAL_FORMS", "0")
    return data


def _png(size: tuple[int, int] = (1200, 800)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.django_db
def test_it_adds_a_person_with_a_yearless_birthday_tags_and_company(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    response = owner_client.post(reverse("people:create"), _person_data(owner=owner.pk), follow=True)

    person = Person.objects.get()
    assert person.company.name == "Berg Bakery"
    assert sorted(t.name for t in person.tags.all()) == ["golf", "key-account"]
    assert (person.birthday_day, person.birthday_month, person.birthday_year) == (15, 4, None)
    page = response.content.decode()
    assert "Birthday: <strong>15 April</strong>, next on" in page
    assert "(age" not in page
    assert "<strong>sourdough</strong>" in page


@pytest.mark.django_db
def test_the_age_shows_only_when_the_year_is_known(owner_client: Client, owner: User) -> None:
    owner_client.post(reverse("people:create"), _person_data(owner=owner.pk, birthday_year="1980"))
    person = Person.objects.get()

    page = owner_client.get(reverse("people:detail", args=[person.pk])).content.decode()

    assert "15 April 1980</strong> (age " in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("day", "month", "year", "error"),
    [
        ("31", "2", "", "February has no day 31"),
        ("29", "2", "2023", "February 2023 has no day 29"),
        ("12", "", "", "Enter a complete value"),
        ("1", "1", "2100", "A birthday cannot be in the future"),
    ],
)
def test_impossible_birthdays_are_refused_next_to_the_field(
    owner_client: Client, owner: User, day: str, month: str, year: str, error: str
) -> None:
    response = owner_client.post(
        reverse("people:create"),
        _person_data(owner=owner.pk, birthday_day=day, birthday_month=month, birthday_year=year),
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_a_yearless_29_february_is_a_valid_birthday(owner_client: Client, owner: User) -> None:
    owner_client.post(reverse("people:create"), _person_data(owner=owner.pk, birthday_day="29", birthday_month="2"))

    assert Person.objects.get().birthday_day == 29


@pytest.mark.django_db
def test_over_long_fields_are_refused(owner_client: Client, owner: User) -> None:
    response = owner_client.post(reverse("people:create"), _person_data(owner=owner.pk, first_name="A" * 101))

    assert response.status_code == 200
    assert "Ensure this value has at most 100 characters" in response.content.decode()


@pytest.mark.django_db
def test_an_owner_from_another_workspace_is_refused(owner_client: Client, outsider: User) -> None:
    response = owner_client.post(reverse("people:create"), _person_data(owner=outsider.pk))

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_notes_markdown_is_sanitised(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(
        workspace=workspace,
        notes='Hi <script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror="alert(3)">',
    )

    page = owner_client.get(reverse("people:detail", args=[person.pk])).content.decode()

    assert "<script>alert(1)" not in page
    assert "javascript:alert" not in page
    assert "onerror" not in page


@pytest.mark.django_db
def test_contact_methods_are_validated_and_phones_formatted(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)
    data = _edit_data(
        person,
        **{
            "contacts-TOTAL_FORMS": "3",
            "contacts-0-kind": "email",
            "contacts-0-label": "work",
            "contacts-0-value": "Anna@Berg.EXAMPLE",
            "contacts-1-kind": "phone",
            "contacts-1-label": "mobile",
            "contacts-1-value": "+44 20 7946 0958",
            "contacts-2-kind": "website",
            "contacts-2-value": "berg.example.com",
        },
    )

    response = owner_client.post(reverse("people:edit", args=[person.pk]), data, follow=True)

    values = dict(ContactMethod.objects.filter(person=person).values_list("kind", "value"))
    assert values == {"email": "anna@berg.example", "phone": "+442079460958", "website": "https://berg.example.com"}
    assert all(ContactMethod.objects.filter(person=person).values_list("is_primary", flat=True))
    assert "+44 20 7946 0958" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "value", "error"),
    [
        ("phone", "12345", "This phone number does not exist"),
        ("phone", "call me maybe", "Enter a valid phone number"),
        ("email", "not-an-email", "Enter a valid email address"),
        ("website", "ht!tp://", "Enter a valid web address"),
    ],
)
def test_bad_contact_details_are_refused_with_a_message(
    owner_client: Client, workspace: Workspace, kind: str, value: str, error: str
) -> None:
    person = PersonFactory(workspace=workspace)
    data = _edit_data(person, **{"contacts-TOTAL_FORMS": "1", "contacts-0-kind": kind, "contacts-0-value": value})

    response = owner_client.post(reverse("people:edit", args=[person.pk]), data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ContactMethod.objects.exists()


@pytest.mark.django_db
def test_two_primary_emails_are_refused(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)
    data = _edit_data(
        person,
        **{
            "contacts-TOTAL_FORMS": "2",
            "contacts-0-kind": "email",
            "contacts-0-value": "a@example.com",
            "contacts-0-is_primary": "on",
            "contacts-1-kind": "email",
            "contacts-1-value": "b@example.com",
            "contacts-1-is_primary": "on",
        },
    )

    response = owner_client.post(reverse("people:edit", args=[person.pk]), data)

    assert "Only one email can be primary" in response.content.decode()
    assert not ContactMethod.objects.exists()


@pytest.mark.django_db
def test_the_primary_flag_moves_between_emails(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)
    first = ContactMethod.objects.create(
        workspace=workspace, person=person, kind="email", value="a@x.com", is_primary=True
    )
    second = ContactMethod.objects.create(workspace=workspace, person=person, kind="email", value="b@x.com")
    data = _edit_data(
        person,
        **{
            "contacts-TOTAL_FORMS": "2",
            "contacts-INITIAL_FORMS": "2",
            "contacts-0-id": first.pk,
            "contacts-0-kind": "email",
            "contacts-0-value": "a@x.com",
            "contacts-1-id": second.pk,
            "contacts-1-kind": "email",
            "contacts-1-value": "b@x.com",
            "contacts-1-is_primary": "on",
        },
    )

    owner_client.post(reverse("people:edit", args=[person.pk]), data)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)


@pytest.mark.django_db
def test_family_links_show_both_ways_with_the_reverse_relation(owner_client: Client, workspace: Workspace) -> None:
    bob = PersonFactory(workspace=workspace, first_name="Bob", last_name="Berg")
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg")
    data = {
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "0",
        "items-0-relation": "child",
        "items-0-name": "Anna Berg",
        "items-0-linked_person": anna.pk,
        "items-1-relation": "spouse",
        "items-1-name": "Clara",
        "items-1-birthday_day": "3",
        "items-1-birthday_month": "9",
        "items-1-interests": "tennis",
    }

    owner_client.post(reverse("people:family", args=[bob.pk]), data)

    assert FamilyMember.objects.filter(person=bob).count() == 2
    bob_page = owner_client.get(reverse("people:detail", args=[bob.pk])).content.decode()
    assert "Clara</strong>, spouse" in bob_page
    assert "Birthday 3 September" in bob_page
    anna_page = owner_client.get(reverse("people:detail", args=[anna.pk])).content.decode()
    assert "Bob Berg</a></strong>, parent" in anna_page


@pytest.mark.django_db
def test_a_family_link_to_another_workspace_is_refused(
    owner_client: Client, workspace: Workspace, other_workspace: Workspace
) -> None:
    bob = PersonFactory(workspace=workspace)
    stranger = PersonFactory(workspace=other_workspace)
    data = {
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-relation": "child",
        "items-0-name": "Someone",
        "items-0-linked_person": stranger.pk,
    }

    response = owner_client.post(reverse("people:family", args=[bob.pk]), data)

    assert "Select a valid choice" in response.content.decode()
    assert not FamilyMember.objects.exists()


@pytest.mark.django_db
def test_pets_are_added_and_removed(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)
    owner_client.post(
        reverse("people:pets", args=[person.pk]),
        {
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "0",
            "items-0-name": "Max",
            "items-0-species": "dog",
            "items-0-birthday_day": "1",
            "items-0-birthday_month": "6",
            "items-0-birthday_year": "2021",
        },
    )
    pet = Pet.objects.get()
    assert "<strong>Max</strong>, dog" in owner_client.get(reverse("people:detail", args=[person.pk])).content.decode()

    owner_client.post(
        reverse("people:pets", args=[person.pk]),
        {
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "1",
            "items-0-id": pet.pk,
            "items-0-name": "Max",
            "items-0-DELETE": "on",
        },
    )
    assert not Pet.objects.exists()


@pytest.mark.django_db
def test_preferences_are_saved_and_shown(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)

    owner_client.post(
        reverse("people:preferences", args=[person.pk]),
        {
            "preferred_channel": "text",
            "best_time": "after 4pm",
            "contact_every": "2",
            "contact_every_unit": "weeks",
            "likes": "Dark chocolate",
            "topics_to_avoid": "Their divorce",
        },
    )

    page = owner_client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "prefers <strong>text message</strong>, after 4pm" in page
    assert "every 2 weeks" in page
    assert "Dark chocolate" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("channel", "methods", "shown"),
    [
        ("whatsapp", [("phone", "", "+2348035550142")], "prefers <strong>WhatsApp</strong>: +2348035550142"),
        (
            "signal",
            [("email", "", "n@x.org"), ("phone", "", "+2348035550142")],
            "<strong>Signal</strong>: +2348035550142",
        ),
        ("telegram", [("phone", "", "+2348035550142"), ("social", "Telegram", "@ngozi")], "Telegram</strong>: @ngozi"),
        ("linkedin", [("website", "", "https://www.linkedin.com/in/ngozi")], "LinkedIn message</strong>: https://www"),
        ("email", [("email", "work", "n@x.org")], "prefers <strong>email</strong>: n@x.org"),
        ("whatsapp", [], "prefers <strong>WhatsApp</strong>, after 4pm"),  # no number yet: nothing invented
    ],
)
def test_the_channel_they_use_is_shown_with_where_to_reach_them(
    owner_client: Client, workspace: Workspace, channel: str, methods: list[tuple[str, str, str]], shown: str
) -> None:
    person = PersonFactory(workspace=workspace, first_name="Ngozi")
    for kind, label, value in methods:
        ContactMethod.objects.create(workspace=workspace, person=person, kind=kind, label=label, value=value)

    response = owner_client.post(
        reverse("people:preferences", args=[person.pk]),
        {"preferred_channel": channel, "best_time": "after 4pm", "contact_every_unit": "weeks"},
    )

    assert response.status_code == 302
    page = owner_client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert shown in page


@pytest.mark.django_db
def test_a_zero_cadence_is_refused(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)

    response = owner_client.post(
        reverse("people:preferences", args=[person.pk]), {"contact_every": "0", "contact_every_unit": "weeks"}
    )

    assert "Choose a number between 1 and 365" in response.content.decode()


@pytest.mark.django_db
def test_facts_land_in_their_mackay_section_and_sensitive_ones_are_private(
    owner_client: Client, workspace: Workspace
) -> None:
    person = PersonFactory(workspace=workspace)
    url = reverse("people:profile", args=[person.pk])

    owner_client.post(url, {"fact_type": "favourite_restaurant", "value": "Dishoom", "learned_on": "2026-01-05"})
    owner_client.post(url, {"fact_type": "health", "value": "Bad back", "learned_on": "2026-01-05"})

    restaurant = ProfileFact.objects.get(fact_type="favourite_restaurant")
    health = ProfileFact.objects.get(fact_type="health")
    assert (restaurant.section, restaurant.is_private) == ("lifestyle", False)
    assert (health.section, health.is_private) == ("basics", True)
    page = owner_client.get(url).content.decode()
    assert "Favourite restaurant" in page
    assert "Bad back" in page
    assert "private" in page


@pytest.mark.django_db
def test_completeness_and_next_thing_to_learn_come_from_the_emptiest_section(
    owner_client: Client, workspace: Workspace
) -> None:
    from people import services

    person = PersonFactory(workspace=workspace, company=None)
    for fact_type in ("hometown", "residence", "languages", "high_school", "college", "marital_status"):
        services.fact_add(person=person, fact_type=fact_type, value="x")

    page = owner_client.get(reverse("people:detail", args=[person.pk])).content.decode()

    # 6 of 47 known (38 facts, 9 items of the record); business background is the first of
    # the empty sections, and its first question is about the record: where they work.
    assert "Profile · 13% known" in page
    assert "Next thing to learn:" in page
    assert "Where do they work, and what do they do?" in page
    assert f'href="/people/{person.pk}/edit/"' in page


@pytest.mark.django_db
def test_archive_hides_from_the_list_and_restore_brings_back(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace, first_name="Zelda")

    owner_client.post(reverse("people:archive", args=[person.pk]), follow=True)
    assert "Zelda" not in owner_client.get(reverse("people:list")).content.decode()
    assert "Zelda" in owner_client.get(reverse("people:list"), {"archived": "on"}).content.decode()

    owner_client.post(reverse("people:restore", args=[person.pk]), follow=True)
    assert "Zelda" in owner_client.get(reverse("people:list")).content.decode()


@pytest.mark.django_db
def test_delete_asks_first_and_says_what_goes_with_it(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace, first_name="Gone")
    other = PersonFactory(workspace=workspace)
    FamilyMember.objects.create(workspace=workspace, person=person, relation="spouse", name="Kim")
    solo = InteractionFactory(workspace=workspace, people=[person])
    shared = InteractionFactory(workspace=workspace, people=[person, other])

    confirm = owner_client.get(reverse("people:delete", args=[person.pk])).content.decode()
    assert "1 family member" in confirm
    assert "1 conversation with nobody else" in confirm
    assert "1 conversation with other people too will stay" in confirm
    assert Person.objects.filter(pk=person.pk).exists()

    owner_client.post(reverse("people:delete", args=[person.pk]))

    assert not Person.objects.filter(pk=person.pk).exists()
    assert not Interaction.objects.filter(pk=solo.pk).exists()
    assert list(Interaction.objects.get(pk=shared.pk).people.all()) == [other]
    assert not FamilyMember.objects.exists()


@pytest.mark.django_db
def test_a_photo_is_resized_to_a_square_jpeg_and_served_only_in_the_workspace(
    owner_client: Client, outsider_client: Client, owner: User
) -> None:
    upload = SimpleUploadedFile("me.png", _png(), content_type="image/png")
    owner_client.post(reverse("people:create"), {**_person_data(owner=owner.pk), "photo": upload})
    person = Person.objects.get()

    response = owner_client.get(reverse("people:photo", args=[person.pk]))
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))

    assert (image.format, image.size) == ("JPEG", (400, 400))
    assert outsider_client.get(reverse("people:photo", args=[person.pk])).status_code == 404
    assert (
        f'src="{reverse("people:photo", args=[person.pk])}"'
        in owner_client.get(person.get_absolute_url()).content.decode()
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("evil.png", b"<script>alert(1)</script>", "This file is not an image we can read"),
        ("big.png", b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 10), "The photo must be at most 5 MB"),
    ],
)
def test_non_images_and_oversized_photos_are_refused(
    owner_client: Client, owner: User, name: str, content: bytes, error: str
) -> None:
    upload = SimpleUploadedFile(name, content, content_type="image/png")

    response = owner_client.post(reverse("people:create"), {**_person_data(owner=owner.pk), "photo": upload})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Person.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["detail", "edit", "family", "pets", "preferences", "profile", "delete", "photo"])
def test_another_workspaces_person_is_a_404_on_every_page(
    outsider_client: Client, workspace: Workspace, name: str
) -> None:
    person = PersonFactory(workspace=workspace, first_name="Secret")

    response = outsider_client.get(reverse(f"people:{name}", args=[person.pk]))

    assert response.status_code == 404
    assert "Secret" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["archive", "restore", "delete", "edit", "family", "pets", "preferences", "profile"])
def test_another_workspaces_person_cannot_be_changed(outsider_client: Client, workspace: Workspace, name: str) -> None:
    person = PersonFactory(workspace=workspace, first_name="Secret")

    response = outsider_client.post(reverse(f"people:{name}", args=[person.pk]), {"first_name": "Hacked"})

    assert response.status_code == 404
    person.refresh_from_db()
    assert (person.first_name, person.archived_at) == ("Secret", None)


@pytest.mark.django_db
def test_another_workspaces_fact_cannot_be_deleted(outsider_client: Client, workspace: Workspace) -> None:
    from people import services

    fact = services.fact_add(person=PersonFactory(workspace=workspace), fact_type="hobbies", value="golf")

    response = outsider_client.post(reverse("people:fact_delete", args=[fact.person_id, fact.pk]))

    assert response.status_code == 404
    assert ProfileFact.objects.filter(pk=fact.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
def test_the_person_page_costs_the_same_queries_for_1_or_50_family_members_and_facts(
    owner_client: Client, workspace: Workspace, count: int, django_assert_max_num_queries
) -> None:
    from people import services

    person = PersonFactory(workspace=workspace, tags=["vip"])
    linked = PersonFactory(workspace=workspace)
    for i in range(count):
        FamilyMember.objects.create(
            workspace=workspace, person=person, relation="child", name=f"Kid {i}", linked_person=linked
        )
        FamilyMember.objects.create(
            workspace=workspace, person=linked, relation="parent", name="P", linked_person=person
        )
        Pet.objects.create(workspace=workspace, person=person, name=f"Pet {i}")
        services.fact_add(person=person, fact_type="hobbies", value=f"hobby {i}")
        ContactMethod.objects.create(workspace=workspace, person=person, kind="email", value=f"p{i}@example.com")

    with django_assert_max_num_queries(22):  # one of them: the header's "changed by … on …"
        response = owner_client.get(reverse("people:detail", args=[person.pk]))

    assert response.status_code == 200
    assert f"Kid {count - 1}" in response.content.decode()


@pytest.mark.django_db
def test_a_replaced_photo_leaves_no_old_file_behind(
    owner_client: Client, owner: User, django_capture_on_commit_callbacks
) -> None:
    owner_client.post(
        reverse("people:create"),
        {**_person_data(owner=owner.pk), "photo": SimpleUploadedFile("a.png", _png(), content_type="image/png")},
    )
    person = Person.objects.get()
    first = person.photo.name
    storage = person.photo.storage

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            reverse("people:edit", args=[person.pk]),
            {
                **_edit_data(person, owner=owner.pk),
                "photo": SimpleUploadedFile("b.png", _png((300, 300)), content_type="image/png"),
            },
        )

    person.refresh_from_db()
    assert person.photo.name != first
    assert storage.exists(person.photo.name)
    assert not storage.exists(first)
