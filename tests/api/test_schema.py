"""The OpenAPI 3.1 schema and the docs page, served from our own static files under the CSP."""

from __future__ import annotations

import re

import html5lib
import pytest
from django.contrib.staticfiles import finders
from django.test import Client


@pytest.mark.django_db
def test_the_schema_is_openapi_3_1_with_every_route_and_its_errors(client: Client) -> None:
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"] == "3.1.0"
    paths = schema["paths"]
    for path in (
        "/api/v1/people/",
        "/api/v1/people/{id}/",
        "/api/v1/conversations/",
        "/api/v1/follow-ups/{id}/snooze/",
        "/api/v1/this-week/",
    ):
        assert path in paths, path
    create = paths["/api/v1/people/"]["post"]
    assert create["responses"]["400"]["content"]["application/problem+json"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert "ContactKindEnum" in schema["components"]["schemas"]


@pytest.mark.django_db
def test_the_docs_page_runs_under_the_csp_from_our_own_files(client: Client) -> None:
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    tree = html5lib.parse(response.content, namespaceHTMLElements=False)
    scripts = tree.findall(".//script")
    assert scripts
    for script in scripts:
        src = script.get("src") or ""
        assert src.startswith("/static/") or src.startswith("/api/v1/docs/?"), src
        assert not (script.text or "").strip()  # no inline script
    assert not tree.findall(".//style")
    for link in tree.findall(".//link"):
        assert link.get("href", "").startswith("/static/")
    script_url = next(s.get("src") for s in scripts if s.get("src", "").startswith("/api/"))
    start = client.get(script_url)
    assert start.status_code == 200
    assert "javascript" in start["Content-Type"]
    assert re.search(r"/api/v1/schema/", start.content.decode())
    for src in [s.get("src", "") for s in scripts] + [link.get("href", "") for link in tree.findall(".//link")]:
        if src.startswith("/static/"):
            assert finders.find(src.removeprefix("/static/").split("?")[0]), src  # shipped, collected, served
