"""The calendar feed's choices, a person's erasure and the retention rules."""

from __future__ import annotations

from typing import Any

from django import forms

from exports.models import FEED_KINDS, CalendarFeed
from people.models import Person


class EraseForm(forms.Form):
    """Typing the name proves the owner means this person: nothing brings them back."""

    confirm_name = forms.CharField(label="Type the person's full name to confirm", max_length=300)

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person = person
        self.fields["confirm_name"].widget.attrs.update({"autocomplete": "off"})

    def clean_confirm_name(self) -> str:
        value = " ".join(self.cleaned_data["confirm_name"].split())
        if value.casefold() != " ".join(self.person.full_name.split()).casefold():
            raise forms.ValidationError(f"Type “{self.person.full_name}” exactly to erase this person.")
        return value


class RetentionForm(forms.Form):
    archive_years = forms.IntegerField(
        label="Archive people not contacted for this many years", min_value=0, max_value=50, required=False
    )
    delete_days = forms.IntegerField(
        label="Delete archived people after this many days", min_value=0, max_value=3650, required=False
    )


class FeedChoicesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        choices=list(FEED_KINDS.items()),
        widget=forms.CheckboxSelectMultiple,
        label="Include",
        error_messages={"required": "Choose at least one kind of event for the calendar."},
    )
    mine_only = forms.BooleanField(required=False, label="Only the people I own")

    @classmethod
    def for_feed(cls, feed: CalendarFeed, data: Any = None) -> FeedChoicesForm:
        return cls(data, initial={"kinds": sorted(feed.kind_set), "mine_only": feed.mine_only})
