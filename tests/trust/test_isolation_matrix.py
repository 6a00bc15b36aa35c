"""Every URL of the project, filled with objects of workspace A, requested by a member of B.

The URL list comes from the resolver, so a new view is covered without editing this test.
Token URLs (invitations, digest links, calendar feeds) are authorised by their token and are
tested where they are defined.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import Membership, User, Workspace
from people.models import TagCadence
from tests.trust.summary import record
from tests.trust.urls import JSON_LOGIN_REQUIRED, PUBLIC, url_kwargs, url_patterns, workspace_objects

SECRET = "Zanzibar-Secret"


@pytest.fixture
def workspace_a(owner: User, workspace: Workspace, member: User) -> dict[str, int]:
    return workspace_objects(owner=owner, member=member, workspace=workspace, text=SECRET)


@pytest.mark.django_db
def test_no_url_reaches_another_workspaces_data(
    workspace_a: dict[str, int], outsider: User, outsider_client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    tried, checked, leaks = 0, [], []
    # A's workspace name too, so a delete that forgot the membership check would go through;
    # and a search for the secret's first word, so a search that forgot the workspace would show
    # the whole secret (the page echoing the query shows only that word).
    data = {
        "ids": [workspace_a["person"]],
        "action": "archive",
        "confirm_name": Workspace.objects.get(pk=workspace_a["workspace"]).name,
        "q": SECRET.split("-")[0],
        "topic": SECRET.split("-")[0],
    }
    for name, converters in url_patterns():
        if name in PUBLIC or any(c == "token" or c in {"uidb64"} for c in converters):
            continue
        url = reverse(name, kwargs=url_kwargs(name, converters, workspace_a))
        for method in ("get", "post"):
            # Some of B's own actions end B's session (log out everywhere): start each request logged in.
            outsider.refresh_from_db()
            outsider_client.force_login(outsider)
            response = getattr(outsider_client, method)(url, data)
            tried += 1
            body = b"".join(response.streaming_content) if response.streaming else response.content
            if SECRET.encode() in body:
                leaks.append(f"{method.upper()} {url} shows workspace A's data")
            # A GET on a POST-only action is refused before any lookup (405): nothing leaks.
            allowed = {404, 405} if method == "get" else {404}
            if converters and response.status_code not in allowed:
                leaks.append(f"{method.upper()} {url} answered {response.status_code}")
        checked.append(url)
    record("isolation", requests_tried=tried, leaks_found=len(leaks))
    with capsys.disabled():
        print(f"\nisolation matrix: {tried} requests over {len(checked)} URLs, {len(leaks)} leaks")
    assert leaks == []
    assert tried > 80
    # And nothing of A's changed under B's requests.
    from crm.models import Invitation
    from interactions.models import FollowUp, Interaction, Need, Promise
    from people.models import Person

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
    from imports.models import ImportJob

    assert ImportJob.objects.get(pk=workspace_a["import_job"]).status == ImportJob.Status.READY
    from api.models import ApiToken, WebhookDelivery, WebhookEndpoint

    assert ApiToken.objects.get(pk=workspace_a["api_token"]).revoked_at is None
    assert WebhookEndpoint.objects.get(pk=workspace_a["webhook"]).enabled
    assert WebhookDelivery.objects.get(pk=workspace_a["webhook_delivery"]).state == "failed"
    from inbound.models import ApprovedSender, InboundMessage

    assert InboundMessage.objects.get(pk=workspace_a["inbound_message"]).status == InboundMessage.Status.UNMATCHED
    assert ApprovedSender.objects.filter(pk=workspace_a["inbound_sender"]).exists()


@pytest.mark.django_db
def test_logged_out_visitors_are_sent_to_login(workspace_a: dict[str, int], client: Client) -> None:
    for name, converters in url_patterns():
        if name in PUBLIC or "token" in converters or "uidb64" in converters or name == "favicon":
            continue
        url = reverse(name, kwargs=url_kwargs(name, converters, workspace_a))
        response = client.get(url)
        if name in JSON_LOGIN_REQUIRED:
            assert client.post(url).status_code == 403, url
            continue
        assert response.status_code in {302, 405}, f"GET {url} answered {response.status_code}"
        if response.status_code == 302:
            assert response.url.startswith(reverse("login")), url


DAV_BODIES = {
    "PROPFIND": '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>',
    "sync": '<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level>'
    "<d:prop><d:getetag/></d:prop></d:sync-collection>",
    "multiget": '<?xml version="1.0"?><c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">'
    "<d:prop><d:getetag/><c:address-data/></d:prop><d:href>{card}</d:href></c:addressbook-multiget>",
    "query": '<?xml version="1.0"?><c:addressbook-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">'
    "<d:prop><c:address-data/></d:prop></c:addressbook-query>",
}


@pytest.mark.django_db
def test_no_dav_path_reaches_another_workspace(workspace_a: dict[str, int], owner: User, outsider: User) -> None:
    """Every DAV path that names A (A's owner's principal, A's book, A's card, and A's book
    under B's own principal), every method, with B's app password: a 404 and nothing of A.
    And B's own book, asked by multiget for A's card, has no such card."""
    import base64

    from carddav import services as carddav_services

    _, password = carddav_services.app_password_create(user=outsider, name="B's phone")
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{outsider.email}:{password}".encode()).decode()}
    ws, person = workspace_a["workspace"], workspace_a["person"]
    root = reverse("carddav:dav_root")
    paths = [f"u{owner.pk}/", f"u{owner.pk}/{ws}/", f"u{owner.pk}/{ws}/{person}.vcf", f"u{outsider.pk}/{ws}/",
             f"u{outsider.pk}/{ws}/{person}.vcf", f"u{outsider.pk}/{ws}/x/"]  # fmt: skip
    client, tried, leaks = Client(), 0, []
    for path in paths:
        url = reverse("carddav:dav", kwargs={"path": path})
        card = f"{root}u{owner.pk}/{ws}/{person}.vcf"
        requests = [("PROPFIND", DAV_BODIES["PROPFIND"], depth) for depth in ("0", "1")]
        requests += [("REPORT", DAV_BODIES[kind].format(card=card), "1") for kind in ("sync", "multiget", "query")]
        requests += [(method, "", "0") for method in ("GET", "HEAD", "OPTIONS")]
        requests += [(method, "BEGIN:VCARD\r\nFN:B\r\nEND:VCARD\r\n", "0") for method in ("PUT", "DELETE")]
        requests += [(method, DAV_BODIES["PROPFIND"], "0") for method in ("PROPPATCH", "MKCOL", "MOVE")]
        for method, body, depth in requests:
            response = client.generic(method, url, body, content_type="application/xml", HTTP_DEPTH=depth, **auth)
            tried += 1
            if SECRET.encode() in response.content:
                leaks.append(f"{method} {url} shows workspace A's data")
            if response.status_code != 404:
                leaks.append(f"{method} {url} answered {response.status_code}")
    own_book = reverse("carddav:dav", kwargs={"path": f"u{outsider.pk}/{outsider.current_workspace_id}/"})
    for kind in ("sync", "multiget", "query"):
        body = DAV_BODIES[kind].format(card=f"{own_book}{person}.vcf")
        response = client.generic("REPORT", own_book, body, content_type="application/xml", HTTP_DEPTH="1", **auth)
        tried += 1
        if response.status_code != 207 or SECRET.encode() in response.content:
            leaks.append(f"REPORT {kind} on B's own book: {response.status_code}, or A's data in it")
    record("isolation", requests_tried=tried, leaks_found=len(leaks))
    assert leaks == []
    from people.models import Person

    assert Person.objects.get(pk=person).first_name == SECRET
