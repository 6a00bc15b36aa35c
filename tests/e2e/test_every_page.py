"""Every page, reviewed (issue 18): each page a signed-in owner can open, from the resolver (as
the trust suite walks them), in light and dark at desktop and phone widths. On each, axe-core
(contrast included) and the Nu HTML checker pass, nothing scrolls sideways, and a screenshot
lands in var/screenshots/every/NAME-THEME-desktop.png / -phone.png. A new page is in it without
editing this file."""

from __future__ import annotations

import re
from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from crm.models import User
from tests.e2e.browser import Visitor, log_in
from tests.trust.urls import PUBLIC, url_kwargs, url_patterns, workspace_objects

# Pages the logged-out visitor sees; the rest are walked signed in.
SIGNED_OUT = ["login", "signup", "password_reset"]


@pytest.fixture
def pages(db: None) -> list[tuple[str, str]]:
    """(name, path) of every full HTML page the demo owner can open, with the demo data and one
    object of every kind a URL can name (tests/trust/urls.py)."""
    call_command("seed_demo", stdout=StringIO())
    owner = User.objects.get(email="demo@example.com")
    teammate = User.objects.get(email="demo+teammate@example.com")
    ids = workspace_objects(owner=owner, member=teammate, workspace=owner.current_workspace, text="Ada")
    # workspace_objects gives the owner a second factor (its pages need one to name); the browser
    # then logs in with the password alone, as the demo owner does.
    TOTPDevice.objects.filter(user=owner).delete()
    WebAuthnCredential.objects.filter(user=owner).delete()
    client = Client()
    client.force_login(owner)
    found = []
    for name, converters in url_patterns():
        if name in PUBLIC or name.startswith("admin"):
            continue
        path = reverse(name, kwargs=url_kwargs(name, converters, ids))
        response = client.get(path)
        # Pages only: not a download, a JSON answer, an htmx fragment or a POST-only action.
        is_page = response.status_code == 200 and not response.streaming
        if is_page and response.content.lstrip()[:15].lower() == b"<!doctype html>":
            found.append((name, path))
    assert len(found) >= 30, found  # the walk found the app, not a handful
    return sorted(found)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_every_page_passes_axe_and_the_html_checker_and_fits(
    visit: Callable[..., Visitor], pages: list[tuple[str, str]], theme: str, phone: bool
) -> None:
    User.objects.filter(email="demo@example.com").update(theme=theme)
    me = visit(phone=phone)
    page = me.page
    page.emulate_media(color_scheme=theme)  # the signed-out pages follow the system
    for name in SIGNED_OUT:
        me.goto(reverse(name))
        me.screenshot(f"every/{name}-{theme}")
    log_in(me, "demo@example.com", "demo")
    wide = []
    for name, path in pages:
        me.goto(path)
        if name != "digests:preview":  # the email itself: mail programs, not the app, choose its colours
            expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            wide.append(f"{path} scrolls sideways by {overflow}px")
        me.screenshot(f"every/{re.sub(r'[^a-z0-9]+', '-', name)}-{theme}")
    assert not wide, "\n".join(wide)
