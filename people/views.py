from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from crm.access import get_for_workspace_or_404, workspace_required
from interactions.selectors import interaction_list
from people import selectors, services
from people.forms import PersonForm
from people.models import Person

PAGE_SIZE = 50


@workspace_required
def person_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    people = selectors.person_list(request.workspace, query=query)
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "people/person_list.html", {"page": page, "query": query})


@workspace_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_for_workspace_or_404(request, Person.objects.select_related("owner"), pk=pk)
    interactions = Paginator(interaction_list(request.workspace, person=person), 20).get_page(request.GET.get("page"))
    return render(request, "people/person_detail.html", {"person": person, "interactions": interactions})


@workspace_required
def person_create(request: HttpRequest) -> HttpResponse:
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = services.person_create(workspace=request.workspace, created_by=request.user, **form.cleaned_data)
        messages.success(request, f"{person} added.")
        return redirect(person)
    return render(request, "people/person_form.html", {"form": form})
