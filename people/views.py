"""People pages. Thin: form -> service -> message -> redirect; lookups through the workspace.

The person pages that also show or remove conversations (the list, the person page, bulk
actions, delete, merge) are in interactions/person_views.py; interactions/people_urls.py
serves both under ``people:``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import BaseForm, BaseInlineFormSet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm import history
from crm.access import get_for_workspace_or_404, workspace_required
from crm.models import Workspace
from crm.permissions import capability_required
from crm.ratelimit import search_limited
from crm.requests import WorkspaceRequest
from people import selectors, services
from people.forms import (
    ContactMethodFormSetFactory,
    FactForm,
    FamilyFormSetFactory,
    ImportantDateFormSetFactory,
    PersonForm,
    PetFormSetFactory,
    PreferencesForm,
    add_service_error,
)
from people.models import Company, ContactMethod, Person, ProfileFact
from people.stay_in_touch import person_set_preferences

PAGE_SIZE = 50


def _apply(form: BaseForm, write: Callable[[], Any]) -> Any:
    """Run a service; its ValidationErrors land next to the form's fields, never as a 500."""
    try:
        return write()
    except ValidationError as exc:
        add_service_error(form, exc)
        return None


def _person(request: WorkspaceRequest, pk: int) -> Person:
    return get_for_workspace_or_404(request, Person, pk=pk)


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
def person_history(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """What changed in a person's record, by whom and when (private fields are never kept)."""
    person = _person(request, pk)
    entries = history.history_of(person, limit=HISTORY_SHOWN)
    context = {"person": person, "entries": entries, "shown": HISTORY_SHOWN}
    return render(request, "people/person_history.html", context)


HISTORY_SHOWN = 100


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
    services.fact_delete(fact=fact)
    messages.success(request, f"Removed: {fact.label}.")
    return redirect(reverse("people:profile", args=[person.pk]))


def _archive_set(request: WorkspaceRequest, pk: int, *, archived: bool) -> HttpResponse:
    """Archive or restore: the same page, the one difference being which way (and its words)."""
    person = _person(request, pk)
    if archived:
        services.person_archive(person=person)
        messages.success(request, f"{person} archived. They stay searchable under “Show archived”.")
    else:
        services.person_restore(person=person)
        messages.success(request, f"{person} restored.")
    return redirect(person)


@require_POST
@workspace_required
def person_archive(request: WorkspaceRequest, pk: int) -> HttpResponse:
    return _archive_set(request, pk, archived=True)


@require_POST
@workspace_required
def person_restore(request: WorkspaceRequest, pk: int) -> HttpResponse:
    return _archive_set(request, pk, archived=False)


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
