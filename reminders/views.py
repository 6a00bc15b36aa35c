"""Reminder actions (done, snooze, dismiss), follow-up pages, tag cadences and the calendar.

Actions answer htmx requests with an empty fragment (the item leaves the list) and plain
form posts with a redirect back and a message, so they work with and without JavaScript.
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm import dateformats
from crm.access import get_for_workspace_or_404, owner_required, safe_next, workspace_required
from crm.ids import parse_id
from crm.permissions import capability_required
from people.dates import in_range
from people.forms import DateInput, LocalDateField, add_service_error
from people.models import Person
from reminders import selectors, services
from reminders.models import FollowUp, TagCadence, Unit

SNOOZES = {"1d": 1, "3d": 3, "1w": 7}


def _back(request: HttpRequest, message: str, *, level: int = messages.SUCCESS) -> HttpResponse:
    if request.headers.get("HX-Request"):
        response = HttpResponse("")
        response["HX-Trigger"] = "rapport:changed"
        return response
    messages.add_message(request, level, message)
    return redirect(safe_next(request, reverse("dashboard")))


def _snooze_until(request: HttpRequest) -> date:
    """From a preset ("1d", "3d", "1w") or a picked date; bad input is a ValidationError."""
    preset = request.POST.get("snooze", "")
    if preset in SNOOZES:
        return timezone.localdate() + timedelta(days=SNOOZES[preset])
    typed = request.POST.get("until", "").strip()
    if not typed:
        raise ValidationError("Pick a date to snooze until.")
    return dateformats.parse_date(typed)


@require_POST
@workspace_required
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_for_workspace_or_404(request, FollowUp.objects.select_related("person"), pk=pk)
    # The occurrence the user saw: a second click (another tab, a stale page) is a no-op.
    seen = parse_id(request.POST.get("occurrence", ""))
    if seen is not None:
        follow_up.occurrence = seen
    services.follow_up_done(follow_up=follow_up)
    if follow_up.is_recurring and follow_up.done_at:
        text = f"Done: follow-up with {follow_up.person}. {services.SERIES_ENDED}"
        if request.headers.get("HX-Request"):
            messages.info(request, text)  # the item leaves the list; the next page says why
        return _back(request, text)
    return _back(request, f"Done: follow-up with {follow_up.person}.")


@require_POST
@workspace_required
def follow_up_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_for_workspace_or_404(request, FollowUp.objects.select_related("person"), pk=pk)
    try:
        until = _snooze_until(request)
        services.follow_up_snooze(follow_up=follow_up, until=until)
    except ValidationError as exc:
        return _error(request, exc)
    return _back(request, f"Snoozed until {dateformats.format_date(until, 'day')}.")


@require_POST
@workspace_required
def cadence_snooze(request: HttpRequest, person_pk: int) -> HttpResponse:
    person = get_for_workspace_or_404(request, Person, pk=person_pk)
    try:
        until = _snooze_until(request)
        services.cadence_snooze(person=person, until=until)
    except ValidationError as exc:
        return _error(request, exc)
    return _back(request, f"{person} snoozed until {dateformats.format_date(until, 'day')}.")


@require_POST
@workspace_required
def date_dismiss(request: HttpRequest) -> HttpResponse:
    key = request.POST.get("key", "")
    try:
        occurs_on = date.fromisoformat(request.POST.get("on", ""))
    except ValueError as exc:
        raise Http404 from exc
    if not in_range(occurs_on):
        raise Http404("No such day.")
    _check_date_key(request, key)
    services.date_dismiss(workspace=request.workspace, key=key, occurs_on=occurs_on)
    return _back(request, "Marked done.")


def _check_date_key(request: HttpRequest, key: str) -> None:
    """A date key names an object of this workspace, or the request is a 404."""
    from people.models import FamilyMember, ImportantDate, Pet

    models = {"person": Person, "family": FamilyMember, "pet": Pet, "date": ImportantDate}
    parts = key.split(":")
    pk = parse_id(parts[1]) if len(parts) >= 2 else None
    if parts[0] not in models or pk is None:
        raise Http404("Unknown reminder.")
    get_for_workspace_or_404(request, models[parts[0]], pk=pk)


def _error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    text = " ".join(exc.messages)
    if request.headers.get("HX-Request"):
        return HttpResponse(text, status=422)
    return _back(request, text, level=messages.ERROR)


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


@capability_required("write")
def follow_up_create(request: HttpRequest, person_pk: int) -> HttpResponse:
    person = get_for_workspace_or_404(request, Person, pk=person_pk)
    form = FollowUpForm(request.POST or None, initial={"due_on": timezone.localdate() + timedelta(days=7)})
    if request.method == "POST" and form.is_valid():
        try:
            services.follow_up_create(person=person, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Follow-up added.")
            return redirect(person)
    return render(request, "reminders/follow_up_form.html", {"form": form, "person": person})


@capability_required("write")
def follow_up_edit(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_for_workspace_or_404(request, FollowUp.objects.select_related("person"), pk=pk)
    form = FollowUpForm(request.POST or None, instance=follow_up)
    if request.method == "POST" and form.is_valid():
        try:
            services.follow_up_update(follow_up=follow_up, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Follow-up saved.")
            return redirect(follow_up.person)
    return render(
        request, "reminders/follow_up_form.html", {"form": form, "person": follow_up.person, "follow_up": follow_up}
    )


@capability_required("write")
def follow_up_delete(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_for_workspace_or_404(request, FollowUp.objects.select_related("person"), pk=pk)
    if request.method == "POST":
        follow_up.delete()
        messages.success(request, "Follow-up deleted.")
        return redirect(follow_up.person)
    return render(request, "reminders/follow_up_confirm_delete.html", {"follow_up": follow_up})


class TagCadenceForm(forms.Form):
    tag_name = forms.CharField(
        label="People tagged", max_length=50, widget=forms.TextInput(attrs={"list": "tag-suggestions"})
    )
    every = forms.IntegerField(label="Every", min_value=1, max_value=365)
    unit = forms.ChoiceField(label="Unit", choices=Unit.choices[:3])


@owner_required
def tag_cadences(request: HttpRequest) -> HttpResponse:
    """Workspace defaults: "key-account every 2 weeks" for people without a cadence of their own."""
    form = TagCadenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.tag_cadence_set(workspace=request.workspace, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Stay-in-touch default saved.")
            return redirect("reminders:cadences")
    cadences = TagCadence.objects.for_workspace(request.workspace).select_related("tag")
    return render(request, "reminders/tag_cadences.html", {"form": form, "cadences": cadences})


@require_POST
@owner_required
def tag_cadence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    cadence = get_for_workspace_or_404(request, TagCadence, pk=pk)
    services.tag_cadence_delete(cadence=cadence)
    messages.success(request, f"Removed the default for “{cadence.tag}”.")
    return redirect("reminders:cadences")


@workspace_required
def calendar_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
        month = int(request.GET.get("month", today.month))
        first = date(year, month, 1)
    except (ValueError, OverflowError):
        year, month, first = today.year, today.month, today.replace(day=1)
    if not in_range(first):
        year, month, first = today.year, today.month, today.replace(day=1)
    # No link out of the range: the page there would only show this month again.
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    previous = previous if in_range(previous) else None
    following = following if in_range(following) else None
    context = {
        "weeks": selectors.calendar_month(request.workspace, year=year, month=month),
        "first": first,
        "today": today,
        "previous": previous,
        "following": following,
        "this_month": reverse("reminders:calendar"),
    }
    return render(request, "reminders/calendar.html", context)


@workspace_required
def notifications(request: HttpRequest) -> HttpResponse:
    """Reminders the scheduler delivered, newest first; opening the page marks them seen."""
    from reminders.models import ReminderOccurrence

    items = list(
        ReminderOccurrence.objects.visible_to(request.user)
        .exclude(state=ReminderOccurrence.State.PENDING)
        .select_related("person", "workspace")[:100]
    )
    services.occurrences_mark_seen(user=request.user)
    return render(request, "reminders/notifications.html", {"items": items, "unseen_reminders": 0})
