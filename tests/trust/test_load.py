"""Twenty clients log conversations for thirty seconds against gunicorn on PostgreSQL: no
errors, and every conversation acknowledged (302) is in the database, no more, no fewer.

Each client is a thread with its own session (logged in through the login form, CSRF token
from the page) posting the quick log; four clients share each person, so the writes to a
person's "last contacted" contend as they do in a team.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest

from crm.models import Membership, Workspace
from interactions.models import Interaction
from people.models import Person
from tests.factories import PASSWORD, PersonFactory, UserFactory
from tests.processes import gunicorn_server
from tests.trust.summary import record

CLIENTS = 20
USERS = 4  # logging in hashes a password: a few users, each logged in on several clients
SECONDS = 30
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Session:
    """A browser without a browser: cookies kept, redirects not followed."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, object] | None = None) -> tuple[int, str]:
        # A new connection each time: gunicorn's sync workers close it after every response.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = urlencode(form) if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return response.status, text
        finally:
            connection.close()

    def token(self, path: str) -> str:
        status, page = self.request("GET", path)
        assert status == 200, f"GET {path} answered {status}"
        return TOKEN.search(page).group(1)


@dataclass
class Tally:
    acknowledged: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The clock starts when the last client has logged in (logging in hashes a password).
    until: list[float] = field(default_factory=list)
    started: threading.Barrier = field(init=False)

    def __post_init__(self) -> None:
        self.started = threading.Barrier(CLIENTS, action=lambda: self.until.append(time.monotonic() + SECONDS))


def _client(port: int, email: str, person_id: int, tally: Tally) -> None:
    session = Session(port)
    try:
        form = {"username": email, "password": PASSWORD, "csrfmiddlewaretoken": session.token("/login/")}
        status, _ = session.request("POST", "/login/", form)
        assert status == 302, f"login answered {status}"
        token = session.token("/")
    except Exception as exc:
        with tally.lock:
            tally.errors.append(f"{email}: {exc!r}")
        tally.started.abort()
        return
    try:
        tally.started.wait()
    except threading.BrokenBarrierError:
        return
    n = 0
    while time.monotonic() < tally.until[0]:
        n += 1
        form = {"quick-person": person_id, "quick-kind": "call", "quick-summary": f"{email} call {n}",
                "csrfmiddlewaretoken": token}  # fmt: skip
        try:
            status, body = session.request("POST", "/interactions/quick/", form)
        except Exception as exc:
            status, body = 0, repr(exc)
        with tally.lock:
            tally.requests += 1
            if status == 302:
                tally.acknowledged += 1
            else:
                tally.errors.append(f"{email} #{n}: {status} {body[:200]}")


@pytest.mark.services_only
@pytest.mark.slow
@pytest.mark.real_password_hashing  # its users log in to gunicorn, which hashes as production does
@pytest.mark.django_db(transaction=True)
def test_twenty_clients_for_thirty_seconds_lose_no_write(workspace: Workspace, capsys: pytest.CaptureFixture) -> None:
    users = [UserFactory(email=f"load{i}@example.com", current_workspace=workspace) for i in range(USERS)]
    Membership.objects.bulk_create(Membership(workspace=workspace, user=u, role="member") for u in users)
    people = [PersonFactory(workspace=workspace) for _ in range(CLIENTS // 4)]
    tally = Tally()
    with gunicorn_server(workers=3) as port:
        threads = [
            threading.Thread(target=_client, args=(port, users[i % USERS].email, people[i % len(people)].pk, tally))
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    stored = Interaction.objects.for_workspace(workspace).count()
    record("load", requests=tally.requests, lost_writes=abs(tally.acknowledged - stored), errors=len(tally.errors))
    with capsys.disabled():
        print(f"\nload: {tally.requests} requests from {CLIENTS} clients, {tally.acknowledged} acknowledged, "
              f"{stored} stored, {len(tally.errors)} errors")  # fmt: skip
    assert tally.errors == []
    assert tally.acknowledged > CLIENTS  # the clients really ran
    assert stored == tally.acknowledged
    # Each person's "last contacted" is their last conversation: no write overtook another.
    for person in Person.objects.filter(pk__in=[p.pk for p in people]):
        last = Interaction.objects.filter(people=person).order_by("-occurred_at").first()
        assert person.last_contacted_at == last.occurred_at
