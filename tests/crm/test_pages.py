from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import path, reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from crm import services
from crm.models import User
from crm.urls import urlpatterns as rapport_urls


def _boom(request):
    raise RuntimeError("kaboom")


urlpatterns = [*rapport_urls, path("boom/", _boom)]


@pytest.mark.django_db
def test_it_shows_a_friendly_404(owner_client: Client, settings: SettingsWrapper) -> None:
    settings.DEBUG = False
    response = owner_client.get("/no/such/page/")

    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()


@pytest.mark.django_db
def test_it_shows_a_friendly_500(settings: SettingsWrapper) -> None:
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)

    response = client.get("/boom/")

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


@pytest.mark.django_db
def test_it_serves_bootstrap_and_htmx_from_static_not_a_cdn(client: Client) -> None:
    page = client.get(reverse("login")).content.decode()

    assert "/static/vendor/bootstrap-5.3.9/bootstrap.min.css" in page
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in page
    # Every script and stylesheet comes from this site (a random CSRF token may spell "cdn").
    assets = re.findall(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"', page)
    assert assets
    assert [a for a in assets if not a.startswith("/") or a.startswith("//")] == []


@pytest.mark.django_db
def test_it_warns_when_the_scheduler_has_not_run(owner_client: Client) -> None:
    page = owner_client.get(reverse("dashboard")).content.decode()

    assert "Scheduler has not run yet" in page


@pytest.mark.django_db
def test_it_says_when_the_scheduler_last_ran(owner_client: Client) -> None:
    services.heartbeat_record(name="beat")

    page = owner_client.get(reverse("dashboard")).content.decode()

    assert "Scheduler last ran 0" in page
    assert "Is Celery beat running?" not in page


@pytest.mark.django_db
def test_it_warns_when_the_scheduler_is_over_an_hour_late(owner_client: Client) -> None:
    import time_machine

    services.heartbeat_record(name="beat")
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        page = owner_client.get(reverse("dashboard")).content.decode()

    assert "Is Celery beat running?" in page


@pytest.mark.django_db
@pytest.mark.trust
def test_pages_carry_a_content_security_policy_without_inline_scripts(owner_client: Client) -> None:
    response = owner_client.get(reverse("dashboard"))

    policy = response["Content-Security-Policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'self'" in script_src
    assert "unsafe-inline" not in script_src
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "<script>" not in response.content.decode()  # every script is a file


@pytest.mark.django_db
@pytest.mark.trust
def test_a_database_outage_is_a_503_that_keeps_what_was_typed(owner: User) -> None:
    from django.db import OperationalError, connection

    client = Client(raise_request_exception=False)
    client.force_login(owner)

    def down_for_writes(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
            raise OperationalError("could not connect to server: Connection refused")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(down_for_writes):
        response = client.post(
            reverse("people:create"),
            {"first_name": "Anna", "last_name": "Berg", "notes": "Met at <the> fair", "owner": owner.pk},
        )

    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "can&#x27;t reach its database" in page or "can't reach its database" in page
    assert 'name="first_name" value="Anna"' in page
    assert 'value="Met at &lt;the&gt; fair"' in page
    assert 'action="/people/new/"' in page
