"""People pages. Thin: form -> service -> message -> redirect; lookups through the workspace."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import BaseForm, BaseInlineFormSet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm import permissions
from crm.access import get_for_workspace_or_404, workspace_required
from crm.formfields import form_field
from crm.ids import parse_id
from crm.models import Workspace
from crm.pagination import Key, KeysetPage, Ordering, keyset_page
from crm.permissions import capability_required
from crm.ratelimit import search_limited
from crm.requests import WorkspaceRequest
from interactions import services as interaction_services
from interactions.models import Interaction
from interactions.selectors import (
    interaction_list,
    note_mentions,
    person_open_follow_ups,
    person_open_needs,
    person_open_promises,
    timeline_events,
)
from people import merge, selectors, services
from people.forms import (
    BulkActionForm,
    ContactMethodFormSetFactory,
    FactForm,
    FamilyFormSetFactory,
    ImportantDateFormSetFactory,
    PersonFilterForm,
    PersonForm,
    PetFormSetFactory,
    PreferencesForm,
    add_service_error,
)
from people.models import Company, ContactMethod, Person, ProfileFact
from people.stay_in_touch import person_set_preferences

PAGE_SIZE = 50
# Search results come 25 to a page: someone searching looks for one person, and the page
# arrives as they type (budget: 30 ms at 10,000 people; each row costs about 0.2 ms to render).
SEARCH_PAGE_SIZE = 25
TIMELINE_PAGE = 20
TIMELINE_ORDER = Ordering((Key("occurred_at", descending=True), Key("id", descending=True)))


def _apply(form: BaseForm, write: Callable[[], Any]) -> Any:
    """Run a service; its ValidationErrors land next to the form's fields, never as a 500."""
    try:
        return write()
    except ValidationError as exc:
        add_service_error(form, exc)
        return None


def _person(request: WorkspaceRequest, pk: int) -> Person:
    return get_for_workspace_or_404(request, Person, pk=pk)


@workspace_required
@search_limited()
def person_list(request: WorkspaceRequest) -> HttpResponse:
    filters = PersonFilterForm(request.GET or None, workspace=request.workspace)
    values = filters.values()
    people = selectors.person_list(
        request.workspace,
        query=values.get("q", ""),
        tag=values.get("tag", ""),
        owner=values.get("owner"),
        archived=values.get("archived", False),
        due=values.get("due", False),
        sort=values.get("sort", "name"),
    )
    page = keyset_page(
        people,
        selectors.person_ordering(values.get("sort", "name")),
        per_page=SEARCH_PAGE_SIZE if values.get("q") else PAGE_SIZE,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        count_with_rows=bool(values.get("q") or values.get("due")),  # all matches are sorted anyway
    )
    selectors.with_tag_names(page.object_list)
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
        "mentions": note_mentions(request.workspace, query=values["q"]) if values.get("q") else None,
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
                "summary": interaction_services.deletion_summary(people=people),
                "ids": sorted(ids),
                "next": _back_to_list(request),
            }
            return render(request, "people/person_confirm_delete.html", context)
        count = interaction_services.people_delete(membership=request.membership, people=people)
        messages.success(request, f"Deleted {count} {'person' if count == 1 else 'people'}.")
        return redirect(_back_to_list(request))
    try:
        count = services.people_bulk_update(
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


def _back_to_list(request: HttpRequest) -> str:
    query = request.POST.get("query_string", "")
    return reverse("people:list") + (f"?{query}" if query and "//" not in query else "")


@workspace_required
def person_detail(request: WorkspaceRequest, pk: int) -> HttpResponse:
    person = get_for_workspace_or_404(request, selectors.person_for_page(request.workspace, pk), pk=pk)
    kind = request.GET.get("kind", "")
    interactions = keyset_page(
        interaction_list(request.workspace, person=person, kind=kind),
        TIMELINE_ORDER,
        per_page=TIMELINE_PAGE,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    today = timezone.localdate()
    family = list(person.family.all())
    context = {
        "person": person,
        "interactions": interactions,
        "timeline": _timeline(request, person, interactions, kind),
        "kind": kind,
        "kinds": Interaction.Kind.choices,
        "query_string": urlencode({"kind": kind}) if kind else "",
        "open_needs": list(person_open_needs(request.workspace, person=person)),
        "open_promises": list(person_open_promises(request.workspace, person=person)),
        "follow_ups": list(person_open_follow_ups(request.workspace, person=person)),
        "profile": selectors.profile_view(person),
        "family": family,
        "family_in": list(person.family_links_in.all()),
        "pets": list(person.pets.all()),
        "contacts": list(person.contact_methods.all()),
        "today": today,
    }
    return render(request, "people/person_detail.html", context)


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
        events = timeline_events(
            request.workspace, person=person, newer_than=oldest, older_than=newest, viewer=request.user
        )
        for event in events:
            items.append((event.at, 0, "event", event))
    items.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [(kind_, obj) for _, _, kind_, obj in items]


# The Add form opens with an email and a phone row: what someone just met gives first.
NEW_CONTACT_ROWS = [{"kind": ContactMethod.Kind.EMAIL}, {"kind": ContactMethod.Kind.PHONE}]


def _add_formsets(data: QueryDict | None, draft: Person, workspace: Workspace) -> list[BaseInlineFormSet]:
    """The records typed with a new person: contact methods, family, pets.

    A section not sent at all (a script posting only the person, a page from before they
    were on it) is left unbound, and the person is added without those records.
    """

    def sent(prefix: str) -> QueryDict | None:
        return data if data is not None and f"{prefix}-TOTAL_FORMS" in data else None

    return [
        ContactMethodFormSetFactory(sent("contacts"), instance=draft, prefix="contacts", initial=NEW_CONTACT_ROWS),
        FamilyFormSetFactory(
            sent("family"), instance=draft, prefix="family", form_kwargs={"workspace": workspace, "person": draft}
        ),
        PetFormSetFactory(sent("pets"), instance=draft, prefix="pets"),
    ]


@capability_required("write")
def person_create(request: WorkspaceRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    draft = Person(workspace=request.workspace)
    form = PersonForm(
        data, request.FILES or None, instance=draft, workspace=request.workspace, initial={"owner": request.user}
    )
    formsets = _add_formsets(data, draft, request.workspace)
    # Every part is checked before anything is written, so one bad field saves nothing.
    sent = [formset for formset in formsets if formset.is_bound]
    if data is not None and all([form.is_valid(), *(formset.is_valid() for formset in sent)]):
        person = _apply(
            form,
            lambda: services.person_save_with_records(person=form.instance, formsets=sent, **form.service_kwargs()),
        )
        if person:
            messages.success(request, f"{person} added.")
            return redirect(person)
    contacts, family, pets = formsets
    context = {"form": form, "creating": True, "contacts": contacts, "family": family, "pets": pets}
    return render(request, "people/person_form.html", context)


@capability_required("write")
def person_edit(request: WorkspaceRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    data = request.POST if request.method == "POST" else None
    form = PersonForm(data, request.FILES or None, instance=person, workspace=request.workspace)
    contacts = ContactMethodFormSetFactory(data, instance=person, prefix="contacts")
    dates = ImportantDateFormSetFactory(data, instance=person, prefix="dates")
    if data is not None and all([form.is_valid(), contacts.is_valid(), dates.is_valid()]):
        saved = _apply(
            form,
            lambda: services.person_save_with_records(
                person=form.instance, formsets=[contacts, dates], by=request.user, **form.service_kwargs()
            ),
        )
        if saved:
            messages.success(request, f"{person} saved.")
            return redirect(person)
    context = {"form": form, "contacts": contacts, "dates": dates, "person": person}
    return render(request, "people/person_form.html", context)


def _records_page(
    request: HttpRequest, person: Person, factory: type, title: str, noun: str, form_kwargs: dict[str, Any]
) -> HttpResponse:
    """Edit a person's family or pets: one formset page for both."""
    formset = factory(
        request.POST if request.method == "POST" else None, instance=person, prefix="items", form_kwargs=form_kwargs
    )
    if request.method == "POST" and formset.is_valid():
        services.children_save(person=person, formset=formset)
        messages.success(request, f"{title} of {person} saved.")
        return redirect(person)
    context = {"person": person, "formset": formset, "title": title, "noun": noun}
    return render(request, "people/person_records_form.html", context)


@capability_required("write")
def person_family(request: WorkspaceRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    kwargs = {"workspace": request.workspace, "person": person}
    return _records_page(request, person, FamilyFormSetFactory, "Family", "family member", kwargs)


@capability_required("write")
def person_pets(request: WorkspaceRequest, pk: int) -> HttpResponse:
    return _records_page(request, _person(request, pk), PetFormSetFactory, "Pets", "pet", {})


@capability_required("write")
def person_preferences(request: WorkspaceRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = PreferencesForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        person_set_preferences(person=person, **{name: form.cleaned_data[name] for name in PreferencesForm.Meta.fields})
        messages.success(request, f"Preferences of {person} saved.")
        return redirect(person)
    return render(request, "people/person_preferences.html", {"person": person, "form": form})


@workspace_required
def person_profile(request: WorkspaceRequest, pk: int) -> HttpResponse:
    person = get_for_workspace_or_404(request, selectors.person_for_page(request.workspace, pk), pk=pk)
    form = FactForm(
        request.POST or None, initial={"fact_type": request.GET.get("type", ""), "learned_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        fact = _apply(
            form,
            lambda: services.fact_add(
                person=person,
                fact_type=form.cleaned_data["fact_type"],
                value=form.cleaned_data["value"],
                learned_on=form.cleaned_data["learned_on"],
            ),
        )
        if fact:
            messages.success(request, f"Noted: {fact.label}.")
            return redirect(reverse("people:profile", args=[person.pk]))
    context = {"person": person, "form": form, "profile": selectors.profile_view(person)}
    return render(request, "people/person_profile.html", context)


@require_POST
@workspace_required
def fact_delete(request: WorkspaceRequest, pk: int, fact_id: int) -> HttpResponse:
    person = _person(request, pk)
    fact = get_for_workspace_or_404(request, ProfileFact.objects.filter(person=person), pk=fact_id)
    fact.delete()
    messages.success(request, f"Removed: {fact.label}.")
    return redirect(reverse("people:profile", args=[person.pk]))


@require_POST
@workspace_required
def person_archive(request: WorkspaceRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    services.person_archive(person=person)
    messages.success(request, f"{person} archived. They stay searchable under “Show archived”.")
    return redirect(person)


@require_POST
@workspace_required
def person_restore(request: WorkspaceRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    services.person_restore(person=person)
    messages.success(request, f"{person} restored.")
    return redirect(person)


@capability_required("delete_people")
def person_delete(request: WorkspaceRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    people = Person.objects.for_workspace(request.workspace).filter(pk=person.pk)
    if request.method == "POST":
        interaction_services.people_delete(membership=request.membership, people=people)
        messages.success(request, f"{person} deleted.")
        return redirect("people:list")
    context = {
        "people": [person],
        "summary": interaction_services.deletion_summary(people=people),
        "single": person,
    }
    return render(request, "people/person_confirm_delete.html", context)


@workspace_required
def person_photo(request: WorkspaceRequest, pk: int) -> FileResponse:
    person = _person(request, pk)
    if not person.photo:
        raise Http404("No photo.")
    response = FileResponse(person.photo.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@workspace_required
@search_limited(None)
def tag_suggestions(request: WorkspaceRequest) -> JsonResponse:
    return JsonResponse({"tags": selectors.tag_names(request.workspace, prefix=request.GET.get("q", "")[:50])})


@workspace_required
@search_limited(None)
def person_autocomplete(request: WorkspaceRequest) -> JsonResponse:
    people = selectors.person_autocomplete(request.workspace, query=request.GET.get("q", "")[:100])
    return JsonResponse(
        {"people": [{"id": p.pk, "name": p.full_name, "company": p.company_name or ""} for p in people]}
    )


@workspace_required
@search_limited()
def company_list(request: WorkspaceRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    page = Paginator(selectors.company_list(request.workspace, query=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "people/company_list.html", {"page": page, "query": query})


@workspace_required
def company_detail(request: WorkspaceRequest, pk: int) -> HttpResponse:
    company = get_for_workspace_or_404(request, Company, pk=pk)
    people = selectors.person_list(request.workspace).filter(company=company)
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"company": company, "page": page, "today": timezone.localdate()}
    return render(request, "people/company_detail.html", context)


@capability_required("write")
@search_limited()
def person_merge(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """Pick the other record (by search), compare field by field, then merge into this one."""
    person = _person(request, pk)
    other_id = parse_id(request.POST.get("other") or request.GET.get("other") or "")
    if other_id is None:
        query = request.GET.get("q", "").strip()[:100]
        found = [p for p in selectors.person_autocomplete(request.workspace, query=query, limit=20) if p.pk != pk]
        return render(request, "people/person_merge.html", {"person": person, "query": query, "found": found})
    other = get_for_workspace_or_404(request, Person.objects.select_related("company", "owner"), pk=other_id)
    if other.pk == person.pk:
        raise Http404("A person cannot be merged with themself.")
    if request.method == "POST":
        take = {name.removeprefix("take_") for name, value in request.POST.items() if value == "other"}
        try:
            merge.person_merge(keep=person, other=other, take_from_other=take)
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
    summary = interaction_services.deletion_summary(people=Person.objects.filter(pk=other.pk))
    context = {"person": person, "other": other, "rows": rows, "summary": summary}
    return render(request, "people/person_merge.html", context)
