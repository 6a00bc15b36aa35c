"""Out-of-range dates on every date field of every form, and far-future rows on every page.

The forms come from the pages, not from a list: every page the resolver knows is opened, and
each form on it with a date input (a date picker, a date and time, or the day/month/year of a
birthday) is posted as the page filled it in, with one out-of-range date in that field. A new
form with a date field is tried without editing this file. Each form is first posted with an
in-range date, which must be accepted and written: so "nothing was written" afterwards means
the date was refused, not that the filled-in form was wrong anyway.

Each post runs in a savepoint rolled back afterwards, so every one starts from the same data.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element

import html5lib
import pytest
import time_machine
from django.apps import apps
from django.db import transaction
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from exports.backup import workspace_json
from exports.models import CalendarFeed
from imports.backup import BackupError, check_rows, load
from interactions.models import FollowUp, Interaction, Need, Promise
from people.dates import RANGE_MESSAGE, YEAR_MESSAGE
from people.models import FamilyMember, ImportantDate, Person, Pet, ProfileFact
from reminders import services as reminder_services
from tests.factories import MembershipFactory, PersonFactory, WorkspaceFactory
from tests.trust.summary import record
from tests.trust.urls import TOKEN_ARGUMENTS, url_kwargs, url_patterns, workspace_objects

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EVENT_DATES = ["0001-01-01", "1849-12-31", "1899-12-31", "2201-01-01", "9999-12-31"]
REMEMBERED_DATES = ["0001-01-01", "1849-12-31", "2201-01-01", "9999-12-31"]  # 1899 is a fine birthday
# A yearless birthday's day and month, impossible ones, and what the field then says.
DAY_MONTH = [
    (("0", "4"), "Ensure this value is greater than or equal to 1."),
    (("32", "4"), "Ensure this value is less than or equal to 31."),
    (("99999999999999999999", "4"), "Ensure this value is less than or equal to 31."),
    (("31", "2"), "February has no day 31."),
    (("1", "13"), "Select a valid choice."),
]
IN_RANGE = {"date": "2026-03-09", "datetime-local": "2026-03-01T10:00", "partial": ("15", "4", "1980")}
WRITING_APPS = ("people", "interactions", "reminders")


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of the apps that hold dates: equal before and after means nothing was written."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for label in WRITING_APPS
        for model in apps.get_app_config(label).get_models()
    }


def _browser_data(form: Element, person_id: int) -> tuple[dict[str, list[str]], dict[str, str]]:
    """What a browser submits for ``form`` as the page filled it in, with the required fields
    it left empty filled (a name, the person a conversation was with); and what someone filling
    a row would put in its text fields and choices (a family member's relation)."""
    data: dict[str, list[str]] = defaultdict(list)
    texts: dict[str, str] = {}
    for element in form.iter():
        name, kind = element.get("name"), (element.get("type") or "text").lower()
        if not name or element.tag not in {"input", "select", "textarea"} or kind in {"submit", "button", "file"}:
            continue
        if element.tag == "textarea" or (element.tag == "input" and kind == "text"):
            texts[name] = "Date check"
        if element.tag == "textarea":
            data[name].append(element.text or "")
        elif element.tag == "select":
            options = list(element.iter("option"))
            chosen = [o for o in options if o.get("selected") is not None]
            if not chosen and element.get("multiple") is None:
                chosen = options[:1]
            data[name] += [o.get("value", o.text or "") for o in chosen]
            if not element.get("data-person-search") and (
                first := next((o.get("value") for o in options if o.get("value")), None)
            ):
                texts[name] = first
            if element.get("data-person-search") and element.get("required") is not None and not any(data[name]):
                data[name] = [str(person_id)]  # an optional picker (a family link) is left as it came
            elif element.get("required") is not None and not any(data[name]):
                data[name] = [next(o.get("value") for o in options if o.get("value"))]
        elif kind not in {"checkbox", "radio"}:
            data[name].append(element.get("value", ""))
        elif element.get("checked") is not None:
            data[name].append(element.get("value", "on"))
        if element.get("required") is not None and not any(data[name]) and element.tag != "select":
            data[name] = ["1" if kind == "number" else "Date check"]
    return data, texts


def _date_fields(form: Element) -> list[tuple[str, str]]:
    """(name, kind) of each date input of the form; a birthday's three inputs count as one."""
    found = []
    for element in form.iter("input"):
        name, kind = element.get("name") or "", element.get("type")
        # Date fields are text in the user's format (crm/dateformats.py), marked data-date-input.
        kind = {"date": "date", "datetime": "datetime-local"}.get(element.get("data-date-input") or "", kind)
        if kind in {"date", "datetime-local"}:
            found.append((name, kind))
        elif "pd-year" in (element.get("class") or "") and name.endswith("_year"):
            found.append((name.removesuffix("_year"), "partial"))
    return found


def _with_value(
    form: tuple[dict[str, list[str]], dict[str, str]], name: str, kind: str, value: Any
) -> dict[str, list[str]]:
    """The form's data with ``value`` in the field; in a formset row, the row's empty text filled
    and its empty choices made."""
    data, texts = {key: list(values) for key, values in form[0].items()}, form[1]
    if row := re.match(r"^(.+-\d+-)", name):
        for key, values in data.items():
            if key.startswith(row[1]) and key in texts and not any(values):
                data[key] = [texts[key]]
    if kind == "partial":
        day, month, year = value
        data |= {f"{name}_day": [day], f"{name}_month": [month], f"{name}_year": [year]}
    else:
        data[name] = [value]
    return data


def _partial(value: str) -> tuple[str, str, str]:
    year, month, day = value.split("-")
    return str(int(day)), str(int(month)), str(int(year))


def _post(client: Client, url: str, data: dict[str, list[str]]) -> tuple[int, str, bool]:
    """Post in a savepoint rolled back afterwards: (status, page, whether anything was written)."""
    savepoint = transaction.savepoint()
    try:
        before = _snapshot()
        response = client.post(url, data, follow=True)
        return response.status_code, response.content.decode(), _snapshot() != before
    finally:
        transaction.savepoint_rollback(savepoint)


def _forms_with_dates(client: Client, ids: dict[str, int]) -> dict[tuple[str, str], tuple[str, Element]]:
    """Every (action, date field) on any page, once (the quick log is on every page)."""
    found: dict[tuple[str, str], tuple[str, Element]] = {}
    for name, converters in url_patterns():
        if TOKEN_ARGUMENTS & set(converters):
            continue
        url = reverse(name, kwargs=url_kwargs(name, converters, ids))
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for form in html5lib.parse(response.content, namespaceHTMLElements=False).iter("form"):
            if (form.get("method") or "get").lower() != "post":
                continue
            action = form.get("action") or url
            for field, kind in _date_fields(form):
                found.setdefault((action, re.sub(r"-\d+-", "-0-", field)), (kind, form))
    return found


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_it_refuses_an_out_of_range_date_in_every_date_field_of_every_form(
    owner: User, member: User, workspace: Workspace
) -> None:
    ids = workspace_objects(owner=owner, member=member, workspace=workspace, text="Dated")
    # Someone due to stay in touch: the dashboard then shows the stay-in-touch snooze too.
    PersonFactory(workspace=workspace, owner=owner, created_at=NOW - timedelta(days=10), cadence=timedelta(days=7))
    client = Client(raise_request_exception=False)
    client.force_login(owner)

    forms = _forms_with_dates(client, ids)
    tried = server_errors = stored = 0
    failures = []
    for (action, field), (kind, form) in sorted(forms.items(), key=lambda item: item[0]):
        data = _browser_data(form, ids["person"])
        status, page, written = _post(client, action, _with_value(data, field, kind, IN_RANGE[kind]))
        errors = re.findall(r'id="error_[^"]*"><strong>([^<]*)', page)
        assert (status, written) == (200, True), f"{action} {field}: an in-range date was refused: {errors}"
        if kind == "partial":
            cases = [(_partial(v), v, YEAR_MESSAGE) for v in REMEMBERED_DATES]
            cases += [((*day_month, ""), "/".join(day_month), message) for day_month, message in DAY_MONTH]
        else:
            suffix = "T09:00" if kind == "datetime-local" else ""
            cases = [(v + suffix, v, RANGE_MESSAGE) for v in EVENT_DATES]
        for value, shown, message in cases:
            status, page, written = _post(client, action, _with_value(data, field, kind, value))
            tried += 1
            server_errors += status >= 500
            stored += written
            # The quick log answers its form, re-rendered with the errors, with a 400.
            if status not in (200, 400) or message not in page or written:
                failures.append(f"{action} {field}={shown}: {status}, message shown: {message in page}, {written=}")

    record("dates", **{"out-of-range_dates_tried": tried}, server_errors=server_errors, stored=stored)
    assert not failures, "\n".join(failures)
    fields = {field.split("-0-")[-1] for _, field in forms}
    assert fields >= {
        "met_on", "birthday", "anniversary", "date", "do_not_contact_until", "learned_on", "occurred_at",
        "follow_up_on", "due_on", "quick-follow_up_on", "until",
    }, fields  # fmt: skip
    assert len(forms) >= 20


def _far_future_rows(workspace: Workspace, ids: dict[str, int]) -> FollowUp:
    """Rows stored before dates had a range, written past validation as an attacker did."""
    person = Person.objects.get(pk=ids["person"])
    far = date(9999, 12, 31)
    FollowUp.objects.filter(pk=ids["follow_up"]).update(
        due_on=far, anchor_on=far, repeat_every=365, repeat_unit="years"
    )
    ancient = FollowUp.objects.create(workspace=workspace, person=person, due_on=date(2026, 3, 1))
    FollowUp.objects.filter(pk=ancient.pk).update(
        due_on=date(1, 1, 1), anchor_on=date(1, 1, 1), repeat_every=1, repeat_unit="days"
    )
    snoozed = FollowUp.objects.create(workspace=workspace, person=person, due_on=date(2026, 3, 1))
    FollowUp.objects.filter(pk=snoozed.pk).update(snoozed_until=far)
    Promise.objects.filter(pk=ids["promise"]).update(due_on=far)
    Person.objects.filter(pk=person.pk).update(
        met_on=date(1, 1, 1), do_not_contact_until=far, cadence_snoozed_until=far, birthday_year=9999,
        birthday_day=31, birthday_month=12, anniversary_day=1, anniversary_month=1, anniversary_year=1,
        contact_every=365, contact_every_unit="months", cadence=timedelta(days=365 * 30),
    )  # fmt: skip
    FamilyMember.objects.filter(workspace=workspace).update(birthday_day=31, birthday_month=12, birthday_year=9999)
    Pet.objects.filter(workspace=workspace).update(birthday_day=1, birthday_month=1, birthday_year=1)
    ImportantDate.objects.create(workspace=workspace, person=person, label="Far", date_day=3, date_month=3)
    ImportantDate.objects.filter(workspace=workspace).update(date_year=9999)
    Need.objects.filter(pk=ids["need"]).update(opened_on=date(1, 1, 1), solved_on=far)
    ProfileFact.objects.filter(workspace=workspace).update(learned_on=far)
    # A conversation at the last minute of 9999 and one at the first of year 1, and the last
    # contact they give: neither can be shown in every time zone as Python's datetimes go.
    Interaction.objects.filter(pk=ids["interaction"]).update(occurred_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    old = PersonFactory(workspace=workspace, first_name="Ancient", cadence=timedelta(days=7))
    first = Interaction.objects.create(workspace=workspace, summary="Ancient", occurred_at=NOW)
    first.people.add(old)
    Interaction.objects.filter(pk=first.pk).update(occurred_at=datetime(1, 1, 1, tzinfo=UTC))
    Person.objects.filter(pk=person.pk).update(last_contacted_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    Person.objects.filter(pk=old.pk).update(last_contacted_at=datetime(1, 1, 1, tzinfo=UTC))
    return FollowUp.objects.get(pk=ids["follow_up"])


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_far_future_rows_break_no_page_for_anyone(owner: User, member: User, workspace: Workspace) -> None:
    ids = workspace_objects(owner=owner, member=member, workspace=workspace, text="Far")
    series = _far_future_rows(workspace, ids)
    # The two ends of the world's clocks: year 1 is out of reach west, 9999 east.
    User.objects.filter(pk=owner.pk).update(time_zone="America/Los_Angeles")
    User.objects.filter(pk=member.pk).update(time_zone="Pacific/Kiritimati")
    person = reverse("people:detail", args=[ids["person"]])
    pages = [reverse("dashboard"), reverse("reminders:calendar"), person, "/reminders/calendar/?year=2200&month=12"]
    pages += [
        reverse(name, kwargs=url_kwargs(name, converters, ids))
        for name, converters in url_patterns()
        if not TOKEN_ARGUMENTS & set(converters)
    ]

    for user in (owner, member):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        client.post(reverse("exports:feed_create"))
        feed = client.get(reverse("exports:feed", args=[CalendarFeed.objects.get(user=user).token]))
        assert feed.status_code == 200
        assert b"Far: Far" not in feed.content  # the date in year 9999 is left out
        assert b"BEGIN:VEVENT" in feed.content  # the rest is there
        for page in pages:
            assert client.get(page).status_code < 500, page
        for pk in FollowUp.objects.for_workspace(workspace).values_list("pk", flat=True):
            snoozed = client.post(reverse("reminders:follow_up_snooze", args=[pk]), {"snooze": "1w", "next": person})
            assert snoozed.status_code == 302
        assert client.get(person).status_code == 200

    done = Client()
    done.force_login(owner)
    response = done.post(reverse("reminders:follow_up_done", args=[series.pk]), {"next": person}, follow=True)
    assert response.status_code == 200
    assert "That was the last of the series: the next would fall after 2200." in response.content.decode()
    series.refresh_from_db()
    assert series.done_at is not None
    assert series.due_on == date(9999, 12, 31)  # ended where it was, not stepped past the range


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_backup_holding_a_far_future_date_is_refused_naming_the_row(owner: User, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace, first_name="Anna", birthday_day=15, birthday_month=4)
    follow_up = reminder_services.follow_up_create(person=person, due_on=date(2026, 3, 9))
    FollowUp.objects.filter(pk=follow_up.pk).update(due_on=date(9999, 12, 31))  # stored before the range
    data = "".join(workspace_json(workspace)).encode()
    target = WorkspaceFactory(name="Restored")
    MembershipFactory(workspace=target, user=owner, role="owner")

    with pytest.raises(BackupError, match=r"Row 1 of reminders\.followup: Enter a date from 1900 to 2200\."):
        check_rows(load(data, max_bytes=10_000_000), workspace=target, user=owner)  # before anything is written

    assert not Person.objects.for_workspace(target).exists()
