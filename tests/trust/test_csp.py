"""The Content-Security-Policy allows no inline style, and no page needs one.

Every page of the resolver is fetched as the owner, with one object of every kind to show, and
parsed: a ``style=""`` attribute or a ``<style>`` element would be refused by the browser (and
so would be a page that looks broken). Emails keep their inline styles: they are not served
under the policy, and no URL renders them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from tests.trust.urls import PUBLIC, url_kwargs, url_patterns, workspace_objects

# Pages that are an email as it will arrive (inline styles and all) may have them.
EMAILS = {"digests:preview"}


class InlineStyles(HTMLParser):
    """Collects every inline style of a page: ``<style>`` elements and ``style`` attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "style":
            self.found.append("<style> element")
        self.found += [f'<{tag} style="{value}">' for name, value in attrs if name == "style"]

    handle_startendtag = handle_starttag


def inline_styles(html: str) -> list[str]:
    parser = InlineStyles()
    parser.feed(html)
    parser.close()
    return parser.found


def _directive(policy: str, name: str) -> str:
    return next(d.strip() for d in policy.split(";") if d.strip().startswith(name + " "))


@pytest.mark.django_db
@pytest.mark.trust
def test_it_allows_styles_only_from_our_own_files(owner_client: Client) -> None:
    policy = owner_client.get(reverse("dashboard"))["Content-Security-Policy"]

    assert _directive(policy, "style-src") == "style-src 'self'"
    assert "unsafe-inline" not in policy
    preview = owner_client.get(reverse("digests:preview"))["Content-Security-Policy"]
    assert _directive(preview, "style-src") == "style-src 'self' 'unsafe-inline'"  # the email, alone


@pytest.mark.django_db
@pytest.mark.trust
def test_it_finds_the_inline_styles_it_looks_for() -> None:
    assert inline_styles('<p>a</p><div class="x" style="width: 5%"></div><style>p{}</style>') == [
        '<div style="width: 5%">',
        "<style> element",
    ]


@pytest.mark.django_db
@pytest.mark.trust
def test_it_renders_no_inline_style_on_any_page(
    owner: User, member: User, workspace: Workspace, owner_client: Client, member_client: Client
) -> None:
    with time_machine.travel(datetime(2026, 3, 4, 8, tzinfo=UTC), tick=False):
        ids = workspace_objects(owner=owner, member=member, workspace=workspace, text="Anna")
        pages, found = 0, []
        for name, converters in url_patterns():
            if name in PUBLIC or name in EMAILS or "token" in converters or "uidb64" in converters:
                continue
            url = reverse(name, kwargs=url_kwargs(name, converters, ids))
            for extra in ({}, {"HTTP_HX_REQUEST": "true"}):
                response = owner_client.get(url, **extra)
                if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                    continue
                pages += 1
                found += [f"{url}: {style}" for style in inline_styles(response.content.decode())]
        # And the pages nobody asks for: login, not found, not allowed, a form that expired.
        stranger = Client(enforce_csrf_checks=True)
        others = [
            stranger.get(reverse("login")),
            stranger.get(reverse("signup")),
            stranger.get(reverse("password_reset")),
            stranger.post(reverse("login"), {"username": "x@example.com"}),
            owner_client.get("/no-such-page/"),
            member_client.get(reverse("workspace_rename")),
        ]
    assert [r.status_code for r in others] == [200, 200, 200, 403, 404, 403]
    for response in others:
        pages += 1
        found += [f"{response.status_code} page: {style}" for style in inline_styles(response.content.decode())]
    assert found == []
    assert pages > 40
