"""Handing customers to a teammate: the history of who owned whom.

The person's follow-ups, open needs and the customer's own promises follow the person (the
dashboard and the digest read them through the owner). A teammate's promise does not: it is
that teammate's word, kept by them (``Promise.made_by``), and the new owner sees it as
"Ngozi promised".

Delivery follows the house pattern: the hand-over row and the new owner's bell notification
commit in the same transaction as the owner change, so the notification exists exactly when
the change does. Nothing goes through the broker: the bell and the next digest read the rows,
and a digest marks the hand-overs it told (``Handover.told_at``) only once it was sent.

Why the bell is handed in rather than imported: the notification is a reminders
``ReminderOccurrence`` and its text counts open follow-ups, needs and promises
(interactions), all above people, which may not import them (the layers in pyproject.toml).
So the app that owns the bell gives people its notifier once, at start-up
(``reminders/apps.py`` calls ``handover_notifier_set``; the notifier is
``reminders.handover.handovers_notify``), and ``handovers_record`` calls it inside the
caller's transaction, whoever changes the owner (the edit form, a bulk change, a script).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from django.utils import timezone

from crm.audit import Action, audit_record, people_count
from crm.models import User, Workspace
from people.models import Handover


class HandoverNotifier(Protocol):
    def __call__(
        self, *, workspace: Workspace, handovers: list[Handover], to_user: User, by: User | None, now: datetime
    ) -> None: ...


_notifier: HandoverNotifier | None = None


def handover_notifier_set(notifier: HandoverNotifier) -> None:
    """Who tells a new owner of what they received (the reminders app, at start-up)."""
    global _notifier
    _notifier = notifier


def handovers_record(
    *, workspace: Workspace, previous_owners: dict[int, int | None], to_user: User | None, by: User | None
) -> list[Handover]:
    """Record that these people (id -> previous owner's id) now belong to ``to_user``, and have the
    notifier put a notification on the new owner's bell. Call inside the transaction that
    changes the owner.

    Someone who took a customer over themselves is not told about it (nor is nobody, when a
    person is left without an owner); the history is kept all the same.
    """
    moved = {pk: old for pk, old in previous_owners.items() if old != (to_user.pk if to_user else None)}
    if not moved:
        return []
    now = timezone.now()
    notify = to_user if to_user is not None and to_user != by else None
    handovers = Handover.objects.bulk_create(
        [
            Handover(
                workspace=workspace,
                person_id=pk,
                from_user_id=old,
                to_user=to_user,
                by=by,
                at=now,
                told_at=None if notify else now,
            )
            for pk, old in sorted(moved.items())
        ]
    )
    if notify is not None and _notifier is not None:
        _notifier(workspace=workspace, handovers=handovers, to_user=notify, by=by, now=now)
    audit_record(
        action=Action.PERSON_HANDED_OVER,
        actor=by,
        workspace=workspace,
        summary=f"Handed {people_count(len(moved))} over to {to_user.email if to_user else 'nobody'}",
        details={"count": len(moved), "ids": sorted(moved)[:100]},
    )
    return handovers


def handovers_mark_told(*, handover_ids: Iterable[int]) -> int:
    """A sent digest told these: later digests leave them out. Once only (conditional)."""
    return Handover.objects.filter(pk__in=list(handover_ids), told_at__isnull=True).update(told_at=timezone.now())
