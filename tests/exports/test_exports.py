"""Export people as vCard 4.0 and CSV (streamed, formula-safe), and the private calendar feed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
import time_machine
import vobject
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from crm.models import Membership, User, Workspace
from exports.models import CalendarFeed
from exports.services import _fold
from interactions import services as interaction_services
from interactions.models import FollowUp, Promise
from people import services as people_services
from people.models import ContactMethod, FamilyMember, Person, Pet
from reminders import services as reminder_services
from tests.factories import PersonFactory


def _body(response) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def anna(workspace: Workspace):
    person = PersonFactory(
        workspace=workspace, first_name="Anna", last_name="Berg", nickname="Annie", company__name="Berg Bakery",
        birthday_day=15, birthday_month=4, tags=["vip"],
    )  # fmt: skip
    ContactMethod.objects.create(
        workspace=workspace, person=person, kind="email", label="work", value="anna@berg.example", is_primary=True
    )
    ContactMethod.objects.create(
        workspace=workspace, person=person, kind="phone", label="mobile", value="+442079460958"
    )
    FamilyMember.objects.create(workspace=workspace, person=person, relation="spouse", name="Clara")
    people_services.fact_add(person=person, fact_type="hobbies", value="Rowing")
    people_services.fact_add(person=person, fact_type="health", value="Bad back")
    return person


@pytest.mark.django_db
def test_vcard_export_round_trips_through_a_vcard_parser(owner_client: Client, anna) -> None:
    response = owner_client.get(reverse("exports:vcf"))

    assert response.streaming
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    (card,) = list(vobject.readComponents(_body(response)))
    assert card.version.value == "4.0"
    assert card.fn.value == "Anna Berg"
    assert card.nickname.value == "Annie"
    assert card.org.value == ["Berg Bakery"]
    assert card.email.value == "anna@berg.example"
    assert card.tel.value == "+442079460958"
    assert card.bday.value == "--0415"  # a birthday without a year, as RFC 6350 writes it
    assert card.related.value == "Clara"
    assert card.categories.value == ["vip"]
    assert "Rowing" in card.note.value
    assert "Bad back" not in card.note.value  # private facts stay out unless asked


@pytest.mark.django_db
def test_it_puts_private_facts_in_an_owners_vcard_only_when_ticked(owner_client: Client, anna) -> None:
    assert "Bad back" in _body(owner_client.get(reverse("exports:vcf"), {"include_private": "on"}))
    assert "Bad back" not in _body(owner_client.get(reverse("exports:vcf")))


@pytest.mark.django_db
def test_it_never_puts_private_facts_in_a_csv_even_for_an_owner_who_ticks_them(owner_client: Client, anna) -> None:
    # The profile page promises private facts are never in a CSV export.
    ticked = _body(owner_client.get(reverse("exports:csv"), {"include_private": "on"}))

    assert "Rowing" in ticked
    assert "Bad back" not in ticked
    assert "Bad back" not in _body(owner_client.get(reverse("exports:csv")))


@pytest.mark.django_db
def test_a_filtered_list_exports_just_that_list(owner_client: Client, anna, workspace: Workspace) -> None:
    PersonFactory(workspace=workspace, first_name="Carl")

    body = _body(owner_client.get(reverse("exports:vcf"), {"q": "berg"}))

    assert body.count("BEGIN:VCARD") == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "hostile", ['=HYPERLINK("http://evil")', "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "   =1+1"]
)
def test_csv_cells_cannot_run_as_formulas(owner_client: Client, workspace: Workspace, hostile: str) -> None:
    PersonFactory(workspace=workspace, first_name=hostile, last_name="X", company=None)

    rows = list(csv.reader(io.StringIO(_body(owner_client.get(reverse("exports:csv"))).lstrip("\ufeff"))))

    assert rows[0][:3] == ["First name", "Last name", "Nickname"]
    assert rows[1][0] == "'" + hostile


@pytest.mark.django_db
def test_csv_has_contacts_dates_and_tags(owner_client: Client, anna) -> None:
    rows = list(csv.DictReader(io.StringIO(_body(owner_client.get(reverse("exports:csv"))).lstrip("\ufeff"))))

    (row,) = rows
    assert row["Emails"] == "work: anna@berg.example"
    assert row["Birthday"] == "15 April"
    assert row["Tags"] == "vip"
    assert row["Company"] == "Berg Bakery"


@pytest.mark.django_db
def test_exports_never_include_another_workspace(outsider_client: Client, anna) -> None:
    assert "Anna" not in _body(outsider_client.get(reverse("exports:vcf")))
    assert "Anna" not in _body(outsider_client.get(reverse("exports:csv")))


@pytest.mark.django_db
@pytest.mark.parametrize("count", [10, 100])
def test_exports_cost_the_same_queries_for_any_size(
    owner_client: Client, workspace: Workspace, count: int, django_assert_max_num_queries
) -> None:
    PersonFactory.create_batch(count, workspace=workspace, tags=["a"])

    # 14: the audit log's count of people and its row are two of them, whatever the size.
    with django_assert_max_num_queries(14):
        assert _body(owner_client.get(reverse("exports:csv"))).count("\n") == count + 1


def _feed(client: Client) -> str:
    client.post(reverse("exports:feed_create"))
    return reverse("exports:feed", args=[CalendarFeed.objects.get().token])


@pytest.mark.django_db
def test_the_calendar_feed_is_valid_ical_with_yearly_dates_follow_ups_and_promises(
    owner_client: Client,
    owner: User,
    workspace: Workspace,
    anna,
) -> None:
    PersonFactory(workspace=workspace, first_name="Leap", birthday_day=29, birthday_month=2)
    Pet.objects.create(workspace=workspace, person=anna, name="Max", species="dog", birthday_day=1, birthday_month=6)
    reminder_services.follow_up_create(person=anna, due_on=date(2026, 12, 1), note="Quote")
    interaction_services.promise_create(person=anna, text="Send samples", due_on=date(2026, 12, 3))
    url = _feed(owner_client)

    response = Client().get(url)  # calendar apps do not log in

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert all("dtstamp" in e and "dtstart" in e for e in events.values())
    birthday = next(e for e in events.values() if "Anna Berg's birthday" in str(e["summary"]))
    assert birthday["rrule"]["FREQ"] == ["YEARLY"]
    assert birthday.decoded("dtstart") == date(2000, 4, 15)
    leap_event = next(e for e in events.values() if "Leap" in str(e["summary"]))
    assert leap_event["rrule"]["BYMONTHDAY"] == [-1]
    summaries = " | ".join(str(e["summary"]) for e in events.values())
    assert "Max (Anna's dog)" in summaries
    assert "Follow up with Anna Berg: Quote" in summaries
    assert "I promised Anna Berg: Send samples" in summaries


@pytest.mark.django_db
def test_the_feed_link_can_be_regenerated_and_revoked(owner_client: Client, anna) -> None:
    first = _feed(owner_client)
    owner_client.post(reverse("exports:feed_create"), {"regenerate": "1"})
    second = reverse("exports:feed", args=[CalendarFeed.objects.get().token])

    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    owner_client.post(reverse("exports:feed_revoke"))
    assert Client().get(second).status_code == 404
    assert Client().get(reverse("exports:feed", args=["x" * 43])).status_code == 404


@pytest.mark.django_db
def test_a_removed_members_feed_stops(member_client: Client, member: User, anna) -> None:
    url = _feed(member_client)
    Membership.objects.filter(user=member).delete()

    assert Client().get(url).status_code == 404


@pytest.mark.django_db
def test_feed_text_with_commas_semicolons_and_new_lines_reads_back_as_typed(
    owner_client: Client, workspace: Workspace, anna
) -> None:
    odd = PersonFactory(
        workspace=workspace, first_name="Jo; Jr", last_name="Smith, \\ Esq", birthday_day=3, birthday_month=5
    )
    reminder_services.follow_up_create(person=odd, due_on=date(2026, 12, 1), note="Call back,\nthen send; quote")

    cal = Calendar.from_ical(Client().get(_feed(owner_client)).content)

    summaries = {str(e["summary"]) for e in cal.walk("VEVENT")}
    assert "🎂 Jo; Jr Smith, \\ Esq's birthday" in summaries
    assert "Follow up with Jo; Jr Smith, \\ Esq: Call back,\nthen send; quote" in summaries


@pytest.mark.django_db
def test_vcard_labels_are_valid_types_or_grouped_labels_and_interests_are_not_categories(
    owner_client: Client, workspace: Workspace
) -> None:
    from imports.vcard import read_vcards

    person = PersonFactory(workspace=workspace, first_name="Ngozi", tags=["vip"])
    person.tags.add(*people_services.tags_for_names(workspace, ["golf"], kind="interest"))
    ContactMethod.objects.create(workspace=workspace, person=person, kind="email", label="work inbox", value="a@x.org")
    ContactMethod.objects.create(
        workspace=workspace, person=person, kind="phone", label="Mobile", value="+442079460958"
    )

    body = _body(owner_client.get(reverse("exports:vcf")))

    assert "TYPE=work inbox" not in body  # not a TYPE vCard knows: a label of its own instead
    assert "item1.EMAIL:a@x.org" in body
    assert "item1.X-ABLABEL:work inbox" in body
    assert "TYPE=cell" in body
    (card,) = list(vobject.readComponents(body))
    assert card.categories.value == ["vip"]
    assert card.interest.value == "golf"
    (read,) = read_vcards(body.encode(), max_cards=10)  # and Rapport reads it back as it was
    assert read.contact.tags == ["vip"]
    assert read.contact.interests == ["golf"]
    assert ["email", "work inbox", "a@x.org", False] in read.contact.methods


@pytest.mark.django_db
@time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
def test_the_feed_leaves_out_dates_stored_outside_the_range_and_keeps_the_rest(
    owner_client: Client, workspace: Workspace, anna
) -> None:
    far = reminder_services.follow_up_create(person=anna, due_on=date(2026, 12, 1), note="Far")
    FollowUp.objects.filter(pk=far.pk).update(due_on=date(9999, 12, 31), repeat_every=365, repeat_unit="years")
    promise = interaction_services.promise_create(person=anna, text="Someday", due_on=date(2026, 12, 3))
    Promise.objects.filter(pk=promise.pk).update(due_on=date(9999, 12, 31))
    reminder_services.follow_up_create(person=anna, due_on=date(2026, 12, 1), note="Quote")
    Person.objects.filter(pk=anna.pk).update(birthday_year=9999)  # stored before years had a range

    response = Client().get(_feed(owner_client))

    assert response.status_code == 200
    events = Calendar.from_ical(response.content).walk("VEVENT")
    summaries = [str(e["summary"]) for e in events]
    assert "Follow up with Anna Berg: Quote" in summaries
    assert not any("Far" in s or "Someday" in s for s in summaries)
    birthday = next(e for e in events if "birthday" in str(e["summary"]))
    assert birthday.decoded("dtstart") == date(2000, 4, 15)  # as a birthday without a year


@pytest.mark.django_db
def test_vcards_written_line_by_line_read_back_as_typed_with_awkward_text(
    owner_client: Client, workspace: Workspace
) -> None:
    awkward = "Ørsted, Søren; \\the\\ one\nwho writes long lines " + "é" * 60
    person = PersonFactory(workspace=workspace, first_name="Søren", last_name="Ørsted; Sr.", notes=awkward)
    person.job_title = "Head of R&D, Nordics; interim"
    person.save()
    ContactMethod.objects.create(
        workspace=workspace, person=person, kind="address", label="Yacht club", value="1 Quay, Aarhus; DK"
    )
    ContactMethod.objects.create(
        workspace=workspace, person=person, kind="email", label="home", value="s@example.com", is_primary=True
    )
    body = _body(owner_client.get(reverse("exports:vcf")))

    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))  # folded as RFC 6350 says
    (card,) = list(vobject.readComponents(body))
    assert card.n.value.family == "Ørsted; Sr."
    assert card.n.value.given == "Søren"
    assert card.title.value == "Head of R&D, Nordics; interim"
    assert card.note.value == awkward
    assert card.adr.value.street == "1 Quay, Aarhus; DK"
    assert card.contents["x-ablabel"][0].value == "Yacht club"
    assert card.email.params["TYPE"] == ["home"]
    assert card.email.params["PREF"] == ["1"]


@pytest.mark.parametrize(
    "line",
    [
        "NOTE:" + "x" * 70,  # exactly 75 octets: not folded
        "NOTE:" + "x" * 300,
        "NOTE:" + "é" * 100,  # two octets a letter
        "NOTE:" + "ab🎂" * 40,  # four-octet characters across the fold
        "FN:" + "Zoë Ångström-" * 12,
    ],
)
def test_a_long_line_folds_at_75_octets_without_cutting_a_character(line: str) -> None:
    folded = _fold(line)
    physical = folded.removesuffix("\r\n").split("\r\n")
    assert all(len(p.encode()) <= 75 for p in physical)
    assert all(p.startswith(" ") for p in physical[1:])
    assert "".join([physical[0], *(p[1:] for p in physical[1:])]) == line  # unfolds to the line
    assert len(physical) == 1 or len(physical[0].encode()) > 71  # each fold as late as it can be
