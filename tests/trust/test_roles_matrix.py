"""Every URL of the project, requested by a viewer of the workspace: reads work, no write does.

The URL list comes from the resolver, so a new view is covered without editing this test: a
view that forgets its permission check is caught here, because every workspace POST needs the
right to write unless the view says it writes only the user's own things.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import Invitation, Membership, User, Workspace
from imports.models import ImportJob
from interactions.models import FollowUp, Interaction, Need, Promise
from people.models import Company, Person, ProfileFact, Tag, TagCadence
from tests.trust.urls import PUBLIC, url_kwargs, url_patterns, workspace_objects

# The viewer's own things, not the book's: their session, settings, workspaces, calendar link,
# API tokens, email logging address and approved senders.
PERSONAL = {
    "logout", "log_out_everywhere", "account_settings", "password_change", "password_change_done",
    "workspace_create", "workspace_switch", "exports:feed_create", "exports:feed_revoke", "digests:send_test",
    "digests:preview", "api_settings:tokens", "api_settings:token_revoke",
    "inbound:rotate", "inbound:sender_approve", "inbound:sender_remove",
    "pwa:settings", "pwa:subscribe", "pwa:revoke",
    "carddav:settings", "carddav:password_revoke", "carddav:book_scope",
    "login_code", "security", "security_totp_add", "security_totp_remove",
    "security_recovery_codes", "my_activity", "security_session_end", "security_passkey_rename",
    "security_passkey_remove", "account_delete",
    "otp_webauthn:credential-registration-begin", "otp_webauthn:credential-registration-complete",
}  # fmt: skip


def _book(workspace: Workspace) -> dict[str, object]:
    """Everything a write could change, as plain values to compare."""
    return {
        "people": list(Person.objects.for_workspace(workspace).values_list("pk", "first_name", "archived_at")),
        "facts": ProfileFact.objects.for_workspace(workspace).count(),
        "interactions": list(Interaction.objects.for_workspace(workspace).values_list("pk", "summary")),
        "needs": list(Need.objects.for_workspace(workspace).values_list("pk", "status")),
        "promises": list(Promise.objects.for_workspace(workspace).values_list("pk", "kept_at")),
        "follow_ups": list(FollowUp.objects.for_workspace(workspace).values_list("pk", "done_at", "snoozed_until")),
        "cadences": TagCadence.objects.for_workspace(workspace).count(),
        "companies": list(Company.objects.for_workspace(workspace).values_list("pk", "name")),
        "tags": list(Tag.objects.for_workspace(workspace).values_list("pk", "name")),
        "memberships": list(Membership.objects.filter(workspace=workspace).values_list("pk", "role")),
        "invitations": list(Invitation.objects.for_workspace(workspace).values_list("pk", "status")),
        "imports": list(ImportJob.objects.for_workspace(workspace).values_list("pk", "status")),
        "name": Workspace.objects.get(pk=workspace.pk).name,
    }


@pytest.mark.django_db
@pytest.mark.trust
def test_a_viewer_changes_nothing_through_any_url(
    owner: User, member: User, viewer: User, viewer_client: Client, workspace: Workspace
) -> None:
    ids = workspace_objects(owner=owner, member=member, workspace=workspace, text="Anna")
    before = _book(workspace)
    data = {
        "ids": [ids["person"]],
        "action": "archive",
        "confirm": "yes",
        "confirm_name": workspace.name,
        "role": "owner",
        "status": "solved",
        "summary": "Viewer was here",
        "person": ids["person"],
        "people": [ids["person"]],
        "kind": "call",
        "first_name": "Changed",
        "fact_type": "hobbies",
        "value": "Viewer was here",
        "email": "new@example.com",
        "name": "Renamed",
    }
    refused, wrong = 0, []
    for name, converters in url_patterns():
        if name in PUBLIC or name in PERSONAL or "token" in converters or "uidb64" in converters:
            continue
        url = reverse(name, kwargs=url_kwargs(name, converters, ids))
        get = viewer_client.get(url)
        if get.status_code >= 500:
            wrong.append(f"GET {url} answered {get.status_code}")
        post = viewer_client.post(url, data)
        if post.status_code == 403:
            refused += 1
        elif post.status_code != 405:  # a GET-only page refuses a POST before anything
            wrong.append(f"POST {url} answered {post.status_code}")
    assert wrong == []
    assert _book(workspace) == before
    assert refused > 40
    assert Membership.objects.get(user=viewer).role == Membership.Role.VIEWER
