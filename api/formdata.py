"""JSON bodies through the app's own forms: an API write is validated exactly as the page's
(phones to E.164, one primary per kind, people only of this workspace...), then the same
service runs. Form errors come back by the JSON names of the fields they are about."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.forms import BaseForm, BaseFormSet
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions


def _value(value: Any) -> list[Any]:
    if value is None:
        return [""]
    if isinstance(value, bool):
        return ["on"] if value else []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [value if not isinstance(value, int) else str(value)]


def data(values: Mapping[str, Any], *, prefix: str = "") -> MultiValueDict[str, Any]:
    """Form data (as a browser would post it) for these values; partial dates split in three."""
    out: MultiValueDict[str, Any] = MultiValueDict()
    for name, value in values.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and {"day", "month"} <= value.keys():
            for part in ("day", "month", "year"):  # PartialDateWidget's sub-widget names
                out.setlist(f"{key}_{part}", _value(value.get(part)))
            continue
        out.setlist(key, _value(value))
    return out


def formset(
    prefix: str, rows: Iterable[Mapping[str, Any]], *, replacing: Iterable[int] = ()
) -> MultiValueDict[str, Any]:
    """A formset's data: the stored rows ``replacing`` marked deleted, then ``rows`` as new ones."""
    stored = list(replacing)
    new = list(rows)
    out: MultiValueDict[str, Any] = MultiValueDict()
    out[f"{prefix}-TOTAL_FORMS"] = str(len(stored) + len(new))
    out[f"{prefix}-INITIAL_FORMS"] = str(len(stored))
    for i, pk in enumerate(stored):
        out[f"{prefix}-{i}-id"] = str(pk)
        out[f"{prefix}-{i}-DELETE"] = "on"
    for i, row in enumerate(new, start=len(stored)):
        out.update(data(row, prefix=f"{prefix}-{i}-"))
    return out


def errors_of(form: BaseForm, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A form's errors by JSON field name (``names`` maps form names that differ)."""
    names = names or {}
    return {names.get(field, field): list(messages) for field, messages in form.errors.items()}


def formset_errors(formset: BaseFormSet, *, skip: int = 0, names: Mapping[str, str] | None = None) -> Any:
    """A formset's errors by row of the JSON list (the first ``skip`` forms are stored rows)."""
    found: dict[str, Any] = {}
    for i, form in enumerate(formset.forms[skip:]):
        if form.errors:
            found[str(i)] = errors_of(form, names)
    if formset.non_form_errors():
        found["non_field_errors"] = list(formset.non_form_errors())
    return found


def raise_if(errors: Mapping[str, Any]) -> None:
    """A 400 with every error found, if any was."""
    kept = {name: value for name, value in errors.items() if value}
    if kept:
        raise exceptions.ValidationError(kept)
