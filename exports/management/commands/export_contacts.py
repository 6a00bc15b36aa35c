"""``manage.py export_contacts --user EMAIL --format vcf|csv|json|zip -o PATH``: exports from a shell.

The user's current workspace, streamed to the file (``-o -`` writes to standard output), with
what the user's role allows: a backup (json, zip) and private facts are for owners.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.models import Membership, User
from exports import services
from people.models import Person


class Command(BaseCommand):
    help = "Export a user's current workspace as vCard, CSV, JSON or a ZIP backup."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="Email of the user; their current workspace is used.")
        parser.add_argument("--format", choices=["vcf", "csv", "json", "zip"], default="vcf")
        parser.add_argument("-o", "--output", required=True, help="File to write, or - for standard output.")
        parser.add_argument(
            "--include-private",
            action="store_true",
            help="vCard: include private facts (owners; a CSV never has them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["user"]).select_related("current_workspace").first()
        current = user.current_workspace if user is not None else None
        membership = (
            Membership.objects.select_related("workspace").for_workspace(current).filter(user=user).first()
            if current is not None
            else None
        )
        if membership is None:
            raise CommandError(f"No user {options['user']} with a workspace.")
        workspace = membership.workspace
        fmt = options["format"]
        if fmt == "csv" and options["include_private"]:
            raise CommandError("A CSV never has private facts: export a vCard or a zip backup for those.")
        try:
            chunks = self._chunks(membership, fmt, include_private=options["include_private"])
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        out = sys.stdout.buffer if options["output"] == "-" else open(options["output"], "wb")  # noqa: SIM115
        try:
            for chunk in chunks:
                out.write(chunk.encode() if isinstance(chunk, str) else chunk)
        finally:
            if out is not sys.stdout.buffer:
                out.close()
        if options["output"] != "-":
            self.stderr.write(f"Wrote {workspace.name} as {fmt} to {options['output']}")

    def _chunks(self, membership: Membership, fmt: str, *, include_private: bool) -> Iterator[str | bytes]:
        if fmt in {"json", "zip"}:
            return services.workspace_backup(membership=membership, as_json=fmt == "json")
        people = services.export_people(
            Person.objects.for_workspace(membership.workspace).order_by("last_name", "first_name", "id"),
            membership=membership,
            include_private=include_private,
            file_format=fmt,
        )
        return services.vcards(people) if fmt == "vcf" else services.csv_rows(people)
