"""Writes for inbound email: logging addresses, approved senders, and receiving a message.

Receiving is two steps, each its own transaction. ``message_receive`` commits the message as
it came (so nothing received is lost, whatever happens next); ``message_process`` reads it and
logs the conversation through ``interactions.services.interaction_log``, so the stay-in-touch
clock and the dashboard see it as any logged conversation. A message that cannot be read is
marked failed with its reason and never blocks the ones behind it; a database error leaves it
received, and ``messages_sweep`` reads it again later.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from crm import permissions
from crm.audit import Action, audit_record
from crm.models import Membership, User, Workspace
from inbound import parsing
from inbound.models import ApprovedSender, InboundAddress, InboundMessage
from interactions.models import Interaction
from interactions.services import interaction_log
from people.dates import in_range
from people.models import ContactMethod, Person
from people.services import contact_methods_ensure_primary, person_create

log = logging.getLogger("rapport.inbound")

TOKEN_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105 - lower case: some servers fold local parts
TOKEN_LENGTH = 16
Status = InboundMessage.Status


def _new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


@transaction.atomic
def address_for(*, workspace: Workspace, user: User) -> InboundAddress:
    """The user's logging address in this workspace, made on first use."""
    permissions.require_user(user=user, workspace=workspace, capability="view")
    address = InboundAddress.objects.for_workspace(workspace).filter(user=user).first()
    if address is None:
        address = InboundAddress(workspace=workspace, user=user, token=_new_token())
        address.full_clean()
        address.save()
    return address


def _audit(address: InboundAddress, action: str, summary: str, **details: int) -> None:
    """A change to who can log by email, in the address owner's log and the workspace's."""
    audit_record(
        action=action,
        actor=address.user,
        workspace=address.workspace,
        summary=summary,
        details={"address": address.pk, **details},
    )


@transaction.atomic
def address_rotate(*, address: InboundAddress) -> InboundAddress:
    """A new token: mail to the old address no longer reaches anyone."""
    address.token = _new_token()
    address.rotated_at = timezone.now()
    address.full_clean()
    address.save(update_fields=["token", "rotated_at"])
    _audit(address, Action.INBOUND_ROTATED, "New logging address: mail to the old one is refused")
    return address


@transaction.atomic
def sender_approve(*, address: InboundAddress, email: str) -> ApprovedSender:
    """Accept mail from another address of the user's own."""
    email = email.strip().lower()
    existing = ApprovedSender.objects.filter(address=address, email=email).first()
    if existing is not None:
        return existing
    sender = ApprovedSender(address=address, email=email)
    sender.full_clean()
    sender.save()
    _audit(address, Action.SENDER_APPROVED, f"Mail from {email} is logged", sender=sender.pk)
    return sender


@transaction.atomic
def sender_remove(*, sender: ApprovedSender) -> None:
    _audit(sender.address, Action.SENDER_REMOVED, f"Mail from {sender.email} is no longer logged", sender=sender.pk)
    sender.delete()


def address_find(recipient: str) -> InboundAddress | None:
    """The logging address ``recipient`` names (``log+TOKEN@domain``), or None."""
    _, addr = parseaddr(recipient)
    local, _, domain = addr.strip().lower().partition("@")
    base_local, plus, token = local.partition("+")
    if not plus or not token:
        return None
    if settings.INBOUND_ADDRESS:
        want_local, _, want_domain = settings.INBOUND_ADDRESS.lower().partition("@")
        if (base_local, domain) != (want_local, want_domain):
            return None
    return InboundAddress.objects.filter(token=token).select_related("user", "workspace").first()


def _own_addresses() -> set[str]:
    """Rapport's own From addresses: its mail forwarded back is never a conversation."""
    found = {parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower(), parseaddr(settings.SERVER_EMAIL)[1].lower()}
    return {a for a in found if a}


def _is_logging_address(addr: str) -> bool:
    local, _, domain = addr.partition("@")
    if settings.INBOUND_ADDRESS:
        want_local, _, want_domain = settings.INBOUND_ADDRESS.lower().partition("@")
        return domain == want_domain and local.partition("+")[0] == want_local
    return bool(InboundAddress.objects.filter(token=local.partition("+")[2]).exists()) if "+" in local else False


def _cut(raw: bytes) -> tuple[bytes, bool]:
    """Over INBOUND_MAX_BYTES, the header only (the body is dropped, and the row says so)."""
    if len(raw) <= settings.INBOUND_MAX_BYTES:
        return raw, False
    end = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=-1)
    header = raw[: end if 0 <= end < 256 * 1024 else 64 * 1024]
    return header + b"\r\n\r\n", True


def message_receive(
    *, raw: bytes, recipients: Iterable[str] = (), source: str = "pipe", source_key: str = ""
) -> InboundMessage | None:
    """Keep one received message and log it; None when it was not for any logging address.

    The row is committed before the message is read, so a crash while reading loses nothing
    (``messages_sweep`` reads it again). With ``source_key`` (an IMAP UID) a message received
    twice is kept once. Raises ``DatabaseError`` only when even the row could not be written:
    that is the temporary failure a mail server should retry.
    """
    if source_key:
        existing = InboundMessage.objects.filter(source_key=source_key).first()
        if existing is not None:
            return message_process(message_id=existing.pk) if existing.status == Status.RECEIVED else existing
    candidates = list(recipients)
    if not candidates:
        candidates = parsing.parse(
            raw[:262144], tz=timezone.get_default_timezone(), own_addresses=set()
        ).recipients_seen
    address = next((a for a in (address_find(r) for r in candidates) if a is not None), None)
    if address is None:
        log.warning("inbound: dropped a message for %s: no such logging address", ", ".join(candidates) or "nobody")
        return None
    kept, truncated = _cut(raw)
    try:
        message = _keep(address, raw, kept, truncated, source, source_key)
    except IntegrityError:
        # Two fetches of one IMAP message at once: the first one's row is the one.
        return InboundMessage.objects.get(source_key=source_key)
    return message_process(message_id=message.pk)


@transaction.atomic
def _keep(
    address: InboundAddress, raw: bytes, kept: bytes, truncated: bool, source: str, source_key: str
) -> InboundMessage:
    message = InboundMessage(
        workspace=address.workspace,
        user=address.user,
        source=source,
        source_key=source_key,
        raw=kept,
        size=len(raw),
        truncated=truncated,
    )
    message.full_clean(exclude=["raw", "source_key"])
    message.save()
    return message


def message_process(*, message_id: int) -> InboundMessage:
    """Read a received message and log it, or say why not. Runs once per message: the row is
    locked and only a message still ``received`` is read."""
    try:
        with transaction.atomic():
            message = InboundMessage.objects.select_for_update().select_related("user", "workspace").get(pk=message_id)
            if message.status == Status.RECEIVED:
                _read(message)
    except IntegrityError:
        # Another copy of this email was logged at the same moment: the constraint kept it once.
        InboundMessage.objects.filter(pk=message_id, status=Status.RECEIVED).update(
            status=Status.IGNORED, reason="Already logged: another copy of this email arrived first."
        )
    except DatabaseError:
        raise  # temporary: the row stays received and the sweeper reads it again
    except Exception as exc:  # a message we cannot read must not block the ones behind it
        log.exception("inbound: could not log message %s", message_id)
        InboundMessage.objects.filter(pk=message_id, status=Status.RECEIVED).update(
            status=Status.FAILED, reason=f"{type(exc).__name__}: {exc}"[:300]
        )
    return InboundMessage.objects.get(pk=message_id)


def message_retry(*, message: InboundMessage) -> InboundMessage:
    """Read a could-not-log email again (after an upgrade that reads it, say)."""
    if not InboundMessage.objects.filter(pk=message.pk, status=Status.FAILED).update(status=Status.RECEIVED, reason=""):
        raise ValidationError("Only an email that could not be logged is tried again.")
    return message_process(message_id=message.pk)


def messages_sweep(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Read again every message left received (its reader died); returns how many."""
    ids = list(
        InboundMessage.objects.filter(status=Status.RECEIVED, received_at__lt=timezone.now() - older_than)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        message_process(message_id=pk)
    return len(ids)


def _user_addresses(message: InboundMessage) -> set[str]:
    approved = ApprovedSender.objects.for_workspace(message.workspace).filter(address__user=message.user)
    return {message.user.email.lower(), *(e.lower() for e in approved.values_list("email", flat=True))}


def _finish(message: InboundMessage, status: str, reason: str = "") -> None:
    message.status, message.reason = status, reason[:300]
    message.full_clean(exclude=["raw"])
    message.save()


def _read(message: InboundMessage) -> None:
    parsed = parsing.parse(bytes(message.raw), tz=message.user.zone, own_addresses=_own_addresses())
    mine = _user_addresses(message)
    original = parsed.original
    message.sender = _show(parsed.sender)
    message.full_text = (original.text if original else parsed.text)[:200_000]
    message.body = parsing.clean_body(message.full_text)[:50_000]
    message.html = parsing.sanitise_html((original.html if original and original.html else parsed.html)[:500_000])
    found = (original.attachments if original and original.attachments else parsed.attachments) or []
    message.attachments = [{"name": a.name, "size": a.size} for a in found]
    message.subject = ((original.subject if original else "") or parsed.subject)[:998]
    when = (original.date if original else None) or parsed.date
    message.sent_at = (
        when if when is not None and in_range(when) and when <= timezone.now() + timedelta(days=1) else None
    )
    message.message_id = ((original.message_id if original else "") or parsed.message_id)[:998] or (
        "sha256:" + hashlib.sha256(bytes(message.raw)).hexdigest()
    )
    if parsed.ignore:
        log.info("inbound: ignored message %s: %s", message.pk, parsed.ignore)
        _finish(message, Status.IGNORED, f"It is {parsed.ignore}.")
        return
    if parsed.sender is None or parsed.sender[1] not in mine:
        log.warning("inbound: dropped message %s from %s: not an approved sender", message.pk, message.sender)
        _finish(message, Status.IGNORED, f"From {message.sender or 'nobody'}, not one of your approved addresses.")
        return
    if original is not None and original.is_bounce:
        _finish(message, Status.IGNORED, "The forwarded message is a bounce (delivery report).")
        return
    if original is not None and original.sender and original.sender[1] in _own_addresses():
        _finish(message, Status.IGNORED, "The forwarded message was sent by Rapport itself.")
        return
    if original is not None and not (original.sender and original.sender[1] in mine):
        message.direction = InboundMessage.Direction.RECEIVED
        people = [original.sender] if original.sender else []
    else:
        message.direction = InboundMessage.Direction.SENT
        people = (original.to + original.cc) if original else (parsed.to + parsed.cc)
    seen: set[str] = set()
    message.candidates = []
    for name, addr in people:
        if addr not in seen and addr not in mine and not (addr and _is_logging_address(addr)):
            seen.add(addr)
            message.candidates.append([name, addr])
    if not message.candidates:
        _finish(message, Status.IGNORED, "Nobody but you is among its people: nothing to log.")
        return
    earlier = InboundMessage.objects.for_workspace(message.workspace).filter(
        message_id=message.message_id, status=Status.LOGGED
    )
    first = earlier.first()
    if first is not None:
        message.interaction = first.interaction
        _finish(message, Status.IGNORED, "Already logged: the same email arrived before.")
        return
    matched = _people_with(message.workspace, [addr for _, addr in message.candidates if addr])
    if not matched:
        _finish(message, Status.UNMATCHED, "Nobody in this workspace has these addresses.")
        return
    _log(message, matched)


def _show(address: parsing.Address | None) -> str:
    if address is None:
        return ""
    name, addr = address
    return f"{name} <{addr}>" if name and addr else (addr or name)


def _people_with(workspace: Workspace, emails: list[str]) -> list[Person]:
    """The people of the workspace with any of these addresses, whatever their case."""
    wanted = {e.lower() for e in emails}
    ids = (
        ContactMethod.objects.for_workspace(workspace)
        .filter(kind=ContactMethod.Kind.EMAIL)
        .annotate(lowered=Lower("value"))
        .filter(lowered__in=wanted)
        .values("person_id")
    )
    return list(Person.objects.for_workspace(workspace).filter(pk__in=ids, archived_at__isnull=True).order_by("pk"))


MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def _as_markdown(text: str) -> str:
    """Plain text that Markdown shows as written: specials escaped, each line kept."""
    out = []
    for line in text.split("\n"):
        line = line.replace("&", "&amp;").replace("<", "&lt;")
        out.append(MARKDOWN_SPECIALS.sub(r"\\\1", line.rstrip()) + "  ")
    return "\n".join(out).strip()


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _notes(message: InboundMessage) -> str:
    who = ", ".join(f"{name} <{addr}>" if name else addr for name, addr in message.candidates)
    said = "Sent to" if message.direction == InboundMessage.Direction.SENT else "Received from"
    parts = [f"*{said} {_as_markdown(who)}*", _as_markdown(message.body) or "*(no text)*"]
    if message.attachments:
        listed = ", ".join(f"{_as_markdown(a['name'])} ({human_size(a['size'])})" for a in message.attachments)
        parts.append(f"Attachments: {listed}")
    if message.truncated:
        parts.append(f"*The email was {human_size(message.size)}, over the limit: only its header was kept.*")
    parts.append(f"[Full original email]({reverse('inbound:message', args=[message.pk])})")
    notes = "\n\n".join(parts)
    if len(notes) > 19_000:  # the conversation's notes hold 20,000 characters; the rest is one click away
        body = _as_markdown(message.body[:15_000]) + "  \n*(cut here: the rest is in the full original)*"
        notes = "\n\n".join([parts[0], body, *parts[2:]])
    return notes


def _log(message: InboundMessage, people: list[Person]) -> None:
    try:
        interaction = interaction_log(
            workspace=message.workspace,
            user=message.user,
            people=people,
            summary=(message.subject.strip() or "(no subject)")[:200],
            kind=Interaction.Kind.EMAIL,
            occurred_at=message.sent_at or message.received_at,
            notes=_notes(message),
        )
    except PermissionDenied:
        _finish(message, Status.FAILED, "You can only view this workspace, so nothing can be logged in it.")
        return
    except ValidationError as exc:
        _finish(message, Status.FAILED, "; ".join(exc.messages))
        return
    message.interaction = interaction
    _finish(message, Status.LOGGED)


@transaction.atomic
def message_attach(
    *, membership: Membership, message: InboundMessage, person: Person, email: str = ""
) -> InboundMessage:
    """Log an unmatched email with ``person``; the address becomes theirs, so the next is found."""
    permissions.require(membership, "write")
    message = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.status != Status.UNMATCHED:
        raise ValidationError("This email is no longer waiting for someone.")
    if person.workspace_id != message.workspace_id:
        raise ValidationError({"person": "Choose someone of this workspace."})
    email = (email or (message.candidates[0][1] if message.candidates else "")).strip().lower()
    if email and not _people_with(message.workspace, [email]):
        method = ContactMethod(workspace=person.workspace, person=person, kind=ContactMethod.Kind.EMAIL, value=email)
        method.full_clean()
        method.save()
        contact_methods_ensure_primary(person=person)
    _log(message, [person])
    if message.status != Status.LOGGED:
        raise ValidationError(message.reason)
    return message


@transaction.atomic
def message_create_person(
    *, membership: Membership, message: InboundMessage, first_name: str, last_name: str = "", email: str = ""
) -> InboundMessage:
    """A new person from an unmatched email's address, with the email logged on their timeline."""
    permissions.require(membership, "write")
    person = person_create(
        workspace=membership.workspace,
        created_by=membership.user,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    return message_attach(membership=membership, message=message, person=person, email=email)
