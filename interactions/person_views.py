"""The person pages that show or remove conversations: the people list (with the notes that
mention what was searched), bulk actions (delete removes their conversations), the person page
(the timeline of conversations), delete, and merge (which moves conversations).

They live here, not in people/views.py, because people may not import interactions (the
layers in pyproject.toml); ``interactions/people_urls.py`` serves them with people's own pages
under the one ``people:`` namespace, so their URLs and names (``people:detail``) are the same.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm import history, permissions
from crm.access import get_for_workspace_or_404, workspace_required
from crm.formfields import form_field
from crm.ids import parse_id
from crm.pagination import Key, KeysetPage, Ordering, keyset_page
from crm.permissions import capability_required
from crm.ratelimit import search_limited
from crm.requests import WorkspaceRequest
from interactions import selectors, services
from interactions.models import FollowUp, Interaction, Promise
from people import merge
from people import selectors as people_selectors
from people import services as people_services
from people.forms import BulkActionForm, PersonFilterForm
from people.models import Person
from people.stay_in_touch import stay_status

PAGE_SIZE = 50
# Search results come 25 to a page: someone searching looks for one person, and the page
# arrives as they type (budget: 30 ms at 10,000 people; each row costs about 0.2 ms to render).
SEARCH_PAGE_SIZE = 25
TIMELINE_PAGE = 20
# Up to this many people the list says exactly how many; past it, an estimate (PostgreSQL).
ESTIMATE_OVER = 10_000
TIMELINE_ORDER = Ordering((Key("occurred_at", descending=True), Key("id", descending=True)))


def _person(request: WorkspaceRequest, pk: int) -> Person:
    return get_for_workspace_or_404(request, Person, pk=pk)


@workspace_required
@search_limited()
def person_list(request: WorkspaceRequest) -> HttpResponse:
    filters = PersonFilterForm(request.GET or None, workspace=request.workspace)
    values = filters.values()
    page = keyset_page(
        filters.filter_qs(),
        people_selectors.person_ordering(values.get("sort", "name")),
        per_page=SEARCH_PAGE_SIZE if values.get("q") else PAGE_SIZE,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        # Everyone, in any order: "about 100,000 people" past the cap, as search engines do. A
        # filtered or searched list, whose count a user acts on, is counted exactly.
        estimate_over=ESTIMATE_OVER if set(values) <= {"sort"} else None,
        count_qs=Person.objects.for_workspace(request.workspace).filter(archived_at__isnull=True),
    )
    people_selectors.with_tag_names(page.object_list)
    query_string = request.GET.copy()
    for name in ("after", "before", "page"):
        query_string.pop(name, None)
    context = {
        "page": page,
        "filters": filters,
        "values": values,
        "query_string": query_string.urlencode(),
        "members": form_field(filters, "owner", forms.ModelChoiceField).queryset,
        "today": timezone.localdate(),
        # Deleting is offered to those who may (owners); the others archive.
        "bulk_actions": [
            (value, label)
            for value, label in BulkActionForm.ACTIONS
            if value != "delete" or permissions.can(request.membership, "delete_people")
        ],
        # Words that name nobody may still be in what was written about someone (a need, a promise).
        "mentions": selectors.note_mentions(request.workspace, query=values["q"]) if values.get("q") else None,
    }
    template = "people/_person_results.html" if request.headers.get("HX-Request") else "people/person_list.html"
    return render(request, template, context)


@require_POST
@workspace_required
def person_bulk(request: WorkspaceRequest) -> HttpResponse:
    form = BulkActionForm(request.POST, workspace=request.workspace)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect(_back_to_list(request))
    ids = set(form.cleaned_data["ids"])
    people = Person.objects.for_workspace(request.workspace).filter(pk__in=ids)
    if people.count() != len(ids):
        raise Http404("Some of these people are not in this workspace.")
    action = form.cleaned_data["action"]
    if action == "delete":
        # Refused before the confirmation page too: a member is not asked to confirm what fails.
        permissions.require(request.membership, "delete_people")
        if request.POST.get("confirm") != "yes":
            context = {
                "people": people.order_by("last_name", "first_name")[:100],
                "summary": services.deletion_summary(people=people),
                "ids": sorted(ids),
                "next": _back_to_list(request),
            }
            return render(request, "people/person_confirm_delete.html", context)
        count = services.people_delete(membership=request.membership, people=people)
        messages.success(request, f"Deleted {count} {'person' if count == 1 else 'people'}.")
        return redirect(_back_to_list(request))
    try:
        count = people_services.people_bulk_update(
            membership=request.membership,
            people=people,
            action=action,
            tag=form.cleaned_data["tag"],
            owner=form.cleaned_data["owner"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        label = dict(BulkActionForm.ACTIONS)[action].rstrip("…")
        messages.success(request, f"{label}: done for {count} {'person' if count == 1 else 'people'}.")
    return redirect(_back_to_list(request))


def _back_to_list(request: WorkspaceRequest) -> str:
    query = request.POST.get("query_string", "")
    return reverse("people:list") + (f"?{query}" if query and "//" not in query else "")


@workspace_required
def person_detail(request: WorkspaceRequest, pk: int) -> HttpResponse:
    person = get_for_workspace_or_404(request, people_selectors.person_for_page(request.workspace, pk), pk=pk)
    kind = request.GET.get("kind", "")
    interactions = keyset_page(
        selectors.interaction_list(request.workspace, person=person, kind=kind),
        TIMELINE_ORDER,
        per_page=TIMELINE_PAGE,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    today = timezone.localdate()
    family = list(person.family.all())
    follow_ups = list(selectors.person_open_follow_ups(request.workspace, person=person))
    open_promises = list(selectors.person_open_promises(request.workspace, person=person))
    kinds = dict(Interaction.Kind.choices)
    # The filter offers the kinds had with them, most frequent first: the first few as segments
    # (wider screens), all of them in a select (phones, and past the segments).
    had = [k for k in selectors.person_kinds(request.workspace, person=person) if k in kinds]
    context = {
        "person": person,
        "interactions": interactions,
        "timeline": _timeline(request, person, interactions, kind),
        "kind": kind,
        "kinds": Interaction.Kind.choices,
        "query_string": urlencode({"kind": kind}) if kind else "",
        "open_needs": list(selectors.person_open_needs(request.workspace, person=person)),
        "open_promises": open_promises,
        "follow_ups": follow_ups,
        "next_due": _next_due(person, follow_ups, open_promises, today),
        "kinds_had": [(k, kinds[k]) for k in had or ([kind] if kind in kinds else [])],
        "segments": [(k, kinds[k]) for k in had[:SEGMENTS]],
        "profile": people_selectors.profile_view(person),
        "family": family,
        "family_in": list(person.family_links_in.all()),
        "pets": list(person.pets.all()),
        "contacts": list(person.contact_methods.all()),
        "last_change": history.last_change(person),
        "today": today,
    }
    return render(request, "people/person_detail.html", context)


SEGMENTS = 4  # kinds on the timeline's segmented control; a select has the rest


def _next_due(
    person: Person, follow_ups: list[FollowUp], promises: list[Promise], today: date
) -> tuple[date, str] | None:
    """The soonest thing due with them, for the page's header: a follow-up, a promise with a
    day, or staying in touch; (day, what), or None when nothing has a day."""
    due: list[tuple[date, str]] = [(f.effective_due, f.note or "Follow up") for f in follow_ups]
    due += [(p.due_on, p.text) for p in promises if p.due_on]
    status = stay_status(person, today)
    if status is not None:
        due.append((status.due_on, "First contact" if status.first_contact else "Stay in touch"))
    return min(due, key=lambda d: d[0]) if due else None


def _timeline(request: WorkspaceRequest, person: Person, page: KeysetPage, kind: str) -> list[tuple[str, object]]:
    """The page's conversations with what else happened in the same span, newest first.

    With a kind filter only conversations show: the filter asks for one kind of thing.
    """
    items: list[tuple[datetime, int, str, object]] = [(i.occurred_at, 1, "interaction", i) for i in page]
    if not kind:
        # Each page shows the events after its oldest conversation and up to the conversation
        # just before the page, so every event appears on exactly one page.
        newest = page.preceding[0] if page.preceding else None
        oldest = items[-1][0] if items and page.has_next() else None
        events = selectors.timeline_events(
            request.workspace, person=person, newer_than=oldest, older_than=newest, viewer=request.user
        )
        for event in events:
            items.append((event.at, 0, "event", event))
    items.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [(kind_, obj) for _, _, kind_, obj in items]


@capability_required("delete_people")
def person_delete(request: WorkspaceRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    people = Person.objects.for_workspace(request.workspace).filter(pk=person.pk)
    if request.method == "POST":
        services.people_delete(membership=request.membership, people=people)
        messages.success(request, f"{person} deleted.")
        return redirect("people:list")
    context = {
        "people": [person],
        "summary": services.deletion_summary(people=people),
        "single": person,
    }
    return render(request, "people/person_confirm_delete.html", context)


@capability_required("write")
@search_limited()
def person_merge(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """Pick the other record (by search), compare field by field, then merge into this one."""
    person = _person(request, pk)
    other_id = parse_id(request.POST.get("other") or request.GET.get("other") or "")
    if other_id is None:
        query = request.GET.get("q", "").strip()[:100]
        found = [
            p for p in people_selectors.person_autocomplete(request.workspace, query=query, limit=20) if p.pk != pk
        ]
        return render(request, "people/person_merge.html", {"person": person, "query": query, "found": found})
    other = get_for_workspace_or_404(request, Person.objects.select_related("company", "owner"), pk=other_id)
    if other.pk == person.pk:
        raise Http404("A person cannot be merged with themself.")
    if request.method == "POST":
        take = {name.removeprefix("take_") for name, value in request.POST.items() if value == "other"}
        try:
            merge.person_merge(keep=person, other=other, take_from_other=take, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, f"{other} merged into {person}: conversations, family, facts and reminders moved."
            )
            return redirect(person)
    chosen = merge.default_choices(person, other)
    rows = [
        {
            "field": f,
            "mine": merge.display_value(person, f),
            "theirs": merge.display_value(other, f),
            "take_other": f.name in chosen,
        }
        for f in merge.MERGE_FIELDS
        if merge.display_value(person, f) or merge.display_value(other, f)
    ]
    summary = services.deletion_summary(people=Person.objects.filter(pk=other.pk))
    context = {"person": person, "other": other, "rows": rows, "summary": summary}
    return render(request, "people/person_merge.html", context)
