"""Every URL of the project, from the resolver, with its ids filled by one workspace's objects.

The isolation matrix fills them with workspace A's objects and requests them as B; the fuzz
test fills them with the user's own objects and posts hostile data. A new view is in both
without editing either.
"""

from __future__ import annotations

from datetime import date

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from selectolax.lexbor import LexborHTMLParser

from crm.models import Membership, User, Workspace

# Reached without a workspace membership: authorised by a token, or nothing to protect.
PUBLIC = {
    "login", "login_code", "otp_webauthn:credential-authentication-begin",
    "otp_webauthn:credential-authentication-complete", "otp_webauthn:js-i18n-catalog", "signup", "logout",
    "password_reset", "password_reset_done", "password_reset_confirm",
    "password_reset_complete", "healthz", "invitation_accept", "invitation_signup", "signup_confirm",
    "digests:action", "digests:unsubscribe", "exports:feed", "manifest", "service_worker",
    # CardDAV: authorised by an app password, not a session; test_isolation_matrix walks every
    # DAV path with an outsider's app password (test_no_dav_path_reaches_another_workspace).
    "carddav:well_known", "carddav:dav_root", "carddav:dav",
}  # fmt: skip
TOKEN_ARGUMENTS = {"token", "uidb64"}
# The API (/api/), reached with a bearer token, not a session: tests/trust/test_api_matrix.py
# walks its routes (``api_patterns``) with tokens as these walk the pages with sessions.
API_NAMESPACE = "api"
# The passkey scripts' JSON API for making a passkey: a visitor who is not logged in gets a JSON
# 403 there (the script shows its message), not the login page.
JSON_LOGIN_REQUIRED = {"otp_webauthn:credential-registration-begin", "otp_webauthn:credential-registration-complete"}


def url_patterns(
    resolvers: list | None = None, namespace: str = "", *, api: bool = False
) -> list[tuple[str, list[str]]]:
    """(namespaced name, argument names) of every named URL but the admin's; the API's routes
    only with ``api`` (then only those)."""
    found = []
    for entry in get_resolver().url_patterns if resolvers is None else resolvers:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin" or (entry.app_name or "") == "admin":
                continue
            if not namespace and (entry.namespace == API_NAMESPACE) != api:
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += url_patterns(entry.url_patterns, ns, api=api)
        elif isinstance(entry, URLPattern) and entry.name and not (api and not namespace):
            found.append((namespace + entry.name, list(entry.pattern.converters)))
    return found


def api_patterns() -> list[tuple[str, list[str]]]:
    """(name, argument names) of every route of the API."""
    return url_patterns(api=True)


def workspace_objects(*, owner: User, member: User, workspace: Workspace, text: str) -> dict[str, int]:
    """One object of every kind a URL can name, in ``workspace``, each showing ``text``."""
    from carddav import services as carddav_services
    from crm import services as crm_services
    from interactions import services as interaction_services
    from people import services as people_services
    from people.models import Company, FamilyMember, Pet, TagCadence
    from reminders import services as reminder_services
    from tests.factories import InteractionFactory, PersonFactory

    person = PersonFactory(workspace=workspace, first_name=text, owner=owner, company__name=f"{text} Ltd", tags=["vip"])
    people_services.fact_add(person=person, fact_type="hobbies", value=text)
    FamilyMember.objects.create(workspace=workspace, person=person, relation="spouse", name=text)
    Pet.objects.create(workspace=workspace, person=person, name=text)
    interaction = InteractionFactory(workspace=workspace, people=[person], summary=text)
    need = interaction_services.need_open(person=person, title=text)
    promise = interaction_services.promise_create(person=person, text=text)
    follow_up = reminder_services.follow_up_create(person=person, due_on=date(2026, 3, 4), note=text)
    cadence = reminder_services.tag_cadence_set(workspace=workspace, tag_name="vip", every=2, unit="weeks")
    owner_membership = Membership.objects.get(user=owner, workspace=workspace)
    invitation = crm_services.invitation_create(membership=owner_membership, email="x@example.com")
    from imports import services as import_services

    card = f"BEGIN:VCARD\nFN:{text}\nEND:VCARD\n".encode()
    job = import_services.import_upload(
        workspace=workspace, user=owner, file_name=f"{text}.vcf", data=card, background=False
    )
    import_services.import_read(job_id=job.pk)
    from api import services as api_services

    api_token, _ = api_services.token_create(user=owner, workspace=workspace, name=text)
    from api.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url=f"https://example.com/{text}", events=["person.created"], secret="whsec_AAAA"
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="person.created", event_key=text, message_id=f"msg_{text}", state="failed"
    )
    from inbound import services as inbound_services

    inbox = inbound_services.address_for(workspace=workspace, user=owner)
    sender = inbound_services.sender_approve(address=inbox, email="owner.alias@example.com")
    unmatched = inbound_services.message_receive(
        raw=(
            f"From: {owner.email}\r\nTo: {text} <new@example.com>\r\nSubject: {text}\r\n"
            f"Content-Type: text/html\r\n\r\n<p>{text}</p>\r\n"
        ).encode(),
        recipients=[inbox.email],
    )
    assert unmatched is not None
    app_password, _ = carddav_services.app_password_create(user=owner, name=text)
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_otp_webauthn.models import WebAuthnCredential

    device = TOTPDevice.objects.create(user=owner, name="Authenticator app", confirmed=True)
    passkey = WebAuthnCredential.objects.create(
        user=owner, name="Laptop", credential_id=b"x" * 16, public_key=b"k", sign_count=0, confirmed=True
    )
    from crm.models import UserSession

    session = UserSession.objects.create(user=owner, session_key=f"{text}-session"[:40])
    return {
        "session": session.pk,
        "device": device.pk,
        "passkey": passkey.pk,
        "app_password": app_password.pk,
        "owner_user": owner.pk,  # the DAV principal of the card path
        "webhook": endpoint.pk,
        "webhook_delivery": delivery.pk,
        "api_token": api_token.pk,
        "inbound_message": unmatched.pk,
        "inbound_sender": sender.pk,
        "import_job": job.pk,
        "person": person.pk,
        "fact": person.facts.get().pk,
        "interaction": interaction.pk,
        "need": need.pk,
        "promise": promise.pk,
        "follow_up": follow_up.pk,
        "cadence": cadence.pk,
        "company": Company.objects.get(workspace=workspace, name=f"{text} Ltd").pk,
        "membership": Membership.objects.get(user=member, workspace=workspace).pk,
        "invitation": invitation.pk,
        "workspace": workspace.pk,
        "tag_cadence": TagCadence.objects.get(workspace=workspace, tag__name="vip").pk,
    }


def url_kwargs(name: str, converters: list[str], ids: dict[str, int]) -> dict[str, int | str]:
    """Which of the objects each URL argument names."""
    by_view = {
        "interactions:": "interaction",
        "interactions:need": "need",
        "interactions:need_status": "need",
        "interactions:promise_keep": "promise",
        "reminders:follow_up": "follow_up",
        "reminders:cadence_delete": "cadence",
        "people:company": "company",
        "api_settings:token_revoke": "api_token",
        "api_settings:webhook_": "webhook",
        "api_settings:delivery_redeliver": "webhook_delivery",
        "api:company": "company",
        "api:conversation": "interaction",
        "api:need": "need",
        "api:promise": "promise",
        "api:follow_up": "follow_up",
        "inbound:message": "inbound_message",
        "inbound:sender": "inbound_sender",
    }
    pk_kind = "person"
    for prefix, kind in sorted(by_view.items(), key=lambda item: -len(item[0])):
        if name.startswith(prefix):
            pk_kind = kind
            break
    values = {"pk": ids[pk_kind], "person_pk": ids["person"], "fact_id": ids["fact"], "member_id": ids["membership"],
              "invitation_id": ids["invitation"], "workspace_id": ids["workspace"],
              "job_id": ids["import_job"], "password_id": ids["app_password"],
              "device_id": ids["device"], "passkey_id": ids["passkey"], "session_id": ids["session"],
              "path": f"u{ids['owner_user']}/{ids['workspace']}/{ids['person']}.vcf"}  # fmt: skip
    return {arg: values[arg] for arg in converters}


def form_fields(client: Client, url: str) -> tuple[list[str], list[str]]:
    """The names of the fields, and of the file fields, of the forms the page shows."""
    response = client.get(url)
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return [], []
    fields, files = set(), set()
    for element in LexborHTMLParser(response.content.decode()).css("input[name], select[name], textarea[name]"):
        name = element.attributes["name"]
        if not name:
            continue
        if element.attributes.get("type") == "file":
            files.add(name)
        elif name != "csrfmiddlewaretoken":
            fields.add(name)
    return sorted(fields), sorted(files)
