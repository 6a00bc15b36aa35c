"""Follow-up chips: "Tomorrow", "+3 days", "Next week", "In a month", dated from the user's today."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from crm.models import User
from interactions.forms import follow_up_chips

# Noon in London: already Saturday in Kiritimati (UTC+14), still Friday in Pago Pago (UTC-11).
FRIDAY_NOON_UTC = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def _chips(page: str, field_id: str) -> dict[str, str]:
    bar = re.search(
        rf'<div class="follow-up-chips[^"]*"[^>]*data-follow-up-chips="{field_id}" hidden>(.*?)</div>', page, re.S
    )
    assert bar, f"no chips for {field_id}"
    found = re.findall(r'data-date="([\d-]+)"[^>]*>([^<]+)<', bar.group(1))
    return {label: day for day, label in found}


def test_the_chips_count_from_today_and_a_month_from_the_31st_is_the_months_end() -> None:
    assert follow_up_chips(date(2026, 3, 20)) == [
        ("Tomorrow", date(2026, 3, 21)),
        ("+3 days", date(2026, 3, 23)),
        ("Next week", date(2026, 3, 27)),
        ("In a month", date(2026, 4, 20)),
    ]
    assert dict(follow_up_chips(date(2027, 1, 31)))["In a month"] == date(2027, 2, 28)
    assert dict(follow_up_chips(date(2200, 12, 31))) == {}  # nothing past the last date Rapport takes


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone", "tomorrow", "in_a_month"),
    [("Pacific/Kiritimati", "2026-03-22", "2026-04-21"), ("Pacific/Pago_Pago", "2026-03-21", "2026-04-20")],
)
def test_the_quick_log_and_the_full_form_date_the_chips_in_the_users_own_time_zone(
    owner_client: Client, owner: User, zone: str, tomorrow: str, in_a_month: str
) -> None:
    owner.time_zone = zone
    owner.save(update_fields=["time_zone"])

    with time_machine.travel(FRIDAY_NOON_UTC, tick=False):
        dashboard = owner_client.get(reverse("dashboard")).content.decode()
        full_form = owner_client.get(reverse("interactions:create")).content.decode()

    for page, field_id in ((dashboard, "id_quick-follow_up_on"), (full_form, "id_follow_up_on")):
        chips = _chips(page, field_id)
        assert list(chips) == ["Tomorrow", "+3 days", "Next week", "In a month"]
        assert (chips["Tomorrow"], chips["In a month"]) == (tomorrow, in_a_month)
    assert '<script src="/static/js/follow_up_chips.js"></script>' in dashboard


@pytest.mark.django_db
def test_the_shared_quick_log_fields_are_never_someone_elses_today(
    owner_client: Client, owner: User, member_client: Client, member: User
) -> None:
    """The empty quick log is rendered once and reused: someone a day ahead must not set the dates."""
    owner.time_zone, member.time_zone = "Pacific/Kiritimati", "Pacific/Pago_Pago"
    User.objects.bulk_update([owner, member], ["time_zone"])

    with time_machine.travel(FRIDAY_NOON_UTC, tick=False):
        ahead = owner_client.get(reverse("dashboard")).content.decode()
        behind = member_client.get(reverse("dashboard")).content.decode()

    assert _chips(ahead, "id_quick-follow_up_on")["Tomorrow"] == "2026-03-22"
    assert _chips(behind, "id_quick-follow_up_on")["Tomorrow"] == "2026-03-21"
