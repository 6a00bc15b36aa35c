"""Forms of the email settings page and the unmatched-email actions."""

from __future__ import annotations

from typing import Any

from django import forms

from crm.models import Workspace
from people.models import Person


class ApproveSenderForm(forms.Form):
    email = forms.EmailField(label="Another address of yours", max_length=254)


class AttachForm(forms.Form):
    """Log an unmatched email with someone already in the workspace."""

    person = forms.ModelChoiceField(queryset=Person.objects.none(), label="Who is it?")

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = Person.objects.for_workspace(workspace).filter(  # type: ignore[attr-defined]
            archived_at__isnull=True
        )


class NewPersonForm(forms.Form):
    """Add the email's sender or recipient as a new person."""

    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(max_length=254)
