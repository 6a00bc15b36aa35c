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
    # Materialises due reminders for every user on their local day. Every 15 minutes so a
    # user's new day (midnight in their time zone) is picked up within a quarter of an hour;
    # the work is idempotent, so overlapping or repeated runs are harmless.
    "dispatch-reminders": {
        "task": "reminders.tasks.dispatch_reminders_task",
        "schedule": 15 * 60.0,
    },
    # Digests go out on the hour the user chose, in their time zone (some zones are offset by
    # 30 or 45 minutes). Every 5 minutes keeps the delay small; rows make repeats harmless.
    "dispatch-digests": {
        "task": "digests.tasks.dispatch_digests_task",
        "schedule": 5 * 60.0,
    },
    # The morning notification (Web Push, opt-in per device) goes out on the digest hour, like
    # the digest: the same 5 minutes, and rows per device and day make repeats harmless.
    "dispatch-push": {
        "task": "pwa.tasks.dispatch_push_task",
        "schedule": 5 * 60.0,
    },
    # Uploads left waiting for their column mapping or go-ahead are deleted after
    # IMPORT_UPLOAD_MAX_AGE_DAYS days. The age is counted in days, so hourly is precise enough,
    # and each run is one conditional UPDATE of the few jobs past it (repeats change nothing).
    "expire-import-uploads": {
        "task": "imports.tasks.expire_import_uploads_task",
        "schedule": 60 * 60.0,
    },
    # Email logged by BCC or forward: fetch INBOUND_IMAP_URL (nothing when unset). The issue
    # promises "within a minute"; a run with no new mail is one IMAP SEARCH. Overlapping runs
    # are harmless: each message's row is keyed by its UID.
    "poll-mailbox": {
        "task": "inbound.tasks.poll_mailbox_task",
        "schedule": 60.0,
    },
    # Received email whose reader died (worker killed, database gone) is read again.
    "sweep-inbound": {
        "task": "inbound.tasks.sweep_inbound_task",
        "schedule": 5 * 60.0,
    },
    # The audit log keeps AUDIT_RETENTION_DAYS days: counted in days, so daily is precise enough,
    # and a run is one indexed DELETE (repeats delete nothing more).
    "prune-audit-log": {
        "task": "crm.tasks.audit_prune_task",
        "schedule": 24 * 60 * 60.0,
    },
    # Sent sign-up, reset and notice emails older than OUTBOX_KEEP_DAYS, and expired sessions:
    # counted in days, so daily; a run is a few indexed DELETEs, and a repeat deletes nothing.
    "housekeeping": {
        "task": "crm.tasks.housekeeping_task",
        "schedule": 24 * 60 * 60.0,
    },
    # The calendar feeds' change log keeps each workspace's latest row (a feed's version); daily,
    # in batches, so it stays as small as the number of workspaces.
    "prune-feed-changes": {
        "task": "exports.tasks.feed_changes_prune_task",
        "schedule": 24 * 60 * 60.0,
    },
    # Retention rules of each workspace (archive people not contacted for N years, delete the
    # archived after N days): counted in days, so daily; a repeat finds nobody new.
    "apply-retention-rules": {
        "task": "exports.tasks.retention_task",
        "schedule": 24 * 60 * 60.0,
    },
    # Broker messages are hints: this sends them again for every row (email, test digest,
    # import) whose message was never sent or whose worker died. Once a minute bounds how
    # long a Redis outage delays the work after Redis is back; a sweep with nothing to do is
    # a few indexed queries, and sweeps overlapping are harmless (rows are claimed).
    "sweep-outbox": {
        "task": "crm.tasks.sweep_outbox_task",
        "schedule": 60.0,
    },
    # Webhooks: hints every delivery whose retry time came (or whose hint or worker was lost)
    # and records follow-ups and promises that fell due. Once a minute keeps a 30 s backoff
    # near its time; deliveries are claimed, so overlapping sweeps are harmless.
    "sweep-webhooks": {
        "task": "api.tasks.sweep_webhooks_task",
        "schedule": 60.0,
    },
}

# Tests run real beat processes for seconds, not hours: they set every interval to this many
# seconds. Not for production (the intervals above are what the app is designed around).
if os.environ.get("BEAT_INTERVAL_SECONDS"):
    for entry in app.conf.beat_schedule.values():
        entry["schedule"] = float(os.environ["BEAT_INTERVAL_SECONDS"])


@beat_init.connect
def _heartbeat_on_start(sender: Any = None, **kwargs: Any) -> None:
    # Interval entries first fire one interval after beat starts; say "alive" right away.
    sender.app.send_task("crm.tasks.heartbeat_task")
