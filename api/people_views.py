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
    CompanyInputSerializer,
    CompanySerializer,
    FactCreateSerializer,
    FactSerializer,
    MergeInputSerializer,
    PersonInputSerializer,
    PersonRowSerializer,
    PersonSerializer,
    TagInputSerializer,
    TagSerializer,
)
from crm.ids import parse_id
from crm.pagination import Key, Ordering
from interactions import services as interaction_services
from people import merge, selectors, services
from people.forms import (
    ContactMethodFormSetFactory,
    FamilyFormSetFactory,
    ImportantDateFormSetFactory,
    PersonFilterForm,
    PersonForm,
    PetFormSetFactory,
    PreferencesForm,
)
from people.models import Person, ProfileFact, Tag
from people.profile import FACT_TYPES
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
                person=saved,
                announce=False,
                **{name: preferences.cleaned_data[name] for name in PreferencesForm.Meta.fields},
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


def _person_answer(request: Request, pk: int) -> Response:
    return Response(PersonSerializer(person_of(request, pk), context={"private": sees_private(request)}).data)


class PersonArchiveView(ApiView):
    @extend_schema(request=None, responses=PersonSerializer, operation_id="people_archive")
    def post(self, request: Request, pk: int) -> Response:
        """Archive a person: kept with everything, out of the lists and reminders (``archived=true``
        finds them). Twice is once."""
        services.person_archive(person=person_of(request, pk))
        return _person_answer(request, pk)


class PersonRestoreView(ApiView):
    @extend_schema(request=None, responses=PersonSerializer, operation_id="people_restore")
    def post(self, request: Request, pk: int) -> Response:
        """Bring an archived person back."""
        services.person_restore(person=person_of(request, pk))
        return _person_answer(request, pk)


class PersonMergeView(ApiView):
    @extend_schema(request=MergeInputSerializer, responses=PersonSerializer, operation_id="people_merge")
    def post(self, request: Request, pk: int) -> Response:
        """Merge ``other`` into this person, as the merge page does: their conversations, family,
        pets, facts, needs, promises and reminders move here, then the other record is deleted."""
        keep = person_of(request, pk)
        body = MergeInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        other = Person.objects.for_workspace(workspace_of(request)).filter(pk=body.validated_data["other"]).first()
        if other is None or other.pk == keep.pk:
            raise exceptions.ValidationError({"other": ["Choose another person of this workspace."]})
        take = body.validated_data.get("take_from_other")
        chosen = set(take) if take is not None else merge.default_choices(keep, other)
        merge.person_merge(keep=keep, other=other, take_from_other=chosen, by=request.user)
        return _person_answer(request, pk)


def _facts_seen(request: Request, person: Person) -> Any:
    """A person's facts this token may see: private ones only with the private scope."""
    facts = ProfileFact.objects.for_workspace(workspace_of(request)).filter(person=person)
    return facts if sees_private(request) else facts.filter(is_private=False)


class PersonFactsView(ApiView):
    @extend_schema(responses=FactSerializer(many=True), operation_id="people_facts_list")
    def get(self, request: Request, pk: int) -> Response:
        """What is known about a person (the Mackay profile), newest first."""
        facts = _facts_seen(request, person_of(request, pk)).order_by("-learned_on", "-id")
        return Response(FactSerializer(facts, many=True).data)

    @extend_schema(request=FactCreateSerializer, responses={201: FactSerializer}, operation_id="people_facts_create")
    def post(self, request: Request, pk: int) -> Response:
        """Note something learned about a person, filed in its section of the profile."""
        person = person_of(request, pk)
        body = FactCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        if FACT_TYPES[values["fact_type"]].private and not sees_private(request):
            raise exceptions.ValidationError(
                {"fact_type": ["Private facts (health, religion, politics...) need a token with the private scope."]}
            )

        def create() -> Response:
            fact = services.fact_add(
                person=person, fact_type=values["fact_type"], value=values["value"], learned_on=values.get("learned_on")
            )
            location = f"{request.path}{fact.pk}/"
            return Response(FactSerializer(fact).data, status=status.HTTP_201_CREATED, headers={"Location": location})

        return idempotent(request, create)


class PersonFactView(ApiView):
    def _fact(self, request: Request, pk: int, fact_id: int) -> ProfileFact:
        if parse_id(fact_id) is None:
            raise exceptions.NotFound()
        fact = _facts_seen(request, person_of(request, pk)).filter(pk=fact_id).first()
        if fact is None:
            raise exceptions.NotFound()
        return fact

    @extend_schema(responses=FactSerializer, operation_id="people_facts_retrieve")
    def get(self, request: Request, pk: int, fact_id: int) -> Response:
        return Response(FactSerializer(self._fact(request, pk, fact_id)).data)

    @extend_schema(responses={204: None}, operation_id="people_facts_destroy")
    def delete(self, request: Request, pk: int, fact_id: int) -> Response:
        """Forget a fact."""
        services.fact_delete(fact=self._fact(request, pk, fact_id))
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

    @extend_schema(
        request=CompanyInputSerializer,
        responses={201: CompanySerializer, 200: CompanySerializer},
        operation_id="companies_create",
    )
    def post(self, request: Request) -> Response:
        """Add a company; one of that name (any case) is answered 200 instead, never made twice."""
        body = CompanyInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        workspace = workspace_of(request)

        def create() -> Response:
            name = body.validated_data["name"]
            existed = services.company_named(workspace, name) is not None
            company = services.company_for_name(workspace, name)
            if company is None:
                raise exceptions.ValidationError({"name": ["Type the company's name."]})
            shown = selectors.companies_counted(workspace).get(pk=company.pk)
            code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
            location = f"{request.path}{company.pk}/"
            return Response(CompanySerializer(shown).data, status=code, headers={"Location": location})

        return idempotent(request, create)


class CompanyView(ApiView):
    @extend_schema(responses=CompanySerializer, operation_id="companies_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        company = selectors.companies_counted(workspace_of(request)).filter(pk=pk).first()
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

    @extend_schema(
        request=TagInputSerializer, responses={201: TagSerializer, 200: TagSerializer}, operation_id="tags_create"
    )
    def post(self, request: Request) -> Response:
        """Add a tag (or an interest, ``kind=interest``); an existing one of that name is answered 200."""
        body = TagInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        workspace = workspace_of(request)
        name, kind = services.normalise_tag(body.validated_data["name"]), body.validated_data["kind"]
        if not name:
            raise exceptions.ValidationError({"name": ["Type the tag."]})

        def create() -> Response:
            existed = Tag.objects.for_workspace(workspace).filter(name=name, kind=kind).exists()
            (tag,) = services.tags_for_names(workspace, [name], kind=kind)
            code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
            return Response(TagSerializer(tag).data, status=code)

        return idempotent(request, create)
