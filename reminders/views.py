"""This week (the dashboard), reminder actions (done, snooze, dismiss, undo), follow-up pages, tag
cadences and the calendar.

An action answers an htmx request with its row in the new state (the new day, or done) and
an Undo button, so the row never vanishes while it is still due; a plain form post goes back
with a message carrying the same Undo. Undo is a POST of a signed note of what the action
changed (see ``services.undo_token``) and puts it back exactly, once.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm import dateformats, permissions
from crm import selectors as crm_selectors
from crm.access import get_for_workspace_or_404, owner_required, safe_next, workspace_required
from crm.ids import parse_id
from crm.models import Membership, User
from crm.permissions import capability_required
from crm.requests import WorkspaceRequest
from interactions.models import FollowUp
from people.dates import in_range
from people.forms import add_service_error
from people.models import Person, TagCadence
from people.selectors import has_people
from reminders import selectors, services
from reminders.forms import FollowUpForm, TagCadenceForm
from reminders.services import FollowUpState

SNOOZES = {"1d": 1, "3d": 3, "1w": 7}
CHANGED_SINCE = "It changed since, so it was left as it is now."
# Which list the row came from, so it comes back in the same markup: the dashboard's "To do",
# its "Going cold" and "Dates", or the person page's follow-ups.
ROWS = {"due", "cold", "date", "person"}


@workspace_required
def dashboard(request: WorkspaceRequest) -> HttpResponse:
    """This week: what to do today and this week, overdue first. Mine, or (owners, viewers) the
    team's; a viewer, who owns nobody, starts on the team's."""
    membership: Membership = request.membership
    scope, member = "mine", None
    sees_team = permissions.can(membership, "see_team")
    members = list(crm_selectors.workspace_members(workspace=request.workspace)) if sees_team else []
    owner: User | None = request.user
    wants_team = request.GET.get("scope", "mine" if permissions.can(membership, "write") else "team") == "team"
    if sees_team and wants_team:
        scope, owner = "team", None
        member_id = request.GET.get("member", "")
        member = next((m.user for m in members if str(m.user_id) == member_id), None)
        owner = member
    board = selectors.dashboard(request.workspace, user=request.user, owner=owner, per_part=selectors.TODO_SHOWN + 1)
    # The "Ask about" line of every row the page shows, in a fixed four queries.
    listed = {i.person.pk for part in board.shown.values() for i in part} | {p.pk for p in board.going_cold}
    context = {
        "board": board,
        "ask": selectors.person_context(Person.objects.for_workspace(request.workspace), person_ids=listed),
        "today": board.today,  # the reminder rows read these, also when a Done or Snooze re-renders one
        "week_end": board.week_end,
        "scope": scope,
        "member": member,
        "members": members,
        "has_people": has_people(request.workspace),
        # Everyone due, in the same scope as the page: mine, a member's, or the whole team's.
        "people_due_url": reverse("people:list")
        + "?"
        + urlencode({"due": "on", "sort": "stay_due", **({"owner": owner.pk} if owner else {})}),
    }
    return render(request, "reminders/dashboard.html", context)


def _is_htmx(request: WorkspaceRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def _day(value: date) -> str:
    return dateformats.format_date(value, "day")


def _snooze_until(request: WorkspaceRequest) -> date:
    """From a preset ("1d", "3d", "1w") or a picked date; bad input is a ValidationError."""
    preset = request.POST.get("snooze", "")
    if preset in SNOOZES:
        return timezone.localdate() + timedelta(days=SNOOZES[preset])
    typed = request.POST.get("until", "").strip()
    if not typed:
        raise ValidationError("Pick a date to snooze until.")
    return dateformats.parse_date(typed)


# How a reminder action answers: with its notice, in the row (htmx) or as a message.
Answer = Callable[..., HttpResponse]


def _notice(
    request: WorkspaceRequest, text: str, *, url: str = "", kind: str = "", target: str = "", before: Any = None,
    after: Any = None, fields: dict[str, str] | None = None, error: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """What the row (or the message) says about the action, with an Undo when ``url`` is given."""
    notice: dict[str, Any] = {"text": text, "error": error, "fields": fields or {}}
    if url:
        notice["url"] = url
        notice["token"] = services.undo_token(
            workspace=request.workspace, user=request.user, kind=kind, target=target, before=before, after=after
        )
    return notice


def _answer(
    request: WorkspaceRequest,
    notice: dict[str, Any],
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    person: Person | None = None,
) -> HttpResponse:
    """htmx: the row re-rendered as it now is, saying what happened (and, for ``person``, its
    "Ask about" line, so the row keeps its height). A plain post: back to the page with a
    message, its Undo button in it."""
    back = safe_next(request, reverse("dashboard"))
    if not _is_htmx(request):
        text: str = notice["text"]
        if notice.get("token"):
            # Rendered here (escaped, with the CSRF field) and kept safe by the message storage.
            text = render_to_string(
                "reminders/_undo_message.html", {"text": text, "notice": notice, "back": back}, request=request
            )
        messages.add_message(request, messages.ERROR if notice["error"] else messages.SUCCESS, text)
        return redirect(back)
    today = timezone.localdate()
    row = request.POST.get("row", "")
    base = {"today": today, "week_end": selectors.end_of_week(today), "back": back, "row": row, "notice": notice}
    if person is not None:
        base["ask"] = selectors.person_context(Person.objects.for_workspace(request.workspace), person_ids={person.pk})
    response = render(request, template, {**base, **context}, status=status)
    response["HX-Trigger"] = "rapport:changed"
    return response


def _snooze(request: WorkspaceRequest, answer: Answer, snooze: Callable[[date], dict[str, Any]]) -> HttpResponse:
    """Snooze a follow-up or a person to the day asked; ``snooze`` writes and says what it did,
    with an Undo. A bad day answers why in the row (422), and nothing changed."""
    try:
        notice = snooze(_snooze_until(request))
    except ValidationError as exc:
        return answer(_notice(request, " ".join(exc.messages), error=True), status=422)
    return answer(notice)


def _undo(
    request: WorkspaceRequest, answer: Answer, kind: str, target: str, restore: Callable[[Any, Any], str]
) -> HttpResponse:
    """Put back what the signed token says an action changed; ``restore`` writes and says what
    became of it. A stale or forged token answers why in the row (422)."""
    try:
        before, after = services.undo_read(
            token=request.POST.get("token", ""),
            workspace=request.workspace,
            user=request.user,
            kind=kind,
            target=target,
        )
    except ValidationError as exc:
        return answer(_notice(request, " ".join(exc.messages), error=True), status=422)
    return answer(_notice(request, restore(before, after)))


# --- Follow-ups -----------------------------------------------------------------------------


def _follow_up_answer(
    request: WorkspaceRequest, follow_up: FollowUp, notice: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    if request.POST.get("row") == "person":
        return _answer(request, notice, "reminders/_person_follow_up.html", {"f": follow_up}, status=status)
    item = selectors.DueItem("follow_up", follow_up.effective_due, follow_up.person, follow_up)
    return _answer(request, notice, "reminders/_due_item.html", {"item": item}, status=status, person=item.person)


def _follow_up_undo(
    request: WorkspaceRequest, follow_up: FollowUp, text: str, before: FollowUpState, after: FollowUpState
) -> dict[str, Any]:
    url = reverse("reminders:follow_up_undo", args=[follow_up.pk])
    return _notice(request, text, url=url, kind="follow_up", target=str(follow_up.pk), before=before, after=after)


def _follow_up(request: WorkspaceRequest, pk: int) -> FollowUp:
    return get_for_workspace_or_404(request, FollowUp.objects.select_related("person"), pk=pk)


@require_POST
@workspace_required
def follow_up_done(request: WorkspaceRequest, pk: int) -> HttpResponse:
    follow_up = _follow_up(request, pk)
    # The occurrence the user saw: a second click (another tab, a stale page) is a no-op.
    seen = parse_id(request.POST.get("occurrence", ""))
    if seen is not None:
        follow_up.occurrence = seen
    before = FollowUpState.of(follow_up)
    if not services.follow_up_done(follow_up=follow_up):
        follow_up.refresh_from_db()
        return _follow_up_answer(request, follow_up, _notice(request, "That was already done."))
    if follow_up.done_at:
        ended = f" {services.SERIES_ENDED}" if follow_up.is_recurring else ""
        text = f"Done: follow-up with {follow_up.person}.{ended}"
    else:
        text = f"Done. Next follow-up with {follow_up.person}: {_day(follow_up.effective_due)}."
    notice = _follow_up_undo(request, follow_up, text, before, FollowUpState.of(follow_up))
    return _follow_up_answer(request, follow_up, notice)


@require_POST
@workspace_required
def follow_up_snooze(request: WorkspaceRequest, pk: int) -> HttpResponse:
    follow_up = _follow_up(request, pk)
    before = FollowUpState.of(follow_up)

    def snooze(until: date) -> dict[str, Any]:
        services.follow_up_snooze(follow_up=follow_up, until=until)
        text = f"Snoozed to {_day(follow_up.effective_due)}."
        return _follow_up_undo(request, follow_up, text, before, FollowUpState.of(follow_up))

    return _snooze(request, partial(_follow_up_answer, request, follow_up), snooze)


@require_POST
@workspace_required
def follow_up_undo(request: WorkspaceRequest, pk: int) -> HttpResponse:
    follow_up = _follow_up(request, pk)

    def restore(before: FollowUpState, after: FollowUpState) -> str:
        if services.follow_up_restore(follow_up=follow_up, before=before, after=after):
            return f"Undone: due {_day(follow_up.effective_due)} again."
        # Already as it was: a second click.
        return "Already undone." if FollowUpState.of(follow_up) == before else CHANGED_SINCE

    return _undo(request, partial(_follow_up_answer, request, follow_up), "follow_up", str(pk), restore)


# --- Stay in touch --------------------------------------------------------------------------


def _stay_answer(
    request: WorkspaceRequest, person: Person, notice: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    if not _is_htmx(request):
        return _answer(request, notice, "", {})
    # As the dashboard lists them: with the day they are due, from the cadence.
    person = selectors.person_stay_row(request.workspace, person=person)
    today = timezone.localdate()
    if request.POST.get("row") == "cold":
        return _answer(request, notice, "reminders/_cold_item.html", {"p": person}, status=status, person=person)
    due_on = selectors.stay_due_after_snooze(person, today)
    # None for a person with no cadence (snoozed by a hand-made POST, or the cadence removed
    # meanwhile): the row renders without a due day, as it always has, rather than a 500.
    item = selectors.DueItem("stay_in_touch", due_on, person)  # type: ignore[arg-type]
    return _answer(request, notice, "reminders/_due_item.html", {"item": item}, status=status, person=person)


@require_POST
@workspace_required
def cadence_snooze(request: WorkspaceRequest, person_pk: int) -> HttpResponse:
    person = get_for_workspace_or_404(request, Person, pk=person_pk)
    before = person.cadence_snoozed_until

    def snooze(until: date) -> dict[str, Any]:
        services.cadence_snooze(person=person, until=until)
        url = reverse("reminders:cadence_snooze_undo", args=[person.pk])
        text = f"{person} snoozed to {_day(until)}."
        return _notice(request, text, url=url, kind="stay", target=str(person.pk), before=before, after=until)

    return _snooze(request, partial(_stay_answer, request, person), snooze)


@require_POST
@workspace_required
def cadence_snooze_undo(request: WorkspaceRequest, person_pk: int) -> HttpResponse:
    person = get_for_workspace_or_404(request, Person, pk=person_pk)

    def restore(before: date | None, after: date) -> str:
        if services.cadence_snooze_restore(person=person, before=before, after=after):
            return (
                f"Undone: {person} is not snoozed." if before is None else f"Undone: snoozed to {_day(before)} again."
            )
        return "Already undone." if person.cadence_snoozed_until == before else CHANGED_SINCE

    return _undo(request, partial(_stay_answer, request, person), "stay", str(person.pk), restore)


# --- Dates ----------------------------------------------------------------------------------


def _date_target(request: WorkspaceRequest) -> tuple[str, date]:
    """The date line the form names; a day out of range or another workspace's object is a 404."""
    key = request.POST.get("key", "")
    try:
        occurs_on = date.fromisoformat(request.POST.get("on", ""))
    except ValueError as exc:
        raise Http404 from exc
    if not in_range(occurs_on):
        raise Http404("No such day.")
    _check_date_key(request, key)
    return key, occurs_on


def _date_answer(request: WorkspaceRequest, key: str, occurs_on: date, notice: dict[str, Any]) -> HttpResponse:
    # None when the date was edited away meanwhile: the row then only says what happened.
    item = selectors.date_item(request.workspace, key=key, on=occurs_on) if _is_htmx(request) else None
    return _answer(request, notice, "reminders/_date_item.html", {"d": item})


@require_POST
@workspace_required
def date_dismiss(request: WorkspaceRequest) -> HttpResponse:
    key, occurs_on = _date_target(request)
    dismissed = services.date_dismiss(workspace=request.workspace, key=key, occurs_on=occurs_on)
    if dismissed is None:
        return _date_answer(request, key, occurs_on, _notice(request, "That was already marked done."))
    notice = _notice(
        request, "Marked done.", url=reverse("reminders:date_undo"), kind="date", target=f"{key}@{occurs_on}",
        after=dismissed.pk, fields={"key": key, "on": occurs_on.isoformat()},
    )  # fmt: skip
    return _date_answer(request, key, occurs_on, notice)


@require_POST
@workspace_required
def date_undo(request: WorkspaceRequest) -> HttpResponse:
    key, occurs_on = _date_target(request)
    try:
        _, dismissed_pk = services.undo_read(
            token=request.POST.get("token", ""),
            workspace=request.workspace,
            user=request.user,
            kind="date",
            target=f"{key}@{occurs_on}",
        )
    except ValidationError as exc:
        return _date_answer(request, key, occurs_on, _notice(request, " ".join(exc.messages), error=True))
    restored = services.date_restore(
        workspace=request.workspace, dismissed_pk=dismissed_pk, key=key, occurs_on=occurs_on
    )
    return _date_answer(
        request, key, occurs_on, _notice(request, "Undone: not done yet." if restored else "Already undone.")
    )


def _check_date_key(request: WorkspaceRequest, key: str) -> None:
    """A date key names an object of this workspace, or the request is a 404."""
    from people.models import FamilyMember, ImportantDate, Pet

    models = {"person": Person, "family": FamilyMember, "pet": Pet, "date": ImportantDate}
    parts = key.split(":")
    pk = parse_id(parts[1]) if len(parts) >= 2 else None
    if parts[0] not in models or pk is None:
        raise Http404("Unknown reminder.")
    get_for_workspace_or_404(request, models[parts[0]], pk=pk)


@capability_required("write")
def follow_up_create(request: WorkspaceRequest, person_pk: int) -> HttpResponse:
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
def follow_up_edit(request: WorkspaceRequest, pk: int) -> HttpResponse:
    follow_up = _follow_up(request, pk)
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
def follow_up_delete(request: WorkspaceRequest, pk: int) -> HttpResponse:
    follow_up = _follow_up(request, pk)
    if request.method == "POST":
        services.follow_up_delete(follow_up=follow_up)
        messages.success(request, "Follow-up deleted.")
        return redirect(follow_up.person)
    return render(request, "reminders/follow_up_confirm_delete.html", {"follow_up": follow_up})


@owner_required
def tag_cadences(request: WorkspaceRequest) -> HttpResponse:
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
    cadences = selectors.tag_cadences(request.workspace)
    return render(request, "reminders/tag_cadences.html", {"form": form, "cadences": cadences})


@require_POST
@owner_required
def tag_cadence_delete(request: WorkspaceRequest, pk: int) -> HttpResponse:
    cadence = get_for_workspace_or_404(request, TagCadence, pk=pk)
    services.tag_cadence_delete(cadence=cadence)
    messages.success(request, f"Removed the default for “{cadence.tag}”.")
    return redirect("reminders:cadences")


def _day_param(value: str, today: date) -> date | None:
    """A day named in the URL (2026-12-14), or None when there is none we could show. A day
    without a year (12-14, as the calendar feed's yearly "+212 more birthdays" link it) is this
    year's; 29 February is the 28th in a common year, as its birthdays are."""
    try:
        if len(value) == 5 and value[2] == "-":
            month, day_of_month = int(value[:2]), int(value[3:])
            if (month, day_of_month) == (2, 29) and not calendar.isleap(today.year):
                day_of_month = 28
            return date(today.year, month, day_of_month)
        day = date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None
    return day if day is not None and in_range(day) else None


@workspace_required
def calendar_view(request: WorkspaceRequest) -> HttpResponse:
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
    before = (first - timedelta(days=1)).replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    previous = before if in_range(before) else None
    following = after if in_range(after) else None
    # ?day=2026-12-14: that day's page, with every date of the day (family and pets too).
    day = _day_param(request.GET.get("day", ""), today)
    if day is not None:
        context_day = {
            "cell": selectors.calendar_day(request.workspace, day=day),
            "first": day.replace(day=1),
            "today": today,
        }
        return render(request, "reminders/calendar_day.html", context_day)
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
def notifications(request: WorkspaceRequest) -> HttpResponse:
    """Reminders the scheduler delivered, newest first; opening the page marks them seen."""
    items = selectors.notifications_delivered(user=request.user)
    services.occurrences_mark_seen(user=request.user)
    return render(request, "reminders/notifications.html", {"items": items, "unseen_reminders": 0})
