"""Every XSS payload of the corpus, in every text field a user can write, shows inert on every
page and email that shows it.

The people are created through the real "new person" form (the photo's file name is a payload
too); what a conversation raises goes through the logging service; the other records are written
directly, as an import would, so a field the forms validate (a website) is checked as well.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from PIL import Image

from crm.models import Membership, User, Workspace
from digests import services as digest_services
from digests.models import DigestRun
from interactions import services as interaction_services
from interactions.services import FactInput, NeedInput, Outcomes, PromiseInput
from people import stay_in_touch
from people.models import ContactMethod, FamilyMember, ImportantDate, Person, Pet
from reminders import tasks as reminder_tasks
from reminders.selectors import SECTION_LIMIT
from tests.trust.summary import record
from tests.trust.xss import executable_parts, inspect, xss_payloads

TODAY = date(2026, 3, 4)
SOON = date(2026, 3, 6)  # birthdays and dates in the dashboard's and digest's window
CORPUS_TAG = "xss-corpus"
SAMPLE = 8


def _fit(payload: str, model: type, field: str) -> str:
    """The payload cut to the column's length (a longer one is refused, not stored)."""
    return payload[: model._meta.get_field(field).max_length or None]


def _image() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(out, format="PNG")
    return out.getvalue()


def _nonce(response: HttpResponse) -> str | None:
    match = re.search(r"'nonce-([^']+)'", response.get("Content-Security-Policy", ""))
    return match.group(1) if match else None


class Pages:
    """Fetches pages and collects what of them would execute."""

    def __init__(self) -> None:
        self.fetched = 0
        self.executed: list[str] = []
        self.texts: list[str] = []

    def check(self, client: Client, url: str, **extra: str) -> str:
        """GET ``url``, record what of it would execute, and return its HTML."""
        response = client.get(url, **extra)
        assert response.status_code == 200, f"GET {url} answered {response.status_code}"
        html = response.content.decode()
        self.fetched += 1
        executed, text = inspect(html, nonce=_nonce(response))
        self.executed += [f"{url}: {part}" for part in executed]
        self.texts.append(text)
        return html

    def check_all_pages(self, client: Client, url: str) -> None:
        """Every page of a paginated list."""
        separator = "&" if "?" in url else "?"
        page = 1
        while f"page={page + 1}" in self.check(client, f"{url}{separator}page={page}"):
            page += 1


def _people(client: Client, owner: User, workspace: Workspace, payloads: list[str]) -> list[Person]:
    """One person a payload, through the "new person" form: names, company, job title, how we
    met, Markdown notes, tags, interests and the photo's file name."""
    image = _image()
    people = []
    for i, payload in enumerate(payloads):
        data = {
            "first_name": _fit(payload, Person, "first_name"),
            "last_name": _fit(payload, Person, "last_name"),
            "nickname": _fit(payload, Person, "nickname"),
            "company_name": payload[:200],
            "job_title": _fit(payload, Person, "job_title"),
            "how_we_met": _fit(payload, Person, "how_we_met"),
            "notes": payload,
            # Tags are split on commas and are at most 50 characters each.
            "tag_names": f"{payload.replace(',', ' ')[:50]}, {CORPUS_TAG}",
            "interest_names": f"{payload.replace(',', ' ')[:50]}, {CORPUS_TAG}",
            "owner": owner.pk,
            "photo": SimpleUploadedFile(f"{payload[:80]}.png", image, content_type="image/png"),
        }
        response = client.post(reverse("people:create"), data)
        assert response.status_code == 302, f"payload {i} refused: {response.content.decode()[:2000]}"
        people.append(Person.objects.for_workspace(workspace).latest("pk"))
    return people


def _records(person: Person, payload: str, owner: User, linked: Person) -> None:
    """What is known about the person, every free-text field a payload."""
    ws = person.workspace
    stay_in_touch.person_set_preferences(
        person=person,
        best_time=_fit(payload, Person, "best_time"),
        likes=payload,
        dislikes=payload,
        topics_to_avoid=payload,
    )
    Person.objects.filter(pk=person.pk).update(birthday_day=SOON.day, birthday_month=SOON.month)
    for kind in ContactMethod.Kind.values:
        ContactMethod.objects.create(
            workspace=ws,
            person=person,
            kind=kind,
            label=_fit(payload, ContactMethod, "label"),
            value=_fit(payload, ContactMethod, "value"),
            is_primary=True,
        )
    ImportantDate.objects.create(
        workspace=ws, person=person, label=_fit(payload, ImportantDate, "label"), date_day=SOON.day, date_month=3
    )
    FamilyMember.objects.create(
        workspace=ws,
        person=person,
        relation="spouse",
        name=_fit(payload, FamilyMember, "name"),
        interests=_fit(payload, FamilyMember, "interests"),
        notes=payload,
        linked_person=linked,
        birthday_day=SOON.day,
        birthday_month=SOON.month,
    )
    Pet.objects.create(
        workspace=ws,
        person=person,
        name=_fit(payload, Pet, "name"),
        species=_fit(payload, Pet, "species"),
        breed=_fit(payload, Pet, "breed"),
        notes=payload,
        birthday_day=SOON.day,
        birthday_month=SOON.month,
    )
    interaction_services.interaction_log(
        workspace=ws,
        user=owner,
        people=[person],
        summary=payload[:200],
        notes=payload,
        occurred_at=datetime(2025, 12, 1, 10, tzinfo=UTC),  # long ago: a stay-in-touch is due
        outcomes=Outcomes(
            follow_up_on=TODAY,
            follow_up_note=payload[:200],
            promises=[PromiseInput(text=payload[:300], due_on=TODAY)],
            needs=[NeedInput(title=payload[:200], details=payload)],
            facts=[FactInput(fact_type="hobbies", value=payload), FactInput(fact_type="religion", value=payload)],
        ),
    )


def _bulk_users(payloads: list[str], prefix: str) -> list[User]:
    # No password: hashing one per payload would take minutes, and nobody logs in with them.
    users = [
        User(email=f"{prefix}{i}@example.com", display_name=_fit(p, User, "display_name"), password="!")
        for i, p in enumerate(payloads)
    ]
    return User.objects.bulk_create(users)


@pytest.fixture
def corpus(owner: User, owner_client: Client, workspace: Workspace) -> Iterator[tuple[list[str], list[Person]]]:
    payloads = xss_payloads()
    with time_machine.travel(datetime(2026, 3, 4, 8, tzinfo=UTC), tick=False):
        people = _people(owner_client, owner, workspace, payloads)
        for i, (person, payload) in enumerate(zip(people, payloads, strict=True)):
            _records(person, payload, owner, linked=people[(i + 1) % len(people)])
        members = _bulk_users(payloads, "member")
        Membership.objects.bulk_create(Membership(workspace=workspace, user=u, role="member") for u in members)
        yield payloads, people


@pytest.mark.rendering
@pytest.mark.django_db
def test_it_renders_every_payload_inert_everywhere(
    corpus: tuple[list[str], list[Person]],
    owner: User,
    owner_client: Client,
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
) -> None:
    payloads, people = corpus
    pages = Pages()
    # A page that shows one record's fields is fetched for every payload where it is the main
    # place they show (the person page), else for an even sample: parsing is what takes time.
    sample = people[:: max(1, len(people) // SAMPLE)]
    with time_machine.travel(datetime(2026, 3, 4, 8, tzinfo=UTC), tick=False):
        reminder_tasks.materialise_reminders_task.run([owner.pk])  # the bell's notifications
        for person, payload in zip(people, payloads, strict=True):
            pages.check(owner_client, reverse("people:detail", args=[person.pk]))
            # Shown as the text typed, not interpreted: the name is there to the letter.
            assert person.first_name in pages.texts[-1], f"{payload!r} is not shown as text"
        for person in sample:
            for page in ("edit", "preferences", "family", "pets", "profile"):
                pages.check(owner_client, reverse(f"people:{page}", args=[person.pk]))
            pages.check(owner_client, reverse("people:company", args=[person.company_id]))
            pages.check(owner_client, reverse("interactions:need", args=[person.needs.get().pk]))
        for url in (
            reverse("people:list"),
            reverse("people:list") + "?q=" + CORPUS_TAG,  # search results
            reverse("interactions:list"),
            reverse("interactions:needs"),
            reverse("people:companies"),
            reverse("interactions:interested") + "?topic=" + CORPUS_TAG,
            reverse("search:results") + "?q=" + CORPUS_TAG,  # the top-bar search
        ):
            pages.check_all_pages(owner_client, url)
        pages.check(owner_client, reverse("people:list") + "?q=" + CORPUS_TAG, HTTP_HX_REQUEST="true")
        pages.check(owner_client, reverse("search:results") + "?q=" + CORPUS_TAG, HTTP_HX_REQUEST="true")
        pages.check(owner_client, reverse("dashboard") + "?scope=team")  # the member filter too
        pages.check(owner_client, reverse("reminders:calendar"))
        pages.check(owner_client, reverse("reminders:notifications"))
        pages.check(owner_client, reverse("reminders:cadences"))
        pages.check(owner_client, reverse("people:create"))  # the owner list: every display name
        pages.check(owner_client, reverse("members"))
        pages.check(owner_client, reverse("digests:preview"))

        digest = digest_services.digest_content(user=owner, today=TODAY)
        message = digest_services.render_digest(run=DigestRun.objects.create(user=owner), digest=digest)
        pages.executed += [f"digest email: {part}" for part in executable_parts(message.alternatives[0][0])]
        # The text part is not HTML: a payload reads there as typed, not as &lt;escaped&gt;.
        # (The digest lists at most a dashboard section's worth of follow-ups.)
        listed = [item.follow_up for item in digest.to_do if item.follow_up is not None]
        assert len(listed) >= min(len(people), SECTION_LIMIT)
        for follow_up in listed:
            assert follow_up.note in message.body

    # Workspace names: the switcher lists all of a user's; the current one heads its pages.
    # Display names: all on the members page and in the owner lists above; one's own in settings.
    named = Workspace.objects.bulk_create(Workspace(name=_fit(p, Workspace, "name")) for p in payloads)
    members = list(User.objects.filter(email__startswith="member").order_by("pk"))
    Membership.objects.bulk_create(
        Membership(workspace=w, user=m, role="owner") for w, m in zip(named, members, strict=True)
    )
    client = Client()
    for ws, user in list(zip(named, members, strict=True))[:: max(1, len(named) // SAMPLE)]:
        User.objects.filter(pk=user.pk).update(current_workspace=ws)
        client.force_login(user)
        pages.check(client, reverse("account_settings"))
        pages.check(client, reverse("workspace_delete", args=[ws.pk]))
        pages.check(client, reverse("workspace_rename"))
    Membership.objects.bulk_create(Membership(workspace=w, user=owner, role="member") for w in named)
    pages.check(owner_client, reverse("reminders:notifications"))

    record("xss", payloads_tried=len(payloads), executed=len(pages.executed))
    with capsys.disabled():
        where = f"{pages.fetched} pages and the digest"
        print(f"\nXSS over {where}: payloads tried {len(payloads)}, executed {len(pages.executed)}")
    assert len(payloads) >= 100
    assert pages.executed == [], "\n".join(pages.executed)


def test_it_catches_what_would_execute() -> None:
    """The checker itself: each of these must be reported (else the test above proves nothing)."""
    nonce = "abc123"
    executable = [
        "<script>alert(1)</script>",
        '<script nonce="wrong">alert(1)</script>',
        '<script src="https://xss.example/x.js"></script>',
        "<img src=x onerror=alert(1)>",
        '<a href=" jav&#x09;ascript:alert(1)">x</a>',
        "<svg><a xlink:href='javascript:alert(1)'>x</a></svg>",
        "<svg><animate onbegin=alert(1)>",
        "<iframe srcdoc='x'></iframe>",
        "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
        '<meta http-equiv="refresh" content="0;url=https://xss.example">',
        '<link rel="stylesheet" href="//xss.example/x.css">',
        '<form action="javascript:alert(1)"></form>',
        "<object data='x'></object>",
        '<a href="\x01 java\tscr\nipt:alert(1)">x</a>',
    ]
    for html in executable:
        assert executable_parts(f"<p>{html}</p>", nonce=nonce), html
    inert = [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        '<a href="/people/1/">x</a>',
        f'<script nonce="{nonce}">ours()</script>',
        '<script src="/static/js/app.js"></script>',
        '<input value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">',
        "<textarea>&lt;/textarea&gt;&lt;img src=x onerror=alert(1)&gt;</textarea>",
        '<img src="https://example.com/a.png" alt="">',
        '<a href="java   script:alert(1)">a relative link</a>',
    ]
    for html in inert:
        assert executable_parts(f"<p>{html}</p>", nonce=nonce) == [], html
