from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db.models import Field as ModelField
from django.db.models import QuerySet
from django.forms import BaseForm, BaseInlineFormSet, inlineformset_factory
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst

from crm.formfields import form_field
from crm.ids import parse_id
from crm.models import User, Workspace
from people import selectors
from people.dates import PartialDate
from people.fields import DateInput, LocalDateField, PartialDateField
from people.models import ContactMethod, FamilyMember, ImportantDate, Person, Pet, ProfileFact, Tag
from people.profile import FACT_TYPE_CHOICES

PHOTO_MAX_BYTES = 5 * 1024 * 1024


def add_service_error(form: BaseForm, exc: ValidationError) -> None:
    """A service's ValidationError on the form: next to its field, or above the form when the
    field is not on this form (say a date stored before its range existed, edited elsewhere)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    model = getattr(getattr(form, "_meta", None), "model", None)
    for name, errors in exc.error_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
            continue
        label = name.replace("_", " ")
        field = None
        with contextlib.suppress(FieldDoesNotExist):
            field = model._meta.get_field(name) if model is not None else None
        if isinstance(field, ModelField):  # a reverse relation has no verbose name
            label = str(field.verbose_name)
        prefix = "" if name == NON_FIELD_ERRORS else f"{capfirst(label)}: "
        form.add_error(None, [f"{prefix}{message}" for error in errors for message in error.messages])


def member_choices(workspace: Workspace) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=User.objects.filter(memberships__workspace=workspace).order_by("display_name", "email"),
        required=False,
        empty_label="Nobody",
    )


class PersonForm(forms.ModelForm):
    company_name = forms.CharField(label="Company", max_length=200, required=False)
    tag_names = forms.CharField(
        label="Tags",
        required=False,
        max_length=1000,
        help_text="Separate with commas, e.g. key-account, golf",
        widget=forms.TextInput(attrs={"data-tag-input": "1", "autocomplete": "off", "list": "tag-suggestions"}),
    )
    interest_names = forms.CharField(
        label="Interests",
        required=False,
        max_length=1000,
        help_text="What they care about, e.g. sailing, craft beer. Answers “who might be interested in X”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    birthday = PartialDateField(label="Birthday", help_text="The year is optional.")
    anniversary = PartialDateField(label="Anniversary")
    photo = forms.FileField(
        label="Photo",
        required=False,
        help_text="JPEG, PNG, GIF or WebP, up to 5 MB. Without one, initials are shown.",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}),
    )
    remove_photo = forms.BooleanField(label="Remove the photo", required=False)

    class Meta:
        model = Person
        fields = (
            "first_name",
            "last_name",
            "nickname",
            "job_title",
            "owner",
            "how_we_met",
            "met_on",
            "notes",
        )
        labels = {"met_on": "Met on", "how_we_met": "How we met"}
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 5}),
            "met_on": DateInput(),
        }
        field_classes = {"met_on": LocalDateField}

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = member_choices(workspace)
        person = self.instance
        if person.pk:
            self.fields["owner"].help_text = (
                "Handing them to a teammate? Their follow-ups and needs go along and the new owner "
                "is told; a promise stays with whoever made it."
            )
            self.fields["company_name"].initial = person.company.name if person.company else ""
            tags = list(person.tags.all())
            self.fields["tag_names"].initial = ", ".join(t.name for t in tags if t.kind == Tag.Kind.LABEL)
            self.fields["interest_names"].initial = ", ".join(t.name for t in tags if t.kind == Tag.Kind.INTEREST)
            self.fields["birthday"].initial = person.birthday
            self.fields["anniversary"].initial = person.anniversary
        if not person.photo:
            del self.fields["remove_photo"]

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        if photo and hasattr(photo, "size") and photo.size > PHOTO_MAX_BYTES:
            raise ValidationError("The photo must be at most 5 MB.")
        return photo

    def clean_birthday(self) -> PartialDate | None:
        return not_in_future(self.cleaned_data.get("birthday"))

    def clean_tag_names(self) -> list[str]:
        return _split_tags(self.cleaned_data["tag_names"])

    def clean_interest_names(self) -> list[str]:
        return _split_tags(self.cleaned_data["interest_names"])

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "company_name": data["company_name"],
            "tag_names": data["tag_names"],
            "interest_names": data["interest_names"],
            "birthday": data["birthday"],
            "anniversary": data["anniversary"],
            "photo": data.get("photo") or None,
            "remove_photo": data.get("remove_photo", False),
        }


def _split_tags(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if any(len(n) > 50 for n in names):
        raise ValidationError("Each one can be at most 50 characters.")
    return names


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = (
            "preferred_channel",
            "best_time",
            "contact_every",
            "contact_every_unit",
            "do_not_contact_until",
            "likes",
            "dislikes",
            "topics_to_avoid",
        )
        labels = {
            "contact_every": "Stay in touch every",
            "contact_every_unit": "Unit",
            "do_not_contact_until": "Do not contact until",
            "topics_to_avoid": "Topics to avoid (private)",
        }
        field_classes = {"do_not_contact_until": LocalDateField}
        widgets = {
            "do_not_contact_until": DateInput(),
            "likes": forms.Textarea(attrs={"rows": 2}),
            "dislikes": forms.Textarea(attrs={"rows": 2}),
            "topics_to_avoid": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"contact_every": "Leave empty for no stay-in-touch reminder."}


class ContactMethodForm(forms.ModelForm):
    class Meta:
        model = ContactMethod
        fields = ("kind", "label", "value", "is_primary")
        labels = {"is_primary": "Primary"}
        widgets = {"value": forms.TextInput()}

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns
        kind, value = data.get("kind"), (data.get("value") or "").strip()
        if not kind or not value:
            return data
        if kind == ContactMethod.Kind.EMAIL:
            try:
                EmailValidator()(value)
            except ValidationError:
                self.add_error("value", "Enter a valid email address.")
            data["value"] = value.lower()
        elif kind == ContactMethod.Kind.PHONE:
            data["value"] = normalise_phone(value, self)
        elif kind == ContactMethod.Kind.WEBSITE:
            url = value if "://" in value else f"https://{value}"
            try:
                URLValidator(schemes=["http", "https"])(url)
            except ValidationError:
                self.add_error("value", "Enter a valid web address.")
            data["value"] = url
        else:
            data["value"] = value
        return data


def normalise_phone(value: str, form: forms.BaseForm) -> str:
    """Validate with libphonenumber and store E.164; shown formatted for humans."""
    try:
        number = phonenumbers.parse(value, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        form.add_error("value", "Enter a valid phone number, e.g. +44 20 7946 0958.")
        return value
    if not phonenumbers.is_valid_number(number):
        form.add_error("value", "This phone number does not exist. Check the digits and the country code.")
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class ContactMethodFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        primaries: set[str] = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form in self.deleted_forms:
                continue
            if form.cleaned_data.get("is_primary") and form.cleaned_data.get("kind"):
                kind = form.cleaned_data["kind"]
                if kind in primaries:
                    raise ValidationError(
                        f"Only one {ContactMethod.Kind(kind).label.lower()} can be primary. Untick the others."
                    )
                primaries.add(kind)


def not_in_future(value: PartialDate | None) -> PartialDate | None:
    if value and value.year and value.occurrence_in(value.year) > timezone.localdate():
        raise ValidationError("A birthday cannot be in the future.")
    return value


class BirthdayFormMixin(forms.ModelForm):
    birthday = PartialDateField(label="Birthday", help_text="The year is optional.")

    def clean_birthday(self) -> PartialDate | None:
        return not_in_future(self.cleaned_data.get("birthday"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["birthday"].initial = self.instance.birthday

    def save(self, commit: bool = True) -> Any:
        value = self.cleaned_data.get("birthday")
        self.instance.birthday_day = value.day if value else None
        self.instance.birthday_month = value.month if value else None
        self.instance.birthday_year = value.year if value else None
        return super().save(commit=commit)


class FamilyMemberForm(BirthdayFormMixin):
    # The shared person picker (static/js/app.js, select[data-person-search]): a select holding
    # only the person already chosen, which the picker fills by searching the workspace. The
    # choices it validates against are the workspace's people, never an id typed by hand.
    linked_person = forms.ModelChoiceField(
        queryset=Person.objects.none(),
        required=False,
        label="Also a person in Rapport",
        empty_label="Nobody: not in Rapport",
        widget=forms.Select(attrs={"data-person-search": "1"}),
    )

    class Meta:
        model = FamilyMember
        fields = ("relation", "name", "birthday", "interests", "notes", "linked_person")
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(
        self,
        *args: Any,
        workspace: Workspace,
        person: Person,
        picked_names: dict[int, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = form_field(self, "linked_person", forms.ModelChoiceField)
        # Scoped: an id from another workspace is "not one of the available choices".
        field.queryset = Person.objects.for_workspace(workspace).exclude(pk=person.pk)
        if self.is_bound:
            chosen = parse_id(self.data.get(self.add_prefix("linked_person")) or "")
        else:
            chosen = self.instance.linked_person_id
        names = picked_names if picked_names is not None else _linked_names(workspace, [chosen])
        shown = [(chosen, names[chosen])] if chosen in names else []
        field.widget.choices = [("", field.empty_label), *shown]


def _linked_names(workspace: Workspace, ids: Iterable[int | None]) -> dict[int, str]:
    """Names of the workspace's people among ``ids``, in one query (none when there are no ids)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    people = Person.objects.for_workspace(workspace).filter(pk__in=wanted).only("first_name", "last_name")
    return {p.pk: p.full_name for p in people}


class FamilyFormSet(BaseInlineFormSet):
    """Family rows; the people they link to are named in one query for all rows, not one each."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", FamilyMember.objects.select_related("linked_person"))
        super().__init__(*args, **kwargs)

    @cached_property
    def picked_names(self) -> dict[int, str]:
        workspace = self.form_kwargs["workspace"]
        if self.is_bound:
            keys = [k for k in self.data if k.startswith(f"{self.prefix}-") and k.endswith("-linked_person")]
            return _linked_names(workspace, (parse_id(self.data.get(k) or "") for k in keys))
        # Unbound rows show what is stored: their linked people came with the rows.
        return {m.linked_person_id: m.linked_person.full_name for m in self.get_queryset() if m.linked_person_id}

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "picked_names": self.picked_names}


class PetForm(BirthdayFormMixin):
    class Meta:
        model = Pet
        fields = ("name", "species", "breed", "birthday", "notes")
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


class ImportantDateForm(forms.ModelForm):
    date = PartialDateField(label="Date", required=True)

    class Meta:
        model = ImportantDate
        fields = ("label", "date")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["date"].initial = self.instance.date

    def save(self, commit: bool = True) -> Any:
        value = self.cleaned_data["date"]
        self.instance.date_day, self.instance.date_month, self.instance.date_year = value.day, value.month, value.year
        return super().save(commit=commit)


def _formset(model: type, form: type, extra: int, formset: type = BaseInlineFormSet) -> type:
    return inlineformset_factory(
        Person,
        model,
        form=form,
        formset=formset,
        fk_name="person",
        extra=extra,
        can_delete=True,
        max_num=50,
        # A row not yet saved has nothing to delete: it is left empty instead.
        can_delete_extra=False,
        # Without it Django builds up to max_num + 1000 forms for a forged TOTAL_FORMS, and
        # renders them all back: one request kept a worker busy for half a minute.
        absolute_max=50,
        validate_max=True,
    )


ContactMethodFormSetFactory = _formset(ContactMethod, ContactMethodForm, 2, ContactMethodFormSet)
FamilyFormSetFactory = _formset(FamilyMember, FamilyMemberForm, 1, FamilyFormSet)
PetFormSetFactory = _formset(Pet, PetForm, 1)
ImportantDateFormSetFactory = _formset(ImportantDate, ImportantDateForm, 1)


class FactForm(forms.ModelForm):
    fact_type = forms.ChoiceField(label="What did you learn?", choices=[("", "Choose…"), *FACT_TYPE_CHOICES])

    class Meta:
        model = ProfileFact
        fields = ("fact_type", "value", "learned_on")
        labels = {"value": "Fact", "learned_on": "Learned on"}
        widgets = {"value": forms.Textarea(attrs={"rows": 2}), "learned_on": DateInput()}
        field_classes = {"learned_on": LocalDateField}


class PersonFilterForm(forms.Form):
    """The people list's search, filters and sort (the allow-list is ``selectors.ORDERINGS``)."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    tag = forms.CharField(required=False, max_length=50, label="Tag")
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Any owner")
    archived = forms.BooleanField(required=False, label="Show archived")
    due = forms.BooleanField(required=False, label="Due to stay in touch this week")
    sort = forms.ChoiceField(
        choices=[(key, label) for key, (label, _) in selectors.ORDERINGS.items()], required=False, label="Sort by"
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        form_field(self, "owner", forms.ModelChoiceField).queryset = User.objects.filter(
            memberships__workspace=workspace
        )

    def filter_qs(self) -> QuerySet[Person]:
        """The workspace's people as these filters and this sort ask (the list, and its exports)."""
        values = self.values()
        return selectors.person_list(
            self.workspace,
            query=values.get("q", ""),
            tag=values.get("tag", ""),
            owner=values.get("owner"),
            archived=values.get("archived", False),
            due=values.get("due", False),
            sort=values.get("sort", "name"),
        )

    def values(self) -> dict[str, Any]:
        """Cleaned values, with invalid ones dropped rather than failing the whole list."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", False)}


class BulkActionForm(forms.Form):
    ACTIONS = [
        ("add_tag", "Add tag"),
        ("remove_tag", "Remove tag"),
        ("change_owner", "Change owner"),
        ("archive", "Archive"),
        ("restore", "Restore"),
        ("delete", "Delete…"),
    ]
    ids = forms.TypedMultipleChoiceField(
        coerce=int, choices=(), error_messages={"required": "Select some people first."}
    )
    action = forms.ChoiceField(choices=ACTIONS)
    tag = forms.CharField(required=False, max_length=50)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "owner", forms.ModelChoiceField).queryset = User.objects.filter(
            memberships__workspace=workspace
        )
        # Any integer is accepted here; the view then insists every id is in the workspace (404).
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        form_field(self, "ids", forms.TypedMultipleChoiceField).choices = [
            (v, v) for v in raw if parse_id(v) is not None
        ]
