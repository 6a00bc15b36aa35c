"""Hostile bytes into the readers: a clear error about the file, or contacts, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports.contact import Contact
from imports.csvfile import CsvFileError, column_plan, guess_mapping, open_csv, row_to_contact
from imports.vcard import VCardFileError, read_vcards

LINES = st.sampled_from(
    [
        b"BEGIN:VCARD", b"END:VCARD", b"VERSION:2.1", b"VERSION:4.0", b"FN:Ann", b"N:Lee;Ann;;;", b" folded",
        b"NOTE;ENCODING=QUOTED-PRINTABLE:caf=C3=A9=", b"=\r\n", b"TEL;CELL:+1 202 555 0100", b"EMAIL:a@b.c",
        b"BDAY:--0229", b"BDAY:19723101", b"ADR;HOME:;;1 St;Town;;;", b"item1.X-ABLabel:_$!<Spouse>!$_",
        b"item1.X-ABRELATEDNAMES:Bo", b"PHOTO;ENCODING=b:AAAA", b"CATEGORIES:a\\,b,c", b'X-Q;A="x:y";B=c:v',
        b"ORG:\\;;x", b"\xff\xfe", b"\x00", b"CHARSET=SHIFT_JIS", b"ADR;CHARSET=utf-16:x",
        b"BDAY:99991231", b"ANNIVERSARY:0001-01-01", b"X-ABDATE:2201-01-01",  # outside the dates kept
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(LINES, st.binary(max_size=40)), max_size=40), st.sampled_from([b"\r\n", b"\n", b"\r\r\n"]))
def test_vcard_reader_never_crashes(lines: list[bytes], newline: bytes) -> None:
    try:
        cards, problem = list(read_vcards(newline.join(lines), max_cards=20)), ""
    except VCardFileError as exc:
        cards, problem = [], str(exc)
    assert not problem or problem.endswith(".")  # a sentence for the user, not a traceback
    for card in cards:
        assert card.error or (card.contact is not None and card.contact.first_name)
        if card.contact is not None:
            assert Contact.from_json(card.contact.as_json()) == card.contact


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(max_size=400) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_csv_reader_never_crashes(data: bytes) -> None:
    problem = ""
    try:
        table = open_csv(data)
        mapping = guess_mapping(table.header)
        plan = column_plan(table.header, mapping)
        for row in table.rows:
            contact = row_to_contact(plan, row)
            assert contact.finish() is None or not contact.first_name
    except CsvFileError as exc:
        problem = str(exc)
    assert not problem or problem.endswith(".")
