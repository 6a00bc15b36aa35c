"""Webhooks: endpoints, the deliveries events make, and sending them once, signed.

Guarantees:

- an event is a ``WebhookDelivery`` row written in the transaction of the change itself (the
  ``crm.events`` handler below), or, for what falls due (a follow-up's reminder occurrence, a
  promise's due day), by the sweeper from the committed rows of reminders; the unique
  ``(endpoint, event_key)`` makes each at most one delivery, however often it is recorded;
- a worker claims a delivery with a conditional UPDATE (queued and due -> sending), so two
  workers or a repeated hint send it once; a claim whose worker died is taken over after
  CLAIM_TIMEOUT_SECONDS (a receiver may then see it twice: the ``webhook-id`` stays the same so
  it can tell);
- a failed attempt is retried after 30 s x 2^attempts (at most 6 h), WEBHOOK_MAX_ATTEMPTS in
  all; the beat sweeper hints every delivery that is due, so a lost message only delays it;
- an endpoint failing WEBHOOK_DISABLE_AFTER attempts in a row is turned off and its workspace's
  owners emailed (an outbox row each).
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from standardwebhooks.webhooks import Webhook

from api import outbound
from api.models import WebhookAlert, WebhookDelivery, WebhookEndpoint
from crm import events, permissions
from crm.audit import Action, audit_record
from crm.models import Membership, Workspace
from crm.queue import claim_timeout, enqueue, enqueue_on_commit

logger = logging.getLogger(__name__)

FOLLOW_UP_DUE = "follow_up.due"
PROMISE_DUE = "promise.due"
EVENTS = {
    events.PERSON_CREATED: "A person was added",
    events.PERSON_UPDATED: "A person was changed",
    events.PERSON_DELETED: "A person was deleted",
    events.CONVERSATION_LOGGED: "A conversation was logged",
    FOLLOW_UP_DUE: "A follow-up fell due",
    PROMISE_DUE: "A promise fell due",
    events.NEED_SOLVED: "A need was solved",
}
MAX_BACKOFF = timedelta(hours=6)
SWEEP_BATCH = 500


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


# --- Endpoints ------------------------------------------------------------------------------


def _host(url: str) -> str:
    """What the audit log names of an endpoint: its host (a path may carry a secret)."""
    return urlsplit(url).hostname or "?"


@transaction.atomic
def endpoint_create(
    *, membership: Membership, url: str, events_wanted: list[str], description: str = ""
) -> WebhookEndpoint:
    """An owner's new endpoint (HTTPS, a public address) for ``events_wanted``."""
    permissions.require(membership, "manage")
    unknown = set(events_wanted) - EVENTS.keys()
    if unknown or not events_wanted:
        raise ValidationError({"events": "Choose at least one of the events offered."})
    try:
        outbound.check_url(url)
    except outbound.Refused as exc:
        raise ValidationError({"url": str(exc)}) from exc
    endpoint = WebhookEndpoint(
        workspace=membership.workspace,
        url=url,
        description=" ".join(description.split()),
        events=sorted(set(events_wanted)),
        secret=_new_secret(),
        created_by=membership.user,
        occurrences_seen=_last_occurrence_id(),
    )
    endpoint.full_clean()
    endpoint.save()
    audit_record(
        action=Action.WEBHOOK_ADDED,
        membership=membership,
        summary=f"Webhook to {_host(endpoint.url)} for {', '.join(endpoint.events)}",
        details={"endpoint": endpoint.pk, "events": endpoint.events},
    )
    return endpoint


def _last_occurrence_id() -> int:
    """New endpoints hear of follow-ups falling due from now on, not of every one before."""
    from reminders.models import ReminderOccurrence

    return ReminderOccurrence.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def endpoint_set_enabled(*, membership: Membership, endpoint: WebhookEndpoint, enabled: bool) -> None:
    permissions.require(membership, "manage")
    if enabled:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_at=None, disabled_reason="", failures_in_a_row=0)
    else:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, disabled_at__isnull=True).update(
            disabled_at=timezone.now(), disabled_reason=f"Turned off by {membership.user.name}."
        )


@transaction.atomic
def endpoint_delete(*, membership: Membership, endpoint: WebhookEndpoint) -> None:
    permissions.require(membership, "manage")
    audit_record(
        action=Action.WEBHOOK_REMOVED,
        membership=membership,
        summary=f"Webhook to {_host(endpoint.url)}",
        details={"endpoint": endpoint.pk},
    )
    endpoint.delete()


# --- Recording events -----------------------------------------------------------------------


def _delivery(
    endpoint: WebhookEndpoint, event: str, key: str, object_id: int | None, payload: Any = None
) -> WebhookDelivery:
    return WebhookDelivery(
        endpoint=endpoint,
        event=event,
        event_key=f"{event}:{key}"[:120],
        message_id=f"msg_{uuid.uuid4().hex}",
        object_id=object_id,
        payload=payload,
    )


def _record(rows: list[WebhookDelivery]) -> int:
    """Write the deliveries not written before, and hint each once the transaction commits."""
    if not rows:
        return 0
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    written = list(
        WebhookDelivery.objects.filter(message_id__in=[r.message_id for r in rows]).values_list("pk", flat=True)
    )
    from api.tasks import deliver_webhook_task

    for pk in written:
        enqueue_on_commit(deliver_webhook_task, pk)
    return len(written)


def on_event(*, workspace: Workspace, event: str, ids: list[int], **extra: Any) -> None:
    """The ``crm.events`` handler: a delivery per endpoint of the workspace that wants ``event``."""
    endpoints = [
        e
        for e in WebhookEndpoint.objects.for_workspace(workspace).filter(disabled_at__isnull=True)
        if event in e.events
    ]
    if not endpoints:
        return
    stamp = timezone.now().isoformat()
    payloads: dict[int, Any] = {}
    if event == events.PERSON_DELETED:
        from people.models import Person

        people = Person.objects.for_workspace(workspace).filter(pk__in=ids)
        payloads = {p.pk: _envelope(event, {"id": p.pk, "full_name": p.full_name}) for p in people}
    elif event not in {events.PERSON_CREATED, events.PERSON_UPDATED}:
        # Complete when published (the conversation with all it raised): kept as it was then.
        # A person is published before the records saved with them, so theirs is built when sent.
        payloads = {pk: _envelope(event, _data(workspace, event, pk)) for pk in ids}
    rows = [_delivery(e, event, f"{pk}:{stamp}", pk, payloads.get(pk)) for e in endpoints for pk in ids]
    _record(rows)


def connect() -> None:
    events.subscribe(on_event)


def record_due(*, today: Any = None) -> int:
    """Deliveries for what fell due: follow-up reminder occurrences (materialised once per
    occurrence by reminders) and promises due by today. Idempotent: keyed by the occurrence."""
    from interactions.models import Promise
    from reminders.models import ReminderOccurrence

    today = today or timezone.localdate()
    written = 0
    for endpoint in WebhookEndpoint.objects.filter(disabled_at__isnull=True).select_related("workspace"):
        rows = []
        if FOLLOW_UP_DUE in endpoint.events:
            occurrences = list(
                ReminderOccurrence.objects.for_workspace(endpoint.workspace)
                .filter(pk__gt=endpoint.occurrences_seen, key__startswith="follow_up:")
                .order_by("pk")[:SWEEP_BATCH]
            )
            for o in occurrences:
                follow_up_id = int(o.key.split(":")[1])
                rows.append(_delivery(endpoint, FOLLOW_UP_DUE, f"{follow_up_id}:{o.due_on}", follow_up_id))
            if occurrences:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(occurrences_seen=occurrences[-1].pk)
        if PROMISE_DUE in endpoint.events:
            due = Promise.objects.for_workspace(endpoint.workspace).filter(
                kept_at__isnull=True, due_on__lte=today, due_on__gte=endpoint.created_at.date()
            )
            rows += [
                _delivery(endpoint, PROMISE_DUE, f"{p.pk}:{p.due_on}", p.pk) for p in due.order_by("pk")[:SWEEP_BATCH]
            ]
        with transaction.atomic():
            written += _record(rows)
    return written


# --- Payloads -------------------------------------------------------------------------------


def _envelope(event: str, data: Any) -> dict[str, Any]:
    body = {"type": event, "timestamp": timezone.now().isoformat(), "data": data}
    return json.loads(JSONRenderer().render(body))


def _data(workspace: Workspace, event: str, pk: int) -> Any:
    """The object the event is about, as the API shows it (private facts left out)."""
    from api.serializers import (
        FollowUpSerializer,
        InteractionSerializer,
        NeedSerializer,
        PersonSerializer,
        PromiseSerializer,
    )
    from interactions import selectors as interaction_selectors
    from interactions.models import FollowUp, Need, Promise
    from people import selectors as people_selectors

    found: Any
    if event in {events.PERSON_CREATED, events.PERSON_UPDATED}:
        found = people_selectors.person_for_page(workspace, pk).first()
        return PersonSerializer(found, context={"private": False}).data if found else {"id": pk}
    if event == events.CONVERSATION_LOGGED:
        found = interaction_selectors.interaction_list(workspace).filter(pk=pk).first()
        return InteractionSerializer(found).data if found else {"id": pk}
    if event == events.NEED_SOLVED:
        found = Need.objects.for_workspace(workspace).select_related("person").filter(pk=pk).first()
        return NeedSerializer(found).data if found else {"id": pk}
    if event == PROMISE_DUE:
        found = Promise.objects.for_workspace(workspace).select_related("person").filter(pk=pk).first()
        return PromiseSerializer(found).data if found else {"id": pk}
    if event == FOLLOW_UP_DUE:
        found = FollowUp.objects.for_workspace(workspace).select_related("person").filter(pk=pk).first()
        return FollowUpSerializer(found).data if found else {"id": pk}
    return {"id": pk}


def _body(delivery: WebhookDelivery) -> str:
    if delivery.payload is None:
        workspace = delivery.endpoint.workspace
        payload = _envelope(delivery.event, _data(workspace, delivery.event, delivery.object_id or 0))
        WebhookDelivery.objects.filter(pk=delivery.pk, payload__isnull=True).update(payload=payload)
        delivery.refresh_from_db(fields=["payload"])
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)


# --- Sending --------------------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    due = Q(state=WebhookDelivery.State.QUEUED, next_attempt_at__lte=now)
    abandoned = Q(state=WebhookDelivery.State.SENDING, claimed_at__lt=now - claim_timeout())
    return due | abandoned


def delivery_send(*, delivery_id: int) -> bool:
    """Claim the delivery and POST it once, signed; record how it went. False if not ours to send
    (done, not due yet, claimed by a live worker, or its endpoint is off)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        _claimable(now), pk=delivery_id, endpoint__disabled_at__isnull=True
    ).update(state=WebhookDelivery.State.SENDING, claimed_at=now)
    if claimed != 1:
        return False
    delivery = WebhookDelivery.objects.select_related("endpoint__workspace").get(pk=delivery_id)
    endpoint = delivery.endpoint
    body = _body(delivery)
    sent_at = timezone.now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Rapport-Webhooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(delivery.message_id, sent_at, body),
    }
    try:
        answer = outbound.post(endpoint.url, body=body.encode(), headers=headers)
    except (outbound.Refused, OSError) as exc:
        _attempt_failed(delivery, error=str(exc) or exc.__class__.__name__, status=None, ms=None)
        return True
    if 200 <= answer.status < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=WebhookDelivery.State.DELIVERED,
            attempts=delivery.attempts + 1,
            delivered_at=timezone.now(),
            last_attempt_at=sent_at,
            response_status=answer.status,
            response_ms=answer.milliseconds,
            error="",
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures_in_a_row=0)
    else:
        _attempt_failed(delivery, error=f"Answered {answer.status}", status=answer.status, ms=answer.milliseconds)
    return True


def _attempt_failed(delivery: WebhookDelivery, *, error: str, status: int | None, ms: int | None) -> None:
    attempts = delivery.attempts + 1
    final = attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    backoff = min(MAX_BACKOFF, timedelta(seconds=30 * 2 ** (attempts - 1)))
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=WebhookDelivery.State.FAILED if final else WebhookDelivery.State.QUEUED,
        attempts=attempts,
        next_attempt_at=now + backoff,
        claimed_at=None,
        last_attempt_at=now,
        response_status=status,
        response_ms=ms,
        error=error[:500],
    )
    endpoint = delivery.endpoint
    with transaction.atomic():
        row = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        row.failures_in_a_row += 1
        row.save(update_fields=["failures_in_a_row"])
        if row.failures_in_a_row >= settings.WEBHOOK_DISABLE_AFTER and row.disabled_at is None:
            _disable(
                row, reason=f"Turned off after {row.failures_in_a_row} failed attempts in a row (last: {error[:150]})."
            )


def _disable(endpoint: WebhookEndpoint, *, reason: str) -> None:
    from api.tasks import send_webhook_alert_task

    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = reason
    endpoint.save(update_fields=["disabled_at", "disabled_reason"])
    for owner in permissions.workspace_owners(endpoint.workspace):
        alert = WebhookAlert.objects.create(workspace=endpoint.workspace, endpoint=endpoint, to=owner.user)
        enqueue_on_commit(send_webhook_alert_task, alert.pk)


def alert_send(*, alert_id: int) -> bool:
    """Email the owner that an endpoint was turned off, once (``crm.emails.send_once``)."""
    from crm.emails import make_message, send_once

    def message(pk: int) -> Any:
        alert = WebhookAlert.objects.select_related("endpoint", "to", "workspace").get(pk=pk)
        return make_message(
            "webhook-disabled",
            to=alert.to.email,
            context={"endpoint": alert.endpoint, "workspace": alert.workspace, "user": alert.to},
        )

    return send_once(WebhookAlert.objects.all(), pk=alert_id, message=message)


def delivery_redeliver(*, membership: Membership, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now (same webhook-id and body), e.g. after fixing the receiver."""
    permissions.require(membership, "manage")
    if delivery.state == WebhookDelivery.State.SENDING:
        raise ValidationError("This delivery is being sent right now.")
    if not delivery.endpoint.enabled:
        raise ValidationError("Turn the endpoint on first.")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=WebhookDelivery.State.QUEUED, next_attempt_at=timezone.now(), attempts=0, claimed_at=None
    )
    from api.tasks import deliver_webhook_task

    enqueue_on_commit(deliver_webhook_task, delivery.pk)
    delivery.refresh_from_db()
    return delivery


def sweep(*, now: datetime) -> int:
    """Hint every delivery that is due (a retry's time came, a hint was lost, a worker died) and
    every alert email not sent; record what fell due. Returns the hints sent."""
    from api.tasks import deliver_webhook_task, send_webhook_alert_task

    record_due()
    due = (
        WebhookDelivery.objects.filter(_claimable(now), endpoint__disabled_at__isnull=True)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    sent = sum(enqueue(deliver_webhook_task, pk) for pk in due)
    stale = now - timedelta(seconds=settings.HINT_RESEND_SECONDS)
    alerts = WebhookAlert.objects.filter(
        Q(email_state=WebhookAlert.EmailState.QUEUED, created_at__lt=stale)
        | Q(email_state=WebhookAlert.EmailState.SENDING, email_claimed_at__lt=now - claim_timeout())
    ).values_list("pk", flat=True)[:SWEEP_BATCH]
    return sent + sum(enqueue(send_webhook_alert_task, pk) for pk in alerts)
