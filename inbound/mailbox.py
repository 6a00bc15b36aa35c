"""Fetching the deployment's mailbox (INBOUND_IMAP_URL) with imap-tools, by UID.

Never twice, never skipped: a message is flagged (or moved) only after its row is committed,
and the row is keyed by the mailbox's UIDVALIDITY and the UID, so a message fetched again after
a crash between the two is recognised and only flagged. Unflagged messages are fetched on every
run, so one that a dropped connection left behind is fetched on the next.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import socket
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.utils import timezone
from imap_tools import AND, BaseMailBox, MailBox, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError
from imap_tools.utils import check_command_status

from inbound import services
from inbound.models import MailboxPoll

log = logging.getLogger("rapport.inbound")

LOGGED_FLAG = "RapportLogged"  # an IMAP keyword: the message has a row in Rapport
POLL_NAME = "imap"
IMAP_ERRORS = (OSError, socket.timeout, imaplib.IMAP4.error, imaplib.IMAP4.abort, ImapToolsError, EOFError)


def _connect(url: str) -> tuple[BaseMailBox, str]:
    parts = urlsplit(url)
    if parts.scheme not in {"imap", "imaps"} or not parts.hostname or not parts.username:
        raise ImproperlyConfigured("INBOUND_IMAP_URL must look like imaps://user:password@host:993/INBOX")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    box: BaseMailBox
    if parts.scheme == "imaps":
        box = MailBox(parts.hostname, parts.port or 993, timeout=30)
    else:
        box = MailBoxUnencrypted(parts.hostname, parts.port or 143, timeout=30)
    try:
        box.login(unquote(parts.username), unquote(parts.password or ""), initial_folder=folder)
    except IMAP_ERRORS:
        _close(box)
        raise
    return box, folder


def _close(box: BaseMailBox) -> None:
    """Close the socket of a connection that may already be broken."""
    with contextlib.suppress(*IMAP_ERRORS):
        box.client.shutdown()


def _fetch_raw(box: BaseMailBox, uid: str) -> bytes | None:
    # BODY.PEEK: the message stays unread for the person reading the mailbox, if anyone does.
    result = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
    check_command_status(result, ImapToolsError)
    for item in result[1]:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _done(box: BaseMailBox, uid: str) -> None:
    if settings.INBOUND_IMAP_DONE_FOLDER:
        box.move(uid, settings.INBOUND_IMAP_DONE_FOLDER)
    else:
        box.flag(uid, [LOGGED_FLAG, "\\Seen"], True)


def mailbox_poll() -> int:
    """Fetch every message not yet logged, log each, and mark it; returns how many.

    A failure (server unreachable, connection dropped) is recorded on the ``MailboxPoll`` row
    that the footer and the settings page show, and raised, so the task retries; the messages
    not marked yet are fetched next time.
    """
    url = settings.INBOUND_IMAP_URL
    if not url:
        return 0
    poll, _ = MailboxPoll.objects.get_or_create(name=POLL_NAME)
    handled = 0
    try:
        box, folder = _connect(url)
        try:
            validity = box.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"]
            criteria = "ALL" if settings.INBOUND_IMAP_DONE_FOLDER else AND(no_keyword=LOGGED_FLAG)
            for uid in sorted(box.uids(criteria), key=int):
                raw = _fetch_raw(box, uid)
                if raw is None:
                    continue  # expunged meanwhile
                services.message_receive(raw=raw, source="imap", source_key=f"{folder}:{validity}:{uid}")
                _done(box, uid)
                handled += 1
        finally:
            try:
                box.logout()
            except IMAP_ERRORS:
                _close(box)  # the connection is already gone; what was marked is marked
    except IMAP_ERRORS as exc:
        MailboxPoll.objects.filter(pk=poll.pk).update(
            last_failure_at=timezone.now(), last_error=f"{type(exc).__name__}: {exc}"[:500], failures=F("failures") + 1
        )
        log.warning("inbound: fetching %s failed: %s", urlsplit(url).hostname, exc)
        raise
    MailboxPoll.objects.filter(pk=poll.pk).update(last_success_at=timezone.now(), failures=0, last_error="")
    return handled
