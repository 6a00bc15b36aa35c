"""Reading real exporters' files: every vCard and CSV in tests/fixtures (copied from ../shared/corpus)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from imports.contact import Contact
from imports.csvfile import CsvFileError, column_plan, guess_mapping, open_csv, recognised_format, row_to_contact
from imports.vcard import VCardFileError, read_vcards

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VCARDS = [*sorted((FIXTURES / "vcard").glob("*.vcf")), FIXTURES / "csv" / "roundcube_roundcubemail__gmail.vcf"]
CSVS = sorted((FIXTURES / "csv").glob("*.csv"))


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    """Reading a birthday checks it is not in the future: the day is fixed."""
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        yield


def cards(name: str) -> list[Contact]:
    path = FIXTURES / ("csv" if name.startswith("roundcube") else "vcard") / name
    parsed = list(read_vcards(path.read_bytes(), max_cards=1000))
    assert all(p.contact is not None for p in parsed)
    return [p.contact for p in parsed]  # type: ignore[misc]


def one(name: str) -> Contact:
    (contact,) = cards(name)
    return contact


def methods(contact: Contact, kind: str) -> list[str]:
    return [m[2] for m in contact.methods if m[0] == kind]


def test_it_reads_all_forty_real_vcard_files_without_an_error() -> None:
    assert len(VCARDS) == 41  # 40 from exporters' test suites, plus Roundcube's answer key
    total = 0
    for path in VCARDS:
        parsed = list(read_vcards(path.read_bytes(), max_cards=1000))
        assert parsed, path.name
        for card in parsed:
            assert card.contact is not None, (path.name, card.error)
            assert card.error == "", (path.name, card.number, card.error)
            assert card.contact.first_name, (path.name, card.number)
        total += len(parsed)
    assert total == 64


def test_it_keeps_a_gmail_name_with_an_unescaped_comma_whole() -> None:
    # vobject cut this FN at the comma; the card's N gives the structured name.
    contact = one("mangstadt_ez-vcard__John_Doe_GMAIL.vcf")
    assert (contact.first_name, contact.last_name) == ("John", "Doe")
    assert contact.company == "IBM"
    assert contact.job_title == "Money Counter"
    assert contact.birthday == [22, 3, 1980]
    assert contact.anniversary == [1, 3, 1975]
    assert contact.family == [["spouse", "Jenny"]]
    assert methods(contact, "website") == ["http://www.ibm.com"]
    assert 'CONTRIBUTORS "AS IS" AND ANY' in contact.notes[0]
    assert contact.notes[0].endswith("Favotire Color: Blue")


def test_it_keeps_a_full_name_with_commas_when_there_is_no_n() -> None:
    data = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Mr. John Richter, James Doe Sr.\r\nEND:VCARD\r\n"
    (card,) = read_vcards(data, max_cards=10)
    assert f"{card.contact.first_name} {card.contact.last_name}" == "Mr. John Richter, James Doe Sr."


def test_it_decodes_quoted_printable_with_soft_line_breaks() -> None:
    contact = one("CyanogenMod_android_frameworks_opt_vcard__v21_complicated.vcf")
    assert "Now's the time for all folk to come to the aid of their country." in contact.notes
    assert (contact.first_name, contact.last_name) == ("Forrest", "Gump")
    assert contact.birthday == [1, 1, 1980]
    assert contact.photo  # the JPEG that starts on the line after the property name


def test_it_decodes_utf8_quoted_printable_names_from_android() -> None:
    people = cards("mangstadt_ez-vcard__John_Doe_ANDROID.vcf")
    assert len(people) == 6
    assert people[2].first_name == "Ñ Ñ Ñ Ñ"
    assert people[0].emails() == ["john.doe@company.com"]
    # A truncated photo in the exporter's file is left out with a reason, the card still imports.
    assert people[4].warnings == ["The photo is not valid base64; left out."]


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("FolkerKinzel_VCards__Greek.vcf", "Ευάγγελος", "Παπαθανασίου"),  # Windows-1253, no CHARSET
        ("CyanogenMod_android_frameworks_opt_vcard__v21_japanese_2.vcf", "ロイド1", "安藤"),  # Shift_JIS
        ("Kozea_Radicale__vcard-quoted-printable1.vcf", "世勇", "黄"),  # QP UTF-8
        ("KDE_kcontacts__vcard3.vcf", "ian", "geiser"),  # lower-case 2.1
    ],
)
def test_it_decodes_legacy_charsets(name: str, first: str, last: str) -> None:
    contact = cards(name)[0]
    assert (contact.first_name, contact.last_name) == (first, last)


def test_it_decodes_windows_1252_bytes_without_a_charset() -> None:
    contact = one("FolkerKinzel_VCards__AnsiIssue.vcf")
    assert methods(contact, "address") == ["Lämmerweg 12, Kleindorf, 98765, Deutschland"]


def test_it_reads_utf16_with_a_bom() -> None:
    people = cards("FolkerKinzel_VCards__v3Utf16Bom.vcf")
    assert [p.first_name for p in people] == ["Folker", "WSF"]
    assert people[1].company == "KMS Außenstelle"


def test_it_joins_a_utf8_character_split_by_a_fold() -> None:
    contact = one("KDE_kcontacts__vcard9.vcf")
    assert "αβγδ" in contact.first_name
    assert "\ufffd" not in contact.first_name
    assert contact.notes[0].startswith("Длинный комментарий")


def test_it_reads_iphone_cards_with_cr_cr_lf_line_ends() -> None:
    contact = one("mangstadt_ez-vcard__John_Doe_IPHONE.vcf")
    assert (contact.first_name, contact.last_name, contact.nickname) == ("John", "Doe", "Johny")
    assert ["phone", "AssistantPhone", "905-222-1234", False] in contact.methods  # the item label
    assert contact.photo
    assert len(contact.photo) > 40_000


def test_it_names_cards_without_fn_or_n_by_what_they_have() -> None:
    people = cards("Kozea_Radicale__broken-vcards2.vcf")
    assert people[1].first_name == "test-misses-N-or-FN@example1.com"
    takeout = cards("audriga_jmap-php-icalendar_vcard__google_takeout_contacts.vcf")
    assert len(takeout) == 9
    assert takeout[0].first_name == "audriga.test@mailbox.org"


@pytest.mark.parametrize(
    ("name", "birthday"),
    [
        ("mangstadt_ez-vcard__rfc6350-example.vcf", [3, 2, None]),  # --0203
        ("bitfireAT_vcard4android__vcard4.vcf", [16, 4, None]),  # --04-16
        ("Kozea_Radicale__contact4-with-bday-no-year.vcf", [1, 1, None]),  # 1604 placeholder
    ],
)
def test_it_reads_birthdays_without_a_year(name: str, birthday: list[int | None]) -> None:
    assert one(name).birthday == birthday


def test_it_reads_apples_omit_year_birthday() -> None:
    data = b"BEGIN:VCARD\nVERSION:3.0\nN:Doe;Ann;;;\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-04-07\nEND:VCARD\n"
    (card,) = read_vcards(data, max_cards=10)
    assert card.contact.birthday == [7, 4, None]


def test_it_keeps_a_date_without_a_year_outside_1850_to_2200_and_says_so() -> None:
    data = b"BEGIN:VCARD\nVERSION:4.0\nFN:Ann\nBDAY:99991231\nANNIVERSARY:0001-06-15\nX-ABDATE:2201-01-01\nEND:VCARD\n"

    (card,) = read_vcards(data, max_cards=10)

    contact = card.contact
    assert (contact.birthday, contact.anniversary) == ([31, 12, None], [15, 6, None])
    assert contact.dates == [["Other date", 1, 1, None]]
    assert len([w for w in contact.warnings if "the year is outside 1850–2200; kept without the year" in w]) == 3


def test_it_keeps_a_birthday_in_the_future_without_its_year() -> None:
    data = b"BEGIN:VCARD\nVERSION:4.0\nFN:Ann\nBDAY:2026-03-03\nANNIVERSARY:2026-06-15\nEND:VCARD\n"

    (card,) = read_vcards(data, max_cards=10)

    assert card.contact.birthday == [3, 3, None]
    assert card.contact.anniversary == [15, 6, 2026]  # a wedding can be planned
    assert card.contact.warnings == ["Birthday “2026-03-03” is in the future; kept without the year."]


def test_a_csv_birth_year_outside_the_range_is_left_out_with_a_reason() -> None:
    table = open_csv(b"First Name,Birth Year,Birth Month,Birth Day\nAnn,1849,12,31\nBo,1850,1,1\n")
    plan = column_plan(table.header, guess_mapping(table.header))

    ann, bo = (row_to_contact(plan, row) for row in table.rows)

    assert (ann.birthday, bo.birthday) == ([31, 12, None], [1, 1, 1850])
    assert ann.warnings == ["Birthday “1849-12-31”: the year is outside 1850–2200; kept without the year."]


def test_it_leaves_out_an_impossible_birthday_with_a_reason() -> None:
    max_ = cards("FolkerKinzel_VCards__v4.vcf")[1]
    assert max_.birthday is None
    assert any("19723101" in w for w in max_.warnings)
    # A custom-labelled X-ABDATE (upper-case ITEM1 group) is an important date with that label.
    assert max_.dates == [["Hochzeitstag", 7, 7, 2019]]


@pytest.mark.parametrize(
    ("name", "anniversary"),
    [
        ("audriga_jmap-php-icalendar_vcard__horde.vcf", [15, 10, 1912]),  # X-ANNIVERSARY
        ("mangstadt_ez-vcard__outlook-2007.vcf", [1, 8, 2012]),  # X-MS-ANNIVERSARY
        ("KDE_kcontacts__vcard_extension_case_normalization.vcf", [1, 1, 1970]),  # KAddressBook
        ("CyanogenMod_android_frameworks_opt_vcard__v21_winmo_65.vcf", [10, 10, 2009]),
        ("mangstadt_ez-vcard__gmail-single.vcf", [2, 6, 1970]),  # X-ABDATE + Apple label
    ],
)
def test_it_reads_anniversaries_from_every_exporter(name: str, anniversary: list[int]) -> None:
    assert one(name).anniversary == anniversary


def test_it_turns_related_names_into_family_and_keeps_the_rest_in_notes() -> None:
    contact = one("mangstadt_ez-vcard__fullcontact.vcf")
    relations = {name: rel for rel, name in contact.family}
    assert relations["Mother"] == "parent"
    assert relations["Child"] == "child"
    assert relations["Spouse"] == "spouse"
    assert "Manager: Manager" in contact.notes
    evolution = one("mangstadt_ez-vcard__John_Doe_EVOLUTION.vcf")
    assert evolution.family == [["spouse", "Maria"]]
    assert "Manager: Big Blue" in evolution.notes
    thunderbird = one("mangstadt_ez-vcard__thunderbird-MoreFunctionsForAddressBook-extension.vcf")
    assert (thunderbird.family, thunderbird.anniversary) == ([["spouse", "TheSpouse"]], [30, 4, 1990])


def test_it_turns_categories_into_tags_with_escaped_commas() -> None:
    contact = one("mangstadt_ez-vcard__thunderbird-MoreFunctionsForAddressBook-extension.vcf")
    # One escaped category per the RFC, but the add-on meant three, and a tag never holds a comma.
    assert contact.tags == ["category1", "category2", "category3"]
    android = cards("mangstadt_ez-vcard__John_Doe_ANDROID.vcf")[0]
    assert android.tags == []  # Google's "My Contacts" system group is not a tag


def test_it_keeps_grouped_labels_from_apple_and_google() -> None:
    contact = one("mangstadt_ez-vcard__gmail-single2.vcf")
    assert ["email", "CustomEmailCategory", "customcategory@example.com", False] in contact.methods


def test_it_skips_a_nested_agent_card() -> None:
    data = (
        b"BEGIN:VCARD\nVERSION:2.1\nN:Boss;Big\nAGENT:\nBEGIN:VCARD\nVERSION:2.1\nN:Agent;Secret\n"
        b"TEL:555\nEND:VCARD\nTEL:+1 202 555 0100\nEND:VCARD\n"
    )
    (card,) = read_vcards(data, max_cards=10)
    assert (card.contact.first_name, card.contact.phones()) == ("Big", ["+1 202 555 0100"])


CARD = b"BEGIN:VCARD\nVERSION:3.0\nFN:%s\nEND:VCARD\n"
HOSTILE = {
    # name: (file, the names read in order; "" for a card that is reported, not imported)
    "missing END, then two cards": (
        CARD % b"Ann"
        + CARD % b"Ben"
        + CARD % b"Cy"
        + b"BEGIN:VCARD\nVERSION:3.0\nFN:Dee\n"
        + CARD % b"Eve"
        + CARD % b"Fay",
        ["Ann", "Ben", "Cy", "Dee", "Eve", "Fay"],
    ),
    "BEGIN inside a card": (b"BEGIN:VCARD\nFN:Ann\nTEL:555\nBEGIN:VCARD\nFN:Ben\nEND:VCARD\n", ["Ann", "Ben"]),
    "cut off at the end of the file": (CARD % b"Ann" + b"BEGIN:VCARD\nVERSION:3.0\nFN:Ben\nTEL:55", ["Ann", "Ben"]),
    "cut off right after BEGIN": (CARD % b"Ann" + b"BEGIN:VCARD\n", ["Ann", ""]),
    "nested AGENT card": (
        b"BEGIN:VCARD\nVERSION:2.1\nN:Boss;Ann\nAGENT:\nBEGIN:VCARD\nN:Agent;Ben\nEND:VCARD\nEND:VCARD\n"
        + CARD % b"Cy",
        ["Ann", "Cy"],
    ),
    "AGENT card never closed": (
        b"BEGIN:VCARD\nVERSION:2.1\nN:Boss;Ann\nAGENT:\nBEGIN:VCARD\nN:Agent;Ben\nEND:VCARD\n",
        ["Ann"],
    ),
    "duplicated BEGIN": (b"BEGIN:VCARD\nBEGIN:VCARD\nVERSION:3.0\nFN:Ann\nEND:VCARD\n" + CARD % b"Ben", ["Ann", "Ben"]),
    "END without BEGIN": (b"END:VCARD\n" + CARD % b"Ann" + b"END:VCARD\n", ["Ann"]),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_it_reads_every_card_of_a_broken_file_once(name: str) -> None:
    data, names = HOSTILE[name]
    cards = list(read_vcards(data, max_cards=10))
    assert [c.contact.first_name if c.contact and not c.error else "" for c in cards] == names
    assert [c.number for c in cards] == list(range(1, len(names) + 1))


def test_it_says_when_a_card_had_no_end() -> None:
    data, _ = HOSTILE["missing END, then two cards"]
    dee = list(read_vcards(data, max_cards=10))[3]
    assert "no END:VCARD line" in " ".join(dee.contact.warnings)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"   \n\n", "The file is empty."),
        (bytes(range(256)) * 40, "no BEGIN:VCARD"),
        (b"BEGIN:VCARD\nN:A;B\nEND:VCARD\n" * 11, "more than 10 cards"),
    ],
)
def test_it_refuses_files_that_are_not_vcards(data: bytes, message: str) -> None:
    with pytest.raises(VCardFileError, match=message):
        list(read_vcards(data, max_cards=10))


def test_it_reports_a_card_with_nothing_to_recognise_by() -> None:
    data = b"BEGIN:VCARD\nVERSION:3.0\nNOTE:just a note\nEND:VCARD\nBEGIN:VCARD\nFN:Ok\nEND:VCARD\n"
    first, second = read_vcards(data, max_cards=10)
    assert first.error.startswith("No name, email, phone or organisation")
    assert second.error == ""
    assert second.contact.first_name == "Ok"


def test_it_survives_deep_nesting_without_recursion() -> None:
    data = b"BEGIN:VCARD\n" * 50_000 + b"END:VCARD\n" * 50_000
    assert [c.error for c in read_vcards(data, max_cards=10)] == [
        "No name, email, phone or organisation: nothing to recognise this person by."
    ]


# --- CSV ---------------------------------------------------------------------------------------


def csv_contacts(name: str) -> tuple[str, list[Contact]]:
    table = open_csv((FIXTURES / "csv" / name).read_bytes())
    mapping = guess_mapping(table.header)
    plan = column_plan(table.header, mapping)
    contacts = []
    for row in table.rows:
        contact = row_to_contact(plan, row)
        assert contact.finish() is None
        contacts.append(contact)
    return recognised_format(table.header), contacts


def test_it_reads_every_csv_in_the_corpus() -> None:
    assert len(CSVS) == 8
    for path in CSVS:
        _, contacts = csv_contacts(path.name)
        assert contacts, path.name


def test_it_recognises_a_google_csv() -> None:
    kind, (contact,) = csv_contacts("roundcube_roundcubemail__gmail.csv")
    assert kind == "Google Contacts"
    assert (contact.first_name, contact.last_name, contact.nickname) == ("Firstname", "Lastname", "nick")
    assert contact.birthday == [12, 12, 1975]
    assert ["email", "home", "home@aaa.pl", False] in contact.methods
    assert contact.tags == ["Test"]  # "* myContacts" is Google's, not the user's


def test_it_recognises_outlook_and_thunderbird_csvs() -> None:
    kind, (contact,) = csv_contacts("roundcube_roundcubemail__outlook.csv")
    assert kind == "Outlook"
    assert contact.emails() == ["test1@domain.tld", "test2@domain.tld", "test3@domain.tld"]
    kind, (contact,) = csv_contacts("roundcube_roundcubemail__tb_plain.csv")
    assert kind == "Thunderbird"
    assert contact.birthday == [15, 11, 1970]  # three columns: year, month, day
    assert ["phone", "mobile", "mobile", False] in contact.methods


def test_it_reads_quoted_newlines_doubled_quotes_semicolons_and_charsets() -> None:
    _, (_, two) = csv_contacts("mozilla_releases-comm-central__export.csv")
    assert two.job_title == '"worker"'
    assert two.notes == ["here's some unicode text…"]
    _, people = csv_contacts("mozilla_releases-comm-central__csv_semicolon.csv")
    assert [p.emails() for p in people] == [["john@doe.invalid"], ["jane@doe.invalid"]]
    _, (japanese,) = csv_contacts("mozilla_releases-comm-central__shiftjis_addressbook.csv")
    assert (japanese.first_name, japanese.last_name) == ("権兵衛", "名無し")
    _, (utf16,) = csv_contacts("mozilla_releases-comm-central__utf16_addressbook.csv")
    assert utf16.emails() == ["johndoe@host.invalid"]


def test_it_reads_utf16_without_a_bom() -> None:
    table = open_csv("First Name,E-mail Address\r\nAnn,ann@example.com\r\n".encode("utf-16-le"))
    assert table.header == ["First Name", "E-mail Address"]
    assert next(table.rows) == ["Ann", "ann@example.com"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (",".join(f"c{i}" for i in range(10_000)).encode() + b"\n1,2\n", "10,000 columns"),
        (b"\x00\x01\x02binary\x00" * 500, "not text"),
        (b",,,\n1,2,3,4\n", "row should name the columns"),
    ],
)
def test_it_refuses_csvs_it_cannot_read(data: bytes, message: str) -> None:
    with pytest.raises(CsvFileError, match=message):
        open_csv(data)
