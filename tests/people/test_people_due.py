"""The people list's "Due to stay in touch" filter and sort: where the dashboard's "more" leads."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from interactions.models import FollowUp
from reminders.selectors import dashboard
from tests.factories import PersonFactory, cadenced_person

WEDNESDAY = datetime(2026, 3, 4, 9, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_the_list_shows_who_is_due_most_overdue_first(owner_client: Client, owner: User, workspace: Workspace) -> None:
    cadenced_person(workspace, owner, "Late", last_days_ago=20)
    cadenced_person(workspace, owner, "Cold", last_days_ago=60)
    cadenced_person(workspace, owner, "Friday", last_days_ago=12)  # due in two days: this week
    cadenced_person(workspace, owner, "Fine", last_days_ago=1)
    PersonFactory(workspace=workspace, first_name="Never", owner=owner)  # no cadence at all

    response = owner_client.get(reverse("people:list"), {"due": "on", "sort": "stay_due"})

    assert [p.first_name for p in response.context["page"]] == ["Cold", "Late", "Friday"]
    assert 'id="people-due" name="due" value="on" checked' in response.content.decode()
    everyone = owner_client.get(reverse("people:list"), {"sort": "stay_due"}).context["page"]
    assert [p.first_name for p in everyone][-2:] == ["Fine", "Never"]  # no cadence: last


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_the_dashboard_lists_ten_of_each_and_links_to_the_rest(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    for i in range(13):
        cadenced_person(workspace, owner, f"Late{i:02}", last_days_ago=15 + i % 5)

    response = owner_client.get(reverse("dashboard"))
    page = response.content.decode()

    assert page.count(">Late") == 10
    assert "More:" in page  # the page read 11: there are more than it lists
    assert len(dashboard(workspace, user=owner, owner=owner).overdue) == 13  # what the digest lists
    assert reverse("people:list") + f"?due=on&amp;sort=stay_due&amp;owner={owner.pk}" in page  # mine


def test_the_path_tag_gives_what_url_gives() -> None:
    from django.template import Context, Template
    from django.urls import set_script_prefix

    template = Template("{% load people_tags %}{% path 'people:detail' pk %} {% path 'interactions:create' %}")
    assert (
        template.render(Context({"pk": 42}))
        == f"{reverse('people:detail', args=[42])} {reverse('interactions:create')}"
    )
    set_script_prefix("/crm/")  # an app served under a path prefix
    try:
        assert template.render(Context({"pk": 7})) == "/crm/people/7/ /crm/interactions/new/"
    finally:
        set_script_prefix("/")


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_a_long_overdue_list_never_hides_what_is_due_today(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    for i in range(40):
        cadenced_person(workspace, owner, f"Late{i:02}", last_days_ago=15 + i % 10)
        FollowUp.objects.create(
            workspace=workspace, person=PersonFactory(workspace=workspace, owner=owner), due_on=date(2026, 3, 1)
        )
    cadenced_person(workspace, owner, "Today", last_days_ago=14)
    FollowUp.objects.create(
        workspace=workspace, person=PersonFactory(workspace=workspace, owner=owner, first_name="Friday"),
        due_on=date(2026, 3, 6),
    )  # fmt: skip

    response = owner_client.get(reverse("dashboard"))
    board = response.context["board"]

    assert [i.person.first_name for i in board.due_today] == ["Today"]
    assert [i.person.first_name for i in board.this_week] == ["Friday"]
    assert "More:" in response.content.decode()  # of 80 overdue, the page lists 10
