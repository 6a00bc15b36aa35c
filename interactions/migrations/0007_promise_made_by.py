import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill_makers(apps, schema_editor):
    """Who made a promise already kept: whoever logged the conversation it came from, else the
    person's owner (until now a promise was read as the owner's). Two UPDATEs, any size."""
    Promise = apps.get_model("interactions", "Promise")
    Interaction = apps.get_model("interactions", "Interaction")
    Person = apps.get_model("people", "Person")
    logged_by = Interaction.objects.filter(pk=OuterRef("interaction_id")).values("created_by_id")[:1]
    Promise.objects.filter(made_by__isnull=True, interaction__isnull=False).update(made_by=Subquery(logged_by))
    owner = Person.objects.filter(pk=OuterRef("person_id")).values("owner_id")[:1]
    Promise.objects.filter(made_by__isnull=True).update(made_by=Subquery(owner))


class Migration(migrations.Migration):
    dependencies = [
        ("interactions", "0006_need_promise_search_indexes"),
        ("people", "0007_messaging_channels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="promise",
            name="made_by",
            field=models.ForeignKey(
                blank=True,
                help_text="Who noted it down: for our promises, the teammate who gave their word.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(backfill_makers, migrations.RunPython.noop, elidable=True),
    ]
