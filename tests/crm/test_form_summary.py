"""Long forms open on a summary of what to fix, each line a link to its field, and date fields
show the user's format under them (issue 18)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import Membership, User, Workspace
from tests.factories import PersonFactory, UserFactory
from tests.interactions.test_logging import _full_log


def _summary(page: str) -> list[tuple[str, str]]:
    """The summary's lines as (link target, text)."""
    found = re.search(r"<div[^>]*data-error-summary>(.*?)</div>", page, re.S)
    assert found, "no error summary"
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', found.group(1))


@pytest.mark.django_db
def test_the_person_form_lists_each_problem_with_a_link_to_its_field(owner_client: Client) -> None:
    data = {
        "first_name": "",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-0-kind": "email",
        "contacts-0-value": "not an address",
        "family-TOTAL_FORMS": "0",
        "family-INITIAL_FORMS": "0",
        "pets-TOTAL_FORMS": "0",
        "pets-INITIAL_FORMS": "0",
    }

    page = owner_client.post(reverse("people:create"), data).content.decode()

    lines = _summary(page)
    assert ("id_first_name", "First name: This field is required.") in lines
    assert any(anchor == "id_contacts-0-value" and text.startswith("Contact method 1: ") for anchor, text in lines)
    for anchor, _ in lines:
        assert f'id="{anchor}"' in page  # every link lands on a field
    assert page.index("data-error-summary") < page.index('id="id_first_name"')  # at the top


@pytest.mark.django_db
def test_the_conversation_form_summarises_a_bad_row_too(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    data = _full_log([anna], **{"facts-0-fact_type": "", "facts-0-value": "Something learned"})

    page = owner_client.post(reverse("interactions:create"), data).content.decode()

    (line,) = [text for anchor, text in _summary(page) if anchor == "id_facts-0-fact_type"]
    assert line.startswith("Fact 1: ")
    assert line.endswith("Choose what kind of fact this is.")


@pytest.mark.django_db
def test_a_form_that_is_fine_has_no_summary(owner_client: Client) -> None:
    page = owner_client.get(reverse("people:create")).content.decode()

    assert "data-error-summary" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(("style", "shown"), [("en-gb", "dd/mm/yyyy"), ("en-us", "mm/dd/yyyy"), ("iso", "yyyy-mm-dd")])
def test_date_fields_show_the_users_format_under_them(workspace: Workspace, style: str, shown: str) -> None:
    user: User = UserFactory(date_style=style, current_workspace=workspace)
    Membership.objects.create(workspace=workspace, user=user, role="owner")
    client = Client()
    client.force_login(user)

    page = client.get(reverse("interactions:create")).content.decode()

    assert re.search(rf'<div id="id_follow_up_on_helptext"[^>]*>\s*{re.escape(shown)}\s*</div>', page)
    assert re.search(rf'<div id="id_occurred_at_helptext"[^>]*>\s*{re.escape(shown)} hh:mm\s*</div>', page)
    assert 'aria-describedby="id_occurred_at_helptext"' in page
