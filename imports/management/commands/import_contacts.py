"""``manage.py import_contacts FILE [FILE ...] --user EMAIL``: the web import, from a shell.

Into the user's current workspace; possible duplicates are merged (nothing is overwritten), so
running it twice creates nobody twice. Exit status 0 when it ran, even if some cards failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.models import User, Workspace
from imports import services
from imports.models import ImportJob, ImportRow


class Command(BaseCommand):
    help = "Import vCard, CSV or workspace backup files into a user's current workspace."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--user", required=True, help="Email of the user; their current workspace is used.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["user"]).select_related("current_workspace").first()
        workspace = user.current_workspace if user is not None else None
        if user is None or workspace is None or not user.memberships.filter(workspace=workspace).exists():
            raise CommandError(f"No user {options['user']} with a workspace.")
        totals = {"created": 0, "merged": 0, "skipped": 0, "failed": 0}
        for path in options["files"]:
            try:
                job = self._import(user, workspace, path)
            except (OSError, ValidationError) as exc:
                message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.stdout.write(f"{path}: not imported: {message}")
                continue
            if job.status == ImportJob.Status.FAILED:
                self.stdout.write(f"{path}: not imported: {job.error}")
                continue
            for key in totals:
                totals[key] += getattr(job, key)
            failures = ImportRow.objects.filter(job=job, outcome=ImportRow.Outcome.FAILED).order_by("number")
            for row in failures.only("number", "name", "error"):
                self.stdout.write(f"{path}:{row.number}: {row.name or 'unnamed'}: {row.error}")
        self.stdout.write(
            f"imported {totals['created']}, merged {totals['merged']}, "
            f"skipped {totals['skipped']}, failed {totals['failed']}"
        )

    def _import(self, user: User, workspace: Workspace, path: Path) -> ImportJob:
        job = services.import_upload(
            workspace=workspace, user=user, file_name=path.name, data=path.read_bytes(), background=False
        )
        if job.status == ImportJob.Status.MAPPING:
            services.import_set_mapping(job=job, mapping=job.mapping, background=False)
        if job.status == ImportJob.Status.READING:
            services.import_read(job_id=job.pk)
        job.refresh_from_db()
        if job.status == ImportJob.Status.READY:
            services.import_start(job=job, default_action=ImportRow.Action.MERGE, actions={}, background=False)
            services.import_run(job_id=job.pk)
            job.refresh_from_db()
        return job
