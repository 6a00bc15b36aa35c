"""The time zones a person chooses from: the places in the tz database's zone.tab, grouped by
region and labelled "Lagos (UTC+01:00)", and old names ("Asia/Calcutta", "US/Eastern") read as
the place they now link to.

``zoneinfo.available_timezones()`` is every file in the database: "Factory", "localtime",
"posixrules", forty "Etc/GMT+5"-style zones whose sign is backwards, and a hundred and fifty
deprecated aliases. zone.tab lists one zone per populated region, which is what a picker needs;
tzdata.zi's "L" lines say which zone each alias now is. Both are read from where ``zoneinfo``
reads its zones (the system's, else the tzdata package), so the list matches what can be loaded.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime
from importlib import resources
from pathlib import Path

UTC = "UTC"
# Zones people type or browsers report that mean UTC.
_UTC_NAMES = {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT",
              "GMT0", "GMT+0", "GMT-0", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "Greenwich", "Etc/Greenwich"}  # fmt: skip


def _read(name: str) -> str:
    for folder in zoneinfo.TZPATH:
        path = Path(folder) / name
        if path.is_file():
            return path.read_text(encoding="utf-8")
    try:
        return resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return ""


@functools.cache
def canonical_zones() -> tuple[str, ...]:
    """zone.tab's zones this machine can load, sorted; UTC first."""
    known = zoneinfo.available_timezones()
    listed = {
        line.split("\t")[2]
        for line in _read("zone.tab").splitlines()
        if line and not line.startswith("#") and len(line.split("\t")) > 2
    }
    zones = sorted(listed & known)
    if not zones:  # no zone.tab anywhere: the region/city names, which is most of it
        regions: tuple[str, ...] = (
            "Africa/",
            "America/",
            "Antarctica/",
            "Asia/",
            "Atlantic/",
            "Australia/",
            "Europe/",
            "Indian/",
        )
        regions += ("Pacific/",)
        zones = sorted(name for name in known if name.startswith(regions))
    return (UTC, *zones)


@functools.cache
def _links() -> dict[str, str]:
    """Alias -> the zone it links to, from tzdata.zi ("L Asia/Kolkata Asia/Calcutta")."""
    links: dict[str, str] = {}
    for line in _read("tzdata.zi").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "L":
            links[parts[2]] = parts[1]
    return links


def canonical(name: str) -> str | None:
    """The listed zone ``name`` is or now means; None for one that is not a place
    ("Factory", "EST5EDT", "Etc/GMT+5", a name nobody knows)."""
    listed = set(canonical_zones())
    if name in _UTC_NAMES:
        return UTC
    seen = 0
    while name not in listed and name in _links() and seen < 5:  # links can chain across releases
        name, seen = _links()[name], seen + 1
    return name if name in listed else None


def _offset(name: str, now: datetime) -> str:
    delta = now.astimezone(zoneinfo.ZoneInfo(name)).utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def label(name: str, *, now: datetime) -> str:
    """ "Lagos (UTC+01:00)", "Argentina / Buenos Aires (UTC-03:00)"; the offset as of ``now``
    (summer time changes it)."""
    if name == UTC:
        return "UTC"
    place = name.split("/", 1)[1] if "/" in name else name
    return f"{place.replace('_', ' ').replace('/', ' / ')} ({_offset(name, now)})"


def grouped_choices(*, now: datetime, current: str = "") -> list[tuple[str, object]]:
    """Choices for a select, grouped by region (optgroups); ``current`` (a stored zone that is not
    listed, say "Factory") is kept under "Your current zone" so the form shows and keeps it."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in canonical_zones()[1:]:
        groups.setdefault(name.split("/", 1)[0], []).append((name, label(name, now=now)))
    choices: list[tuple[str, object]] = [(UTC, "UTC")]
    if current and current != UTC and canonical(current) is None:
        try:
            zoneinfo.ZoneInfo(current)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass  # unloadable: the user already sees UTC (User.zone); the form offers the list
        else:
            choices.append(("Your current zone", [(current, f"{current} ({_offset(current, now)})")]))
    choices += [(region, sorted(zones, key=lambda zone: zone[1])) for region, zones in sorted(groups.items())]
    return choices
