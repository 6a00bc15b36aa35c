"""Merging two records of one person by hand: fields chosen by the user, everything else moves."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import User, Workspace
from interactions.models import FollowUp, Interaction, Need, Promise
from people.models import ContactMethod, FamilyMember, Person, Pet, ProfileFact
from tests.factories import InteractionFactory, PersonFactory


def test_it_merges_two_records_keeping_the_chosen_fields_and_moving_everything(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    keep = PersonFactory(workspace=workspace, first_name="Bob", last_name="Smith", nickname="", tags=["golf"])
    other = PersonFactory(workspace=workspace, first_name="Robert", last_name="Smith", nickname="Bobby", tags=["vip"])
    other.notes = "Met at the fair."
    other.birthday_day, other.birthday_month = 4, 7
    other.last_contacted_at = timezone.now()
    other.save()
    ContactMethod.objects.create(workspace=workspace, person=keep, kind="email", value="bob@x.org", is_primary=True)
    ContactMethod.objects.create(workspace=workspace, person=other, kind="email", value="BOB@x.org", is_primary=True)
    ContactMethod.objects.create(workspace=workspace, person=other, kind="email", value="rob@y.org", is_primary=False)
    FamilyMember.objects.create(workspace=workspace, person=other, relation="spouse", name="Sue")
    Pet.objects.create(workspace=workspace, person=other, name="Rex", species="dog")
    ProfileFact.objects.create(workspace=workspace, person=other, fact_type="hometown", section="basics", value="Leeds")
    alone = InteractionFactory(workspace=workspace, people=[other], summary="Call with Robert")
    both = InteractionFactory(workspace=workspace, people=[keep, other], summary="Lunch with both")
    Need.objects.create(workspace=workspace, person=other, title="New van")
    Promise.objects.create(workspace=workspace, person=other, text="Send the quote")
    FollowUp.objects.create(workspace=workspace, person=other, due_on=dt.date(2030, 1, 1), created_by=owner)

    compare = owner_client.get(reverse("people:merge", args=[keep.pk]), {"other": other.pk}).content.decode()
    assert "Merge Robert Smith into Bob Smith" in compare
    assert 'id="other-nickname" value="other" checked' in compare  # empty on the kept record: theirs by default

    response = owner_client.post(
        reverse("people:merge", args=[keep.pk]),
        {"other": other.pk, "take_first_name": "other", "take_nickname": "other", "take_birthday": "other"},
    )

    assert response.status_code == 302
    assert not Person.objects.filter(pk=other.pk).exists()
    keep.refresh_from_db()
    assert (keep.first_name, keep.nickname, str(keep.birthday)) == ("Robert", "Bobby", "4 July")
    assert keep.notes.endswith("Met at the fair.")
    assert keep.last_contacted_at == other.last_contacted_at
    emails = list(keep.contact_methods.values_list("value", "is_primary"))
    assert sorted(emails) == [("bob@x.org", True), ("rob@y.org", False)]  # the same address once
    assert [f.name for f in keep.family.all()] == ["Sue"]
    assert [p.name for p in keep.pets.all()] == ["Rex"]
    assert keep.facts.get().value == "Leeds"
    assert set(keep.interactions.all()) == {alone, both}
    assert list(both.people.all()) == [keep]
    assert keep.needs.get().title == "New van"
    assert keep.promises.get().text == "Send the quote"
    assert keep.follow_ups.count() == 1
    assert sorted(t.name for t in keep.tags.all()) == ["golf", "vip"]
    assert Interaction.objects.filter(workspace=workspace).count() == 2


def test_it_finds_the_other_record_by_search(owner_client: Client, workspace: Workspace) -> None:
    keep = PersonFactory(workspace=workspace, first_name="Ann", last_name="Lee")
    PersonFactory(workspace=workspace, first_name="Annie", last_name="Lee")
    page = owner_client.get(reverse("people:merge", args=[keep.pk]), {"q": "Lee"}).content.decode()
    assert "Annie Lee" in page
    assert "?other=" in page


def test_it_refuses_people_of_another_workspace_and_the_same_person(
    owner_client: Client, outsider_client: Client, workspace: Workspace, other_workspace: Workspace
) -> None:
    keep = PersonFactory(workspace=workspace)
    stranger = PersonFactory(workspace=other_workspace)
    url = reverse("people:merge", args=[keep.pk])
    assert owner_client.get(url, {"other": stranger.pk}).status_code == 404
    assert owner_client.post(url, {"other": stranger.pk}).status_code == 404
    assert owner_client.get(url, {"other": keep.pk}).status_code == 404
    assert outsider_client.get(url).status_code == 404
    assert Person.objects.filter(pk=stranger.pk).exists()


def test_it_keeps_one_of_each_relative_pet_date_and_contact_the_two_records_share(
    owner_client: Client, workspace: Workspace
) -> None:
    from people.models import ImportantDate

    keep = PersonFactory(workspace=workspace, first_name="Ngozi", last_name="Okafor")
    other = PersonFactory(workspace=workspace, first_name="Ngozi", last_name="Okafor-Eze")
    FamilyMember.objects.create(workspace=workspace, person=keep, relation="spouse", name="Chidi")
    FamilyMember.objects.create(
        workspace=workspace, person=other, relation="spouse", name="Chidi Okafor", birthday_day=3, birthday_month=5
    )
    FamilyMember.objects.create(workspace=workspace, person=other, relation="child", name="Ada")
    Pet.objects.create(workspace=workspace, person=keep, name="Max", species="")
    Pet.objects.create(workspace=workspace, person=other, name="max", species="dog")
    ImportantDate.objects.create(workspace=workspace, person=keep, label="Name day", date_day=1, date_month=6)
    ImportantDate.objects.create(workspace=workspace, person=other, label="name day", date_day=1, date_month=6)
    ContactMethod.objects.create(workspace=workspace, person=keep, kind="phone", value="+12025550100")
    ContactMethod.objects.create(workspace=workspace, person=other, kind="phone", value="+1 (202) 555-0100")

    response = owner_client.post(reverse("people:merge", args=[keep.pk]), {"other": other.pk})

    assert response.status_code == 302
    family = [(f.relation, f.name, str(f.birthday or "")) for f in keep.family.order_by("relation")]
    assert family == [("child", "Ada", ""), ("spouse", "Chidi Okafor", "3 May")]  # one spouse, the fuller name
    assert [(p.name, p.species) for p in keep.pets.all()] == [("Max", "dog")]
    assert keep.important_dates.count() == 1
    assert list(keep.contact_methods.values_list("value", flat=True)) == ["+12025550100"]
