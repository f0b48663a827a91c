"""Fuzzing the mail parser: random bytes, damaged real messages, and MIME built from odd parts.

Whatever a mailbox holds, parse_message returns a ParsedEmail or raises MalformedMessage (its
documented error: the sync records the message as skipped), never another exception. Parsing
runs inside the sync task, so each example also has a deadline (a hang guard).
"""

from __future__ import annotations

import base64
import quopri
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocki.tracker.parsing import MalformedMessage, ParsedEmail, parse_message, upload_messages
from tests.support.mutation import mutated
from tests.unit.tracker import mails

FUZZ = settings(
    max_examples=200,
    deadline=timedelta(seconds=10),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SEEDS = [
    mails.PLAIN,
    mails.MULTIPART,
    mails.HTML_ONLY,
    mails.quoted_printable(),
    mails.base64_gb2312(),
    mails.LATIN1,
]
CHARSETS = [
    "utf-8",
    "us-ascii",
    "iso-8859-1",
    "gb2312",
    "shift_jis",
    "utf-16",
    "utf-7",
    "x-unknown",
    "",
    "utf-8\x00",
]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", "garbage"]
DATES = [
    "Tue, 05 Mar 2024 10:00:00 +0000",
    "yesterday",
    "99 Foo 99999 99:99",
    "Mon, 1 Jan 0001 00:00:00 +9999",
    "",
]
TYPES = [
    "text/plain",
    "text/html",
    "text/enriched",
    "application/octet-stream",
    "message/rfc822",
    "multipart/mixed",
]


def _parse_or_malformed(raw: bytes) -> None:
    try:
        parsed = parse_message(raw)
    except MalformedMessage:
        return
    assert isinstance(parsed, ParsedEmail)
    assert parsed.subject or parsed.body


@pytest.mark.timeout(300)
@FUZZ
@given(raw=st.binary(max_size=4096))
def test_random_bytes_parse_or_are_malformed(raw: bytes) -> None:
    _parse_or_malformed(raw)


@pytest.mark.timeout(300)
@FUZZ
@given(raw=st.sampled_from(SEEDS).flatmap(mutated))
def test_damaged_real_messages_parse_or_are_malformed(raw: bytes) -> None:
    _parse_or_malformed(raw)


def _encode(body: bytes, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.encodebytes(body)
    if encoding == "quoted-printable":
        return quopri.encodestring(body)
    return body


@st.composite
def mime_parts(draw: st.DrawFn) -> bytes:
    """A part whose declared type, charset and transfer encoding need not match its content."""
    body = draw(
        st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda t: t.encode("utf-8", "replace")))
    )
    encoding = draw(st.sampled_from(ENCODINGS))
    encoded = _encode(body, encoding) if draw(st.booleans()) else body  # declared but not applied
    head = (
        f'Content-Type: {draw(st.sampled_from(TYPES))}; charset="{draw(st.sampled_from(CHARSETS))}"\n'
        f"Content-Transfer-Encoding: {encoding}\n"
    )
    if draw(st.booleans()):
        head += 'Content-Disposition: attachment; filename="a.bin"\n'
    return head.encode("utf-8", "surrogateescape") + b"\n" + encoded


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    subject = draw(
        st.sampled_from(["Hi", "=?utf-8?b?!!!?=", "=?x-unknown?q?=FF=FE?=", "=?gb2312?B?zsTX1g==?=", ""])
    )
    headers = (
        f"From: {draw(st.sampled_from(['a@b.example', '=?utf-8?q?=E2=80?= <x@y>', '<<>>', '']))}\n"
        f"Subject: {subject}\n"
        f"Date: {draw(st.sampled_from(DATES))}\n"
        f"Message-ID: {draw(st.sampled_from(['<a@b>', '<', '<<a@b>> <c@d>', '']))}\n"
        f"In-Reply-To: {draw(st.sampled_from(['<a@b>', '', '<' * 50]))}\n"
        "MIME-Version: 1.0\n"
    ).encode()
    parts = draw(st.lists(mime_parts(), min_size=1, max_size=4))
    if len(parts) == 1 and draw(st.booleans()):
        return headers + parts[0]
    boundary = draw(st.sampled_from(["B", "", "--", "a" * 80, "B\x00"]))
    nested = "\n".join(f"--{boundary}\n" + p.decode("utf-8", "surrogateescape") for p in parts)
    closing = f"\n--{boundary}--\n" if draw(st.booleans()) else ""  # an unterminated multipart too
    content_type = f"Content-Type: multipart/{draw(st.sampled_from(['mixed', 'alternative', 'related']))}; "
    return headers + (content_type + f'boundary="{boundary}"\n\n' + nested + closing).encode(
        "utf-8", "surrogateescape"
    )


@pytest.mark.timeout(300)
@FUZZ
@given(raw=messages())
def test_odd_mime_parses_or_is_malformed(raw: bytes) -> None:
    _parse_or_malformed(raw)


@pytest.mark.timeout(300)
@FUZZ
@given(
    data=st.lists(st.sampled_from(SEEDS).flatmap(mutated), max_size=4),
    name=st.sampled_from(["a.mbox", "a.eml", "a"]),
)
def test_damaged_mbox_files_split_and_parse_or_are_malformed(data: list[bytes], name: str) -> None:
    upload = mails.mbox(*data) if data else b""
    for _ref, raw in upload_messages(name, upload):
        _parse_or_malformed(raw)
