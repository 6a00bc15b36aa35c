"""Ids from the outside world (URLs, forms) are untrusted text."""

from __future__ import annotations

from typing import Any

from django import forms

MAX_ID_DIGITS = 18  # fits a 64-bit integer; longer would overflow the database driver


def parse_id(value: Any) -> int | None:
    """The integer id in ``value``, or None for anything that is not plain ASCII digits."""
    text = str(value)
    if not text or len(text) > MAX_ID_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return int(text)


class SafeModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Refuses non-numeric or oversized ids with "not a valid value" instead of a 500."""

    def _check_values(self, value: Any) -> Any:
        for v in value:
            if parse_id(v) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": v}
                )
        # Django's own check (a private method) goes on from here; django-stubs does not declare it.
        return super()._check_values(value)  # type: ignore[misc]
