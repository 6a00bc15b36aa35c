"""What the API answers with (reads) and what it takes (the shapes of writes).

Writes are validated again by the app's own forms (``api.formdata``); these classes give the
JSON its shape and the OpenAPI schema every field, type and enum.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from interactions.models import FollowUp, Interaction, Need, Promise
from people.merge import MERGE_FIELDS
from people.models import Company, ContactMethod, FamilyMember, ImportantDate, Person, Pet, ProfileFact, Tag
from people.profile import FACT_TYPE_CHOICES

MAX_ID = 10**18 - 1  # crm.ids.MAX_ID_DIGITS: what a 64-bit id column takes


def id_field(**kwargs: Any) -> serializers.IntegerField:
    """An id sent in a body: a positive integer a database column can hold."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class PartialDateSerializer(serializers.Serializer):
    """A day and month, the year optional: a birthday may be just "15 April"."""

    day = serializers.IntegerField(min_value=1, max_value=31)
    month = serializers.IntegerField(min_value=1, max_value=12)
    year = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=9999)


def _partial(day: int | None, month: int | None, year: int | None) -> dict[str, int | None] | None:
    return {"day": day, "month": month, "year": year} if day and month else None


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class ContactMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactMethod
        fields = ("id", "kind", "label", "value", "is_primary")
        read_only_fields = ("id",)


class ImportantDateSerializer(serializers.ModelSerializer):
    date = serializers.SerializerMethodField()

    class Meta:
        model = ImportantDate
        fields = ("id", "label", "date")

    @extend_schema_field(PartialDateSerializer)
    def get_date(self, obj: ImportantDate) -> Any:
        return _partial(obj.date_day, obj.date_month, obj.date_year)


class FamilyMemberSerializer(serializers.ModelSerializer):
    birthday = serializers.SerializerMethodField()
    linked_person = serializers.IntegerField(source="linked_person_id", allow_null=True, read_only=True)

    class Meta:
        model = FamilyMember
        fields = ("id", "relation", "name", "birthday", "interests", "notes", "linked_person")

    @extend_schema_field(PartialDateSerializer(allow_null=True))
    def get_birthday(self, obj: FamilyMember) -> Any:
        return _partial(obj.birthday_day, obj.birthday_month, obj.birthday_year)


class PetSerializer(serializers.ModelSerializer):
    birthday = serializers.SerializerMethodField()

    class Meta:
        model = Pet
        fields = ("id", "name", "species", "breed", "birthday", "notes")

    @extend_schema_field(PartialDateSerializer(allow_null=True))
    def get_birthday(self, obj: Pet) -> Any:
        return _partial(obj.birthday_day, obj.birthday_month, obj.birthday_year)


class FactSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProfileFact
        fields = ("id", "fact_type", "section", "is_private", "value", "learned_on", "source_interaction")


class PreferencesSerializer(serializers.Serializer):
    """How they want to be treated. ``topics_to_avoid`` is private: null without a private token."""

    preferred_channel = serializers.ChoiceField(choices=Person.Channel.choices, allow_blank=True, required=False)
    best_time = serializers.CharField(max_length=100, allow_blank=True, required=False)
    contact_every = serializers.IntegerField(min_value=1, allow_null=True, required=False)
    contact_every_unit = serializers.ChoiceField(choices=Person.CADENCE_UNITS, required=False)
    do_not_contact_until = serializers.DateField(allow_null=True, required=False)
    likes = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    dislikes = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    topics_to_avoid = serializers.CharField(max_length=2000, allow_blank=True, allow_null=True, required=False)


class PersonRowSerializer(serializers.Serializer):
    """A person as the people list shows them."""

    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    nickname = serializers.CharField()
    full_name = serializers.CharField()
    company = serializers.CharField(source="company_name", allow_null=True)
    job_title = serializers.CharField()
    primary_email = serializers.CharField(allow_null=True)
    primary_phone = serializers.CharField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(), source="tag_list")
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    last_contacted_at = serializers.DateTimeField(allow_null=True)
    stay_due_at = serializers.DateTimeField(allow_null=True)
    archived_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PersonSerializer(serializers.Serializer):
    """A person with everything known about them (private facts only with a private token)."""

    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    nickname = serializers.CharField()
    full_name = serializers.CharField()
    company = serializers.SerializerMethodField()
    job_title = serializers.CharField()
    how_we_met = serializers.CharField()
    met_on = serializers.DateField(allow_null=True)
    notes = serializers.CharField()
    owner = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    interests = serializers.SerializerMethodField()
    birthday = serializers.SerializerMethodField()
    anniversary = serializers.SerializerMethodField()
    preferences = serializers.SerializerMethodField()
    contact_methods = ContactMethodSerializer(many=True)
    important_dates = ImportantDateSerializer(many=True)
    family = FamilyMemberSerializer(many=True)
    pets = PetSerializer(many=True)
    facts = serializers.SerializerMethodField()
    last_contacted_at = serializers.DateTimeField(allow_null=True)
    stay_due_at = serializers.DateTimeField(allow_null=True)
    archived_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def _private(self) -> bool:
        return bool(self.context.get("private"))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_company(self, obj: Person) -> str | None:
        return obj.company.name if obj.company else None

    @extend_schema_field(UserRefSerializer(allow_null=True))
    def get_owner(self, obj: Person) -> Any:
        owner = obj.owner
        return {"id": owner.pk, "name": owner.name, "email": owner.email} if owner else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, obj: Person) -> list[str]:
        return sorted(t.name for t in obj.tags.all() if t.kind == Tag.Kind.LABEL)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_interests(self, obj: Person) -> list[str]:
        return sorted(t.name for t in obj.tags.all() if t.kind == Tag.Kind.INTEREST)

    @extend_schema_field(PartialDateSerializer(allow_null=True))
    def get_birthday(self, obj: Person) -> Any:
        return _partial(obj.birthday_day, obj.birthday_month, obj.birthday_year)

    @extend_schema_field(PartialDateSerializer(allow_null=True))
    def get_anniversary(self, obj: Person) -> Any:
        return _partial(obj.anniversary_day, obj.anniversary_month, obj.anniversary_year)

    @extend_schema_field(PreferencesSerializer)
    def get_preferences(self, obj: Person) -> dict[str, Any]:
        return {
            "preferred_channel": obj.preferred_channel,
            "best_time": obj.best_time,
            "contact_every": obj.contact_every,
            "contact_every_unit": obj.contact_every_unit,
            "do_not_contact_until": obj.do_not_contact_until.isoformat() if obj.do_not_contact_until else None,
            "likes": obj.likes,
            "dislikes": obj.dislikes,
            "topics_to_avoid": obj.topics_to_avoid if self._private() else None,
        }

    @extend_schema_field(FactSerializer(many=True))
    def get_facts(self, obj: Person) -> Any:
        facts = [f for f in obj.facts.all() if self._private() or not f.is_private]
        return FactSerializer(facts, many=True).data


# --- Writes ---------------------------------------------------------------------------------


class ContactMethodInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContactMethod.Kind.choices)
    label = serializers.CharField(max_length=50, allow_blank=True, required=False)
    value = serializers.CharField(max_length=500)
    is_primary = serializers.BooleanField(required=False, default=False)


class FamilyMemberInputSerializer(serializers.Serializer):
    relation = serializers.ChoiceField(choices=FamilyMember.Relation.choices)
    name = serializers.CharField(max_length=200)
    birthday = PartialDateSerializer(required=False, allow_null=True)
    interests = serializers.CharField(max_length=500, allow_blank=True, required=False)
    notes = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    linked_person = id_field(required=False, allow_null=True, help_text="A person of this workspace.")


class PetInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    species = serializers.CharField(max_length=100, allow_blank=True, required=False)
    breed = serializers.CharField(max_length=100, allow_blank=True, required=False)
    birthday = PartialDateSerializer(required=False, allow_null=True)
    notes = serializers.CharField(max_length=2000, allow_blank=True, required=False)


class ImportantDateInputSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100)
    date = PartialDateSerializer()


class PersonInputSerializer(serializers.Serializer):
    """A person to add, or (PATCH) the fields to change. A list given replaces the stored one."""

    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    nickname = serializers.CharField(max_length=100, allow_blank=True, required=False)
    company = serializers.CharField(max_length=200, allow_blank=True, required=False)
    job_title = serializers.CharField(max_length=200, allow_blank=True, required=False)
    how_we_met = serializers.CharField(max_length=300, allow_blank=True, required=False)
    met_on = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(max_length=20000, allow_blank=True, required=False)
    owner = id_field(required=False, allow_null=True, help_text="A member's user id.")
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)
    interests = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)
    birthday = PartialDateSerializer(required=False, allow_null=True)
    anniversary = PartialDateSerializer(required=False, allow_null=True)
    preferences = PreferencesSerializer(required=False)
    contact_methods = ContactMethodInputSerializer(many=True, required=False, max_length=50)
    important_dates = ImportantDateInputSerializer(many=True, required=False, max_length=50)
    family = FamilyMemberInputSerializer(many=True, required=False, max_length=50)
    pets = PetInputSerializer(many=True, required=False, max_length=50)


class CompanySerializer(serializers.ModelSerializer):
    people = serializers.IntegerField(source="person_count", read_only=True, help_text="People not archived.")

    class Meta:
        model = Company
        fields = ("id", "name", "people", "created_at")


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ("id", "name", "kind")


class NeedSerializer(serializers.ModelSerializer):
    person = PersonRefSerializer()

    class Meta:
        model = Need
        fields = ("id", "person", "title", "details", "status", "opened_on", "solved_on", "created_at")


class PromiseSerializer(serializers.ModelSerializer):
    person = PersonRefSerializer()
    made_by = serializers.IntegerField(source="made_by_id", allow_null=True)

    class Meta:
        model = Promise
        fields = ("id", "person", "interaction", "direction", "text", "due_on", "made_by", "kept_at", "created_at")


class FollowUpSerializer(serializers.ModelSerializer):
    person = PersonRefSerializer()
    effective_due = serializers.DateField(help_text="The day it is due: its due day, or later if snoozed past it.")

    class Meta:
        model = FollowUp
        fields = (
            "id",
            "person",
            "interaction",
            "due_on",
            "effective_due",
            "snoozed_until",
            "note",
            "repeat_every",
            "repeat_unit",
            "done_at",
            "created_at",
        )


class InteractionSerializer(serializers.ModelSerializer):
    people = PersonRefSerializer(many=True)
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)

    class Meta:
        model = Interaction
        fields = ("id", "kind", "occurred_at", "summary", "notes", "sentiment", "people", "created_by", "created_at")


class PromiseInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=300)
    direction = serializers.ChoiceField(choices=Promise.Direction.choices, required=False, default="mine")
    due_on = serializers.DateField(required=False, allow_null=True)


class NeedInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    details = serializers.CharField(max_length=5000, allow_blank=True, required=False)


class FactInputSerializer(serializers.Serializer):
    fact_type = serializers.ChoiceField(choices=FACT_TYPE_CHOICES)
    value = serializers.CharField(max_length=2000)


class InteractionInputSerializer(serializers.Serializer):
    """A conversation and what it raised, as the full log form takes it."""

    people = serializers.ListField(child=id_field(), min_length=1, max_length=100)
    kind = serializers.ChoiceField(choices=Interaction.Kind.choices, required=False, default="call")
    occurred_at = serializers.DateTimeField(required=False, help_text="Now when left out; never in the future.")
    summary = serializers.CharField(max_length=200)
    notes = serializers.CharField(max_length=20000, allow_blank=True, required=False)
    sentiment = serializers.ChoiceField(choices=Interaction.Sentiment.choices, allow_blank=True, required=False)
    follow_up_on = serializers.DateField(required=False, allow_null=True)
    follow_up_note = serializers.CharField(max_length=200, allow_blank=True, required=False)
    promises = PromiseInputSerializer(many=True, required=False, max_length=20)
    needs = NeedInputSerializer(many=True, required=False, max_length=20)
    facts = FactInputSerializer(many=True, required=False, max_length=20)
    mentioned_needs = serializers.ListField(child=id_field(), required=False, max_length=100)
    solved_needs = serializers.ListField(child=id_field(), required=False, max_length=100)


class CompanyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="An existing company of that name (any case) is returned.")


class TagInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, help_text="An existing tag of that name and kind is returned.")
    kind = serializers.ChoiceField(choices=Tag.Kind.choices, required=False, default=Tag.Kind.LABEL)


class NeedCreateSerializer(NeedInputSerializer):
    person = id_field(help_text="Whose need it is: a person of this workspace.")


class PromiseCreateSerializer(PromiseInputSerializer):
    person = id_field(help_text="To or from whom: a person of this workspace.")


class FactCreateSerializer(FactInputSerializer):
    learned_on = serializers.DateField(required=False, allow_null=True, help_text="Today when left out.")


class InteractionUpdateSerializer(serializers.Serializer):
    """A conversation's own fields; what is left out stays as it is. Its promises, needs and
    facts are their own objects (``/needs/``, ``/promises/``, a person's ``facts/``)."""

    people = serializers.ListField(child=id_field(), min_length=1, max_length=100, required=False)
    kind = serializers.ChoiceField(choices=Interaction.Kind.choices, required=False)
    occurred_at = serializers.DateTimeField(required=False, help_text="Never in the future.")
    summary = serializers.CharField(max_length=200, required=False)
    notes = serializers.CharField(max_length=20000, allow_blank=True, required=False)
    sentiment = serializers.ChoiceField(choices=Interaction.Sentiment.choices, allow_blank=True, required=False)


class MergeInputSerializer(serializers.Serializer):
    other = id_field(help_text="The record merged into this one, then deleted.")
    take_from_other = serializers.ListField(
        child=serializers.ChoiceField(choices=[f.name for f in MERGE_FIELDS]),
        required=False,
        max_length=len(MERGE_FIELDS),
        help_text="Fields where the other record's value wins. Left out: those this record leaves empty.",
    )
