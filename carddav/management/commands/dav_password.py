"""``python manage.py dav_password create --user EMAIL --name NAME``: an app password for
contact sync, printed once (for set-up scripts); ``list`` and ``revoke`` for the rest."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carddav import selectors, services
from crm.models import User


class Command(BaseCommand):
    help = "Make, list or revoke app passwords for CardDAV contact sync."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="make an app password and print it (shown only this once)")
        create.add_argument("--user", required=True, help="the account's email")
        create.add_argument("--name", required=True, help="the device it is for")
        listing = sub.add_parser("list", help="the account's app passwords")
        listing.add_argument("--user", required=True)
        revoke = sub.add_parser("revoke", help="stop a device from syncing")
        revoke.add_argument("--user", required=True)
        revoke.add_argument("--name", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["user"].strip()).first()
        if user is None:
            raise CommandError(f"No account with the email {options['user']!r}.")
        passwords = selectors.app_passwords(user)
        if options["action"] == "create":
            if not options["name"].strip():
                raise CommandError('Give the device a name, e.g. --name "Ngozi\'s iPhone".')
            _, password = services.app_password_create(user=user, name=options["name"])
            self.stdout.write(password)
        elif options["action"] == "list":
            for app_password in passwords:
                used = app_password.last_used_at.isoformat() if app_password.last_used_at else "never used"
                self.stdout.write(f"{app_password.name}\t{app_password.created_at.isoformat()}\t{used}")
        else:
            found = list(passwords.filter(name=options["name"]))
            if not found:
                raise CommandError(f"{user.email} has no app password named {options['name']!r}.")
            for app_password in found:
                services.app_password_revoke(app_password=app_password)
            self.stdout.write(f"Revoked {len(found)} app password(s) named {options['name']!r}.")
