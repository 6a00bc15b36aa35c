"""Background work for webhooks: each task takes ids and calls one service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from api import webhooks


@shared_task(acks_late=True)
def deliver_webhook_task(delivery_id: int) -> bool:
    # Retries are the row's own (next_attempt_at, hinted again by the sweeper), not Celery's.
    return webhooks.delivery_send(delivery_id=delivery_id)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_webhook_alert_task(alert_id: int) -> bool:
    return webhooks.alert_send(alert_id=alert_id)


@shared_task(acks_late=True)
def sweep_webhooks_task() -> int:
    return webhooks.sweep(now=timezone.now())
