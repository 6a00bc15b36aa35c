"""Form fields for dates: typed in the user's own date style (``crm.dateformats``), and the
partial dates of birthdays (day and month, year optional). Used by every app's forms."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import from_current_timezone
from django.utils.functional import lazy
from django.utils.text import format_lazy

from crm import dateformats
from people.dates import EARLIEST, EARLIEST_REMEMBERED, LATEST, MONTHS, YEAR_MESSAGE, PartialDate, validate_in_range


class DateInput(forms.TextInput):
    """A date typed in the user's own format (``crm.dateformats``), "dd/mm/yyyy" or "mm/dd/yyyy".

    Not ``<input type=date>``: Chromium draws that in the browser's language, never the user's
    setting. static/js/dates.js adds the browser's calendar beside it, offering only the dates
    Rapport accepts (data-min, data-max; the server checks them anyway).
    """

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        bounds = {"data-min": EARLIEST.isoformat(), "data-max": LATEST.isoformat()}
        super().__init__({"data-date-input": "date", "autocomplete": "off", **bounds, **(attrs or {})})

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        style = dateformats.get_style()  # at render time: the viewer's, not the one at import
        context["widget"]["attrs"].update(
            {
                "placeholder": self.placeholder(style),
                "data-date-order": style.order,
                "data-date-separator": style.separator,
            }
        )
        return context

    def placeholder(self, style: dateformats.DateStyle) -> str:
        return style.placeholder

    def format_value(self, value: Any) -> str | None:
        return super().format_value(dateformats.input_value(value))


class DateTimeInput(DateInput):
    """A date and a time, "dd/mm/yyyy hh:mm" in the user's format."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"data-date-input": "datetime", **(attrs or {})})

    def placeholder(self, style: dateformats.DateStyle) -> str:
        return f"{style.placeholder} hh:mm"

    def format_value(self, value: Any) -> str | None:
        return forms.TextInput.format_value(self, dateformats.input_value(value, with_time=True))


def _format_hint(with_time: bool = False) -> str:
    """ "dd/mm/yyyy": the format a date field takes, shown under it (a placeholder goes away as
    soon as one types). Worked out at render time: the viewer's style, not the one at import."""
    style = dateformats.get_style()
    return f"{style.placeholder} hh:mm" if with_time else style.placeholder


format_hint = lazy(_format_hint, str)


def _with_hint(kwargs: dict[str, Any], *, with_time: bool = False) -> dict[str, Any]:
    """The field's help text followed by its format: "When it is due (dd/mm/yyyy)"."""
    hint = format_hint(with_time)
    given = kwargs.get("help_text")
    kwargs["help_text"] = format_lazy("{} ({})", given, hint) if given else hint
    return kwargs


class HiddenInitial(forms.HiddenInput):
    """The hidden copy of a field's initial value (a callable default, "today"): without the
    aria-describedby Django gives it from the help text, which a hidden input may not carry."""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].pop("aria-describedby", None)
        return context


class LocalDateField(forms.DateField):
    """A date read in the user's format (yyyy-mm-dd always works too); a clear message otherwise."""

    widget = DateInput
    hidden_widget = HiddenInitial

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with_hint(kwargs))

    def to_python(self, value: Any) -> date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return dateformats.parse_date(str(value))


class LocalDateTimeField(forms.DateTimeField):
    """A date and time read in the user's format and time zone ("2025-12-31T14:30" too)."""

    widget = DateTimeInput
    hidden_widget = HiddenInitial

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with_hint(kwargs, with_time=True))

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return from_current_timezone(value)
        if isinstance(value, date):
            return from_current_timezone(datetime.combine(value, time()))
        return from_current_timezone(dateformats.parse_datetime(str(value)))


def date_field(**kwargs: Any) -> forms.DateField:
    """A date field of a form that is not a model's, held to the same range as model fields."""
    return LocalDateField(validators=[validate_in_range], **kwargs)


class PartialDateWidget(forms.MultiWidget):
    template_name = "people/widgets/partial_date.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets: dict[str, forms.Widget | type[forms.Widget]] = {
            "day": forms.NumberInput(
                attrs={"min": 1, "max": 31, "placeholder": "Day", "aria-label": "Day", "class": "form-control pd-day"}
            ),
            "month": forms.Select(
                choices=[("", "Month"), *MONTHS], attrs={"aria-label": "Month", "class": "form-select pd-month"}
            ),
            "year": forms.NumberInput(
                attrs={
                    "min": EARLIEST_REMEMBERED.year,
                    "max": LATEST.year,
                    "placeholder": "Year (optional)",
                    "aria-label": "Year (optional)",
                    "class": "form-control pd-year",
                }
            ),
        }
        super().__init__(widgets, attrs)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        """The three inputs in the order the user writes dates: 15 April, April 15, 1980-04-15."""
        context = super().get_context(name, value, attrs)
        subwidgets = dict(zip("dmy", context["widget"]["subwidgets"], strict=True))
        context["widget"]["subwidgets"] = [subwidgets[part] for part in dateformats.get_style().order]
        return context

    def decompress(self, value: PartialDate | None) -> list[int | None]:
        if value is None:
            return [None, None, None]
        return [value.day, value.month, value.year]


class PartialDateField(forms.MultiValueField):
    """Day and month, year optional: "15 April" is a valid birthday."""

    widget = PartialDateWidget

    def __init__(self, **kwargs: Any) -> None:
        fields = (
            forms.IntegerField(min_value=1, max_value=31),
            forms.TypedChoiceField(choices=MONTHS, coerce=int),
            forms.IntegerField(
                min_value=EARLIEST_REMEMBERED.year,
                max_value=LATEST.year,
                required=False,
                error_messages={"min_value": YEAR_MESSAGE, "max_value": YEAR_MESSAGE},
            ),
        )
        kwargs.setdefault("required", False)
        super().__init__(fields, require_all_fields=False, **kwargs)

    def compress(self, data_list: list[Any]) -> PartialDate | None:
        if not data_list:
            return None
        day, month, year = [*data_list, None, None, None][:3]
        if day in (None, "") and month in (None, "") and year in (None, ""):
            return None
        if day in (None, "") or month in (None, ""):
            raise ValidationError("Give both the day and the month (the year is optional).")
        return PartialDate(day=int(day), month=int(month), year=int(year) if year not in (None, "") else None)
