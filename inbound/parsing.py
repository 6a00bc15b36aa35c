"""Reading one received email: its header, bodies, attachments, and the message it forwards.

Python's ``email`` package (``policy.default``) does the MIME work; what it leaves to us is
what real mail gets wrong: raw 8-bit headers, charsets that lie or that Python does not know,
a boundary with an unquoted ``=``, and the forwarded original, which mail clients write as
text in a dozen languages. Nothing here raises on bad input: a field that cannot be read is
empty, and the caller decides what an email without it means.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import tzinfo as TzInfo
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

import nh3
from charset_normalizer import from_bytes
from dateutil import parser as dateparser
from mailparser_reply import EmailReplyParser

Address = tuple[str, str]  # (display name, lower-cased address)

# Languages whose quoted-reply and signature markers mail-parser-reply knows and we read.
REPLY_LANGUAGES = ["en", "de", "fr", "it", "es", "nl", "pl", "sv", "cs", "ja"]


@dataclass
class Attachment:
    name: str
    size: int


@dataclass
class Original:
    """The message a forward carries: who wrote it, to whom, when, and what it said."""

    sender: Address | None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    date: datetime | None = None
    subject: str = ""
    text: str = ""
    html: str = ""
    message_id: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    is_bounce: bool = False


@dataclass
class Parsed:
    message_id: str
    subject: str
    sender: Address | None
    to: list[Address]
    cc: list[Address]
    date: datetime | None
    text: str
    html: str
    attachments: list[Attachment]
    ignore: str  # why this is not a conversation to log ("" when it is one)
    original: Original | None
    headers: list[tuple[str, str]]
    recipients_seen: list[str]  # every address the message says it was delivered to


def read(raw: bytes) -> EmailMessage:
    """The message, with a boundary that Python could not read repaired when possible."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg.is_multipart() or msg.get_content_maintype() != "multipart":
        return msg
    # "boundary=----=_NextPart_000" without quotes: Python stops the value at "=" and finds no
    # part. Quote what the header really says and read it again.
    raw_type = _raw_header(msg, "Content-Type")
    match = re.search(r'boundary=(?!")([^;\s]+)', raw_type, re.IGNORECASE)
    if match:
        fixed = raw_type.replace(match.group(0), f'boundary="{match.group(1)}"')
        head, sep, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw[:65536] else raw.partition(b"\n\n")
        head = re.sub(
            rb"(?im)^content-type:.*(?:\r?\n[ \t].*)*",
            ("Content-Type: " + fixed).encode("ascii", "surrogateescape"),
            head,
            count=1,
        )
        again = email.message_from_bytes(head + sep + body, policy=email.policy.default)
        if again.is_multipart():
            return again
    return msg


def _raw_header(msg: Message, name: str) -> str:
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def _undo_8bit(text: str) -> str:
    """Raw 8-bit bytes in a header arrive as surrogates: decode them as what they most likely are."""
    if not re.search("[\udc80-\udcff]", text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        return str(best) if best is not None else data.decode("latin-1")


def header_text(msg: Message, name: str) -> str:
    """A header as text, RFC 2047 words decoded, raw 8-bit bytes guessed, never an exception."""
    raw = _raw_header(msg, name)
    if not raw:
        return ""
    if re.search("[\udc80-\udcff]", raw):
        value = _undo_8bit(raw)
    else:
        try:
            value = str(make_header(decode_header(raw)))
        except Exception:  # a broken encoded word: show it as written
            value = raw
    return re.sub(r"\s*\r?\n\s*", " ", value).strip()


def _clean_address(value: str) -> str:
    value = value.strip().strip("<>").strip().lower()
    return value if re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+", value) else ""


def addresses(msg: Message, name: str) -> list[Address]:
    """The (name, address) pairs of an address header; malformed entries are left out."""
    found: list[Address] = []
    try:
        header = msg[name]
        if header is None:
            return []
        if hasattr(header, "addresses"):
            pairs = [(a.display_name, a.addr_spec) for a in header.addresses]
        else:  # Delivered-To, X-Original-To: headers the parser does not know hold addresses
            pairs = getaddresses([_raw_header(msg, name)])
    except Exception:  # a header the parser cannot split: fall back to the forgiving splitter
        pairs = getaddresses([_raw_header(msg, name)])
    for display, addr in pairs:
        cleaned = _clean_address(_undo_8bit(addr))
        if cleaned:
            found.append((_undo_8bit(display).strip().strip('"'), cleaned))
    return found


def message_date(msg: Message) -> datetime | None:
    raw = _raw_header(msg, "Date").strip()
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    # "-0000" says "time zone unknown": read it as UTC, as RFC 5322 suggests.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _decode(data: bytes, charset: str | None) -> str:
    for candidate in [charset, "utf-8"] if charset else ["utf-8"]:
        try:
            return data.decode(candidate or "utf-8")
        except (LookupError, UnicodeDecodeError):
            continue
    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", "replace")


def text_of(part: Message) -> str:
    """A text part's content, whatever its charset says (unknown, wrong or missing)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    return _decode(payload, part.get_content_charset())


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment" or (
        bool(part.get_filename()) and part.get_content_maintype() != "text"
    )


def _walk(msg: Message) -> list[Message]:
    """The parts of this message, not descending into attached messages."""
    parts: list[Message] = []

    def visit(part: Message) -> None:
        if part.is_multipart() and part.get_content_type() != "message/rfc822":
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    visit(sub)
        else:
            parts.append(part)

    visit(msg)
    return parts


def bodies(msg: Message) -> tuple[str, str, list[Attachment]]:
    """The first plain text, the first HTML, and the attachments (name and size)."""
    text = html_body = ""
    found: list[Attachment] = []
    for part in _walk(msg):
        ctype = part.get_content_type()
        if ctype == "message/rfc822" or _is_attachment(part):
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else len(str(part.get_payload()))
            name = ""
            try:
                name = part.get_filename() or ""
            except Exception:
                name = ""
            found.append(Attachment(name=_undo_8bit(name) or _unnamed(part), size=size))
        elif ctype == "text/plain" and not text:
            text = text_of(part)
        elif ctype == "text/html" and not html_body:
            html_body = text_of(part)
    if not msg.is_multipart() and msg.get_content_maintype() == "multipart":
        text = text or text_of(msg)  # parts Python could not split: the body as it came
    return text.replace("\r\n", "\n"), html_body, found


def _unnamed(part: Message) -> str:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return (header_text(inner[0], "Subject") or "forwarded message") + ".eml"
    return f"unnamed ({part.get_content_type()})"


# HTML kept for display: text formatting, links and tables; never images (a remote image is a
# tracking pixel), styles or scripts.
HTML_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip


def sanitise_html(value: str) -> str:
    """An email's HTML made safe to show: nh3 with no images, styles or scripts."""
    return nh3.clean(
        value,
        tags=HTML_TAGS,
        clean_content_tags={"script", "style", "title", "head"},
        attributes={"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def html_to_text(value: str) -> str:
    """Plain text of an HTML-only email, line breaks where blocks end."""
    marked = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h\d|blockquote)>", "\n", value)
    stripped = nh3.clean(marked, tags=set(), clean_content_tags={"script", "style", "title", "head"})
    text = html.unescape(stripped).replace("\xa0", " ")
    return re.sub(r"\n[ \t]*\n([ \t]*\n)+", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def clean_body(text: str) -> str:
    """The new text of a message: quoted history and signature removed (mail-parser-reply)."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return ""
    try:
        replies = EmailReplyParser(languages=REPLY_LANGUAGES).read(text=text).replies
        cleaned = replies[0].body if replies else text
    except Exception:  # the library's regexes on a pathological body: keep the whole text
        cleaned = text
    return _drop_quotes(cleaned.strip()) or text


ATTRIBUTION_END = re.compile(r"(wrote|schrieb|a écrit|ha scritto|escribió|schreef|napsal|написал|написала|skrev):\s*$")


ATTRIBUTION_START = re.compile(r"^\s*(on|am|le|il|el|op|dne|den|\d)\b", re.IGNORECASE)


def _drop_quotes(text: str) -> str:
    """Quoted lines the library left (bottom-posting, languages it does not know), with the
    "On ... wrote:" line above them."""
    lines = text.split("\n")
    kept: list[str] = []
    for line in lines:
        if line.startswith(">"):
            while kept and not kept[-1].strip():
                kept.pop()
            if kept and ATTRIBUTION_END.search(" ".join(kept[-2:])):
                start = -2 if len(kept) > 1 and ATTRIBUTION_START.match(kept[-2]) else -1
                del kept[start:]
            continue
        kept.append(line)
    return "\n".join(kept).strip()


# ---- ignore rules ------------------------------------------------------------------------

AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autoreply|out of (the )?office|abwesend|abwesenheitsnotiz|"
    r"automatische antwort|réponse automatique|absence du bureau|risposta automatica|respuesta automática)\b",
    re.IGNORECASE,
)
BOUNCE_SENDERS = re.compile(r"(^|[<\s])(mailer-daemon|postmaster|mail-daemon|mailer_daemon)(@|>|$)", re.IGNORECASE)


def ignore_reason(msg: Message, own_addresses: set[str]) -> str:
    """Why a message is not a conversation: automatic, list or bounce mail, or Rapport's own."""
    ctype = msg.get_content_type()
    sender = addresses(msg, "From")
    sender_address = sender[0][1] if sender else ""
    if ctype == "multipart/report" or BOUNCE_SENDERS.search(sender_address):
        return "a bounce (delivery report)"
    auto = header_text(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"an automatic message (Auto-Submitted: {auto})"
    if any(header_text(msg, h) for h in ("X-Autoreply", "X-Autorespond", "X-MS-Exchange-Inbox-Rules-Loop")):
        return "an automatic reply"
    if AUTO_SUBJECT.match(header_text(msg, "Subject")):
        return "an automatic reply (out of office)"
    if header_text(msg, "List-Id") or header_text(msg, "List-Unsubscribe"):
        return "mailing-list mail (List-Id)"
    precedence = header_text(msg, "Precedence").lower()
    if precedence in {"bulk", "list", "junk"}:
        return f"bulk mail (Precedence: {precedence})"
    if sender_address and sender_address in own_addresses:
        return "sent by Rapport itself"
    if header_text(msg, "Return-Path").strip() == "<>":
        return "an automatic message (empty Return-Path)"
    return ""


# ---- forwards ----------------------------------------------------------------------------

FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|fw|wg|tr|rv|enc|i|vs|vb|doorst|pd|trs|fs|転送|转发)\s*:", re.IGNORECASE)
REPLY_SUBJECT = re.compile(r"^\s*(re|aw|sv|antw|réf|ref|odp|vá|ynt|回复|答复|返信)\s*(\[\d+\])?\s*:", re.IGNORECASE)

DASHED = re.compile(r"^\s*[-–—]{2,}\s*([^-–—].{2,60}?)\s*[-–—]{2,}\s*$")
BEGIN_FORWARDED = re.compile(
    r"^\s*(begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié|"
    r"inizio messaggio inoltrato|comienzo del mensaje reenviado|begin doorgestuurd bericht)\s*:\s*$",
    re.IGNORECASE,
)
UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
# Words of a dashed line that says "the message I reply to", not "the message I forward".
ORIGINAL_WORDS = ("original", "ursprüngliche", "d'origine", "originale", "oorspronkelijk", "původní", "исходное")

HEADER_KEYS = {
    "from": ("from", "von", "de", "da", "van", "od", "от", "från", "fra", "lähettäjä", "feladó"),
    "date": ("date", "sent", "gesendet", "envoyé", "datum", "data", "inviato", "enviado", "enviado el", "verzonden",
             "skickat", "sendt", "odesláno", "дата", "отправлено", "envoyé le", "sent on"),
    "to": ("to", "an", "à", "a", "para", "aan", "till", "til", "komu", "кому", "pour", "per"),
    "cc": ("cc", "kopie", "копия", "cc."),
    "subject": ("subject", "betreff", "objet", "oggetto", "asunto", "onderwerp", "ämne", "emne", "předmět", "тема",
                "assunto", "aihe", "tárgy"),
}  # fmt: skip
KEY_OF = {word: key for key, words in HEADER_KEYS.items() for word in words}
HEADER_LINE = re.compile(r"^\s*([^\W\d_][^:]{0,20}?)\s?:\s*(.*)$")
EMAIL_IN_TEXT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)*")

MONTHS = {
    # German, French, Italian, Spanish, Dutch, Czech (genitive) month names to English.
    "januar": "January", "jänner": "January", "janvier": "January", "gennaio": "January", "enero": "January",
    "januari": "January", "ledna": "January", "februar": "February", "février": "February", "febbraio": "February",
    "febrero": "February", "februari": "February", "února": "February", "märz": "March", "mars": "March",
    "marzo": "March", "maart": "March", "března": "March", "avril": "April", "aprile": "April", "abril": "April",
    "dubna": "April", "mai": "May", "maggio": "May", "mayo": "May", "mei": "May", "května": "May", "juni": "June",
    "juin": "June", "giugno": "June", "junio": "June", "června": "June", "juli": "July", "juillet": "July",
    "luglio": "July", "julio": "July", "července": "July", "août": "August", "agosto": "August",
    "augustus": "August", "srpna": "August", "septembre": "September", "settembre": "September",
    "septiembre": "September", "září": "September", "oktober": "October", "octobre": "October",
    "ottobre": "October", "octubre": "October", "října": "October", "novembre": "November",
    "noviembre": "November", "listopadu": "November", "dezember": "December", "décembre": "December",
    "dicembre": "December", "diciembre": "December", "prosince": "December",
}  # fmt: skip
NOISE_WORDS = re.compile(
    r"\b(montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|"
    r"dimanche|lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica|lunes|martes|miércoles|jueves|viernes|"
    r"sábado|domingo|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|um|à|alle|a las|om|at|le|el|de|"
    r"del|der|den)\b\.?",
    re.IGNORECASE,
)
JAPANESE_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_loose_date(value: str, tz: TzInfo) -> datetime | None:
    """A date as a mail client wrote it in a forward, in any of the languages above."""
    value = value.strip()
    if not value:
        return None
    try:  # the RFC 5322 form (Thunderbird, Gmail's newer forwards); it reads "1:17 PM" as 01:17
        parsed = None if re.search(r"\b[ap]\.?m\b", value, re.IGNORECASE) else parsedate_to_datetime(value)
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    except (TypeError, ValueError, IndexError):
        pass
    japanese = JAPANESE_DATE.search(value)
    if japanese:
        y, mo, d, h, mi, s = (int(g or 0) for g in japanese.groups())
        try:
            return datetime(y, mo, d, h, mi, s, tzinfo=tz)
        except ValueError:
            return None
    words = re.sub(r"\b(\w+)\b", lambda m: MONTHS.get(m.group(1).lower(), m.group(1)), value)
    words = NOISE_WORDS.sub(" ", words).replace(",", " ")
    try:
        parsed = dateparser.parse(words, dayfirst="." in value)
    except (ValueError, OverflowError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _address_of(value: str) -> Address | None:
    found = EMAIL_IN_TEXT.search(value)
    if not found:
        return None
    name = value[: found.start()].strip().rstrip("<[(").strip().strip('"').strip()
    name = re.sub(r"\s*\[?mailto:?$", "", name).strip().strip('"')
    return name, found.group(0).lower()


def _address_list(value: str) -> list[Address]:
    out: list[Address] = []
    for chunk in re.split(r"[;,](?=[^>\]]*(?:<|\[|$|\s*[\w.+'-]+@))", value):
        addr = _address_of(chunk)
        if addr:
            out.append(addr)
    return out


def _header_block(lines: list[str], start: int) -> tuple[dict[str, str], int] | None:
    """The From/Date/To/Subject block starting at ``lines[start]`` (blank lines skipped), and
    the index of the line after it; None when there is no block with a From there."""
    i = start
    while i < len(lines) and not lines[i].strip():
        i += 1
    fields: dict[str, str] = {}
    last = ""
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            break
        match = HEADER_LINE.match(line)
        key = KEY_OF.get(match.group(1).strip().lower()) if match else None
        if match and key:
            fields.setdefault(key, match.group(2).strip())
            last = key
        elif match and fields and match.group(1).strip().lower() in {"message-id", "reply-to", "bcc", "importance"}:
            last = ""
        elif last in {"to", "cc", "subject"} and fields:
            fields[last] += " " + line.strip()  # a long To or Subject wrapped onto the next line
        else:
            break
        i += 1
    if "from" not in fields or not ({"date", "subject", "to"} & fields.keys()):
        return None
    return fields, i


def _unquote(lines: list[str]) -> list[str]:
    return [re.sub(r"^> ?", "", line) for line in lines]


def inline_forward(text: str, subject: str, tz: TzInfo) -> Original | None:
    """The original of a forward written into the body (Gmail, Outlook, Apple Mail, Thunderbird)."""
    lines = text.replace("\r\n", "\n").split("\n")
    forward_subject = bool(FORWARD_SUBJECT.match(subject))
    reply_subject = bool(REPLY_SUBJECT.match(subject))
    for index, line in enumerate(lines):
        dashed = DASHED.match(line)
        if dashed:
            says_original = any(word in dashed.group(1).lower() for word in ORIGINAL_WORDS)
            is_forward = forward_subject or not says_original or not reply_subject
        elif BEGIN_FORWARDED.match(line):
            is_forward = True
        elif UNDERSCORES.match(line) or (HEADER_LINE.match(line) and (index == 0 or not lines[index - 1].strip())):
            is_forward = forward_subject
            if not UNDERSCORES.match(line):
                index -= 1  # the block starts on this very line
        else:
            continue
        if not is_forward:
            continue
        rest = lines[index + 1 :]
        quoted = any(line.startswith(">") for line in rest[:3] if line.strip())
        if quoted:
            rest = _unquote(rest)
        block = _header_block(rest, 0)
        if block is None:
            continue
        fields, end = block
        sender = _address_of(fields["from"])
        if sender is None and fields["from"].strip():
            sender = (fields["from"].strip(), "")
        body = "\n".join(rest[end:]).strip("\n")
        return Original(
            sender=sender,
            to=_address_list(fields.get("to", "")),
            cc=_address_list(fields.get("cc", "")),
            date=parse_loose_date(fields.get("date", ""), tz),
            subject=fields.get("subject", "").strip(),
            text=body,
            is_bounce=bool(sender and BOUNCE_SENDERS.search(sender[1] or sender[0])),
        )
    return None


def attached_forward(msg: Message) -> Original | None:
    """The original of a forward sent as an attachment (message/rfc822)."""
    for part in _walk(msg):
        if part.get_content_type() != "message/rfc822":
            continue
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message):
            continue
        text, html_body, found = bodies(inner)
        sender = addresses(inner, "From")
        return Original(
            sender=sender[0] if sender else None,
            to=addresses(inner, "To"),
            cc=addresses(inner, "Cc"),
            date=message_date(inner),
            subject=header_text(inner, "Subject"),
            text=text or html_to_text(html_body),
            html=html_body,
            message_id=header_text(inner, "Message-ID"),
            attachments=found,
            is_bounce=inner.get_content_type() == "multipart/report"
            or bool(sender and BOUNCE_SENDERS.search(sender[0][1])),
        )
    return None


RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To", "Cc")


def parse(raw: bytes, *, tz: TzInfo, own_addresses: set[str]) -> Parsed:
    """Everything Rapport reads from one message."""
    msg = read(raw)
    subject = header_text(msg, "Subject")
    text, html_body, found = bodies(msg)
    plain = text or html_to_text(html_body)
    original = attached_forward(msg) or inline_forward(plain, subject, tz)
    if original is not None and not original.message_id:
        original.message_id = header_text(msg, "X-Forwarded-Message-Id")
    seen: list[str] = []
    for name in RECIPIENT_HEADERS:
        seen += [addr for _, addr in addresses(msg, name)]
    for received in msg.get_all("Received") or []:
        seen += [m.lower() for m in re.findall(r"\bfor\s+<?([^\s<>;]+@[^\s<>;]+)>?", str(received))]
    sender = addresses(msg, "From")
    return Parsed(
        message_id=header_text(msg, "Message-ID"),
        subject=subject,
        sender=sender[0] if sender else None,
        to=addresses(msg, "To"),
        cc=addresses(msg, "Cc"),
        date=message_date(msg),
        text=plain,
        html=html_body,
        attachments=found,
        ignore=ignore_reason(msg, own_addresses),
        original=original,
        headers=[(k, _undo_8bit(str(v))[:2000]) for k, v in msg.raw_items()],
        recipients_seen=seen,
    )
