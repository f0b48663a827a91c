"""Parsing raw mail: structures, transfer encodings, charsets, dedupe and thread keys, broken input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mocki.tracker.parsing import (
    MalformedMessage,
    decode_bytes,
    html_to_text,
    parse_message,
    split_mbox,
    upload_messages,
)
from tests.unit.tracker import mails


def test_plain_message_headers_and_body() -> None:
    email = parse_message(mails.PLAIN)
    assert email.subject == "Thank you for applying to Acme"
    assert (email.sender_name, email.sender_address) == ("Acme Recruiting", "no-reply@acme.example")
    assert email.sent_at == datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    assert email.message_id == "plain-1@acme.example"
    assert "Backend Engineer position at Acme" in email.body


def test_multipart_prefers_the_plain_part_and_skips_attachments() -> None:
    email = parse_message(mails.MULTIPART)
    assert email.body.startswith("We'd like to invite you to an interview.")
    assert "JVBER" not in email.body
    assert email.sent_at == datetime(2024, 3, 6, 14, 30, tzinfo=UTC)
    assert [link.url for link in email.links] == ["https://calendly.com/brightpath/30min"]
    assert email.links[0].text == "Pick a time"


def test_html_only_becomes_text_without_scripts_or_styles() -> None:
    email = parse_message(mails.HTML_ONLY)
    assert "Please complete the HackerRank test within 5 days:" in email.body
    assert "Café & co." in email.body
    assert "tracking" not in email.body and "color" not in email.body and "ignored" not in email.body
    assert email.links[0].url == "https://www.hackerrank.com/test/abc123"
    assert email.links[0].text == "Start the assessment"


def test_quoted_printable_and_encoded_word_subject() -> None:
    email = parse_message(mails.quoted_printable())
    assert email.subject == "Offre d’emploi"
    assert "ingénieur" in email.body and "60 000 €" in email.body


def test_base64_gb2312_decodes_gbk_characters() -> None:
    email = parse_message(mails.base64_gb2312())
    assert email.subject == "面试邀请"
    assert email.sender_name == "招聘团队"
    assert "软件工程师职位" in email.body
    assert "朱镕基" in email.body  # outside GB2312 proper


def test_latin1_is_read_as_windows_1252() -> None:
    email = parse_message(mails.LATIN1)
    assert email.subject == "Rückmeldung zu Ihrer Bewerbung"
    assert "müssen" in email.body
    assert "Grüße – Ihr Team" in email.body  # 0x96 is an en dash in Windows-1252


def test_unknown_charset_falls_back_without_failing() -> None:
    assert "nobody knows" in parse_message(mails.UNKNOWN_CHARSET).body


def test_decode_bytes_never_raises() -> None:
    assert decode_bytes(b"caf\xe9", "utf-8") == "café"
    assert decode_bytes(b"\xff\xfe\xfa", "ascii")
    assert decode_bytes("你好".encode("gbk"), "GB2312") == "你好"


def test_reply_joins_the_thread_of_its_root() -> None:
    root, reply = parse_message(mails.PLAIN), parse_message(mails.REPLY)
    assert reply.thread_key == root.thread_key
    assert reply.message_key != root.message_key


def test_message_without_id_gets_a_stable_content_key() -> None:
    first, second = parse_message(mails.NO_MESSAGE_ID), parse_message(mails.NO_MESSAGE_ID)
    assert first.message_id == ""
    assert first.message_key == second.message_key
    assert first.message_key != parse_message(mails.PLAIN).message_key


def test_same_message_id_same_key_whatever_the_bytes() -> None:
    again = mails.PLAIN.replace(b"Hi Sam,", b"Hello Sam,")
    assert parse_message(again).message_key == parse_message(mails.PLAIN).message_key


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (mails.GARBAGE, "binary"),
        (mails.EMPTY, "empty"),
        (mails.NO_HEADERS, "no mail headers"),
    ],
)
def test_unreadable_messages_raise_malformed(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        parse_message(raw)


def test_broken_mime_is_kept_with_its_defects() -> None:
    email = parse_message(mails.BROKEN_MIME)
    assert "will not move forward" in email.body
    assert email.defects  # the unclosed boundary is recorded


def test_date_falls_back_to_the_server_date() -> None:
    raw = mails.PLAIN.replace(b"Date: Tue, 05 Mar 2024 10:00:00 +0000\n", b"Date: not a date\n")
    received = datetime(2024, 4, 1, 8, 0, tzinfo=UTC)
    assert parse_message(raw, fallback_date=received).sent_at == received


def test_mbox_split_and_unescape() -> None:
    body = mails.PLAIN.replace(b"The Acme", b"From our side, the Acme")
    data = mails.mbox(body, mails.REPLY, mails.NO_MESSAGE_ID)
    messages = list(split_mbox(data))
    assert len(messages) == 3
    assert b"From our side, the Acme" in messages[0]
    assert [ref for ref, _ in upload_messages("inbox.mbox", data)] == [
        "inbox.mbox#1",
        "inbox.mbox#2",
        "inbox.mbox#3",
    ]
    assert parse_message(messages[1]).message_id == "reply-1@acme.example"


def test_eml_upload_is_one_message() -> None:
    assert [ref for ref, _ in upload_messages("offer.eml", mails.PLAIN)] == ["offer.eml"]


def test_html_to_text_keeps_block_structure() -> None:
    text, links = html_to_text("<div>One</div><div>Two<br>Three</div><ul><li>a</li><li>b</li></ul>")
    assert [line for line in text.splitlines() if line] == ["One", "Two", "Three", "- a", "- b"]
    assert links == []
