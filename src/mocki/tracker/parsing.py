"""Raw RFC 822 messages into what the tracker keeps: headers, one text body, links, thread and dedupe keys.

Mail in the wild is messy, so everything here is lenient: the legacy (compat32) parser never
raises on bad structure, transfer encodings (quoted-printable, base64) are undone per part,
charsets are decoded with the aliases mail clients actually mean (GB2312 text is usually GBK,
ISO-8859-1 is usually Windows-1252), and an HTML-only message is turned into text. A message
with nothing readable raises `MalformedMessage`, which the sync reports and moves past.
"""

from __future__ import annotations

import codecs
import email
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from mocki.core.timeutil import as_utc

MAX_BODY_CHARS = 50_000
MAX_LINKS = 50
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_URL = re.compile(r"""https?://[^\s<>"'()\[\]{}]+""", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u200b]+")

# What mail clients mean by a declared charset (the WHATWG encoding standard does the same).
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "tis-620": "cp874",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "utf8": "utf-8",
}


class MalformedMessage(ValueError):
    """A message with nothing the tracker can read; the reason is shown to the user."""


@dataclass(frozen=True)
class Link:
    url: str
    text: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"url": self.url, "text": self.text}


@dataclass(frozen=True)
class ParsedEmail:
    message_key: str
    message_id: str
    thread_key: str
    subject: str
    sender_name: str
    sender_address: str
    sent_at: datetime | None
    body: str
    links: list[Link]
    size_bytes: int
    defects: list[str] = field(default_factory=list)

    @property
    def sender(self) -> str:
        if self.sender_name and self.sender_address:
            return f"{self.sender_name} <{self.sender_address}>"
        return self.sender_name or self.sender_address


# ------------------------------------------------------------------------------------ decoding


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of `data` in its declared charset, with the usual aliases; never raises."""
    name = (charset or "utf-8").strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        codecs.lookup(name)
    except LookupError:
        name = "utf-8"
    try:
        return data.decode(name)
    except UnicodeDecodeError:
        pass
    if name != "utf-8":
        return data.decode(name, errors="replace")
    # Undeclared or wrongly declared 8-bit text: Windows-1252 decodes every byte.
    return data.decode("cp1252", errors="replace")


def decode_header_value(value: object) -> str:
    """An RFC 2047 header (encoded words in any charset) as one line of text."""
    if value is None:
        return ""
    raw = str(value)
    try:
        parts = decode_header(raw)
    except Exception:  # a broken encoded word: keep the raw text
        return " ".join(raw.split())
    out: list[str] = []
    for chunk, charset in parts:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return " ".join("".join(out).split())


def normalise_message_id(value: str) -> str:
    """The id without angle brackets and spaces; the first one when a header holds several."""
    found = _MESSAGE_ID.search(value or "")
    return (found.group(1) if found else (value or "").strip().strip("<>")).strip()


def message_ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# ------------------------------------------------------------------------------------ HTML


class _HTMLText(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "title", "noscript", "template"})
    _BLOCK = frozenset(
        {"p", "div", "br", "tr", "table", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
         "blockquote", "section", "article", "header", "footer", "hr", "td"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[Link] = []
        self._skip = 0
        self._href: str | None = None
        self._anchor: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n- " if tag == "li" else ("\t" if tag == "td" else "\n"))
        if tag == "a":
            self._href = dict(attrs).get("href") or None
            self._anchor = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag in self._BLOCK and tag not in {"br", "td"}:
            self.parts.append("\n")
        if tag == "a" and self._href is not None:
            href = self._href.strip()
            if href.lower().startswith(("http://", "https://")):
                self.links.append(Link(href, " ".join("".join(self._anchor).split())[:200]))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.parts.append(data)
        if self._href is not None:
            self._anchor.append(data)


def html_to_text(html: str) -> tuple[str, list[Link]]:
    """Readable text of an HTML body (scripts, styles and the head dropped) and its links."""
    parser = _HTMLText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; this is for the truly broken
        return tidy(re.sub(r"<[^>]*>", " ", html)), []
    return tidy("".join(parser.parts)), parser.links


def tidy(text: str) -> str:
    lines = [
        _SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def text_links(text: str) -> list[Link]:
    return [Link(url.rstrip(".,;:!?")) for url in _URL.findall(text)]


# ---------------------------------------------------------------------------------- messages


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment" or bool(part.get_filename())


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload, part.get_content_charset())


def _bodies(msg: Message) -> tuple[str, str]:
    """The first plain and the first HTML text part that is not an attachment."""
    plain = html = ""
    for part in msg.walk():
        if part.is_multipart() or _is_attachment(part):
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and not plain:
            plain = _part_text(part)
        elif kind == "text/html" and not html:
            html = _part_text(part)
        elif not msg.is_multipart() and part.get_content_maintype() != "text" and not plain:
            # A single-part message with a wrong type still usually carries text.
            plain = _part_text(part)
    return plain, html


def _body_and_links(msg: Message) -> tuple[str, list[Link]]:
    plain, html = _bodies(msg)
    html_text, html_links = html_to_text(html) if html else ("", [])
    plain_text = tidy(plain)
    # A plain part that is only "view this email in your browser" loses to its HTML twin.
    use_html = bool(html_text) and (
        not plain_text or (len(plain_text) < 200 and len(html_text) > 2 * len(plain_text))
    )
    body = html_text if use_html else plain_text
    links = html_links + text_links(plain_text) + text_links(html_text)
    unique: dict[str, Link] = {}
    for link in links:
        if link.url not in unique or (link.text and not unique[link.url].text):
            unique[link.url] = link
    return body[:MAX_BODY_CHARS], list(unique.values())[:MAX_LINKS]


def _date(msg: Message, fallback: datetime | None) -> datetime | None:
    value = msg.get("Date")
    if value:
        try:
            return as_utc(parsedate_to_datetime(str(value)))
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return as_utc(fallback) if fallback else None


def _sender(msg: Message) -> tuple[str, str]:
    raw = decode_header_value(msg.get("From"))
    try:
        pairs = getaddresses([raw])
    except Exception:
        pairs = []
    name, address = pairs[0] if pairs else ("", "")
    address = address if "@" in address else ""
    name = name.strip().strip('"').strip()
    if not name and not address:
        name = raw
    return name[:300], address.lower()[:320]


def _thread_root(msg: Message, own_id: str) -> str:
    references = message_ids(str(msg.get("References") or ""))
    if references:
        return references[0]
    replied = message_ids(str(msg.get("In-Reply-To") or ""))
    return replied[0] if replied else own_id


def parse_message(raw: bytes, *, fallback_date: datetime | None = None) -> ParsedEmail:
    """Parse one message; MalformedMessage when it holds nothing readable."""
    if not raw or not raw.strip():
        raise MalformedMessage("the message is empty")
    if raw.count(b"\x00") > len(raw) // 10:
        raise MalformedMessage("the message is binary data, not mail")
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
        subject = decode_header_value(msg.get("Subject"))[:1000]
        sender_name, sender_address = _sender(msg)
        body, links = _body_and_links(msg)
        sent_at = _date(msg, fallback_date)
    except Exception as exc:  # the legacy parser rarely raises; if it does, report it
        raise MalformedMessage(f"the message could not be parsed ({type(exc).__name__})") from exc
    headers_seen = any(msg.get(h) for h in ("From", "Subject", "Date", "Message-ID", "To"))
    if not headers_seen:
        raise MalformedMessage("the message has no mail headers (From, Subject, Date, Message-ID)")
    if not body and not subject:
        raise MalformedMessage("the message has neither a subject nor any readable text")
    message_id = normalise_message_id(str(msg.get("Message-ID") or ""))[:500]
    key_source = (
        f"id:{message_id}"
        if message_id
        else f"content:{sender_address}|{sent_at.isoformat() if sent_at else ''}|{subject}|{body[:2000]}"
    )
    root = _thread_root(msg, message_id)
    return ParsedEmail(
        message_key=_hash(key_source),
        message_id=message_id,
        thread_key=_hash(f"id:{root}") if root else _hash(key_source),
        subject=subject,
        sender_name=sender_name,
        sender_address=sender_address,
        sent_at=sent_at,
        body=body,
        links=links,
        size_bytes=len(raw),
        defects=sorted({type(d).__name__ for part in msg.walk() for d in part.defects})[:20],
    )


# ------------------------------------------------------------------------------------ files

_FROM_LINE = re.compile(rb"^From ")
_ESCAPED_FROM = re.compile(rb"^>(>*From )")


def split_mbox(data: bytes) -> Iterator[bytes]:
    """The messages of an mbox file: each starts at a "From " line at the top or after a blank line;
    ">From " lines inside a message are unescaped (mboxrd)."""
    current: list[bytes] | None = None
    previous_blank = True
    for line in data.splitlines(keepends=True):
        if previous_blank and _FROM_LINE.match(line):
            if current is not None:
                yield _mbox_message(current)
            current = []
        elif current is not None:
            current.append(_ESCAPED_FROM.sub(rb"\1", line))
        previous_blank = not line.strip()
    if current is not None:
        yield _mbox_message(current)


def _mbox_message(lines: list[bytes]) -> bytes:
    # The blank line before the next "From " belongs to the file format, not to the message.
    if lines and not lines[-1].strip():
        lines = lines[:-1]
    return b"".join(lines)


def looks_like_mbox(data: bytes) -> bool:
    return data.lstrip(b"\r\n").startswith(b"From ")


def upload_messages(filename: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """(reference, raw message) for each message of an uploaded .eml or .mbox file."""
    name = filename.lower()
    if name.endswith(".mbox") or (not name.endswith(".eml") and looks_like_mbox(data)):
        for number, raw in enumerate(split_mbox(data), start=1):
            yield f"{filename}#{number}", raw
        return
    yield filename, data
