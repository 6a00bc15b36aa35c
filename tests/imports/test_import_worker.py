"""A real Celery worker reads and writes an import while the page shows its progress."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from imports.models import ImportJob
from people.models import Person
from tests.processes import celery_worker, wait_for


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_an_uploaded_vcard(owner: User, workspace: Workspace) -> None:
    client = Client()
    client.force_login(owner)
    cards = b"".join(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Person%d;Ann\r\nEMAIL:ann%d@example.org\r\nEND:VCARD\r\n" % (i, i)
        for i in range(300)
    )

    with celery_worker():
        response = client.post(reverse("imports:page"), {"file": SimpleUploadedFile("team.vcf", cards)})
        job = ImportJob.objects.get(workspace=workspace)
        assert response["Location"] == job.get_absolute_url()
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.READY, what="the file read")
        assert "300</span> new" in client.get(job.get_absolute_url()).content.decode()

        client.post(reverse("imports:go", args=[job.pk]), {"default_action": "merge"})
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE, what="the import to finish")

    job.refresh_from_db()
    assert (job.created, job.processed, job.total) == (300, 300, 300)
    assert Person.objects.for_workspace(workspace).count() == 300
    assert "300</span> created" in client.get(job.get_absolute_url()).content.decode()
