"""Telling a new owner what came with the customers handed to them: the bell notification,
made in the owner change's transaction (``people.handover`` calls ``handovers_notify``, handed
to it in ``reminders/apps.py``), and the next digest's line (``handovers_to_tell``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, Prefetch
from django.utils import timezone

from crm.models import Membership, User, Workspace
from interactions.models import FollowUp, Need, Promise
from people.models import Handover, Person
from reminders.models import ReminderOccurrence

TEXT_MAX = 300  # ReminderOccurrence.text


def _count(n: int, one: str) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {one}s"


def _words(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def handover_text(
    *, person: Person, from_user: User | None, by: User | None, counts: OpenCounts, makers: dict[int, User]
) -> str:
    """What the bell says: "Olivia handed Anna Berg over to you, with 1 open follow-up and
    2 open promises, 1 of them made by Olivia, who keeps it."."""
    who = by.name if by else "Someone"
    text = f"{who} handed {person.full_name} over to you"
    if from_user is not None and from_user != by:
        text += f" from {from_user.name}"
    parts = [
        _count(n, label)
        for n, label in (
            (counts.follow_ups, "open follow-up"),
            (counts.needs, "open need"),
            (counts.promises, "open promise"),
        )
        if n
    ]
    if parts:
        text += ", with " + _words(parts)
    kept = sum(counts.teammates.values())
    if kept:
        if len(counts.teammates) == 1:
            (maker_id,) = counts.teammates
            maker, verb = (makers[maker_id].name if maker_id in makers else "a teammate"), "keeps"
        else:
            maker, verb = "teammates", "keep"
        which = "made" if counts.promises == 1 else f"{kept} of them made"
        text += f", {which} by {maker}, who {verb} {'it' if kept == 1 else 'them'}"
    return (text + ".")[:TEXT_MAX]


@dataclass
class OpenCounts:
    """What is open about a person handed over; ``teammates``: maker id -> promises of theirs
    (a teammate's word, which stays theirs to keep)."""

    follow_ups: int = 0
    needs: int = 0
    promises: int = 0
    teammates: dict[int, int] = field(default_factory=dict)


def _open_counts(person_ids: list[int], *, to_user: User) -> dict[int, OpenCounts]:
    """Per person, what is open: three grouped queries, whatever the number of people."""
    counts = {pk: OpenCounts() for pk in person_ids}
    follow_ups = FollowUp.objects.filter(person_id__in=person_ids, done_at__isnull=True)
    for pk, n in follow_ups.values_list("person_id").annotate(n=Count("id")).order_by():
        counts[pk].follow_ups = n
    needs = Need.objects.filter(person_id__in=person_ids, status__in=Need.OPEN_STATUSES)
    for pk, n in needs.values_list("person_id").annotate(n=Count("id")).order_by():
        counts[pk].needs = n
    promises = Promise.objects.filter(person_id__in=person_ids, kept_at__isnull=True)
    for pk, direction, made_by, n in (
        promises.values_list("person_id", "direction", "made_by_id").annotate(n=Count("id")).order_by()
    ):
        counts[pk].promises += n
        if direction == Promise.Direction.MINE and made_by is not None and made_by != to_user.pk:
            counts[pk].teammates[made_by] = counts[pk].teammates.get(made_by, 0) + n
    return counts


def handovers_notify(
    *, workspace: Workspace, handovers: list[Handover], to_user: User, by: User | None, now: datetime
) -> None:
    """Put a notification of each hand-over on the new owner's bell: "Olivia handed Anna Berg
    over to you, with ...". Called inside the transaction that changes the owner."""
    ids = [h.person_id for h in handovers]
    people = Person.objects.for_workspace(workspace).only("first_name", "last_name").in_bulk(ids)
    counts = _open_counts(ids, to_user=to_user)
    makers = {pk for c in counts.values() for pk in c.teammates}
    users = User.objects.in_bulk({h.from_user_id for h in handovers if h.from_user_id} | makers)
    # Dated on the new owner's own calendar day, as their reminders are.
    day = timezone.localtime(now, to_user.zone).date()
    ReminderOccurrence.objects.bulk_create(
        [
            ReminderOccurrence(
                workspace=workspace,
                user=to_user,
                person_id=h.person_id,
                key=f"handover:{h.pk}",
                due_on=day,
                text=handover_text(
                    person=people[h.person_id],
                    from_user=users.get(h.from_user_id) if h.from_user_id else None,
                    by=by,
                    counts=counts[h.person_id],
                    makers=users,
                ),
                state=ReminderOccurrence.State.NOTIFIED,
                notified_at=now,
            )
            for h in handovers
        ],
        ignore_conflicts=True,
    )


# --- The digest's line ------------------------------------------------------------------------


def handovers_to_tell(*, user: User) -> list[Handover]:
    """Hand-overs to ``user`` no digest has told them of yet, of people still theirs, in their
    workspaces: each with the person's open follow-ups, needs and promises (makers selected).
    Five queries, whatever the number."""
    return list(
        Handover.objects.filter(
            to_user=user,
            told_at__isnull=True,
            person__owner=user,
            person__archived_at__isnull=True,
            workspace__in=Membership.objects.filter(user=user).values("workspace"),
        )
        .select_related("person", "from_user", "by")
        .prefetch_related(
            Prefetch(
                "person__follow_ups",
                queryset=FollowUp.objects.filter(done_at__isnull=True).order_by("due_on", "id"),
                to_attr="open_follow_ups",
            ),
            Prefetch(
                "person__needs",
                queryset=Need.objects.filter(status__in=Need.OPEN_STATUSES).order_by("opened_on", "id"),
                to_attr="open_needs",
            ),
            Prefetch(
                "person__promises",
                queryset=Promise.objects.filter(kept_at__isnull=True)
                .select_related("made_by")
                .order_by(F("due_on").asc(nulls_last=True), "id"),
                to_attr="open_promises",
            ),
        )
        .order_by("at", "id")
    )
