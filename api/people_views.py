"""People and companies and tags over the API: the list's filters, search and keyset; writes
through the Add/Edit forms and ``people.services``, deletes through ``people_delete``."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from api import formdata
from api.access import membership_of, sees_private, workspace_of
from api.base import ApiView, idempotent
from api.pagination import KeysetPagination
from api.serializers import (
    CompanySerializer,
    PersonInputSerializer,
    PersonRowSerializer,
    PersonSerializer,
    TagSerializer,
)
from crm.pagination import Key, Ordering
from interactions import services as interaction_services
from people import selectors, services
from people.forms import (
    ContactMethodFormSetFactory,
    FamilyFormSetFactory,
    ImportantDateFormSetFactory,
    PersonFilterForm,
    PersonForm,
    PetFormSetFactory,
    PreferencesForm,
)
from people.models import Person, Tag
from people.stay_in_touch import person_set_preferences

PERSON_FILTERS = [
    OpenApiParameter("q", str, description="Search name, company, email, phone, tag (as the people list)."),
    OpenApiParameter("tag", str, description="Only people with this tag."),
    OpenApiParameter("owner", int, description="Only people owned by this user id."),
    OpenApiParameter("archived", bool, description="Archived people instead."),
    OpenApiParameter("due", bool, description="Due to stay in touch by the end of this week."),
    OpenApiParameter("sort", str, enum=list(selectors.ORDERINGS), description="The list's sorts."),
]
# Names the JSON uses where the form's differ.
PERSON_NAMES = {"company_name": "company", "tag_names": "tags", "interest_names": "interests"}
# JSON list -> (form prefix, the person's relation of stored rows, factory)
RECORDS = {
    "contact_methods": ("contacts", "contact_methods", ContactMethodFormSetFactory),
    "important_dates": ("dates", "important_dates", ImportantDateFormSetFactory),
    "family": ("family", "family", FamilyFormSetFactory),
    "pets": ("pets", "pets", PetFormSetFactory),
}


def person_of(request: Request, pk: int) -> Person:
    person = selectors.person_for_page(workspace_of(request), pk).first()
    if person is None:
        raise Http404
    return person


def _person_form_values(person: Person, body: dict[str, Any]) -> dict[str, Any]:
    """The Add/Edit form's values: what was sent, else what is stored (a PATCH keeps the rest)."""
    tags = list(person.tags.all()) if person.pk else []
    stored = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "nickname": person.nickname,
        "job_title": person.job_title,
        "owner": person.owner_id,
        "how_we_met": person.how_we_met,
        "met_on": person.met_on,
        "notes": person.notes,
        "company_name": person.company.name if person.company else "",
        "tag_names": ", ".join(t.name for t in tags if t.kind == Tag.Kind.LABEL),
        "interest_names": ", ".join(t.name for t in tags if t.kind == Tag.Kind.INTEREST),
        "birthday": _date_parts(person.birthday_day, person.birthday_month, person.birthday_year),
        "anniversary": _date_parts(person.anniversary_day, person.anniversary_month, person.anniversary_year),
    }
    sent = {PERSON_NAMES.get(k, k): k for k in stored}
    values = dict(stored)
    for json_name, form_name in sent.items():
        if json_name in body:
            value = body[json_name]
            if json_name in {"tags", "interests"}:
                value = ", ".join(value)
            elif json_name in {"birthday", "anniversary"}:
                value = value or {"day": None, "month": None, "year": None}
            values[form_name] = value
    return values


def _date_parts(day: int | None, month: int | None, year: int | None) -> dict[str, int | None]:
    return {"day": day, "month": month, "year": year}


def _save_person(request: Request, person: Person, body: dict[str, Any]) -> Person:
    """Validate with the person form, its record formsets and the preferences form, then save
    through the services, all or nothing."""
    workspace = workspace_of(request)
    creating = person.pk is None
    form = PersonForm(formdata.data(_person_form_values(person, body)), instance=person, workspace=workspace)
    errors: dict[str, Any] = {}
    if not form.is_valid():
        errors.update(formdata.errors_of(form, PERSON_NAMES))
    formsets = []
    for name, (prefix, relation, factory) in RECORDS.items():
        if name not in body:
            continue
        stored = [] if creating else [row.pk for row in getattr(person, relation).all()]
        kwargs: dict[str, Any] = {"instance": person, "prefix": prefix}
        if name == "family":
            kwargs["form_kwargs"] = {"workspace": workspace, "person": person}
        formset = factory(formdata.formset(prefix, body[name], replacing=stored), **kwargs)
        if not formset.is_valid():
            errors[name] = formset_errors = formdata.formset_errors(formset, skip=len(stored))
            if not formset_errors:
                errors[name] = ["Check these rows."]
        formsets.append(formset)
    preferences = None
    if "preferences" in body:
        current = {f: getattr(person, f) for f in PreferencesForm.Meta.fields}
        sent = {k: v for k, v in body["preferences"].items() if k != "topics_to_avoid" or sees_private(request)}
        preferences = PreferencesForm(formdata.data({**current, **sent}), instance=person)
        if not preferences.is_valid():
            errors["preferences"] = formdata.errors_of(preferences)
    formdata.raise_if(errors)
    with transaction.atomic():
        saved = services.person_save_with_records(
            person=form.instance, formsets=formsets, by=request.user, **form.service_kwargs()
        )
        if preferences is not None:
            person_set_preferences(
                person=saved, **{name: preferences.cleaned_data[name] for name in PreferencesForm.Meta.fields}
            )
    return saved


class PeopleView(ApiView):
    pagination_class = KeysetPagination

    def keyset_ordering(self, request: Request) -> Ordering:
        return selectors.person_ordering(self._filters(request).values().get("sort", "name"))

    def count_with_rows(self, request: Request) -> bool:
        return bool(self._filters(request).values().get("q"))

    def _filters(self, request: Request) -> PersonFilterForm:
        cached: PersonFilterForm | None = getattr(self, "_filter_form", None)
        if cached is None:
            cached = PersonFilterForm(request.query_params or None, workspace=workspace_of(request))
            self._filter_form = cached
        return cached

    @extend_schema(parameters=PERSON_FILTERS, responses=PersonRowSerializer(many=True), operation_id="people_list")
    def get(self, request: Request) -> Response:
        """People of the workspace, as the people list shows them: filtered, searched and sorted alike."""
        paginator = KeysetPagination()
        rows = selectors.with_tag_names(paginator.paginate_queryset(self._filters(request).filter_qs(), request, self))
        return paginator.get_paginated_response(PersonRowSerializer(rows, many=True).data)

    @extend_schema(request=PersonInputSerializer, responses={201: PersonSerializer}, operation_id="people_create")
    def post(self, request: Request) -> Response:
        """Add a person with contact methods, dates, family, pets and preferences, as the Add form does."""
        body = PersonInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        def create() -> Response:
            person = _save_person(request, Person(workspace=workspace_of(request), owner=request.user), request.data)
            data = PersonSerializer(person_of(request, person.pk), context={"private": sees_private(request)}).data
            return Response(data, status=status.HTTP_201_CREATED, headers={"Location": f"{request.path}{person.pk}/"})

        return idempotent(request, create)


class PersonView(ApiView):
    @extend_schema(responses=PersonSerializer, operation_id="people_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        """A person with everything known about them; private facts only with a private token."""
        return Response(PersonSerializer(person_of(request, pk), context={"private": sees_private(request)}).data)

    @extend_schema(
        request=PersonInputSerializer(partial=True), responses=PersonSerializer, operation_id="people_update"
    )
    def patch(self, request: Request, pk: int) -> Response:
        """Change the fields sent; a list sent (contact_methods, family...) replaces the stored one."""
        body = PersonInputSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        _save_person(request, person_of(request, pk), request.data)
        return Response(PersonSerializer(person_of(request, pk), context={"private": sees_private(request)}).data)

    @extend_schema(responses={204: None}, operation_id="people_destroy")
    def delete(self, request: Request, pk: int) -> Response:
        """Delete a person with what is only theirs. Owners only: members archive instead."""
        person = person_of(request, pk)
        people = Person.objects.for_workspace(workspace_of(request)).filter(pk=person.pk)
        interaction_services.people_delete(membership=membership_of(request), people=people)
        return Response(status=status.HTTP_204_NO_CONTENT)


COMPANY_ORDER = Ordering((Key("name"), Key("id")))


class CompaniesView(ApiView):
    pagination_class = KeysetPagination

    def keyset_ordering(self, request: Request) -> Ordering:
        return COMPANY_ORDER

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Part of the name.")],
        responses=CompanySerializer(many=True),
        operation_id="companies_list",
    )
    def get(self, request: Request) -> Response:
        """Companies with people (not archived), A-Z."""
        paginator = KeysetPagination()
        qs = selectors.company_list(workspace_of(request), query=request.query_params.get("q", "")[:200])
        rows = paginator.paginate_queryset(qs, request, self)
        return paginator.get_paginated_response(CompanySerializer(rows, many=True).data)


class CompanyView(ApiView):
    @extend_schema(responses=CompanySerializer, operation_id="companies_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        company = selectors.company_list(workspace_of(request)).filter(pk=pk).first()
        if company is None:
            raise exceptions.NotFound()
        return Response(CompanySerializer(company).data)


TAG_ORDER = Ordering((Key("name"), Key("id")))


class TagsView(ApiView):
    pagination_class = KeysetPagination

    def keyset_ordering(self, request: Request) -> Ordering:
        return TAG_ORDER

    @extend_schema(responses=TagSerializer(many=True), operation_id="tags_list")
    def get(self, request: Request) -> Response:
        """Tags and interests of the workspace, A-Z."""
        paginator = KeysetPagination()
        rows = paginator.paginate_queryset(Tag.objects.for_workspace(workspace_of(request)), request, self)
        return paginator.get_paginated_response(TagSerializer(rows, many=True).data)
