"""The error summary at the top of a long form: every problem in one list, each a link to its
field, so nobody scrolls a long page looking for the red one (issue 18)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms, template

register = template.Library()


@dataclass(frozen=True)
class Problem:
    text: str
    anchor: str  # the id of the field (or the form part) to jump to; "" when there is none


def _form_problems(form: forms.BaseForm, prefix: str = "") -> list[Problem]:
    problems = [Problem(f"{prefix}{error}", "") for error in form.non_field_errors()]
    for field in form:
        for error in field.errors:
            label = field.label or field.name.replace("_", " ").capitalize()
            problems.append(Problem(f"{prefix}{label}: {error}", field.id_for_label or ""))
    return problems


def problems_of(*parts: Any) -> list[Problem]:
    """What is wrong in these forms and formsets, in page order. A formset row's problem names
    its row: "Contact 2: Value: Enter a valid email address."."""
    problems: list[Problem] = []
    for part in parts:
        if not part or not getattr(part, "is_bound", False):
            continue
        if isinstance(part, forms.BaseFormSet):
            model = getattr(part, "model", None)
            # A model's name ("Contact method"), or the prefix's ("promises": "Promise").
            noun = str(model._meta.verbose_name) if model is not None else (part.prefix or "row").removesuffix("s")
            noun = noun.capitalize()
            problems += [Problem(str(error), "") for error in part.non_form_errors()]
            for number, row in enumerate(part.forms, start=1):
                problems += _form_problems(row, f"{noun} {number}: ")
        else:
            problems += _form_problems(part)
    return problems


@register.inclusion_tag("_error_summary.html")
def error_summary(*parts: Any) -> dict[str, Any]:
    """``{% error_summary form contacts family %}``: nothing when all is well."""
    return {"problems": problems_of(*parts)}
