"""A form's field by name, as the kind of field it is."""

from __future__ import annotations

from typing import TypeVar

from django import forms

F = TypeVar("F", bound=forms.Field)


def form_field(form: forms.BaseForm, name: str, kind: type[F]) -> F:
    """``form.fields[name]``, checked to be a ``kind``: ``form.fields`` holds plain ``Field``s for
    the type checker, and setting a ``queryset`` on the wrong field would scope nothing."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{type(form).__name__}.{name} is a {type(field).__name__}, not a {kind.__name__}")
    return field
