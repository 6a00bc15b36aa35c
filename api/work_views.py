"""Conversations, needs, promises, follow-ups and "this week" over the API.

A conversation is logged through the full log form's own forms and ``interaction_log``: the
people (and needs) it names must be of this workspace, or the answer is a field error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api import formdata
from api.access import membership_of, sees_private, workspace_of
from api.base import ApiView, idempotent
from api.pagination import KeysetPagination
from api.serializers import (
    FollowUpSerializer,
    InteractionInputSerializer,
    InteractionSerializer,
    InteractionUpdateSerializer,
    NeedCreateSerializer,
    NeedSerializer,
    PersonRefSerializer,
    PromiseCreateSerializer,
    PromiseSerializer,
)
from crm import permissions
from crm.ids import parse_id
from crm.pagination import Key, Ordering
from interactions import selectors as interaction_selectors
from interactions import services as interaction_services
from interactions.forms import (
    FactFormSet,
    InteractionForm,
    NeedFormSet,
    OutcomesForm,
    PromiseFormSet,
    build_outcomes,
)
from interactions.models import FollowUp, Interaction, Need, Promise
from people.models import Person
from people.profile import FACT_TYPES
from reminders import selectors as reminder_selectors
from reminders import services as reminder_services

NEWEST_FIRST = Ordering((Key("occurred_at", descending=True), Key("id", descending=True)))


def _found(qs: Any, pk: int) -> Any:
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise exceptions.NotFound()
    return obj


class InteractionsView(ApiView):
    pagination_class = KeysetPagination

    def keyset_ordering(self, request: Request) -> Ordering:
        return NEWEST_FIRST

    @extend_schema(
        parameters=[
            OpenApiParameter("person", int, description="Only conversations with this person."),
            OpenApiParameter("kind", str, enum=Interaction.Kind.values),
        ],
        responses=InteractionSerializer(many=True),
        operation_id="conversations_list",
    )
    def get(self, request: Request) -> Response:
        """Conversations, newest first."""
        workspace = workspace_of(request)
        person = None
        if raw := request.query_params.get("person", ""):
            pk = parse_id(raw)
            person = Person.objects.for_workspace(workspace).filter(pk=pk).first() if pk is not None else None
            if person is None:
                raise exceptions.ValidationError({"person": ["No such person in this workspace."]})
        qs = interaction_selectors.interaction_list(workspace, person=person, kind=request.query_params.get("kind", ""))
        paginator = KeysetPagination()
        rows = paginator.paginate_queryset(qs, request, self)
        return paginator.get_paginated_response(InteractionSerializer(rows, many=True).data)

    @extend_schema(
        request=InteractionInputSerializer, responses={201: InteractionSerializer}, operation_id="conversations_create"
    )
    def post(self, request: Request) -> Response:
        """Log a conversation with one or more people, with the promises, needs, facts and
        follow-up it raised, as the full log form does."""
        body = InteractionInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        if not sees_private(request) and any(FACT_TYPES[f["fact_type"]].private for f in values.get("facts", [])):
            raise exceptions.ValidationError(
                {"facts": ["Private facts (health, religion, politics...) need a token with the private scope."]}
            )
        return idempotent(request, lambda: self._log(request, values))

    def _log(self, request: Request, values: dict[str, Any]) -> Response:
        workspace = workspace_of(request)
        conversation = {
            "people": values["people"],
            "kind": values.get("kind", "call"),
            "occurred_at": values.get("occurred_at") or _now(),
            "summary": values["summary"],
            "notes": values.get("notes", ""),
            "sentiment": values.get("sentiment", ""),
        }
        form = InteractionForm(formdata.data(conversation), workspace=workspace)
        people = list(Person.objects.for_workspace(workspace).filter(pk__in=values["people"]))
        outcomes = OutcomesForm(
            formdata.data(
                {
                    "follow_up_on": values.get("follow_up_on"),
                    "follow_up_note": values.get("follow_up_note", ""),
                    "mentioned_needs": values.get("mentioned_needs", []),
                    "solved_needs": values.get("solved_needs", []),
                }
            ),
            workspace=workspace,
            people=people,
        )
        rows: dict[str, Any] = {
            "promises": PromiseFormSet(formdata.formset("promises", values.get("promises", [])), prefix="promises"),
            "needs": NeedFormSet(formdata.formset("needs", values.get("needs", [])), prefix="needs"),
            "facts": FactFormSet(formdata.formset("facts", values.get("facts", [])), prefix="facts"),
        }
        errors: dict[str, Any] = {}
        if not form.is_valid():
            errors.update(formdata.errors_of(form))
        if not outcomes.is_valid():
            errors.update(formdata.errors_of(outcomes))
        for name in ("mentioned_needs", "solved_needs"):  # left off the form when none are open
            if values.get(name) and name not in outcomes.fields:
                errors[name] = ["These people have no open need with that id."]
        for name, formset in rows.items():
            if not formset.is_valid():
                errors[name] = formdata.formset_errors(formset) or ["Check these rows."]
        formdata.raise_if(errors)
        interaction = interaction_services.interaction_log(
            workspace=workspace,
            user=request.user,
            outcomes=build_outcomes(outcomes, rows["promises"], rows["needs"], rows["facts"]),
            **form.service_kwargs(),
        )
        shown = _found(interaction_selectors.interaction_list(workspace), interaction.pk)
        return Response(
            InteractionSerializer(shown).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"{request.path}{interaction.pk}/"},
        )


def _now() -> Any:
    from django.utils import timezone

    return timezone.now().replace(microsecond=0)


class InteractionView(ApiView):
    @extend_schema(responses=InteractionSerializer, operation_id="conversations_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            InteractionSerializer(_found(interaction_selectors.interaction_list(workspace_of(request)), pk)).data
        )

    @extend_schema(
        request=InteractionUpdateSerializer, responses=InteractionSerializer, operation_id="conversations_update"
    )
    def patch(self, request: Request, pk: int) -> Response:
        """Correct a conversation, as its edit page does; "last contacted" follows for the people
        added and removed."""
        workspace = workspace_of(request)
        interaction = _found(Interaction.objects.for_workspace(workspace), pk)
        body = InteractionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        stored = {
            "people": list(interaction.people.values_list("pk", flat=True)),
            "kind": interaction.kind,
            "occurred_at": interaction.occurred_at,
            "summary": interaction.summary,
            "notes": interaction.notes,
            "sentiment": interaction.sentiment,
        }
        form = InteractionForm(
            formdata.data({**stored, **body.validated_data}), instance=interaction, workspace=workspace
        )
        if not form.is_valid():
            formdata.raise_if(formdata.errors_of(form))
        interaction_services.interaction_update(interaction=interaction, **form.service_kwargs())
        return Response(InteractionSerializer(_found(interaction_selectors.interaction_list(workspace), pk)).data)

    @extend_schema(responses={204: None}, operation_id="conversations_destroy")
    def delete(self, request: Request, pk: int) -> Response:
        """Delete a conversation; its people's "last contacted" falls back to the one before.
        The promises, needs and facts it raised stay."""
        interaction = _found(Interaction.objects.for_workspace(workspace_of(request)), pk)
        interaction_services.interaction_delete(interaction=interaction)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _create_for_person(
    request: Request,
    body_class: type[serializers.Serializer],
    make: Callable[[Person, dict[str, Any]], Any],
    shown: Callable[[int], Any],
) -> Response:
    """A create whose body names its person: of this workspace, or a field error (never a link
    elsewhere); made once per ``Idempotency-Key``."""
    body = body_class(data=request.data)
    body.is_valid(raise_exception=True)
    values = body.validated_data
    person = Person.objects.for_workspace(workspace_of(request)).filter(pk=values["person"]).first()
    if person is None:
        raise exceptions.ValidationError({"person": ["No such person in this workspace."]})

    def create() -> Response:
        pk = make(person, values).pk
        return Response(shown(pk), status=status.HTTP_201_CREATED, headers={"Location": f"{request.path}{pk}/"})

    return idempotent(request, create)


OPENED_ORDER = Ordering((Key("opened_on"), Key("id")))


def _needs(request: Request) -> Any:
    return Need.objects.for_workspace(workspace_of(request)).select_related("person")


class NeedsView(ApiView):
    pagination_class = KeysetPagination

    def keyset_ordering(self, request: Request) -> Ordering:
        return OPENED_ORDER

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, enum=["open_all", *Need.Status.values], description="open_all: open and in progress."
            ),
            OpenApiParameter("tag", str),
        ],
        responses=NeedSerializer(many=True),
        operation_id="needs_list",
    )
    def get(self, request: Request) -> Response:
        """Needs, oldest first (the needs list's filters)."""
        status_ = request.query_params.get("status", "open_all")
        qs = interaction_selectors.need_list(
            workspace_of(request), status=status_, tag=request.query_params.get("tag", "")[:50]
        ).select_related("person")
        paginator = KeysetPagination()
        rows = paginator.paginate_queryset(qs, request, self)
        return paginator.get_paginated_response(NeedSerializer(rows, many=True).data)

    @extend_schema(request=NeedCreateSerializer, responses={201: NeedSerializer}, operation_id="needs_create")
    def post(self, request: Request) -> Response:
        """Note a need someone has (open until solved or dropped)."""
        return _create_for_person(
            request,
            NeedCreateSerializer,
            lambda person, v: interaction_services.need_open(
                person=person, title=v["title"], details=v.get("details", "")
            ),
            lambda pk: NeedSerializer(_found(_needs(request), pk)).data,
        )


class NeedView(ApiView):
    @extend_schema(responses=NeedSerializer, operation_id="needs_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(NeedSerializer(_found(_needs(request), pk)).data)

    @extend_schema(
        request=inline_serializer("NeedStatus", {"status": serializers.ChoiceField(choices=Need.Status.choices)}),
        responses=NeedSerializer,
        operation_id="needs_update",
    )
    def patch(self, request: Request, pk: int) -> Response:
        """Move a need along: open, in progress, solved, dropped (kept as history)."""
        need = _found(_needs(request), pk)
        body = _Status(data=request.data)
        body.is_valid(raise_exception=True)
        interaction_services.need_set_status(need=need, status=body.validated_data["status"])
        return Response(NeedSerializer(_found(_needs(request), pk)).data)


class _Status(serializers.Serializer):
    status = serializers.ChoiceField(choices=Need.Status.choices)


DUE_ORDER = Ordering((Key("due_on", nullable=True), Key("id")))


def _promises(request: Request) -> Any:
    return Promise.objects.for_workspace(workspace_of(request)).select_related("person")


class PromisesView(ApiView):
    pagination_class = KeysetPagination

    def keyset_ordering(self, request: Request) -> Ordering:
        return DUE_ORDER

    @extend_schema(
        parameters=[OpenApiParameter("kept", bool, description="Kept promises instead of open ones.")],
        responses=PromiseSerializer(many=True),
        operation_id="promises_list",
    )
    def get(self, request: Request) -> Response:
        """Open promises, soonest due first (those without a due day last)."""
        kept = request.query_params.get("kept", "").lower() in {"1", "true", "yes", "on"}
        paginator = KeysetPagination()
        rows = paginator.paginate_queryset(_promises(request).filter(kept_at__isnull=not kept), request, self)
        return paginator.get_paginated_response(PromiseSerializer(rows, many=True).data)

    @extend_schema(request=PromiseCreateSerializer, responses={201: PromiseSerializer}, operation_id="promises_create")
    def post(self, request: Request) -> Response:
        """Note a promise: one you made (``mine``) or one they made you (``theirs``)."""
        return _create_for_person(
            request,
            PromiseCreateSerializer,
            lambda person, v: interaction_services.promise_create(
                person=person, text=v["text"], direction=v["direction"], due_on=v.get("due_on"), user=request.user
            ),
            lambda pk: PromiseSerializer(_found(_promises(request), pk)).data,
        )


class PromiseView(ApiView):
    @extend_schema(responses=PromiseSerializer, operation_id="promises_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(PromiseSerializer(_found(_promises(request), pk)).data)


class PromiseKeepView(ApiView):
    @extend_schema(request=None, responses=PromiseSerializer, operation_id="promises_keep")
    def post(self, request: Request, pk: int) -> Response:
        """Mark a promise kept (once: a second call changes nothing)."""
        interaction_services.promise_keep(promise=_found(_promises(request), pk))
        return Response(PromiseSerializer(_found(_promises(request), pk)).data)


def _follow_ups(request: Request) -> Any:
    return FollowUp.objects.for_workspace(workspace_of(request)).select_related("person")


class FollowUpsView(ApiView):
    pagination_class = KeysetPagination

    def keyset_ordering(self, request: Request) -> Ordering:
        return Ordering((Key("due_on"), Key("id")))

    @extend_schema(responses=FollowUpSerializer(many=True), operation_id="follow_ups_list")
    def get(self, request: Request) -> Response:
        """Open follow-ups, soonest first."""
        paginator = KeysetPagination()
        rows = paginator.paginate_queryset(_follow_ups(request).filter(done_at__isnull=True), request, self)
        return paginator.get_paginated_response(FollowUpSerializer(rows, many=True).data)


class FollowUpView(ApiView):
    @extend_schema(responses=FollowUpSerializer, operation_id="follow_ups_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(FollowUpSerializer(_found(_follow_ups(request), pk)).data)


class FollowUpDoneView(ApiView):
    @extend_schema(request=None, responses=FollowUpSerializer, operation_id="follow_ups_done")
    def post(self, request: Request, pk: int) -> Response:
        """Mark it done; a recurring one moves to its next day. Twice is once."""
        follow_up = _found(_follow_ups(request), pk)
        if follow_up.done_at is None:
            reminder_services.follow_up_done(follow_up=follow_up)
        return Response(FollowUpSerializer(_found(_follow_ups(request), pk)).data)


class _Snooze(serializers.Serializer):
    until = serializers.DateField(help_text="A day after today, at most a year ahead.")


class FollowUpSnoozeView(ApiView):
    @extend_schema(request=_Snooze, responses=FollowUpSerializer, operation_id="follow_ups_snooze")
    def post(self, request: Request, pk: int) -> Response:
        """Snooze it to a later day."""
        follow_up = _found(_follow_ups(request), pk)
        body = _Snooze(data=request.data)
        body.is_valid(raise_exception=True)
        reminder_services.follow_up_snooze(follow_up=follow_up, until=body.validated_data["until"])
        return Response(FollowUpSerializer(_found(_follow_ups(request), pk)).data)


class DueItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["follow_up", "stay_in_touch"])
    due = serializers.DateField()
    person = PersonRefSerializer()
    follow_up = serializers.IntegerField(source="follow_up.pk", allow_null=True, default=None)
    note = serializers.SerializerMethodField()

    def get_note(self, item: Any) -> str:
        return item.follow_up.note if item.follow_up else ""


class DateItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["birthday", "anniversary", "date"])
    on = serializers.DateField()
    person = PersonRefSerializer()
    text = serializers.CharField()


class ThisWeekSerializer(serializers.Serializer):
    today = serializers.DateField()
    week_end = serializers.DateField()
    overdue = DueItemSerializer(many=True)
    due_today = DueItemSerializer(many=True)
    this_week = DueItemSerializer(many=True)
    dates = DateItemSerializer(many=True)
    going_cold = PersonRefSerializer(many=True)
    promises = PromiseSerializer(many=True)
    quiet_needs = NeedSerializer(many=True)


class ThisWeekView(ApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "scope", str, enum=["mine", "team"], description="team: the whole team's (owners, viewers)."
            )
        ],
        responses=ThisWeekSerializer,
        operation_id="this_week",
    )
    def get(self, request: Request) -> Response:
        """The "This week" page as data: overdue, today, the rest of the week, dates, going cold,
        open promises and quiet needs."""
        membership = membership_of(request)
        default = "mine" if permissions.can(membership, "write") else "team"
        team = request.query_params.get("scope", default) == "team" and permissions.can(membership, "see_team")
        board = reminder_selectors.dashboard(
            workspace_of(request), user=request.user, owner=None if team else request.user
        )
        return Response(ThisWeekSerializer(board).data)
