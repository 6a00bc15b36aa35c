"""The digest is designed like the dashboard (issue 18): a preheader that says whom first,
today's items before the overdue and the rest, one "Ask about" line per person, buttons drawn
as table cells (they work in Gmail, Outlook and Apple Mail), and a plain-text part that reads
well on its own."""

from __future__ import annotations

import re
from datetime import date

import pytest

from crm.models import Workspace
from people.models import Pet
from reminders import services as reminder_services
from tests.digests.test_digest_truth import TUESDAY_0800_LONDON, _send, _user
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(workspace: Workspace):
    user = _user(workspace, digest="weekly", digest_weekday=1)  # Tuesdays
    anna = PersonFactory(workspace=workspace, owner=user, first_name="Anna", last_name="Berg")
    Pet.objects.create(workspace=workspace, person=anna, name="Max", species="dog")
    ben = PersonFactory(workspace=workspace, owner=user, first_name="Ben", last_name="Carter")
    cleo = PersonFactory(workspace=workspace, owner=user, first_name="Cleo", last_name="Dunn")
    reminder_services.follow_up_create(person=ben, due_on=date(2026, 3, 1), note="Chase the invoice")  # overdue
    reminder_services.follow_up_create(person=anna, due_on=date(2026, 3, 3), note="Send the quote")  # today
    reminder_services.follow_up_create(person=cleo, due_on=date(2026, 3, 6), note="Book the tasting")  # Friday
    return _send(user, TUESDAY_0800_LONDON)


def _html(message) -> str:
    return message.alternatives[0][0].replace("&#x27;", "'")


def test_the_preheader_says_whom_first_and_what_to_remember(message) -> None:
    html = _html(message)
    preheader = re.search(r'<div style="display:none;[^"]*">([^&<]*)', html)

    assert preheader
    assert preheader.group(1) == "Today: Anna Berg (Send the quote), Ben Carter and 1 more. Remember Max, Anna's dog."
    assert html.index("display:none") < html.index("<h1")  # the first text a mail program reads


def test_todays_items_come_first_then_overdue_then_the_rest_of_the_week(message) -> None:
    for body in (message.body, _html(message)):
        assert body.index("Send the quote") < body.index("Chase the invoice") < body.index("Book the tasting")
    assert message.subject == "3 people to contact this week"


def test_buttons_are_table_cells_with_the_link_inside(message) -> None:
    html = _html(message)
    buttons = re.findall(
        r'<td bgcolor="#4f46e5" style="[^"]*padding:[^"]*"><a href="([^"]+)"[^>]*>Log it</a></td>', html
    )

    assert len(buttons) == 2  # today's and the overdue; the rest of the week is quieter
    assert "/conversations/new/?person=" in buttons[0] or "person=" in buttons[0]
    assert html.count(">Snooze a week</a></td>") == 3


def test_the_plain_text_reads_as_a_list_with_labelled_links(message) -> None:
    text = message.body

    assert "TODAY\n=====\n\n* Anna Berg: Send the quote\n  Ask about Max, Anna's dog\n  Log it: http" in text
    assert "OVERDUE\n=======\n\n* Ben Carter: Chase the invoice (was due Sun 1 Mar)\n" in text
    assert "LATER THIS WEEK\n===============\n\n* Cleo Dunn: Book the tasting (Fri 6 Mar)\n" in text
    assert "<" not in text.replace("<http", "")  # no markup
    assert "\n\n\n\n" not in text  # no holes
