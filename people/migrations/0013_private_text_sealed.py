"""Private text sealed at rest (crm/crypto.py): the private facts and "topics to avoid" already
stored are sealed with the first of FIELD_ENCRYPTION_KEYS; going back opens them again."""

from typing import Any

from django.db import migrations

import crm.crypto

BATCH = 2000


def _each_batch(qs: Any) -> Any:
    batch = []
    for obj in qs.order_by("pk").iterator(chunk_size=BATCH):
        batch.append(obj)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _apply(apps: Any, change: Any) -> None:
    # bulk_update writes the attributes as they are: the values are sealed (or opened) here.
    Person = apps.get_model("people", "Person")
    ProfileFact = apps.get_model("people", "ProfileFact")
    for batch in _each_batch(Person.objects.exclude(topics_to_avoid="")):
        for person in batch:
            person.topics_to_avoid = change(person.topics_to_avoid)
        Person.objects.bulk_update(batch, ["topics_to_avoid"])
    for batch in _each_batch(ProfileFact.objects.filter(is_private=True)):
        for fact in batch:
            fact.value = change(fact.value)
        ProfileFact.objects.bulk_update(batch, ["value"])


def seal(apps: Any, schema_editor: Any) -> None:
    _apply(apps, crm.crypto.seal)


def unseal(apps: Any, schema_editor: Any) -> None:
    _apply(apps, crm.crypto.unseal)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0012_live_name_index"),
    ]

    # The columns stay text: only Django's idea of them changes. (An AlterField would make
    # SQLite rebuild people_person and drop the calendar feeds' change triggers on it.)
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="person",
                    name="topics_to_avoid",
                    field=crm.crypto.SealedTextField(blank=True, max_length=2000),
                ),
                migrations.AlterField(
                    model_name="profilefact",
                    name="value",
                    field=crm.crypto.SealedTextField(max_length=2000, sealed_when="is_private"),
                ),
            ]
        ),
        migrations.RunPython(seal, unseal),
    ]
