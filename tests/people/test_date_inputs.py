"""Date fields on edit forms show the date already stored, so saving the form does not blank it."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import Workspace
from tests.factories import PersonFactory


@pytest.mark.django_db
@pytest.mark.parametrize(("view", "field"), [("people:edit", "met_on"), ("people:preferences", "do_not_contact_until")])
def test_an_edit_form_shows_the_stored_date_as_a_date_field_holds_it(
    owner_client: Client, workspace: Workspace, view: str, field: str
) -> None:
    # The field holds the stored day as the user types it (their date style, UK here): an empty
    # field would drop the date on saving.
    anna = PersonFactory(workspace=workspace, **{field: date(2026, 3, 27)})

    page = owner_client.get(reverse(view, args=[anna.pk])).content.decode()

    assert f'name="{field}" value="27/03/2026"' in page
