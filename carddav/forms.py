from __future__ import annotations

from django import forms

from carddav.models import AddressBook, AppPassword


class AppPasswordForm(forms.ModelForm):
    class Meta:
        model = AppPassword
        fields = ("name",)
        labels = {"name": "Device name"}


class ScopeForm(forms.Form):
    scope = forms.ChoiceField(choices=AddressBook.Scope.choices, widget=forms.RadioSelect, label="Which people")
