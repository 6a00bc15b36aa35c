"""The Celery app and the one static beat schedule."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Proves the scheduler is alive; the footer warns when this row is over an hour old.
    # Once a minute is cheap (one UPDATE) and fine-grained enough for an hourly warning.
    "scheduler-heartbeat": {
        "task": "crm.tasks.heartbeat_task",
        "schedule": 60.0,
    },
}


@beat_init.connect
def _heartbeat_on_start(sender: Any = None, **kwargs: Any) -> None:
    # Interval entries first fire one interval after beat starts; say "alive" right away.
    sender.app.send_task("crm.tasks.heartbeat_task")
