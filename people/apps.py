from django.apps import AppConfig

# The fields a person page's history shows ("changed by … on …"): never the private ones
# (topics to avoid), nor what Rapport works out itself (cadence, due dates, last contact).
HISTORY_FIELDS = (
    "first_name", "last_name", "nickname", "company", "job_title", "how_we_met", "met_on", "notes", "owner",
    "birthday_day", "birthday_month", "birthday_year", "anniversary_day", "anniversary_month", "anniversary_year",
    "preferred_channel", "best_time", "contact_every", "contact_every_unit", "do_not_contact_until", "likes",
    "dislikes", "archived_at",
)  # fmt: skip


class PeopleConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "people"

    def ready(self) -> None:
        from crm.history import track
        from people.models import Person

        track(Person, fields=HISTORY_FIELDS)
