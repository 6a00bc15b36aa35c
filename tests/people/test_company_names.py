from __future__ import annotations

import pytest
from django.db.models.functions import Lower
from django.test import Client
from django.urls import reverse

from crm.models import Workspace
from people.models import Company, Person


@pytest.mark.django_db
def test_it_files_names_that_differ_only_in_special_letter_cases_under_one_company(
    owner_client: Client, workspace: Workspace
) -> None:
    # PostgreSQL lowers "İ" to "i" (as the unique constraint does) but does not upper "i" to "İ".
    for name in ("istanbul ltd", "İstanbul Ltd", "ISTANBUL LTD"):
        response = owner_client.post(reverse("people:create"), {"first_name": name, "company_name": name})
        assert response.status_code == 302, response.content.decode()[:500]

    companies = Company.objects.for_workspace(workspace)
    assert companies.values(lower=Lower("name")).distinct().count() == companies.count()
    assert not Person.objects.for_workspace(workspace).filter(company=None).exists()
