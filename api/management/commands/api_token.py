"""``python manage.py api_token create --user EMAIL --name NAME [--write] [--private] [--workspace ID]``"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api import services
from crm.models import Membership, User


class Command(BaseCommand):
    help = "Make an API token for a user and print it (shown this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Make a token and print it.")
        create.add_argument("--user", required=True, help="The user's email.")
        create.add_argument("--name", required=True, help="What will use it, e.g. Web shop.")
        create.add_argument("--write", action="store_true", help="Read and write (default: read only).")
        create.add_argument("--private", action="store_true", help="Private facts too (owners only).")
        create.add_argument("--workspace", type=int, help="Workspace id (default: the user's current one).")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["user"].strip()).first()
        if user is None:
            raise CommandError(f"No user with the email {options['user']}.")
        memberships = Membership.objects.filter(user=user).select_related("workspace")
        if options["workspace"]:
            membership = memberships.filter(workspace_id=options["workspace"]).first()
        else:
            current = memberships.filter(workspace_id=user.current_workspace_id) if user.current_workspace_id else None
            membership = (current.first() if current is not None else None) or memberships.first()
        if membership is None:
            raise CommandError(f"{user.email} is not a member of that workspace.")
        try:
            token, secret = services.token_create(
                user=user,
                workspace=membership.workspace,
                name=options["name"],
                write=options["write"],
                private=options["private"],
            )
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        self.stderr.write(f"Token “{token.name}” for {membership.workspace} ({token.get_scope_display()}):")
        self.stdout.write(secret)
