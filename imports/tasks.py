"""Import background work: read the file into rows, then write the rows. Both resume safely."""

from __future__ import annotations

from celery import shared_task

from imports import services


@shared_task(acks_late=True, max_retries=3, default_retry_delay=10)
def read_import_task(job_id: int) -> None:
    services.import_read(job_id=job_id)


@shared_task(acks_late=True, max_retries=3, default_retry_delay=10)
def run_import_task(job_id: int) -> None:
    services.import_run(job_id=job_id)


@shared_task(acks_late=True)
def expire_import_uploads_task() -> int:
    return services.import_expire_uploads()
