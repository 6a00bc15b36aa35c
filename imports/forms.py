from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from imports.csvfile import TARGETS
from imports.models import ImportJob, ImportRow


class UploadForm(forms.Form):
    file = forms.FileField(
        label="vCard, CSV or backup file",
        help_text="From Google Contacts, Apple Contacts/iCloud, Outlook, Android, Thunderbird, Nextcloud… "
        "(.vcf or .csv)",
        widget=forms.ClearableFileInput(attrs={"accept": ".vcf,.vcard,.csv,.txt,.zip,.json,text/vcard,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"This file is {filesizeformat(upload.size)}; the most we import at once is {filesizeformat(limit)}. "
                "Export in parts (for example one group at a time)."
            )
        return upload


class MappingForm(forms.Form):
    """One choice per CSV column: what it holds."""

    def __init__(self, *args: Any, job: ImportJob, samples: list[list[str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i, name in enumerate(job.header):
            examples = [row[i] for row in samples if i < len(row) and row[i].strip()][:3]
            self.fields[f"col_{i}"] = forms.ChoiceField(
                label=name or f"Column {i + 1}",
                choices=TARGETS,
                required=False,
                initial=job.mapping[i] if i < len(job.mapping) else "",
                help_text=("e.g. " + " · ".join(e[:40] for e in examples)) if examples else "empty in the first rows",
            )

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"col_{i}", "") for i in range(len(self.fields))]


class DecisionForm(forms.Form):
    default_action = forms.ChoiceField(
        label="For possible duplicates",
        choices=[
            (ImportRow.Action.MERGE, "Merge into the existing person (adds only what is missing)"),
            (ImportRow.Action.SKIP, "Skip them"),
            (ImportRow.Action.CREATE, "Create new people anyway"),
        ],
        initial=ImportRow.Action.MERGE,
        widget=forms.RadioSelect,
    )
