"""The XSS corpus through import: every payload in a vCard's fields, a CSV's cells and header,
and a file name; the mapping page, the preview, the result and the imported people are inert."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from crm.models import Workspace
from imports import services
from imports.models import ImportJob
from people.models import Person
from tests.trust.summary import record
from tests.trust.test_xss import Pages
from tests.trust.xss import xss_payloads

pytestmark = [pytest.mark.trust, pytest.mark.rendering]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "").replace("\n", "\\n")


def _card(i: int, payload: str) -> str:
    value = _escape(payload)
    return (
        "BEGIN:VCARD\r\nVERSION:3.0\r\n"
        f"N:{value};Xss{i};;;\r\nNICKNAME:{value}\r\nORG:{value}\r\nTITLE:{value}\r\n"
        f"EMAIL;TYPE={value[:20]}:x{i}@example.com\r\nURL:{value}\r\nADR:;;{value};;;;\r\n"
        f"item1.X-ABDATE:2001-02-03\r\nitem1.X-ABLabel:{value}\r\n"
        f"X-SPOUSE:{value}\r\nCATEGORIES:{value}\r\nNOTE:{value}\r\n"
        "END:VCARD\r\n"
    )


def _upload(client: Client, name: str, data: bytes) -> ImportJob:
    response = client.post(reverse("imports:page"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content[:300]
    return ImportJob.objects.latest("pk")


@pytest.mark.django_db
def test_it_renders_imported_payloads_inert(owner_client: Client, workspace: Workspace) -> None:
    payloads = xss_payloads()
    pages = Pages()
    vcf = "".join(_card(i, p) for i, p in enumerate(payloads)).encode()
    job = _upload(owner_client, f"{payloads[0][:60]}.vcf", vcf)
    services.import_read(job_id=job.pk)
    pages.check(owner_client, job.get_absolute_url())  # the preview
    owner_client.post(reverse("imports:go", args=[job.pk]), {"default_action": "create"})
    services.import_run(job_id=job.pk)
    pages.check(owner_client, job.get_absolute_url())  # the result
    pages.check(owner_client, reverse("imports:page"))  # the list of imports, with the file name
    people = Person.objects.for_workspace(workspace).order_by("pk")
    assert people.count() == len(payloads)
    for person in people:
        pages.check(owner_client, reverse("people:detail", args=[person.pk]))
    pages.check_all_pages(owner_client, reverse("people:list"))

    # A CSV whose header and cells are payloads: the mapping page shows both.
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["First Name", *payloads[:20]])
    for payload in payloads:
        writer.writerow([payload, *[payload] * 20])
    csv_job = _upload(owner_client, "evil.csv", out.getvalue().encode())
    pages.check(owner_client, csv_job.get_absolute_url())
    mapping = {f"col_{i}": ("first_name" if i == 0 else "notes") for i in range(21)}
    owner_client.post(reverse("imports:mapping", args=[csv_job.pk]), mapping)
    services.import_read(job_id=csv_job.pk)
    pages.check(owner_client, csv_job.get_absolute_url())

    record("xss", payloads_tried=len(payloads), executed=len(pages.executed))
    assert pages.executed == []
