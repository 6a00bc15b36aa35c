"""Web Push: turning it on per device, and the morning "who to contact today" sent once.

Guarantee (as for digests, see ``digests.services``): at most one row per device and local day,
claimed before sending. A worker killed after the push service took the message but before the
row says "sent" sends it again when the claim expires; the notification's tag is the run's, so
the phone replaces the first with the second instead of showing two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from pywebpush import WebPushException, webpush

from crm import dateformats
from crm.models import Membership, User
from crm.queue import claim, claim_timeout
from pwa import vapid
from pwa.models import PushRun, PushSubscription
from reminders import selectors as reminder_selectors

GONE = {404, 410}  # the push service says this subscription is no more
TTL = 12 * 60 * 60  # a phone off all day gets the morning's news by the evening, not tomorrow
LATE = timedelta(hours=12)  # later than this after its hour a morning notification is not sent


@transaction.atomic
def subscription_save(*, user: User, endpoint: str, p256dh: str, auth: str, device: str = "") -> PushSubscription:
    """Turn the morning notification on for one browser; the same browser again updates its keys."""
    subscription = PushSubscription.objects.filter(endpoint=endpoint).first() or PushSubscription(endpoint=endpoint)
    subscription.user, subscription.p256dh, subscription.auth = user, p256dh, auth
    subscription.device = device[:120]
    subscription.full_clean(validate_unique=False)
    if not subscription.endpoint.startswith("https://") and not settings.DEBUG and not settings.PUSH_ALLOW_HTTP:
        raise ValidationError({"endpoint": "A push service is reached over https."})
    subscription.save()
    return subscription


def subscription_revoke(*, subscription: PushSubscription) -> None:
    subscription.delete()


def _morning(user: User, now: datetime) -> tuple[date, datetime]:
    """The user's latest notification time (their digest hour, every day) at or before ``now``."""
    day = now.astimezone(user.zone).date()
    at = datetime.combine(day, time(user.digest_hour), tzinfo=user.zone)
    if at > now:
        day -= timedelta(days=1)
        at = datetime.combine(day, time(user.digest_hour), tzinfo=user.zone)
    return day, at


def push_dispatch(*, now: datetime, user_ids: list[int] | None = None) -> list[int]:
    """Create today's row for every device whose morning has come (idempotent); queued run ids.

    A device subscribed after this morning's hour starts tomorrow. After downtime only the
    latest morning is created: nobody gets a notification per missed day.
    """
    subscriptions = PushSubscription.objects.select_related("user").filter(user__is_active=True)
    if user_ids is not None:
        subscriptions = subscriptions.filter(user_id__in=user_ids)
    rows = []
    for subscription in subscriptions.iterator(chunk_size=1000):
        day, at = _morning(subscription.user, now)
        if at >= subscription.created_at:
            rows.append(PushRun(subscription=subscription, period=day, scheduled_at=at))
    PushRun.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    abandoned = Q(state=PushRun.State.SENDING, claimed_at__lt=now - claim_timeout())
    runs = PushRun.objects.filter(Q(state=PushRun.State.QUEUED) | abandoned)
    if user_ids is not None:
        runs = runs.filter(subscription__user_id__in=user_ids)
    return list(runs.values_list("pk", flat=True))


@dataclass(frozen=True)
class Notification:
    title: str
    body: str
    url: str

    def payload(self, tag: str) -> str:
        icon = settings.SITE_URL + static("img/icons/icon-192.png")
        return json.dumps({"title": self.title, "body": self.body, "url": self.url, "tag": tag, "icon": icon})


def push_content(*, user: User, today: date) -> Notification | None:
    """Who to contact today (overdue first) with their follow-ups' notes; None when nobody."""
    items: list[Any] = []
    for membership in Membership.objects.filter(user=user).select_related("workspace"):
        board = reminder_selectors.dashboard(membership.workspace, user=user, owner=user, today=today)
        items += board.overdue + board.due_today
    if not items:
        return None
    people = list(dict.fromkeys(i.person.full_name for i in items))
    title = f"{len(people)} {'person' if len(people) == 1 else 'people'} to contact today"
    lines = []
    for item in items[:4]:
        what = item.follow_up.note if item.follow_up else "stay in touch"
        late = f" (due {dateformats.format_date(item.due, 'day_month')})" if item.due < today else ""
        lines.append(f"{item.person.full_name}: {what}{late}")
    if len(items) > 4:
        lines.append(f"and {len(items) - 4} more")
    return Notification(title=title, body="\n".join(lines), url=settings.SITE_URL + reverse("dashboard"))


def push_send(*, run_id: int, now: datetime | None = None) -> str:
    """Send one morning notification once. Returns the state it ended in.

    Claims the row (queued, or a sending claim abandoned by a killed worker) with a conditional
    UPDATE; a run claimed elsewhere is left alone. A subscription the push service says is gone
    (404, 410) is removed with its rows. A connection problem or a 5xx releases the claim and
    raises, for the task to retry.
    """
    now = now or timezone.now()
    if not claim(PushRun, pk=run_id, now=now):
        return "not-claimed"
    run = PushRun.objects.select_related("subscription__user").get(pk=run_id)
    subscription, user = run.subscription, run.subscription.user
    if now - run.scheduled_at > LATE:
        return _finish(run, PushRun.State.SKIPPED, error="More than 12 hours late: skipped, not sent.")
    with timezone.override(user.zone), dateformats.override(user.date_style):
        notification = push_content(user=user, today=run.period)
    if notification is None:
        return _finish(run, PushRun.State.EMPTY)
    info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    try:
        webpush(
            subscription_info=info,
            data=notification.payload(tag=f"rapport-morning-{run.period}"),
            vapid_private_key=vapid.key(),
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            ttl=TTL,
            timeout=10,
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in GONE:
            subscription.delete()
            return PushRun.State.GONE
        if status is not None and 400 <= status < 500:
            return _finish(run, PushRun.State.FAILED, error=str(exc)[:1000])
        _release(run, exc)
        raise
    except OSError as exc:  # requests' connection errors are OSErrors
        _release(run, exc)
        raise
    PushSubscription.objects.filter(pk=subscription.pk).update(last_sent_at=timezone.now())
    return _finish(run, PushRun.State.SENT)


def _release(run: PushRun, exc: Exception) -> None:
    PushRun.objects.filter(pk=run.pk).update(
        state=PushRun.State.QUEUED, error=str(exc)[:1000], attempts=run.attempts + 1
    )


def _finish(run: PushRun, state: str, *, error: str = "") -> str:
    sent_at = timezone.now() if state == PushRun.State.SENT else None
    PushRun.objects.filter(pk=run.pk).update(state=state, error=error, sent_at=sent_at)
    return state


def push_mark_failed(*, run_id: int, error: str) -> None:
    PushRun.objects.filter(pk=run_id).exclude(state=PushRun.State.SENT).update(
        state=PushRun.State.FAILED, error=error[:1000]
    )
