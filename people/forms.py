from __future__ import annotations

from django import forms

from people.models import Person


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = ("first_name", "last_name", "nickname", "company", "job_title", "notes")
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}
