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
    sample = text[:64_000]
    try:
        # Only the delimiter is sniffed: guessing quoting from a header row gets it wrong.
        delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise CsvFileError("The file has no header row.") from exc
    if len(header) > MAX_COLUMNS:
        raise CsvFileError(f"The file has {len(header):,} columns; the most we read is {MAX_COLUMNS}.")
    header = [h.strip().lstrip("\ufeff") for h in header]
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


def row_to_contact(header: list[str], mapping: list[str], row: list[str]) -> Contact:
    """One CSV row as a Contact, following the column mapping."""
    contact = Contact()
    cells = {i: (row[i].strip() if i < len(row) else "") for i in range(len(header))}
    labels_by_prefix = {}
    for i, name in enumerate(header):
        match = re.match(r"^(.*) - (type|label)$", name, re.I)
        if match:
            labels_by_prefix[match[1].lower()] = cells[i]
    full_name = ""
    birth = {"birth_year": "", "birth_month": "", "birth_day": ""}
    addresses: dict[str, list[str]] = {}
    formatted: dict[str, str] = {}
    for i, target in enumerate(mapping[: len(header)]):
        value = cells[i]
        if not value or not target:
            continue
        header_name = header[i]
        google = GOOGLE_VALUE.match(header_name)
        label = _clean_google_label(labels_by_prefix.get(google[1].lower(), "")) if google else _label_of(header_name)
        if target in {"first_name", "last_name", "nickname", "company", "job_title"}:
            if not getattr(contact, target):
                setattr(contact, target, value)
        elif target == "full_name":
            full_name = full_name or value
        elif target in {"email", "phone", "website", "social"}:
            for part in re.split(r"\s*:::\s*", value):  # Google puts several values in one cell
                contact.add_method(target, part, label)
        elif target == "address":
            group = _address_group(header_name)
            if google and google[2].lower() == "formatted":
                formatted[group] = value
            else:
                addresses.setdefault(group, []).append(value)
        elif target in birth:
            birth[target] = value
        elif target == "birthday":
            contact.birthday = parse_date(value, what="Birthday", contact=contact)
        elif target == "anniversary":
            contact.anniversary = parse_date(value, what="Anniversary", contact=contact)
        elif target == "notes":
            contact.notes.append(value.replace("\r\n", "\n").replace("\r", "\n"))
        elif target == "tags":
            for tag in re.split(r"\s*(?::::|[,;])\s*", value):
                contact.add_tag(tag)
    for group, parts in addresses.items():
        value = formatted.pop(group, "") or ", ".join(" ".join(p.split()) for p in parts)
        label = _clean_google_label(labels_by_prefix.get(group, "")) or (group if group != "address" else "")
        contact.add_method("address", value.replace("\n", ", "), label)
    for group, value in formatted.items():
        contact.add_method("address", value.replace("\n", ", "), _clean_google_label(labels_by_prefix.get(group, "")))
    month, day, year = birth["birth_month"], birth["birth_day"], birth["birth_year"]
    if month and day and contact.birthday is None:
        if month.isdigit() and day.isdigit():
            text = f"{year if len(year) == 4 and year.isdigit() else '-'}-{int(month):02d}-{int(day):02d}"
            text = text.replace("---", "--")
        else:
            text = f"{year}-{month}-{day}"
        contact.birthday = parse_date(text, what="Birthday", contact=contact)
    if not (contact.first_name or contact.last_name) and full_name:
        contact.set_name_from_full(full_name)
    return contact


def _clean_google_label(label: str) -> str:
    label = label.strip().lstrip("* ").strip()
    return "" if label.lower() in {"", "other"} else label.lower()[:50]
