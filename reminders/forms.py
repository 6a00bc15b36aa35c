"""Forms of the reminders pages: a follow-up, and a workspace's stay-in-touch default for a tag."""

from __future__ import annotations

from django import forms

from interactions.models import FollowUp
from people.fields import DateInput, LocalDateField
from people.models import Unit


class FollowUpForm(forms.ModelForm):
    class Meta:
        model = FollowUp
        fields = ("due_on", "note", "repeat_every", "repeat_unit")
        labels = {
            "due_on": "Due on",
            "note": "What to follow up on",
            "repeat_every": "Repeat every",
            "repeat_unit": "Unit",
        }
        widgets = {"due_on": DateInput()}
        field_classes = {"due_on": LocalDateField}
        help_texts = {"repeat_every": "Leave empty for a one-off follow-up."}


class TagCadenceForm(forms.Form):
    tag_name = forms.CharField(
        label="People tagged", max_length=50, widget=forms.TextInput(attrs={"list": "tag-suggestions"})
    )
    every = forms.IntegerField(label="Every", min_value=1, max_value=365)
    unit = forms.ChoiceField(label="Unit", choices=Unit.choices[:3])
