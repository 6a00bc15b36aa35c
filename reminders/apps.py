from __future__ import annotations

from django.apps import AppConfig


class RemindersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reminders"

    def ready(self) -> None:
        # The bell is ours; people, below us, records hand-overs and calls this in the same
        # transaction (why it is handed in, not imported: people/handover.py's docstring).
        from people.handover import handover_notifier_set
        from reminders.handover import handovers_notify

        handover_notifier_set(handovers_notify)
