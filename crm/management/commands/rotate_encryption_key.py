"""Seal every private value again with the first of FIELD_ENCRYPTION_KEYS.

Rotating a key: put the new key first in FIELD_ENCRYPTION_KEYS (the old one after it, so what
it sealed still opens), deploy, run this, then remove the old key. Safe to run again, and to
stop half way: each value is opened with whichever key sealed it.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from crm import crypto

BATCH = 2000


class Command(BaseCommand):
    help = "Seal every private value again with the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        crypto.forget_keys()
        total = 0
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, crypto.SealedTextField):
                    count = self._reseal(model, field)
                    total += count
                    self.stdout.write(f"{model._meta.label}.{field.name}: {count} sealed with the first key")
        self.stdout.write(self.style.SUCCESS(f"{total} values sealed with the first key."))

    def _reseal(self, model: Any, field: crypto.SealedTextField) -> int:
        rows = model._base_manager.all()
        if field.sealed_when:
            rows = rows.filter(**{field.sealed_when: True})
        done, last = 0, 0
        while True:
            with transaction.atomic():
                # Read as text (any key opens it), written sealed with the first: bulk_update
                # stores the attribute as it is.
                batch = list(rows.filter(pk__gt=last).order_by("pk").only("pk", field.attname)[:BATCH])
                if not batch:
                    return done
                for obj in batch:
                    setattr(obj, field.attname, crypto.seal(getattr(obj, field.attname)))
                model._base_manager.bulk_update(batch, [field.attname])
            done += sum(1 for obj in batch if getattr(obj, field.attname))
            last = batch[-1].pk
