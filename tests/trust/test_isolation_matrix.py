"""Every URL of the project, filled with objects of workspace A, requested by a member of B.

The URL list comes from the resolver, so a new view is covered without editing this test.
Token URLs (invitations, digest links, calendar feeds) are authorised by their token and are
tested where they are defined.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from crm.models import Membership, User, Workspace
from interactions import services as interaction_services
from people import services as people_services
from people.models import Company, FamilyMember, Pet
from reminders import services as reminder_services
from reminders.models import TagCadence
from tests.factories import InteractionFactory, PersonFactory

SECRET = "Zanzibar-Secret"
PUBLIC = {
    "login", "signup", "logout", "password_reset", "password_reset_done", "password_reset_confirm",
    "password_reset_complete", "healthz", "invitation_accept",
    "digests:action", "digests:unsubscribe", "exports:feed",
}  # fmt: skip


def _patterns(resolvers: list, prefix: str = "", namespace: str = "") -> list[tuple[str, list[str]]]:
    found = []
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin" or (entry.app_name or "") == "admin":
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _patterns(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            found.append((namespace + entry.name, list(entry.pattern.converters)))
    return found


@pytest.fixture
def workspace_a(owner: User, workspace: Workspace, member: User) -> dict[str, int]:
    person = PersonFactory(
        workspace=workspace, first_name=SECRET, owner=owner, company__name=f"{SECRET} Ltd", tags=["vip"]
    )
    people_services.fact_add(person=person, fact_type="hobbies", value=SECRET)
    FamilyMember.objects.create(workspace=workspace, person=person, relation="spouse", name=SECRET)
    Pet.objects.create(workspace=workspace, person=person, name=SECRET)
    interaction = InteractionFactory(workspace=workspace, people=[person], summary=SECRET)
    need = interaction_services.need_open(person=person, title=SECRET)
    promise = interaction_services.promise_create(person=person, text=SECRET)
    follow_up = reminder_services.follow_up_create(person=person, due_on=date(2026, 3, 4), note=SECRET)
    cadence = reminder_services.tag_cadence_set(workspace=workspace, tag_name="vip", every=2, unit="weeks")
    from crm import services as crm_services

    invitation = crm_services.invitation_create(membership=Membership.objects.get(user=owner), email="x@example.com")
    return {
        "person": person.pk,
        "fact": person.facts.get().pk,
        "interaction": interaction.pk,
        "need": need.pk,
        "promise": promise.pk,
        "follow_up": follow_up.pk,
        "cadence": cadence.pk,
        "company": Company.objects.get(workspace=workspace).pk,
        "membership": Membership.objects.get(user=member).pk,
        "invitation": invitation.pk,
        "workspace": workspace.pk,
        "tag_cadence": TagCadence.objects.get().pk,
    }


def _kwargs(name: str, converters: list[str], ids: dict[str, int]) -> dict[str, int]:
    """Which of A's objects each URL argument names."""
    by_view = {
        "interactions:": "interaction",
        "interactions:need": "need",
        "interactions:need_status": "need",
        "interactions:promise_keep": "promise",
        "reminders:follow_up": "follow_up",
        "reminders:cadence_delete": "cadence",
        "people:company": "company",
    }
    pk_kind = "person"
    for prefix, kind in sorted(by_view.items(), key=lambda item: -len(item[0])):
        if name.startswith(prefix):
            pk_kind = kind
            break
    values = {"pk": ids[pk_kind], "person_pk": ids["person"], "fact_id": ids["fact"], "member_id": ids["membership"],
              "invitation_id": ids["invitation"], "workspace_id": ids["workspace"]}  # fmt: skip
    return {arg: values[arg] for arg in converters}


@pytest.mark.django_db
def test_no_url_reaches_another_workspaces_data(
    workspace_a: dict[str, int], outsider: User, outsider_client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    tried, checked = 0, []
    # A's workspace name too, so a delete that forgot the membership check would go through.
    data = {
        "ids": [workspace_a["person"]],
        "action": "archive",
        "confirm_name": Workspace.objects.get(pk=workspace_a["workspace"]).name,
    }
    for name, converters in _patterns(get_resolver().url_patterns):
        if name in PUBLIC or any(c == "token" or c in {"uidb64"} for c in converters):
            continue
        url = reverse(name, kwargs=_kwargs(name, converters, workspace_a))
        for method in ("get", "post"):
            # Some of B's own actions end B's session (log out everywhere): start each request logged in.
            outsider.refresh_from_db()
            outsider_client.force_login(outsider)
            response = getattr(outsider_client, method)(url, data)
            tried += 1
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert SECRET.encode() not in body, f"{method.upper()} {url} shows workspace A's data"
            if converters:
                # A GET on a POST-only action is refused before any lookup (405): nothing leaks.
                allowed = {404, 405} if method == "get" else {404}
                assert response.status_code in allowed, f"{method.upper()} {url} answered {response.status_code}"
        checked.append(url)
    with capsys.disabled():
        print(f"\nisolation matrix: {tried} requests over {len(checked)} URLs, 0 leaks")
    assert tried > 80
    # And nothing of A's changed under B's requests.
    from crm.models import Invitation
    from interactions.models import Interaction, Need, Promise
    from people.models import Person
    from reminders.models import FollowUp

    assert Workspace.objects.filter(pk=workspace_a["workspace"]).exists()
    assert Person.objects.get(pk=workspace_a["person"]).archived_at is None
    assert Interaction.objects.filter(pk=workspace_a["interaction"]).exists()
    assert Need.objects.get(pk=workspace_a["need"]).status == "open"
    assert Promise.objects.get(pk=workspace_a["promise"]).kept_at is None
    follow_up = FollowUp.objects.get(pk=workspace_a["follow_up"])
    assert (follow_up.done_at, follow_up.snoozed_until) == (None, None)
    assert Membership.objects.filter(pk=workspace_a["membership"]).exists()
    assert Invitation.objects.get(pk=workspace_a["invitation"]).status == "pending"
    assert TagCadence.objects.filter(pk=workspace_a["cadence"]).exists()


@pytest.mark.django_db
def test_logged_out_visitors_are_sent_to_login(workspace_a: dict[str, int], client: Client) -> None:
    for name, converters in _patterns(get_resolver().url_patterns):
        if name in PUBLIC or "token" in converters or "uidb64" in converters or name == "favicon":
            continue
        url = reverse(name, kwargs=_kwargs(name, converters, workspace_a))
        response = client.get(url)
        assert response.status_code in {302, 405}, f"GET {url} answered {response.status_code}"
        if response.status_code == 302:
            assert response.url.startswith(reverse("login")), url
