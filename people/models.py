"""People: the human beings in a workspace's book of customers, and what we know about them.

Every model here is workspace-scoped (``objects.for_workspace(ws)``), children included, so a
lookup by id can always be confined to the current workspace.
"""

from __future__ import annotations

import uuid

from auditlog.models import AuditlogHistoryField
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from crm.crypto import SealedTextField
from crm.models import WorkspaceScoped
from people.dates import (
    InstantField,
    PartialDate,
    partial_date_or_none,
    validate_every,
    validate_in_range,
    validate_partial_date,
)
from people.profile import FACT_TYPE_CHOICES, FACT_TYPES, SECTIONS


def _validate_dates(obj: models.Model, *prefixes: str) -> None:
    errors = {}
    for prefix in prefixes:
        try:
            validate_partial_date(
                day=getattr(obj, f"{prefix}_day"),
                month=getattr(obj, f"{prefix}_month"),
                year=getattr(obj, f"{prefix}_year"),
            )
        except ValidationError as exc:
            errors[f"{prefix}_day"] = exc.messages
    if errors:
        raise ValidationError(errors)


class Unit(models.TextChoices):
    """The one unit of every period: a cadence (days to months) and a follow-up's repeat."""

    DAYS = "days", "days"
    WEEKS = "weeks", "weeks"
    MONTHS = "months", "months"
    YEARS = "years", "years"


def every_text(every: int | None, unit: str) -> str:
    """A period in words: "every week", "every 3 months"; "" without one."""
    if not every:
        return ""
    label = Unit(unit).label
    return f"every {label.rstrip('s')}" if every == 1 else f"every {every} {label}"


class Tag(WorkspaceScoped):
    """A free label on people (``key-account``, ``friend``), stored lower-case.

    Interest tags (``golf``, ``wine``) say what a person cares about: they answer "who might
    be interested in X".
    """

    class Kind(models.TextChoices):
        LABEL = "label", "Tag"
        INTEREST = "interest", "Interest"

    name = models.CharField(max_length=50)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LABEL)

    class Meta:
        ordering = ("name",)
        constraints = (models.UniqueConstraint(fields=("workspace", "kind", "name"), name="tag_unique_name"),)

    def __str__(self) -> str:
        return self.name


class TagCadence(WorkspaceScoped):
    """A default stay-in-touch cadence for people with a tag and no cadence of their own."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="cadences")
    every = models.PositiveSmallIntegerField()
    unit = models.CharField(max_length=6, choices=Unit.choices[:3], default=Unit.WEEKS)
    duration = models.DurationField(editable=False)  # every x unit, for SQL (see Person.cadence)

    class Meta:
        db_table = "reminders_tagcadence"  # kept from when it lived in reminders
        ordering = ("tag__name",)
        constraints = (models.UniqueConstraint(fields=("workspace", "tag"), name="tagcadence_unique_tag"),)

    def __str__(self) -> str:
        return f"{self.tag}: every {self.every} {self.unit}"


class Company(WorkspaceScoped):
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "companies"
        constraints = (models.UniqueConstraint("workspace", Lower("name"), name="company_unique_name"),)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("people:company", args=[self.pk])


def photo_path(instance: Person, filename: str) -> str:
    # Random names: a photo URL reveals nothing, and the view checks the workspace anyway.
    return f"photos/{instance.workspace_id}/{uuid.uuid4().hex}.jpg"


class Person(WorkspaceScoped):
    class Channel(models.TextChoices):
        PHONE = "phone", "Phone"
        EMAIL = "email", "Email"
        TEXT = "text", "Text message"
        WHATSAPP = "whatsapp", "WhatsApp"
        SIGNAL = "signal", "Signal"
        TELEGRAM = "telegram", "Telegram"
        LINKEDIN = "linkedin", "LinkedIn message"
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video call"

    # Channels reached at the person's phone number, unless they gave a handle labelled with the
    # channel's name ("Telegram: @ngozi"); the others at an address of their own.
    PHONE_CHANNELS = frozenset({"phone", "text", "whatsapp", "signal", "telegram"})
    BRANDS = frozenset({"whatsapp", "signal", "telegram", "linkedin"})  # keep their capitals in a sentence

    # A cadence is counted in days, weeks or months (a month counts 30 days: see ``cadence``).
    CADENCE_UNITS = Unit.choices[:3]

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    nickname = models.CharField(max_length=100, blank=True)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="people")
    job_title = models.CharField(max_length=200, blank=True)
    how_we_met = models.CharField(max_length=300, blank=True)
    met_on = models.DateField(null=True, blank=True, validators=[validate_in_range])
    tags = models.ManyToManyField(Tag, blank=True, related_name="people")
    notes = models.TextField(blank=True, max_length=20000, help_text="Markdown: **bold**, lists, links.")
    photo = models.ImageField(upload_to=photo_path, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    birthday_day = models.PositiveSmallIntegerField(null=True, blank=True)
    birthday_month = models.PositiveSmallIntegerField(null=True, blank=True)
    birthday_year = models.PositiveSmallIntegerField(null=True, blank=True)
    anniversary_day = models.PositiveSmallIntegerField(null=True, blank=True)
    anniversary_month = models.PositiveSmallIntegerField(null=True, blank=True)
    anniversary_year = models.PositiveSmallIntegerField(null=True, blank=True)

    # How they want to be treated.
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    best_time = models.CharField(max_length=100, blank=True, help_text="e.g. weekday mornings before 10")
    contact_every = models.PositiveSmallIntegerField(null=True, blank=True)
    contact_every_unit = models.CharField(max_length=6, choices=CADENCE_UNITS, default=Unit.WEEKS)
    do_not_contact_until = models.DateField(null=True, blank=True, validators=[validate_in_range])
    # Derived from contact_every/unit by the service (a month counts 30 days), so the
    # dashboard can add it to last_contacted_at in SQL on any database.
    cadence = models.DurationField(null=True, blank=True, editable=False)
    cadence_snoozed_until = models.DateField(null=True, blank=True, validators=[validate_in_range])
    likes = models.TextField(blank=True, max_length=2000)
    dislikes = models.TextField(blank=True, max_length=2000)
    topics_to_avoid = SealedTextField(blank=True, max_length=2000)  # private: sealed at rest

    # Denormalised from interactions (kept by interaction services) so lists never scan them.
    last_contacted_at = InstantField(null=True, blank=True)
    # When stay-in-touch falls due: last contact (or creation) + own cadence, else the tags'
    # shortest default. Kept by ``people.stay_in_touch.people_refresh_stay_due`` on every write of
    # those inputs, so the dashboard finds who is due from an index instead of computing
    # every person's date. The exact calendar day is still computed for the few rows found.
    stay_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Field history (crm/history.py): deleted with the person, so an erased person leaves none.
    history = AuditlogHistoryField(delete_related=True)

    class Meta:
        ordering = ("last_name", "first_name", "id")
        verbose_name_plural = "people"
        indexes = (
            models.Index(fields=("workspace", "last_name", "first_name", "id"), name="person_ws_name"),
            # The people list's capped count (crm/pagination.py) reads up to 10,001 entries of
            # this, index only: the list's own filter (not archived) is the index's condition.
            models.Index(
                fields=("workspace", "last_name", "first_name", "id"),
                name="person_ws_live_name",
                condition=models.Q(archived_at__isnull=True),
            ),
            # The few archived people: "everyone's but the archived" without joining everyone.
            models.Index(
                fields=("workspace",), name="person_ws_archived", condition=models.Q(archived_at__isnull=False)
            ),
            models.Index(fields=("workspace", "last_contacted_at"), name="person_ws_last_contacted"),
            models.Index(fields=("workspace", "stay_due_at", "id"), name="person_ws_stay_due"),
            models.Index(fields=("workspace", "birthday_month", "birthday_day"), name="person_ws_birthday"),
            # With the birthday index, "whose birthday or anniversary falls this fortnight" is two
            # index reads (a BitmapOr) instead of a scan of everyone.
            models.Index(fields=("workspace", "anniversary_month", "anniversary_day"), name="person_ws_anniversary"),
            # The dashboard's "rest of the week" also reads who is snoozed into it (a second
            # index read beside stay_due_at), so a snoozed person comes back on their day.
            models.Index(fields=("workspace", "cadence_snoozed_until"), name="person_ws_snoozed"),
        )

    def __str__(self) -> str:
        return self.full_name

    def clean(self) -> None:
        _validate_dates(self, "birthday", "anniversary")
        try:
            validate_every(self.contact_every, self.contact_every_unit)
        except ValidationError as exc:
            raise ValidationError({"contact_every": exc.messages}) from exc

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def initials(self) -> str:
        return "".join(part[0] for part in (self.first_name, self.last_name) if part).upper()

    @property
    def birthday(self) -> PartialDate | None:
        return partial_date_or_none(self.birthday_day, self.birthday_month, self.birthday_year)

    @property
    def anniversary(self) -> PartialDate | None:
        return partial_date_or_none(self.anniversary_day, self.anniversary_month, self.anniversary_year)

    @property
    def channel_words(self) -> str:
        """The preferred channel as a sentence says it: "phone", "text message", "WhatsApp"."""
        label = self.get_preferred_channel_display()
        return label if self.preferred_channel in self.BRANDS else label.lower()

    @property
    def channel_handle(self) -> str:
        """Where to reach them on their preferred channel, from their contact methods (read from
        the prefetched list: no query on pages that loaded them): "+234 803 555 0142"."""
        channel = self.preferred_channel
        if not channel or channel in {"in_person", "video"}:
            return ""
        methods = list(self.contact_methods.all())
        labelled = [m for m in methods if m.kind in {"social", "website"} and channel in f"{m.label} {m.value}".lower()]
        if channel in self.BRANDS and labelled:
            return labelled[0].value
        kind = "phone" if channel in self.PHONE_CHANNELS else "email" if channel == "email" else ""
        ranked = sorted((m for m in methods if m.kind == kind), key=lambda m: not m.is_primary)
        return ranked[0].value if ranked else ""

    @property
    def cadence_text(self) -> str:
        return every_text(self.contact_every, self.contact_every_unit)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def get_absolute_url(self) -> str:
        return reverse("people:detail", args=[self.pk])


class Birthday(models.Model):
    """A birthday with an optional year, for family members and pets."""

    birthday_day = models.PositiveSmallIntegerField(null=True, blank=True)
    birthday_month = models.PositiveSmallIntegerField(null=True, blank=True)
    birthday_year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        _validate_dates(self, "birthday")

    @property
    def birthday(self) -> PartialDate | None:
        return partial_date_or_none(self.birthday_day, self.birthday_month, self.birthday_year)


class ContactMethod(WorkspaceScoped):
    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        ADDRESS = "address", "Address"
        WEBSITE = "website", "Website"
        SOCIAL = "social", "Social"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    label = models.CharField(max_length=50, blank=True, help_text="work, home, mobile, LinkedIn…")
    value = models.CharField(max_length=500)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ("kind", "-is_primary", "id")
        constraints = (
            models.UniqueConstraint(
                fields=("person", "kind"), condition=models.Q(is_primary=True), name="contact_one_primary_per_kind"
            ),
        )
        indexes = (models.Index(fields=("workspace", "value"), name="contact_ws_value"),)

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class ImportantDate(WorkspaceScoped):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="important_dates")
    label = models.CharField(max_length=100, help_text="e.g. Company founded, Name day")
    date_day = models.PositiveSmallIntegerField()
    date_month = models.PositiveSmallIntegerField()
    date_year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("date_month", "date_day", "id")

    def __str__(self) -> str:
        return f"{self.label}: {self.date}"

    def clean(self) -> None:
        _validate_dates(self, "date")

    @property
    def date(self) -> PartialDate | None:
        return partial_date_or_none(self.date_day, self.date_month, self.date_year)


class FamilyMember(Birthday, WorkspaceScoped):
    class Relation(models.TextChoices):
        SPOUSE = "spouse", "Spouse"
        PARTNER = "partner", "Partner"
        CHILD = "child", "Child"
        PARENT = "parent", "Parent"
        SIBLING = "sibling", "Sibling"
        GRANDPARENT = "grandparent", "Grandparent"
        GRANDCHILD = "grandchild", "Grandchild"
        OTHER = "other", "Other relative"

    INVERSE = {
        "spouse": "spouse",
        "partner": "partner",
        "child": "parent",
        "parent": "child",
        "sibling": "sibling",
        "grandparent": "grandchild",
        "grandchild": "grandparent",
        "other": "other",
    }

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="family")
    relation = models.CharField(max_length=12, choices=Relation.choices)
    name = models.CharField(max_length=200)
    interests = models.CharField(max_length=500, blank=True)
    notes = models.TextField(blank=True, max_length=2000)
    linked_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="family_links_in"
    )

    class Meta:
        ordering = ("relation", "name", "id")
        indexes = (models.Index(fields=("workspace", "birthday_month", "birthday_day"), name="family_ws_birthday"),)

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relation_display()})"

    @property
    def inverse_relation_display(self) -> str:
        """How the linked person relates back: Bob's child Anna sees Bob as her parent."""
        return self.Relation(self.INVERSE[self.relation]).label


class Pet(Birthday, WorkspaceScoped):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="pets")
    name = models.CharField(max_length=100)
    species = models.CharField(max_length=100, blank=True, help_text="dog, cat, horse…")
    breed = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ("name", "id")
        indexes = (models.Index(fields=("workspace", "birthday_month", "birthday_day"), name="pet_ws_birthday"),)

    def __str__(self) -> str:
        return self.name


class ProfileFact(WorkspaceScoped):
    """One thing learned about a person, filed in a Mackay section."""

    SECTION_CHOICES = [(s.key, s.label) for s in SECTIONS]

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="facts")
    fact_type = models.CharField(max_length=40, choices=FACT_TYPE_CHOICES)
    # Both derived from fact_type by the service; stored so lists and exports filter in SQL.
    section = models.CharField(max_length=20, choices=SECTION_CHOICES)
    is_private = models.BooleanField(default=False)
    # A private fact's text is sealed at rest (crm/crypto.py): it matches no search.
    value = SealedTextField(max_length=2000, sealed_when="is_private")
    learned_on = models.DateField(default=timezone.localdate, validators=[validate_in_range])
    source_interaction = models.ForeignKey(
        "interactions.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="facts_learned"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("section", "fact_type", "-learned_on", "-id")

    def __str__(self) -> str:
        return f"{self.label}: {self.value}"

    @property
    def label(self) -> str:
        return FACT_TYPES[self.fact_type].label


class Handover(WorkspaceScoped):
    """A person handed from one owner to another: kept as history, and what the new owner is
    told about (a bell notification at once, a line in their next digest).

    The owner's follow-ups and the person's open needs and their own promises come with them;
    a teammate's promise stays that teammate's (see ``Promise``).
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="handovers")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="handovers_received"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    # Set when a sent digest told the new owner; null for who is still to be told. Someone
    # who took a customer over themselves is not told: ``told_at`` is set at once.
    told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-at", "-id")
        indexes = (models.Index(fields=("to_user", "told_at"), name="handover_to_untold"),)

    def __str__(self) -> str:
        return f"{self.person} to {self.to_user}"
