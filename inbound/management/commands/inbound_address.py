"""Print a user's logging address, approving sender addresses as theirs (set-up and scripts)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.models import Membership
from inbound import services


class Command(BaseCommand):
    help = "Print USER's logging address; --approve adds addresses whose mail is accepted as theirs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="The user's sign-in email.")
        parser.add_argument("--workspace", type=int, help="Workspace id (default: the user's first).")
        parser.add_argument("--approve", nargs="*", default=[], metavar="SENDER")

    def handle(self, *args: Any, **options: Any) -> None:
        memberships = Membership.objects.filter(user__email__iexact=options["user"]).select_related("user", "workspace")
        if options["workspace"]:
            memberships = memberships.filter(workspace_id=options["workspace"])
        membership = memberships.order_by("joined_at", "pk").first()
        if membership is None:
            raise CommandError(f"No user {options['user']} (in that workspace).")
        address = services.address_for(workspace=membership.workspace, user=membership.user)
        for sender in options["approve"]:
            try:
                services.sender_approve(address=address, email=sender)
            except ValidationError as exc:
                raise CommandError(f"{sender}: {' '.join(exc.messages)}") from exc
        self.stdout.write(address.email)
