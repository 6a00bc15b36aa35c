"""``manage.py export_contacts --user EMAIL --format vcf|csv|json|zip -o PATH``: exports from a shell.

The user's current workspace, streamed to the file (``-o -`` writes to standard output).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.models import User
from exports import backup, services
from people.models import Person


class Command(BaseCommand):
    help = "Export a user's current workspace as vCard, CSV, JSON or a ZIP backup."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="Email of the user; their current workspace is used.")
        parser.add_argument("--format", choices=["vcf", "csv", "json", "zip"], default="vcf")
        parser.add_argument("-o", "--output", required=True, help="File to write, or - for standard output.")
        parser.add_argument("--include-private", action="store_true", help="vCard/CSV: include private facts.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["user"]).select_related("current_workspace").first()
        if user is None or user.current_workspace is None:
            raise CommandError(f"No user {options['user']} with a workspace.")
        workspace = user.current_workspace
        fmt = options["format"]
        if fmt in {"vcf", "csv"}:
            people = services.export_people(
                Person.objects.for_workspace(workspace).order_by("last_name", "first_name", "id"),
                include_private=options["include_private"],
            )
            chunks: Iterator[str | bytes] = services.vcards(people) if fmt == "vcf" else services.csv_rows(people)
        elif fmt == "json":
            chunks = backup.workspace_json(workspace)
        else:
            chunks = backup.workspace_zip(workspace)
        out = sys.stdout.buffer if options["output"] == "-" else open(options["output"], "wb")  # noqa: SIM115
        try:
            for chunk in chunks:
                out.write(chunk.encode() if isinstance(chunk, str) else chunk)
        finally:
            if out is not sys.stdout.buffer:
                out.close()
        if options["output"] != "-":
            self.stderr.write(f"Wrote {workspace.name} as {fmt} to {options['output']}")
