"""CSV contacts: Google, Outlook and Thunderbird headers recognised, anything else mapped by hand.

Each column gets a target (``email``, ``address``, ``first_name``…); the label of a phone,
email or address comes from the header ("Mobile Phone" is a mobile number), or from Google's
paired ``… - Type``/``… - Label`` column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from imports.contact import Contact, parse_date
from imports.vcard import decode_file

MAX_COLUMNS = 500
MAX_FIELD = 1_000_000

TARGETS = [
    ("", "— don't import —"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("full_name", "Full name"),
    ("nickname", "Nickname"),
    ("company", "Company"),
    ("job_title", "Job title"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("address", "Address (or part of one)"),
    ("website", "Website"),
    ("social", "Social / chat handle"),
    ("birthday", "Birthday"),
    ("birth_year", "Birth year"),
    ("birth_month", "Birth month"),
    ("birth_day", "Birth day"),
    ("anniversary", "Anniversary"),
    ("notes", "Notes"),
    ("tags", "Tags (separated by , ; or :::)"),
]
TARGET_KEYS = {key for key, _ in TARGETS}

EXACT = {
    "first name": "first_name",
    "given name": "first_name",
    "firstname": "first_name",
    "last name": "last_name",
    "family name": "last_name",
    "surname": "last_name",
    "lastname": "last_name",
    "name": "full_name",
    "display name": "full_name",
    "full name": "full_name",
    "nickname": "nickname",
    "nick name": "nickname",
    "company": "company",
    "organization": "company",
    "organisation": "company",
    "organization name": "company",
    "organization 1 - name": "company",
    "job title": "job_title",
    "organization title": "job_title",
    "organization 1 - title": "job_title",
    "birthday": "birthday",
    "date of birth": "birthday",
    "birth year": "birth_year",
    "birth month": "birth_month",
    "birth day": "birth_day",
    "anniversary": "anniversary",
    "notes": "notes",
    "note": "notes",
    "group membership": "tags",
    "labels": "tags",
    "categories": "tags",
    "tags": "tags",
    "screen name": "social",
}
# Checked in order against the lower-cased header when there is no exact match.
PATTERNS = [
    (re.compile(r"\b(type|label)$"), ""),  # the label column of a Google pair, read with its value
    (re.compile(r"e-?mail"), "email"),
    (re.compile(r"phone|mobile|fax|pager|\btel\b"), "phone"),
    (re.compile(r"street|city|state|postal|zip|country|address|po box|region"), "address"),
    (re.compile(r"web ?page|web ?site|\burl\b"), "website"),
    (re.compile(r"\bim\b|skype|icq|jabber|twitter|linkedin"), "social"),
]
LABELS = [
    ("mobile", re.compile(r"mobile|cell")),
    ("work", re.compile(r"work|business|company")),
    ("home", re.compile(r"home|private|personal")),
    ("fax", re.compile(r"fax")),
    ("pager", re.compile(r"pager")),
    ("main", re.compile(r"main")),
    ("other", re.compile(r"other")),
]
GOOGLE_VALUE = re.compile(r"^(.*) - (value|formatted)$", re.I)


class CsvFileError(ValueError):
    """The file as a whole cannot be read as a table of contacts."""


@dataclass
class CsvTable:
    header: list[str]
    rows: Iterator[list[str]]


def open_csv(data: bytes) -> CsvTable:
    """Decode, sniff the delimiter and read the header; rows stream."""
    if not data.strip():
        raise CsvFileError("The file is empty.")
    data, fallback = decode_file(data)
    text = data.decode(fallback, errors="replace")
    if "\x00" in text[:10_000]:
        raise CsvFileError("This file is not text: it looks like a binary file.")
    # The header row's most frequent separator (csv.Sniffer is slow on long hostile lines, and
    # guessing quoting from a header row gets it wrong).
    first_line = text[:20_000].split("\n", 1)[0]
    delimiter = max(",;\t|", key=first_line.count) if any(d in first_line for d in ",;\t|") else ","
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise CsvFileError("The file has no header row.") from exc
    if len(header) > MAX_COLUMNS:
        raise CsvFileError(f"The file has {len(header):,} columns; the most we read is {MAX_COLUMNS}.")
    header = [h.strip().lstrip("\ufeff")[:200] for h in header]
    if not any(header):
        raise CsvFileError("The first row should name the columns (First Name, E-mail Address…), but it is empty.")
    return CsvTable(header=header, rows=_rows(reader))


def _rows(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as exc:
        raise CsvFileError(
            f"The file stops being a valid CSV at line {getattr(reader, 'line_num', '?')}: {exc}."
        ) from exc


def guess_target(header: str) -> str:
    name = " ".join(header.lower().replace("_", " ").split())
    if name in EXACT:
        return EXACT[name]
    for pattern, target in PATTERNS:
        if pattern.search(name):
            return target
    return ""


def guess_mapping(header: list[str]) -> list[str]:
    return [guess_target(h) for h in header]


def recognised_format(header: list[str]) -> str:
    names = {h.lower() for h in header}
    if {"given name", "family name"} <= names or "e-mail 1 - value" in names:
        return "Google Contacts"
    if "e-mail address" in names or "business phone" in names:
        return "Outlook"
    if {"primary email", "display name"} <= names:
        return "Thunderbird"
    return ""


def _label_of(header: str) -> str:
    name = header.lower()
    words = [label for label, pattern in LABELS if pattern.search(name)]
    return " ".join(words[:2])


def _address_group(header: str) -> str:
    match = GOOGLE_VALUE.match(header) or re.match(r"^(address \d+) - ", header, re.I)
    if match:
        return match[1].lower()
    return _label_of(header) or "address"


@dataclass
class Column:
    index: int
    target: str
    label: str  # from the header ("Mobile Phone" -> mobile), when there is no paired label column
    label_column: int | None  # Google's "Phone 1 - Type" beside "Phone 1 - Value"
    address_group: str
    formatted: bool


def column_plan(header: list[str], mapping: list[str]) -> list[Column]:
    """What to do with each mapped column, worked out once per file rather than per row."""
    label_columns = {}
    for i, name in enumerate(header):
        match = re.match(r"^(.*) - (type|label)$", name, re.I)
        if match:
            label_columns[match[1].lower()] = i
    plan = []
    for i, target in enumerate(mapping[: len(header)]):
        if not target:
            continue
        name = header[i]
        google = GOOGLE_VALUE.match(name)
        group = _address_group(name)
        plan.append(
            Column(
                index=i,
                target=target,
                label="" if google else _label_of(name),
                label_column=label_columns.get(google[1].lower()) if google else label_columns.get(group),
                address_group=group,
                formatted=bool(google and google[2].lower() == "formatted"),
            )
        )
    return plan


def row_to_contact(plan: list[Column], row: list[str]) -> Contact:
    """One CSV row as a Contact, following the column plan."""
    contact = Contact()

    def cell(i: int | None) -> str:
        return row[i].strip() if i is not None and i < len(row) else ""

    full_name = ""
    birth = {"birth_year": "", "birth_month": "", "birth_day": ""}
    addresses: dict[str, list[str]] = {}
    formatted: dict[str, str] = {}
    address_labels: dict[str, str] = {}
    for column in plan:
        value, target = cell(column.index), column.target
        if not value:
            continue
        label = _clean_google_label(cell(column.label_column)) if column.label_column is not None else column.label
        if target in {"first_name", "last_name", "nickname", "company", "job_title"}:
            if not getattr(contact, target):
                setattr(contact, target, value)
        elif target == "full_name":
            full_name = full_name or value
        elif target in {"email", "phone", "website", "social"}:
            for part in value.split(":::"):  # Google puts several values in one cell
                contact.add_method(target, part.strip(), label)
        elif target == "address":
            group = column.address_group
            address_labels.setdefault(group, label if column.label_column is not None else "")
            if column.formatted:
                formatted[group] = value
            else:
                addresses.setdefault(group, []).append(value)
        elif target in birth:
            birth[target] = value
        elif target == "birthday":
            contact.birthday = parse_date(value, what="Birthday", contact=contact, birthday=True)
        elif target == "anniversary":
            contact.anniversary = parse_date(value, what="Anniversary", contact=contact)
        elif target == "notes" and contact.room_for(contact.notes, "notes"):
            contact.notes.append(value.replace("\r\n", "\n").replace("\r", "\n"))
        elif target == "tags":
            for tag in re.split(r":::|[,;]", value):
                contact.add_tag(tag)
    for group, parts in addresses.items():
        value = formatted.pop(group, "") or ", ".join(" ".join(p.split()) for p in parts)
        label = address_labels.get(group, "") or (group if group != "address" else "")
        contact.add_method("address", value.replace("\n", ", "), label)
    for group, value in formatted.items():
        contact.add_method("address", value.replace("\n", ", "), address_labels.get(group, ""))
    month, day, year = birth["birth_month"], birth["birth_day"], birth["birth_year"]
    if month and day and contact.birthday is None:
        if all(v.isascii() and v.isdigit() for v in (month, day)) and len(month) <= 2 and len(day) <= 2:
            known_year = len(year) == 4 and year.isascii() and year.isdigit()
            text = f"{year}-{int(month):02d}-{int(day):02d}" if known_year else f"--{int(month):02d}-{int(day):02d}"
        else:
            text = f"{year}-{month}-{day}"
        contact.birthday = parse_date(text, what="Birthday", contact=contact, birthday=True)
    if not (contact.first_name or contact.last_name) and full_name:
        contact.set_name_from_full(full_name)
    return contact


def _clean_google_label(label: str) -> str:
    label = label.strip().lstrip("* ").strip()
    return "" if label.lower() in {"", "other"} else label.lower()[:50]
