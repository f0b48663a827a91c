"""Raw messages written for the tracker tests: every shape of mail the parser must read."""

from __future__ import annotations

import base64
import quopri

PLAIN = b"""From: Acme Recruiting <no-reply@acme.example>
To: candidate@example.com
Subject: Thank you for applying to Acme
Date: Tue, 05 Mar 2024 10:00:00 +0000
Message-ID: <plain-1@acme.example>
Content-Type: text/plain; charset=utf-8

Hi Sam,

Thank you for applying for the Backend Engineer position at Acme. We have received your application.

The Acme Recruiting Team
"""

MULTIPART = b"""From: "Brightpath Talent" <jobs@brightpath.example>
To: candidate@example.com
Subject: Interview invitation - Data Engineer
Date: Wed, 06 Mar 2024 09:30:00 -0500
Message-ID: <multi-1@brightpath.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="OUTER"

--OUTER
Content-Type: multipart/alternative; boundary="INNER"

--INNER
Content-Type: text/plain; charset=utf-8

We'd like to invite you to an interview. Pick a time: https://calendly.com/brightpath/30min
--INNER
Content-Type: text/html; charset=utf-8

<p>We'd like to invite you to an interview.
<a href="https://calendly.com/brightpath/30min">Pick a time</a></p>
--INNER--
--OUTER
Content-Type: application/pdf; name="agenda.pdf"
Content-Disposition: attachment; filename="agenda.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcOkw7zDtsOfCg==
--OUTER--
"""

HTML_ONLY = b"""From: Kestrel Systems <careers@kestrel.example>
To: candidate@example.com
Subject: Your coding assessment
Date: Thu, 07 Mar 2024 12:00:00 +0000
Message-ID: <html-1@kestrel.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><style>p { color: red; }</style><title>ignored</title></head>
<body><script>var tracking = 1;</script>
<p>Please complete the <b>HackerRank</b> test within 5 days:</p>
<p><a href="https://www.hackerrank.com/test/abc123">Start the assessment</a></p>
<p>Caf&eacute; &amp; co.</p></body></html>
"""


def quoted_printable() -> bytes:
    body = "Nous sommes ravis de vous proposer le poste d'ingénieur. Salaire : 60 000 € par an.\n".encode()
    encoded = quopri.encodestring(body)
    return (
        b"From: Lumora <rh@lumora.example>\r\nTo: candidate@example.com\r\n"
        b"Subject: =?utf-8?q?Offre_d=E2=80=99emploi?=\r\nDate: Fri, 08 Mar 2024 08:00:00 +0100\r\n"
        b"Message-ID: <qp-1@lumora.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        + encoded
    )


def base64_gb2312() -> bytes:
    # GB2312 as declared, with a character (镕) that only GBK has: what mail clients really send.
    text = "您好，感谢您申请我们的软件工程师职位。朱镕基\n"
    body = base64.encodebytes(text.encode("gbk"))
    subject = base64.b64encode("面试邀请".encode("gb2312")).decode()
    return (
        f"From: =?gb2312?b?{base64.b64encode('招聘团队'.encode('gb2312')).decode()}?= <hr@example.cn>\n"
        f"To: candidate@example.com\nSubject: =?gb2312?b?{subject}?=\n"
        "Date: Mon, 11 Mar 2024 10:00:00 +0800\nMessage-ID: <gb-1@example.cn>\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: base64\n\n"
    ).encode("ascii") + body


LATIN1 = (
    "From: Zürich Bank <jobs@zurich.example>\nTo: candidate@example.com\n"
    "Subject: =?iso-8859-1?q?R=FCckmeldung_zu_Ihrer_Bewerbung?=\nDate: Tue, 12 Mar 2024 10:00:00 +0100\n"
    "Message-ID: <latin-1@zurich.example>\nContent-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: 8bit\n\nLeider müssen wir Ihnen mitteilen, dass wir uns für andere "
    "Bewerber entschieden haben. "
    "Grüße \x96 Ihr Team\n"
).encode("latin-1")

UNKNOWN_CHARSET = b"""From: Someone <a@b.example>
Subject: Odd charset
Date: Tue, 12 Mar 2024 10:00:00 +0100
Message-ID: <odd-1@b.example>
Content-Type: text/plain; charset=x-klingon-42

Plain ASCII text in a part with a charset nobody knows.
"""

REPLY = b"""From: Acme Recruiting <no-reply@acme.example>
Subject: Re: Thank you for applying to Acme
Date: Wed, 13 Mar 2024 10:00:00 +0000
Message-ID: <reply-1@acme.example>
In-Reply-To: <plain-1@acme.example>
References: <plain-1@acme.example>

Following up on your application.
"""

NO_MESSAGE_ID = b"""From: Orbitly <hr@orbitly.example>
Subject: Application received
Date: Thu, 14 Mar 2024 10:00:00 +0000

We got your application.
"""

GARBAGE = b"\x00\x01\x02\x03" * 64
EMPTY = b"  \r\n  "
NO_HEADERS = b"just some words without any header line\nand a second line\n"
BROKEN_MIME = b"""From: Tidewater <hr@tidewater.example>
Subject: Broken boundary
Date: Fri, 15 Mar 2024 10:00:00 +0000
Message-ID: <broken-1@tidewater.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="NEVER-CLOSED"

--NEVER-CLOSED
Content-Type: text/plain

Unfortunately we will not move forward with your application.
"""


def mbox(*messages: bytes) -> bytes:
    """An mbox file (mboxrd: "From " lines inside a message escaped)."""
    out = []
    for number, raw in enumerate(messages):
        body = b"\n".join(
            b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in raw.split(b"\n")
        )
        out.append(
            b"From sender@example.com Mon Mar 11 10:00:0%d 2024\n" % (number % 10)
            + body.rstrip(b"\n")
            + b"\n\n"
        )
    return b"".join(out)
