"""vdirsyncer, a CardDAV client nobody here wrote, syncs a running Rapport to a folder of .vcf
files: discovery from the site's address, a first sync, then only what changed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from carddav import cards as cards_module
from carddav import services
from crm.models import User, Workspace
from people import services as people_services
from people.models import ContactMethod, Person
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _config(folder: Path, url: str, email: str, password: str) -> Path:
    config = folder / "config"
    config.write_text(
        f"""[general]
status_path = "{folder / "status"}"

[pair contacts]
a = "phone"
b = "server"
collections = ["from b"]
conflict_resolution = "b wins"

[storage phone]
type = "filesystem"
path = "{folder / "contacts"}"
fileext = ".vcf"

[storage server]
type = "carddav"
url = "{url}"
username = "{email}"
password = "{password}"
read_only = true
"""
    )
    return config


def _vdirsyncer(config: Path, *args: str) -> str:
    command = [str(Path(sys.executable).parent / "vdirsyncer"), "-c", str(config), *args]
    result = subprocess.run(command, input="y\n" * 10, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def _cards(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in folder.glob("contacts/*/*.vcf")}


def test_vdirsyncer_gets_the_book_then_only_what_changed(
    live_server: LiveServer, owner: User, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [PersonFactory(workspace=workspace, owner=owner) for _ in range(6)]
    ContactMethod.objects.create(
        workspace=workspace, person=people[0], kind="email", label="work", value="ada@example.com"
    )
    _, password = services.app_password_create(user=owner, name="laptop")
    config = _config(tmp_path, live_server.url + "/", owner.email, password)

    _vdirsyncer(config, "discover")
    first = _vdirsyncer(config, "sync")
    cards = _cards(tmp_path)
    assert len(cards) == 6
    assert any("EMAIL;TYPE=work:ada@example.com" in text for text in cards.values())

    edited, archived = people[1], people[2]
    edited.job_title = "Head buyer"
    edited.save()
    people_services.person_archive(person=archived)
    added = PersonFactory(workspace=workspace, owner=owner, first_name="Adaeze", last_name="Okafor")
    served: list[int] = []  # the live server runs in this process: count the cards it sends
    render = cards_module.render

    def counting_render(person: Person, *args: Any, for_etag: bool = False, **kwargs: Any) -> str:
        if not for_etag:
            served.append(person.pk)
        return render(person, *args, for_etag=for_etag, **kwargs)

    monkeypatch.setattr(cards_module, "render", counting_render)
    second = _vdirsyncer(config, "sync")
    assert sorted(served) == sorted([edited.pk, added.pk])  # the archived one needs no card

    actions = re.findall(r"Copying \((\w+)\) item (\S+)|Deleting item (\S+)", second)
    assert len(actions) == 3, second
    kinds = sorted(kind or "deleting" for kind, _, _ in actions)
    assert kinds == ["deleting", "updating", "uploading"], second
    cards = _cards(tmp_path)
    assert len(cards) == 6
    assert sum("TITLE:Head buyer" in text for text in cards.values()) == 1
    assert sum("FN:Adaeze Okafor" in text for text in cards.values()) == 1
    live = Person.objects.for_workspace(workspace).filter(archived_at__isnull=True)
    assert {f"urn:rapport:person:{workspace.pk}:{pk}" for pk in live.values_list("pk", flat=True)} == {
        re.search(r"UID:(\S+)", text)[1] for text in cards.values()
    }
    served.clear()
    assert "Copying" not in _vdirsyncer(config, "sync")  # nothing changed: nothing moves
    assert served == []
    assert "Copying (uploading)" in first


def test_an_outsiders_vdirsyncer_finds_nothing_of_another_workspace(
    live_server: LiveServer, owner: User, workspace: Workspace, tmp_path: Path
) -> None:
    PersonFactory(workspace=workspace, owner=owner, first_name="Zanzibar")
    elsewhere = WorkspaceFactory(name="Rival Florists")
    outsider = UserFactory(email="outsider@example.com")
    MembershipFactory(workspace=elsewhere, user=outsider)
    PersonFactory(workspace=elsewhere, first_name="Rosa")
    _, password = services.app_password_create(user=outsider, name="phone")
    config = _config(tmp_path, live_server.url + "/", outsider.email, password)
    output = _vdirsyncer(config, "discover")
    assert "Acme Bakery" not in output
    _vdirsyncer(config, "sync")
    cards = _cards(tmp_path)
    assert len(cards) == 1
    assert all("Zanzibar" not in text for text in cards.values())
