"""Log one email from standard input: the delivery command of a mail server (Postfix ``pipe``).

Exit 0 when the message was logged or deliberately not (ignored, unmatched, unreadable: it is
kept with its reason, and delivering it again would change nothing); 75 (EX_TEMPFAIL) when it
could not even be kept, so the mail server keeps it and tries again.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from inbound import services

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Log one email read from standard input (for a mail server's pipe)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", action="append", default=[], help="The envelope recipient (Postfix: ${recipient}).")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read()
        try:
            message = services.message_receive(raw=raw, recipients=options["to"], source="pipe")
        except DatabaseError as exc:
            self.stderr.write(f"Temporary failure, not logged: {exc}")
            sys.exit(EX_TEMPFAIL)
        if message is None:
            self.stdout.write("Ignored: not addressed to any logging address.")
        else:
            self.stdout.write(f"{message.get_status_display()}: {message.reason or message.subject}")
