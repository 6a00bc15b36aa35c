"""The calendar feed's choices: which kinds of events it includes, and whose."""

from __future__ import annotations

from typing import Any

from django import forms

from exports.models import FEED_KINDS, CalendarFeed


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
