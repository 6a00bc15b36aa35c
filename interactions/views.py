"""Conversation pages: log (full and quick), edit, delete; needs; promises; who might be interested;
the top-bar search across people, companies, conversations, needs and promises."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm import dateformats
from crm.access import get_for_workspace_or_404, safe_next, workspace_required
from crm.ids import parse_id
from crm.pagination import counted_page
from crm.permissions import capability_required
from crm.ratelimit import search_limited
from crm.requests import WorkspaceRequest
from interactions import selectors, services
from interactions.forms import (
    FactFormSet,
    FullLogStart,
    InteractionForm,
    NeedFilterForm,
    NeedForm,
    NeedFormSet,
    OutcomesForm,
    PromiseForm,
    PromiseFormSet,
    QuickLogForm,
    build_outcomes,
    full_log_start,
    quick_log_carried,
)
from interactions.models import Interaction, Need, Promise
from people import selectors as people_selectors
from people.forms import add_service_error
from people.models import Person

PAGE_SIZE = 50


@workspace_required
def interaction_index(request: WorkspaceRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    page = Paginator(selectors.interaction_list(request.workspace, kind=kind), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query_string = urlencode({"kind": kind}) if kind else ""
    context = {"page": page, "kind": kind, "kinds": Interaction.Kind.choices, "query_string": query_string}
    return render(request, "interactions/interaction_list.html", context)


def _log_forms(request: WorkspaceRequest, start: FullLogStart | None = None) -> dict[str, Any]:
    data = request.POST if request.method == "POST" else None
    start = start or FullLogStart({}, {}, [])
    form = InteractionForm(data, workspace=request.workspace, initial=start.conversation)
    people = list(Person.objects.for_workspace(request.workspace).filter(pk__in=form._raw_ids("people")))
    return {
        "form": form,
        "outcomes": OutcomesForm(data, workspace=request.workspace, people=people, initial=start.outcomes),
        "promises": PromiseFormSet(data, prefix="promises", initial=start.promises),
        "needs": NeedFormSet(data, prefix="needs"),
        "facts": FactFormSet(data, prefix="facts"),
    }


DRAFTS = "log_drafts"  # session key: what "More details" carried, by draft key
DRAFTS_KEPT = 5


def _draft_save(request: WorkspaceRequest, values: dict[str, str]) -> str:
    """Keep a quick log's words for the full form; the five latest drafts are kept."""
    drafts = dict(list(request.session.get(DRAFTS, {}).items())[-(DRAFTS_KEPT - 1) :])
    key = secrets.token_urlsafe(6)
    drafts[key] = values
    request.session[DRAFTS] = drafts
    return key


@capability_required("write")
def interaction_create(request: WorkspaceRequest) -> HttpResponse:
    """The full log form: the conversation and everything it raised, in one save.

    "More details" in the quick log posts here. What was typed there is kept in the session as a
    draft and this page's address names the draft (``?draft=…``), so the form starts with it and
    a reload keeps it, while the words themselves stay out of the address: out of the browser's
    history on a shared phone and out of server logs.
    """
    if request.method == "POST" and request.POST.get("more"):
        key = _draft_save(request, quick_log_carried(request.POST))
        query = urlencode({"draft": key, **({"next": request.POST["next"]} if request.POST.get("next") else {})})
        return redirect(f"{reverse('interactions:create')}?{query}")
    start = request.GET.copy()
    start.update(request.session.get(DRAFTS, {}).get(request.GET.get("draft", ""), {}))
    forms = _log_forms(request, full_log_start(start))
    if request.method == "POST" and all(f.is_valid() for f in forms.values()):
        form = forms["form"]
        try:
            interaction = services.interaction_log(
                workspace=request.workspace,
                user=request.user,
                outcomes=build_outcomes(forms["outcomes"], forms["promises"], forms["needs"], forms["facts"]),
                **form.service_kwargs(),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Logged: {interaction.summary}")
            first = interaction.people.order_by("last_name", "first_name").first()
            return redirect(safe_next(request, first.get_absolute_url() if first else reverse("interactions:list")))
    return render(
        request, "interactions/interaction_form.html", {**forms, "creating": True, "next": safe_next(request, "")}
    )


def _wants_json(request: WorkspaceRequest) -> bool:
    """The phone's offline queue (static/js/outbox.js) asks for JSON: it reads why, not a page."""
    return "application/json" in request.headers.get("Accept", "")


def _quick_log_problem(request: WorkspaceRequest, form: QuickLogForm) -> str:
    """Why a quick log cannot be saved, in one sentence for the phone's "could not send" list."""
    if "person" in form.errors:
        raw = parse_id(request.POST.get(form.add_prefix("person"), ""))
        person = Person.objects.for_workspace(request.workspace).filter(pk=raw).first() if raw else None
        if person is not None and person.archived_at:
            return f"{person} was archived meanwhile: restore them, or log it with someone else."
        if raw:
            return "That person is no longer in this workspace (deleted meanwhile)."
    problems = []
    for name, errors in form.errors.as_data().items():
        label = form.fields[name].label if name in form.fields else ""
        text = " ".join(message for error in errors for message in error.messages)
        problems.append(f"{label}: {text}" if label else text)
    return " ".join(problems)


@require_POST
@workspace_required
def quick_log(request: WorkspaceRequest) -> HttpResponse:
    """The ten-second log from the top bar (or the L key). Errors keep what was typed.

    The phone's offline queue posts here too, with the entry's id (``client_id``) and asking for
    JSON: an id already logged answers with that conversation again and logs nothing.
    """
    form = QuickLogForm(request.POST, workspace=request.workspace)
    as_json = _wants_json(request)
    if form.is_valid():
        person = form.cleaned_data["person"]
        client_id = form.cleaned_data["client_id"]
        before = selectors.interaction_logged_before(request.workspace, client_id=client_id) if client_id else None
        if before is not None:
            back = safe_next(request, person.get_absolute_url())
            if as_json:
                return JsonResponse({"ok": True, "id": before.pk, "already": True, "redirect": back})
            messages.info(request, f"That was logged already: {before.summary}")
            return redirect(back)
        promise = form.cleaned_data["promise"]
        outcomes = services.Outcomes(
            follow_up_on=form.cleaned_data["follow_up_on"],
            promises=[services.PromiseInput(text=promise)] if promise else [],
        )
        interaction = services.interaction_log(
            workspace=request.workspace,
            user=request.user,
            people=[person],
            summary=form.cleaned_data["summary"],
            kind=form.cleaned_data["kind"],
            outcomes=outcomes,
            client_id=client_id,
        )
        follow = (
            f" Follow-up on {dateformats.format_date(outcomes.follow_up_on, 'day_month')}."
            if outcomes.follow_up_on
            else ""
        )
        text = f"Logged {interaction.kind_words} with {person}.{follow}"
        messages.success(request, text)
        back = safe_next(request, person.get_absolute_url())
        if as_json:
            return JsonResponse({"ok": True, "id": interaction.pk, "message": text, "redirect": back}, status=201)
        return redirect(back)
    if as_json:
        return JsonResponse({"ok": False, "error": _quick_log_problem(request, form)}, status=400)
    context = {"quick_form": form, "next": safe_next(request, ""), "hide_quick_modal": True}
    return render(request, "interactions/quick_log.html", context, status=400)


@capability_required("write")
def interaction_edit(request: WorkspaceRequest, pk: int) -> HttpResponse:
    interaction = get_for_workspace_or_404(request, Interaction, pk=pk)
    initial = {"people": list(interaction.people.values_list("pk", flat=True))}
    form = InteractionForm(request.POST or None, instance=interaction, workspace=request.workspace, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.interaction_update(interaction=interaction, **form.service_kwargs())
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Conversation saved.")
            return redirect(safe_next(request, reverse("interactions:list")))
    return render(request, "interactions/interaction_form.html", {"form": form, "interaction": interaction})


@capability_required("write")
def interaction_delete(request: WorkspaceRequest, pk: int) -> HttpResponse:
    interaction = get_for_workspace_or_404(request, Interaction, pk=pk)
    if request.method == "POST":
        services.interaction_delete(interaction=interaction)
        messages.success(request, f"Deleted: {interaction.summary}")
        return redirect(safe_next(request, reverse("interactions:list")))
    return render(request, "interactions/interaction_confirm_delete.html", {"interaction": interaction})


@workspace_required
def need_list(request: WorkspaceRequest) -> HttpResponse:
    filters = NeedFilterForm(request.GET or None)
    filters.is_valid()
    data = filters.cleaned_data if filters.is_bound else {"status": "open_all", "tag": ""}
    needs = selectors.need_list(request.workspace, status=data.get("status", ""), tag=data.get("tag", ""))
    page = Paginator(needs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "filters": filters, "values": data, "query_string": query.urlencode()}
    return render(request, "interactions/need_list.html", context)


@workspace_required
def need_detail(request: WorkspaceRequest, pk: int) -> HttpResponse:
    need = get_for_workspace_or_404(request, selectors.need_for_page(request.workspace, pk), pk=pk)
    return render(request, "interactions/need_detail.html", {"need": need, "statuses": Need.Status.choices})


@require_POST
@workspace_required
def need_status(request: WorkspaceRequest, pk: int) -> HttpResponse:
    need = get_for_workspace_or_404(request, Need, pk=pk)
    try:
        services.need_set_status(need=need, status=request.POST.get("status", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{need.title}” is now {need.get_status_display().lower()}.")
    return redirect(safe_next(request, reverse("interactions:need", args=[need.pk])))


@capability_required("write")
def need_create(request: WorkspaceRequest, person_pk: int) -> HttpResponse:
    person = get_for_workspace_or_404(request, Person, pk=person_pk)
    form = NeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.need_open(person=person, title=form.cleaned_data["title"], details=form.cleaned_data["details"])
        messages.success(request, "Need noted.")
        return redirect(person)
    return render(request, "interactions/person_item_form.html", {"form": form, "person": person, "what": "need"})


@capability_required("write")
def promise_create(request: WorkspaceRequest, person_pk: int) -> HttpResponse:
    person = get_for_workspace_or_404(request, Person, pk=person_pk)
    form = PromiseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.promise_create(person=person, user=request.user, **form.cleaned_data)
        messages.success(request, "Promise noted.")
        return redirect(person)
    return render(request, "interactions/person_item_form.html", {"form": form, "person": person, "what": "promise"})


@require_POST
@workspace_required
def promise_keep(request: WorkspaceRequest, pk: int) -> HttpResponse:
    promise = get_for_workspace_or_404(request, Promise.objects.select_related("person"), pk=pk)
    services.promise_keep(promise=promise)
    messages.success(request, f"Kept: {promise.text}")
    return redirect(safe_next(request, promise.person.get_absolute_url()))


@workspace_required
@search_limited("topic")
def interested(request: WorkspaceRequest) -> HttpResponse:
    """Who might be interested in X: interests, open needs, profile facts, family, notes."""
    topic = request.GET.get("topic", "").strip()[:100]
    people = selectors.interested_in(request.workspace, topic=topic)
    # Every match is scored and sorted before the first row: counted with the rows, in one query.
    page = counted_page(people, per_page=PAGE_SIZE, number=request.GET.get("page"))
    context = {
        "topic": topic,
        "page": page,
        "interests": selectors.interest_names(request.workspace),
        "query_string": urlencode({"topic": topic}) if topic else "",
        "today": timezone.localdate(),
    }
    return render(request, "interactions/interested.html", context)


@workspace_required
@search_limited()
def note_search(request: WorkspaceRequest) -> HttpResponse:
    """Search what was written: conversations, profile facts and people's notes."""
    query = request.GET.get("q", "").strip()[:200]
    hits = selectors.note_search(request.workspace, query=query, viewer=request.user)
    return render(request, "interactions/note_search.html", {"query": query, "hits": hits})


# The results page shows each group's first few; the dropdown under the top-bar box fewer.
SEARCH_PREVIEW = 5
DROPDOWN_PREVIEW = 3
SEARCH_PAGE_SIZE = 25


@dataclass(frozen=True)
class SearchGroup:
    key: str
    title: str
    hits: list[Any]
    more: bool  # more hits than shown: the full list has them
    full_url: str


def _search_groups(request: WorkspaceRequest, query: str) -> list[tuple[str, str, Any, str]]:
    """(key, title, matches, full list URL) of every group: a selector each."""
    ws = request.workspace
    q = urlencode({"q": query})
    own = reverse("search:results")
    return [
        ("people", "People", people_selectors.person_list(ws, query=query), f"{reverse('people:list')}?{q}"),
        ("companies", "Companies", people_selectors.company_list(ws, query=query),
         f"{reverse('people:companies')}?{q}"),
        ("conversations", "Conversations", selectors.conversation_search(ws, query=query),
         f"{own}?{q}&in=conversations"),
        ("needs", "Needs", selectors.need_search(ws, query=query), f"{own}?{q}&in=needs"),
        ("promises", "Promises", selectors.promise_search(ws, query=query), f"{own}?{q}&in=promises"),
    ]  # fmt: skip


# Groups whose full list is this page itself (people and companies have their own lists).
OWN_LISTS = ("conversations", "needs", "promises")


@workspace_required
@search_limited()
def search(request: WorkspaceRequest) -> HttpResponse:
    """One box for everything: each group's first hits and a link to its full list."""
    query = request.GET.get("q", "").strip()[:200]
    dropdown = request.headers.get("HX-Request") == "true"  # typed into the top-bar box
    template = "interactions/_search_dropdown.html" if dropdown else "interactions/search.html"
    context: dict[str, Any] = {"query": query, "groups": [], "page": None, "today": timezone.localdate()}
    if not query:
        return render(request, template, context)
    groups = _search_groups(request, query)
    only = request.GET.get("in", "")
    if only in OWN_LISTS and not dropdown:
        key, title, matches, full_url = next(g for g in groups if g[0] == only)
        page = Paginator(matches, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
        context |= {
            "page": page,
            "groups": [SearchGroup(key, title, list(page), more=False, full_url=full_url)],
            "query_string": urlencode({"q": query, "in": only}),
        }
        return render(request, template, context)
    shown = DROPDOWN_PREVIEW if dropdown else SEARCH_PREVIEW
    for key, title, matches, full_url in groups:
        rows = list(matches[: shown + 1])  # one more than shown says whether there are more
        context["groups"].append(SearchGroup(key, title, rows[:shown], more=len(rows) > shown, full_url=full_url))
    return render(request, template, context)
