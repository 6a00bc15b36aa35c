"""Import background work: read the file into rows, then write the rows. Both resume safely.

No Celery retries: a task that fails records why on the job (the user sees it), and a job
whose worker died is taken over by the sweeper (``services.import_takeover``), a bounded
number of times. Each task claims its job first, so a repeated message does nothing.
"""

from __future__ import annotations

from celery import shared_task

from imports import services


@shared_task(acks_late=True)
def read_import_task(job_id: int) -> None:
    services.import_read(job_id=job_id)


@shared_task(acks_late=True)
def run_import_task(job_id: int) -> None:
    services.import_run(job_id=job_id)


@shared_task(acks_late=True)
def expire_import_uploads_task() -> int:
    return services.import_expire_uploads()
