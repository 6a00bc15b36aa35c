"""Every message of the email corpus (real mail that real clients wrote, tests/fixtures/email,
see SOURCES.md there) arrives at the user's logging address from an address of theirs, and is
logged with the right person, date and subject, or ignored for the right reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import time_machine

from crm.models import User, Workspace
from inbound import services
from inbound.models import InboundAddress, InboundMessage
from tests.inbound.conftest import FIXTURES, person_with

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class Expect:
    status: str
    people: list[str] = field(default_factory=list)  # the workspace's people the email is logged with
    subject: str = ""
    date: datetime | None = None  # None: the message has no usable date, so it is when it arrived
    reason: str = ""  # words of the reason it was not logged
    body: str = ""  # words the cleaned body has
    direction: str = ""
    also: list[str] = field(default_factory=list)  # people in the workspace it must not be logged with


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


LOGGED, IGNORED = "logged", "ignored"
CORPUS = {
    "MailCore_mailcore2__1015-windows-1252.eml": Expect(IGNORED, reason="Nobody but you", body="wasn’t showing up"),
    "MailCore_mailcore2__4851-chinese.eml": Expect(IGNORED, reason="mailing-list"),
    "MailCore_mailcore2__989-encoding-7.eml": Expect(IGNORED, reason="Nobody but you", body="Тестовое сообщение"),
    "SpamScope_mail-parser__mail_test_12.eml": Expect(
        LOGGED, ["danglüe@email.com"], "代开各地增值税发票", at(2018, 5, 13, 4, 32, 22), body="增值税发票"
    ),
    "SpamScope_mail-parser__mail_test_13.eml": Expect(IGNORED, reason="mailing-list"),
    "SpamScope_mail-parser__mail_test_18.eml": Expect(
        LOGGED, ["tony.stark@example.com", "John.Doe@Example.com"], "Test for Comma and Name Bugs",
        at(2025, 11, 3, 17, 23), body="This is a test email body.",
    ),
    "django-helpdesk_django-helpdesk__forwarded-message.eml": Expect(
        LOGGED, ["noreply@github.com"], "[GitHub API] Update notice for access token [SEC=UNOFFICIAL]",
        at(2021, 4, 6, 7, 9), body="Hello there!", direction="received", also=["recipient@domain.tld"],
    ),
    "django-helpdesk_django-helpdesk__utf-nondecodable.eml": Expect(
        LOGGED, ["nikola@example.cz"], "Cyklozaměstnavatel - změna vyhodnocení", at(2020, 1, 9, 15, 24, 28),
        body="Ahoj Johne", direction="received", also=["helpdesk@example.cz", "jiri.houdek@example.cz"],
    ),
    "ikvk_imap_tools__attachment_7bit.eml": Expect(
        LOGGED, ["group@company.ru"], "статус", at(2017, 10, 11, 8, 54, 32), body="Новый заказ",
        direction="received", also=["jessica.schmidt@uni.de"],
    ),
    "mailgun_talon__android.eml": Expect(LOGGED, ["bob@xxx.mailgun.org"], "Re: Test", at(2012, 4, 2, 14, 22, 10)),
    "mailgun_talon__apple_mail_2.eml": Expect(
        LOGGED, ["tgwizard@gmail.com"], "Re: Hello there", at(2015, 8, 22, 17, 22, 20)
    ),
    "mailgun_talon__gmail.eml": Expect(LOGGED, ["bob@example.com"], "Re: Test", at(2012, 4, 2, 16, 21, 52)),
    "mailgun_talon__iphone.eml": Expect(LOGGED, ["bob@example.com"], "Re: Test", at(2012, 4, 3, 12, 23, 59)),
    "mailgun_talon__outlook.eml": Expect(LOGGED, ["you@example.com"], "Test", None, also=["xxx@xxx.mailgun.org"]),
    "mailgun_talon__sparrow.eml": Expect(LOGGED, ["bob@example.com"], "Re: Test", at(2012, 4, 3, 12, 58, 35)),
    "mailgun_talon__thunderbird.eml": Expect(LOGGED, ["xxx@gmail.com"], "Re: Test", at(2012, 4, 2, 14, 27, 8)),
    "mailgun_talon__yahoo.eml": Expect(LOGGED, ["bob@xxx.mailgun.org"], "Re: Test", at(2012, 4, 2, 13, 45, 30)),
    "mikel_mail__bad_date_header.eml": Expect(IGNORED, reason="Precedence: junk"),
    "mikel_mail__content_transfer_encoding_empty.eml": Expect(LOGGED, ["brucegemini@yahoo.com.tw"], "4d8119", None),
    "mikel_mail__japanese_shift_jis.eml": Expect(
        LOGGED, ["unknown@example.com"], "test", at(2014, 5, 28, 8, 18, 19), body="このメールはテスト用のメールです"
    ),
    "mikel_mail__raw_email2.eml": Expect(
        LOGGED, ["xxxxxxxx@xxx.com"], "Signed email causes file attachments", at(2005, 5, 8, 11, 17),
        body="Just started to use", direction="received", also=["xxxxx@xxxxxxxxx.com"],
    ),
    "mikel_mail__raw_email_with_illegal_boundary.eml": Expect(
        LOGGED, ["mikel@me.nowhere"], "Testing outlook", at(2007, 10, 21, 9, 38, 13), body="This is an outlook test"
    ),
    "nodemailer_mailparser__delivery-status.eml": Expect(IGNORED, reason="bounce"),
    "nodemailer_mailparser__nodemailer.eml": Expect(
        LOGGED, ["andris+123@kreata.ee", "andris.reinman@gmail.com"], "Nodemailer is unicode friendly ✔",
        at(2016, 10, 13, 11, 39, 48), body="Hello to myself",
    ),
    "nodemailer_mailparser__spam.eml": Expect(
        LOGGED, ["leon.struck@web.de"], "123.042 Euro pro Jahr", at(2015, 11, 24, 0, 35, 26), body="Im Jahre 2007"
    ),
    "php-mime-mail-parser_php-mime-mail-parser__issue158a.eml": Expect(
        LOGGED, ["example@example.co.uk"], "Test 5", at(2017, 3, 6, 14, 54, 1), body="An original PLAIN TEXT",
        direction="sent",
    ),
    "sisimai_set-of-emails__lhost-office365-09.eml": Expect(IGNORED, reason="bounce"),
    "sisimai_set-of-emails__lhost-sendmail-14.eml": Expect(IGNORED, reason="forwarded message is a bounce"),
    "sisimai_set-of-emails__rfc3834-01.eml": Expect(IGNORED, reason="Auto-Submitted"),
    "sisimai_set-of-emails__rfc3834-02.eml": Expect(IGNORED, reason="automatic reply"),
}  # fmt: skip


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.eml")) == sorted(CORPUS)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_it_handles_each_real_message(name: str, owner: User, workspace: Workspace, address: InboundAddress) -> None:
    expect = CORPUS[name]
    owner.time_zone = "Europe/Berlin"  # forwards write the original's date without a zone
    owner.save()
    raw = (FIXTURES / name).read_bytes()
    from inbound.parsing import parse

    sender = parse(raw, tz=owner.zone, own_addresses=set()).sender
    assert sender is not None
    services.sender_approve(address=address, email=sender[1])  # the message was written by the user
    people = {email.lower(): person_with(workspace, email) for email in expect.people}
    for email in expect.also:
        person_with(workspace, email)

    with time_machine.travel(NOW, tick=False):
        message = services.message_receive(raw=raw, recipients=[address.email])

    assert message is not None
    assert message.status == expect.status, message.reason
    assert expect.reason in message.reason
    assert expect.body in message.body
    assert InboundMessage.objects.count() == 1
    if expect.status != LOGGED:
        assert message.interaction is None
        return
    interaction = message.interaction
    assert interaction is not None
    assert interaction.kind == "email"
    assert interaction.summary.startswith(expect.subject)
    assert interaction.occurred_at == (expect.date or NOW)
    assert set(interaction.people.all()) == set(people.values())
    if expect.direction:
        assert message.direction == expect.direction
    for person in people.values():
        person.refresh_from_db()
        assert person.last_contacted_at == interaction.occurred_at  # the stay-in-touch clock starts again
    assert f"/settings/email/messages/{message.pk}/" in interaction.notes
