from __future__ import annotations

import contextlib
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date

from crm import dateformats
from crm.formfields import form_field
from crm.ids import SafeModelMultipleChoiceField, parse_id
from crm.models import Workspace
from interactions.models import Interaction, Need, Promise
from interactions.services import FactInput, NeedInput, Outcomes, PromiseInput
from people.dates import shifted, validate_in_range
from people.fields import DateInput, LocalDateField, LocalDateTimeField, date_field
from people.models import Person
from people.profile import FACT_TYPE_CHOICES

FUTURE_SLACK = timedelta(minutes=10)  # clocks differ a little between browser and server


class PersonPickerMixin:
    """Person fields render only the chosen people (a workspace may hold 10,000); the JS
    picker adds more by searching. Choices are validated against the whole workspace."""

    picker_fields: tuple[str, ...] = ()

    if TYPE_CHECKING:  # what the form this is mixed into has
        fields: dict[str, forms.Field]
        is_bound: bool
        data: Any
        initial: MutableMapping[str, Any]

        def add_prefix(self, field_name: str) -> str: ...

    def _limit_picker_choices(self, workspace: Workspace) -> None:
        for name in self.picker_fields:
            field = self.fields[name]
            if not isinstance(field, forms.ModelChoiceField):
                raise TypeError(f"{name} is not a field of people")
            people = Person.objects.for_workspace(workspace)
            # Archived people stay valid where they already are (editing an old conversation).
            current = getattr(getattr(self, "instance", None), "pk", None)
            active = Q(archived_at__isnull=True) | Q(interactions=current) if current else Q(archived_at__isnull=True)
            field.queryset = people.filter(active).distinct()
            raw = self._raw_ids(name)
            chosen = Person.objects.for_workspace(workspace).filter(pk__in=raw) if raw else []
            field.widget.choices = [(p.pk, p.full_name) for p in chosen]

    def _raw_ids(self, name: str) -> list[int]:
        if self.is_bound:
            key = self.add_prefix(name)
            values = self.data.getlist(key) if hasattr(self.data, "getlist") else [self.data.get(key)]
        else:
            initial = self.initial.get(name)
            values = initial if isinstance(initial, list | tuple) else [initial]
        ids = (parse_id(v.pk if isinstance(v, Person) else v) for v in values if v)
        return [i for i in ids if i is not None]


class InteractionForm(PersonPickerMixin, forms.ModelForm):
    picker_fields = ("people",)

    people = SafeModelMultipleChoiceField(
        queryset=Person.objects.none(),
        label="With",
        widget=forms.SelectMultiple(attrs={"data-person-search": "1", "size": 3}),
        error_messages={"required": "Choose who you talked with."},
    )
    occurred_at = LocalDateTimeField(label="When", validators=[validate_in_range])

    class Meta:
        model = Interaction
        fields = ("kind", "occurred_at", "people", "summary", "notes", "sentiment")
        labels = {"summary": "Summary", "notes": "Notes", "sentiment": "How did it go?"}
        widgets = {
            "summary": forms.TextInput(attrs={"placeholder": "One line: what was it about?", "autofocus": True}),
            "notes": forms.Textarea(attrs={"rows": 4, "placeholder": "Markdown welcome"}),
        }

    def service_kwargs(self) -> dict[str, Any]:
        """The conversation's fields as the log and update services take them."""
        data = self.cleaned_data
        kwargs = {name: data[name] for name in ("summary", "kind", "occurred_at", "notes", "sentiment")}
        return {**kwargs, "people": list(data["people"])}

    def clean_occurred_at(self) -> Any:
        value = self.cleaned_data["occurred_at"]
        if value > timezone.now() + FUTURE_SLACK:
            raise forms.ValidationError("A conversation cannot be in the future. For a plan, add a follow-up.")
        return value

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk and not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))
        self._limit_picker_choices(workspace)


class OutcomesForm(forms.Form):
    """What the conversation raised: a follow-up, and needs mentioned or solved."""

    follow_up_on = date_field(label="Follow up on", required=False)
    follow_up_note = forms.CharField(label="Follow-up note", required=False, max_length=200)
    mentioned_needs = SafeModelMultipleChoiceField(
        queryset=Need.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, label="Needs discussed"
    )
    solved_needs = SafeModelMultipleChoiceField(
        queryset=Need.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, label="Needs solved"
    )

    def __init__(self, *args: Any, workspace: Workspace, people: list[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        needs = Need.objects.for_workspace(workspace).filter(status__in=Need.OPEN_STATUSES, person__in=people)
        form_field(self, "mentioned_needs", forms.ModelMultipleChoiceField).queryset = needs
        form_field(self, "solved_needs", forms.ModelMultipleChoiceField).queryset = needs
        if not needs.exists():
            del self.fields["mentioned_needs"]
            del self.fields["solved_needs"]


class PromiseRowForm(forms.Form):
    direction = forms.ChoiceField(choices=Promise.Direction.choices, label="Who promised")
    text = forms.CharField(max_length=300, label="Promise", required=False)
    due_on = date_field(required=False, label="Due")


class NeedRowForm(forms.Form):
    title = forms.CharField(max_length=200, label="Need raised", required=False)
    details = forms.CharField(max_length=5000, label="Details", required=False)


class FactRowForm(forms.Form):
    fact_type = forms.ChoiceField(
        choices=[("", "What did you learn?"), *FACT_TYPE_CHOICES], required=False, label="Kind"
    )
    value = forms.CharField(max_length=2000, label="What I learned", required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns
        if data.get("value") and not data.get("fact_type"):
            self.add_error("fact_type", "Choose what kind of fact this is.")
        return data


# absolute_max: a forged TOTAL_FORMS builds at most 20 forms, not max_num + 1000 (see people.forms).
PromiseFormSet = forms.formset_factory(PromiseRowForm, extra=2, max_num=20, absolute_max=20, validate_max=True)
NeedFormSet = forms.formset_factory(NeedRowForm, extra=1, max_num=20, absolute_max=20, validate_max=True)
FactFormSet = forms.formset_factory(FactRowForm, extra=2, max_num=20, absolute_max=20, validate_max=True)


def build_outcomes(outcomes: OutcomesForm, promises: Any, needs: Any, facts: Any) -> Outcomes:
    data = outcomes.cleaned_data
    return Outcomes(
        follow_up_on=data.get("follow_up_on"),
        follow_up_note=data.get("follow_up_note", ""),
        promises=[
            PromiseInput(
                text=f.cleaned_data["text"], direction=f.cleaned_data["direction"], due_on=f.cleaned_data["due_on"]
            )
            for f in promises
            if f.cleaned_data.get("text")
        ],
        needs=[
            NeedInput(title=f.cleaned_data["title"], details=f.cleaned_data["details"])
            for f in needs
            if f.cleaned_data.get("title")
        ],
        facts=[
            FactInput(fact_type=f.cleaned_data["fact_type"], value=f.cleaned_data["value"])
            for f in facts
            if f.cleaned_data.get("value")
        ],
        mentioned_needs=list(data.get("mentioned_needs") or []),
        solved_needs=list(data.get("solved_needs") or []),
    )


# The follow-up dates one click away: (what the chip says, how far from today).
FOLLOW_UP_CHIPS: tuple[tuple[str, dict[str, int]], ...] = (
    ("Tomorrow", {"days": 1}),
    ("+3 days", {"days": 3}),
    ("Next week", {"weeks": 1}),
    ("In a month", {"months": 1}),  # 31 January: 28 or 29 February
)


def follow_up_chips(today: date) -> list[tuple[str, date]]:
    """The chips' dates from ``today``, the user's today in their own time zone (the server's
    to say, not the browser's clock); a chip past the last date Rapport takes is left out."""
    chips = ((label, shifted(today, **delta)) for label, delta in FOLLOW_UP_CHIPS)
    return [(label, day) for label, day in chips if day is not None]


class QuickLogForm(PersonPickerMixin, forms.Form):
    """The ten-second log: who, how, one line, and maybe when to follow up and what I promised."""

    picker_fields = ("person",)

    person = forms.ModelChoiceField(
        queryset=Person.objects.none(),
        label="With",
        widget=forms.Select(attrs={"data-person-search": "1"}),
        error_messages={"required": "Choose who you talked with.", "invalid_choice": "Choose who you talked with."},
    )
    kind = forms.ChoiceField(choices=Interaction.Kind.choices, initial=Interaction.Kind.CALL, label="Kind")
    summary = forms.CharField(
        max_length=200, label="Summary", widget=forms.TextInput(attrs={"placeholder": "What was it about?"})
    )
    follow_up_on = date_field(label="Follow up on", required=False)
    promise = forms.CharField(
        max_length=300,
        required=False,
        label="I promised",
        widget=forms.TextInput(attrs={"placeholder": "Optional, e.g. send the quote"}),
    )
    # Made by the phone (static/js/outbox.js) so that sending the same entry twice logs it once.
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "quick")  # unique ids: the form sits on every page
        super().__init__(*args, **kwargs)
        self._limit_picker_choices(workspace)
        self.fields["person"].widget.choices = [("", "Search for a person…"), *self.fields["person"].widget.choices]


# What "More details" in the quick log carries to the full form, by the full form's names.
QUICK_CARRIED = ("person", "kind", "summary", "follow_up_on", "promise")


def quick_log_carried(data: QueryDict) -> dict[str, str]:
    """What was typed in the quick log, by the full form's names (empty ones left out)."""
    values = {name: data.get(f"quick-{name}", "").strip() for name in QUICK_CARRIED}
    # Typed in the user's date style (27/03/2026); carried as the ISO day the full form reads.
    with contextlib.suppress(ValidationError):
        values["follow_up_on"] = dateformats.parse_date(values["follow_up_on"]).isoformat()
    return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class FullLogStart:
    """What the full form starts with: the quick log's words, or a "Log" link's person and kind."""

    conversation: dict[str, Any]
    outcomes: dict[str, Any]
    promises: list[dict[str, Any]]


def full_log_start(query: QueryDict) -> FullLogStart:
    """The full form's first values from its address (``?person=3&kind=whatsapp&summary=…``).

    Anything that is not a value the form could hold is left out, not an error: the address
    may be an old bookmark, and the form checks everything again when it is sent.
    """
    conversation: dict[str, Any] = {}
    if (person_id := parse_id(query.get("person", ""))) is not None:
        conversation["people"] = [person_id]
    if query.get("kind") in Interaction.Kind.values:
        conversation["kind"] = query["kind"]
    if summary := query.get("summary", "").strip():
        conversation["summary"] = summary
    outcomes: dict[str, Any] = {}
    try:
        follow_up_on = parse_date(query.get("follow_up_on", ""))
    except ValueError:  # well formed but no such day: 2026-02-31
        follow_up_on = None
    if follow_up_on is not None:
        outcomes["follow_up_on"] = follow_up_on
    promise = query.get("promise", "").strip()
    promises = [{"direction": Promise.Direction.MINE, "text": promise}] if promise else []
    return FullLogStart(conversation, outcomes, promises)


class NeedForm(forms.ModelForm):
    class Meta:
        model = Need
        fields = ("title", "details")
        labels = {"title": "What do they need solved?"}
        widgets = {"details": forms.Textarea(attrs={"rows": 3})}


class PromiseForm(forms.ModelForm):
    class Meta:
        model = Promise
        fields = ("direction", "text", "due_on")
        labels = {"direction": "Who promised", "text": "Promise", "due_on": "Due"}
        widgets = {"due_on": DateInput()}
        field_classes = {"due_on": LocalDateField}


class NeedFilterForm(forms.Form):
    STATUS_CHOICES = [("open_all", "Open and in progress"), ("", "Any status"), *Need.Status.choices]
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, initial="open_all")
    tag = forms.CharField(required=False, max_length=50)
