"""Extraction rules: company, position, dates, links and the next action of a job-search email.

Rules, not a model: they are fast, explainable and right most of the time on the formulaic mail
that applicant tracking systems send. Candidates for the company come from the sender's display
name, the subject, phrases of the body and the signature, each with a weight; the name with the
most weight wins. Dates are read next to what they are for ("interview on ...", "complete by
..."), relative ones ("within 5 days") from the email's own date.
"""

# ruff: noqa: E501  (regular expressions and phrase lists read best one per line)

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlparse

from dateutil import parser as dateparser  # type: ignore[import-untyped]

from mocki.tracker.classifier import Status

# --------------------------------------------------------------------------------- companies

_WORD = r"[A-Z0-9][\w&'’\-]*(?:\.[A-Za-z]{2,}\b)*"
_NAME = rf"{_WORD}(?:[ ](?:&[ ])?(?:of[ ]|and[ ]|de[ ])?{_WORD}){{0,4}}"
_LEGAL = re.compile(
    r"[,]?\s+(?:inc|inc\.|llc|ltd|ltd\.|limited|corp|corp\.|corporation|gmbh|plc|co\.|s\.a\.|b\.v\.)$", re.I
)
_NOT_COMPANY = {
    "we", "our", "the", "you", "your", "thank", "thanks", "dear", "hi", "hello", "unfortunately", "please",
    "team", "the team", "hiring team", "recruiting", "talent", "careers", "jobs", "linkedin", "indeed", "glassdoor",
    "workday", "greenhouse", "lever", "smartrecruiters", "icims", "jobvite", "workable", "taleo", "ashby",
    "handshake", "ziprecruiter", "noreply", "no-reply", "no reply", "notifications", "hr", "human resources",
    "talent acquisition", "recruitment", "candidate", "application", "applications", "interview", "us", "this",
    "it", "them", "i", "a", "an", "my", "re", "fwd", "fw", "update", "congratulations", "welcome", "the position",
    "this position", "this role", "the role", "an interview", "mocki",
}  # fmt: skip
_GENERIC_FIRST = {
    "the", "our", "your", "this", "a", "an", "dear", "hi", "hello", "job", "jobs", "offer", "next", "online",
    "interview", "application", "applications", "confirmation", "update", "action", "invitation", "reminder",
    "welcome", "congratulations", "exciting", "opportunity", "hiring", "quick", "new", "re", "fwd", "fw",
    "thank", "thanks", "important", "regarding", "follow", "following", "availability", "scheduling", "status",
    "we", "i", "you", "please", "unfortunately", "after", "as", "while", "if", "at", "on", "in", "for", "to",
}  # fmt: skip
_ATS_DOMAINS = (
    "myworkday.com", "workday.com", "greenhouse.io", "greenhouse-mail.io", "lever.co", "hire.lever.co",
    "smartrecruiters.com", "icims.com", "ashbyhq.com", "jobvite.com", "workablemail.com", "workable.com",
    "taleo.net", "successfactors.com", "bamboohr.com", "breezy.hr", "recruitee.com", "teamtailor.com",
    "linkedin.com", "indeed.com", "glassdoor.com", "ziprecruiter.com", "joinhandshake.com", "hirevue.com",
    "paradox.ai", "avature.net",
)  # fmt: skip
# Domains that name no employer: mail providers, test platforms, placeholders.
_NOT_EMPLOYER_DOMAINS = (
    *_ATS_DOMAINS, "hackerrank.com", "codesignal.com", "codility.com", "gmail.com", "googlemail.com",
    "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com",
    "example.com", "example.invalid", "jobboard.example", "portal.example",
)  # fmt: skip  # fmt: skip
_SENDER_SUFFIX = re.compile(
    r"\s*(?:[-|,:]\s*)?(?:recruiting|recruitment|careers?|jobs|talent(?: acquisition| team)?|hiring(?: team)?|"
    r"hr|people(?: team)?|university recruiting|campus recruiting|team|notifications?|no-?reply|via \w+)\s*$",
    re.I,
)
_SENDER_PREFIX = re.compile(r"^(?:workday|greenhouse|lever|smartrecruiters|icims|jobvite)\s*[-|:]\s*", re.I)

_COMPANY_PATTERNS: list[tuple[re.Pattern[str], float]] = [
    (re.compile(rf"(?:applying|apply|applied|application|interest|interested)\s+(?:to|at|with|in joining|in)\s+(?:the\s+)?({_NAME})"), 3.0),
    (re.compile(rf"(?:position|role|opening|opportunity|job|career|careers|internship|team)\s+(?:at|with)\s+({_NAME})"), 3.0),
    (re.compile(rf"(?:join|joining|joined)\s+(?:the\s+)?({_NAME})(?:\s+team|\s+family)?"), 2.0),
    (re.compile(rf"(?:the|our)\s+({_NAME})\s+(?:team|recruiting|talent|hiring|careers|family|community)"), 2.0),
    (re.compile(rf"on behalf of (?:everyone at |all of us at |the team at )?({_NAME})"), 2.5),
    (re.compile(rf"(?:recruiter|recruiting|talent acquisition|hiring manager)\s+(?:at|with|for)\s+({_NAME})"), 2.5),
    (re.compile(rf"(?:offer|interview|assessment|challenge|test)\s+(?:from|at)\s+({_NAME})"), 2.0),
    (re.compile(rf"^({_NAME})\s+is an equal opportunity employer", re.M), 2.0),
    (re.compile(rf"(?:^|\n)(?:the\s+)?({_NAME})\s+(?:Talent Acquisition|Recruiting Team|Recruiting|Careers|Hiring Team|Talent Team|HR Team)\s*$", re.M), 2.0),
    (re.compile(rf"Talent Acquisition,\s+({_NAME})\s*$", re.M), 2.0),
    (re.compile(rf"(?:welcome to|thank you from|update from|news from)\s+({_NAME})"), 1.5),
    (re.compile(rf"(?:Hiring Team|Recruiting Team|Talent Team|People Team) at\s+({_NAME})"), 2.0),
    (re.compile(rf"©\s*(?:\d{{4}}\s+)?({_NAME})"), 1.5),
    (re.compile(rf"^({_NAME}),\s+\d+\s+\w", re.M), 1.0),
    (re.compile(rf"\bat\s+([A-Z]{_NAME[1:]})"), 1.0),
]  # fmt: skip
_SUBJECT_PATTERNS: list[tuple[re.Pattern[str], float]] = [
    (re.compile(rf"(?:to|at|with|from|join)\s+({_NAME})\s*(?:[!.|:,\-–]|$)"), 3.0),
    (re.compile(rf"^({_NAME})\s*(?:[|:\-–]|application|offer|coding|interview|technical|online)"), 2.0),
]


def company_key(name: str) -> str:
    """What two spellings of a company share: case, accents, spaces, punctuation and legal suffix dropped."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().strip()
    text = _LEGAL.sub("", text)
    return re.sub(r"[^a-z0-9]", "", text.lower())[:300]


def position_key(title: str) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\b(?:sr|snr)\b\.?", "senior", text)
    text = re.sub(r"\b(?:jr)\b\.?", "junior", text)
    return " ".join(re.sub(r"[^a-z0-9+#]+", " ", text).split())[:300]


def _clean_company(raw: str) -> str | None:
    name = raw.strip(" .,:;!-–|'\"’")
    name = re.sub(r"'s$|’s$", "", name)
    name = _LEGAL.sub("", name).strip(" .,")
    # A capitalised first word of the next sentence is not part of the name.
    name = re.split(
        r"\s+(?:We|Our|You|Your|Thank|Thanks|Please|Unfortunately|I|This|Best|Kind|Regards)\b", name
    )[0]
    words = name.split()
    while words and words[-1].lower() in {"team", "and", "&", "of", "the", "careers", "recruiting", "for"}:
        words.pop()
    name = " ".join(words)
    if not name or len(name) < 2 or name.lower() in _NOT_COMPANY or not any(ch.isalpha() for ch in name):
        return None
    if name.split()[0].lower() in _GENERIC_FIRST:
        return None
    return name[:120]


def _looks_like_person(name: str) -> bool:
    words = name.split()
    return len(words) in (2, 3) and all(w[:1].isupper() and w[1:].islower() and w.isalpha() for w in words)


def _is_person(name: str, address: str) -> bool:
    """A sender like "Alex Kim <alex.kim@acme.com>" is a person; "Acme Labs <careers@acme.com>" is not."""
    if not _looks_like_person(name):
        return False
    local = address.partition("@")[0].lower()
    words = [w.lower() for w in name.split()]
    return not local or any(w in local for w in words) or "." in local or local in {"".join(words)}


def _via_ats(display: str, address: str) -> bool:
    """Sent by an applicant tracking system on a company's behalf: the display name is the company."""
    domain = address.rpartition("@")[2].lower()
    ats = [d for d in _ATS_DOMAINS if domain == d or domain.endswith("." + d)]
    return bool(_SENDER_PREFIX.match(display.strip())) or bool(ats)


def _from_sender(display: str, address: str = "") -> str | None:
    name = _SENDER_PREFIX.sub("", display.strip().strip('"'))
    stripped = _SENDER_SUFFIX.sub("", name)
    if not stripped or (stripped == name and not _via_ats(display, address) and _is_person(name, address)):
        return None
    stripped = re.sub(r"^the\s+", "", stripped, flags=re.I)
    return _clean_company(stripped)


def _from_domain(address: str) -> str | None:
    domain = address.rpartition("@")[2].lower()
    if not domain or any(domain == d or domain.endswith("." + d) for d in _NOT_EMPLOYER_DOMAINS):
        return None
    parts = [
        p
        for p in domain.split(".")
        if p not in {"mail", "email", "jobs", "careers", "talent", "hr", "recruiting", "e"}
    ]
    if len(parts) < 2:
        return None
    label = parts[-2] if len(parts[-1]) > 2 or len(parts) < 3 or len(parts[-2]) > 3 else parts[-3]
    return label.replace("-", " ").title() if label.isascii() and len(label) > 1 else None


def extract_company(subject: str, sender_name: str, sender_address: str, body: str) -> str | None:
    votes: dict[str, float] = defaultdict(float)
    names: dict[str, str] = {}

    def vote(raw: str | None, weight: float) -> None:
        name = _clean_company(raw) if raw else None
        key = company_key(name) if name else ""
        if name and key:
            votes[key] += weight
            names.setdefault(key, name)

    vote(_from_sender(sender_name, sender_address), 4.0)
    for pattern, weight in _SUBJECT_PATTERNS:
        for match in pattern.finditer(subject):
            vote(match.group(1), weight)
    head = body[:6000]
    for pattern, weight in _COMPANY_PATTERNS:
        for match in pattern.finditer(head):
            vote(match.group(1), weight)
    lines = [line.strip() for line in body.strip().splitlines() if line.strip()]
    if lines and re.fullmatch(_NAME, lines[-1]) and not _looks_like_person(lines[-1]):
        vote(lines[-1], 1.0)  # a signature's last line
    vote(_from_domain(sender_address), 1.0)
    if not votes:
        return None
    best = max(votes, key=lambda k: (votes[k], -len(k)))
    return names[best]


# --------------------------------------------------------------------------------- positions

_ROLE_WORDS = (
    r"engineer|developer|analyst|scientist|manager|designer|intern|internship|architect|writer|specialist|"
    r"associate|consultant|lead|director|administrator|coordinator|representative|officer|researcher|"
    r"technician|assistant|programmer|tester|recruiter|accountant|sre|devops|co-?op|fellow|strategist|"
    r"editor|producer|marketer|executive|advisor|planner|head of [\w ]+|vp of [\w ]+"
)
# Title words are capitalised (case-sensitive), the role word at its end may be in any case.
_TITLE = (
    rf"(?:(?:[A-Z][\w/+#&.\-]*|[a-z]+[A-Z][\w]*)\s+){{0,6}}?(?i:{_ROLE_WORDS})\b(?:\s+(?i:{_ROLE_WORDS})\b)*"
    r"(?:\s+(?:I{1,3}|IV|\d)\b)?(?:,\s*[A-Z]\w+(?:\s+[A-Z]\w+)?)?"
)
_POSITION_PATTERNS: list[re.Pattern[str]] = [
    re.compile(
        rf"(?i:for|of)\s+(?i:the|our|a|an)?\s*(?i:position|role|job)\s+(?i:of|as)\s+(?:(?i:a|an)\s+)?({_TITLE})"
    ),
    re.compile(
        rf"(?i:for|to|in)\s+(?i:the|our|a|an)\s+({_TITLE})\s+(?i:position|role|opening|job|vacancy|opportunity)"
    ),
    re.compile(rf"(?i:application|applying|applied|candidacy)\s+(?i:for|to)\s+(?:(?i:the)\s+)?({_TITLE})"),
    re.compile(rf"(?i:hiring|looking for|seeking)\s+(?i:a|an)\s+({_TITLE})"),
    re.compile(rf"(?i:the|our)\s+({_TITLE})\s+(?i:position|role|opening|job)"),
    re.compile(rf"(?i:offer|interview|assessment|screen)\s+(?i:for)\s+(?:(?i:the)\s+)?({_TITLE})"),
    re.compile(rf"(?i:position|role)\s*:\s*({_TITLE})"),
]
_SUBJECT_POSITION: list[re.Pattern[str]] = [
    re.compile(rf"(?:[:–|]|\s-|(?i:for))\s*({_TITLE})\s*(?:\(|\bat\b|$|[-–|,!])"),
    re.compile(
        rf"^(?:(?i:your|update on your|regarding your)\s+)?({_TITLE})\s+(?:at\b|[-–|]|(?i:application|role|position|opportunity|opening))"
    ),
    re.compile(rf"^({_TITLE})\s*$"),
]
_REQ = re.compile(
    r"\s*(?:\(?\b(?:req|job|ref|id)\b\s*#?:?\s*[\w-]*\d[\w-]*\)?|\(?\b[A-Z]{1,3}-?\d{3,}\)?|\(.*?\))\s*$",
    re.I,
)


_NOT_TITLE_START = re.compile(
    r"^(?:(?:the|our|your|a|an|exciting|new|urgent|hiring|open|great|amazing|remote)\s+)+", re.I
)


def _clean_position(raw: str) -> str | None:
    title = _REQ.sub("", " ".join(raw.split())).strip(" .,:;-–|")
    title = _NOT_TITLE_START.sub("", title)
    title = re.sub(r"\s+(?:position|role|opening|job)$", "", title, flags=re.I)
    if not title or len(title) > 90 or len(title.split()) > 9:
        return None
    if title.lower() in {"position", "role", "intern", "lead", "manager"} and len(title.split()) == 1:
        return title if title.lower() == "intern" else None
    return title


def extract_position(subject: str, body: str) -> str | None:
    for pattern in _SUBJECT_POSITION:
        match = pattern.search(subject)
        if match and (title := _clean_position(match.group(1))):
            return title
    head = body[:6000]
    for pattern in _POSITION_PATTERNS:
        match = pattern.search(head)
        if match and (title := _clean_position(match.group(1))):
            return title
    return None


# ------------------------------------------------------------------------------------- links

LINK_KINDS = {
    "assessment": re.compile(
        r"hackerrank|codility|codesignal|hirevue|testgorilla|coderbyte|karat|codingame|leetcode|"
        r"mettl|pymetrics|harver|criteriacorp|shl\.com|assessment|challenge|/test/|candidate-test|quiz",
        re.I,
    ),
    "scheduling": re.compile(
        r"calendly|goodtime|youcanbook|doodle|cal\.com|schedul|/book|calendar\.app|savvycal", re.I
    ),
    "meeting": re.compile(
        r"zoom\.us|meet\.google|teams\.microsoft|teams\.live|webex|whereby|chime\.aws", re.I
    ),
    "application": re.compile(
        r"myworkday|greenhouse|lever\.co|smartrecruiters|icims|ashbyhq|jobvite|workable|taleo", re.I
    ),
}


def classify_link(url: str, text: str = "") -> str:
    host_path = url.split("?", 1)[0]
    for kind, pattern in LINK_KINDS.items():
        if pattern.search(host_path) or (kind != "application" and pattern.search(text)):
            return kind
    return "other"


def useful_links(links: list[dict[str, str]]) -> list[dict[str, str]]:
    """Links worth showing (assessment, scheduling, meeting, application portal), each with its kind."""
    out: list[dict[str, str]] = []
    for link in links:
        url = link.get("url", "")
        if not urlparse(url).netloc:
            continue
        kind = classify_link(url, link.get("text", ""))
        if kind != "other" and all(o["url"] != url for o in out):
            out.append({"url": url[:2000], "kind": kind, "text": link.get("text", "")[:200]})
    return out[:10]


# ------------------------------------------------------------------------------------- dates

_ZONES = {
    "pt": -8, "pst": -8, "pdt": -7, "pacific": -8, "mt": -7, "mst": -7, "mdt": -6, "ct": -6, "cst": -6,
    "cdt": -5, "et": -5, "est": -5, "edt": -4, "eastern": -5, "gmt": 0, "utc": 0, "bst": 1, "cet": 1,
    "cest": 2, "ist": 5.5, "sgt": 8, "jst": 9, "aest": 10,
}  # fmt: skip
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*"
_DAY_DATE = (
    rf"(?:{_WEEKDAY},?\s+)?(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}})?|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})"
)
_TIME = r"\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)|\d{1,2}:\d{2}"
_ZONE = r"(?:\(?\s*(?:[A-Z]{2,4}|pacific|eastern)(?:\s+time)?\s*\)?)"
_DATETIME = re.compile(
    rf"(?P<date>{_DAY_DATE}|{_WEEKDAY}|tomorrow|today)(?:,?\s+(?:at\s+|@\s*|from\s+)?(?P<time>{_TIME})(?:\s*(?P<zone>{_ZONE}))?)?",
    re.I,
)
_RELATIVE = re.compile(
    r"within\s+(?:the\s+next\s+)?(\d{1,3})\s*(hours?|days?|business days?)|(?:expires?|due)\s+in\s+(\d{1,3})\s*(hours?|days?)",
    re.I,
)
_DEADLINE_CUE = re.compile(
    r"\b(?:by|before|deadline|due|expires?|no later than|until|complete|submit|respond|reply|decision)\b[^.\n]{0,40}$",
    re.I,
)
_INTERVIEW_CUE = re.compile(
    r"\b(?:interview|call|meet|meeting|chat|screen|scheduled|confirmed|invite|onsite|on-site|conversation|when)\b[^.\n]{0,60}$",
    re.I,
)
_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass(frozen=True)
class FoundDate:
    at: datetime
    has_time: bool
    kind: str  # interview | deadline | other


def _zone(raw: str | None) -> timezone:
    if not raw:
        return UTC
    name = re.sub(r"[()\s]|time", "", raw.lower())
    offset = _ZONES.get(name)
    return UTC if offset is None else timezone(timedelta(hours=offset))


def _resolve(date_text: str, time_text: str | None, zone: str | None, received: datetime) -> datetime | None:
    lowered = date_text.lower().strip()
    base = received.astimezone(_zone(zone)).replace(second=0, microsecond=0)
    if lowered in {"today", "tomorrow"}:
        day = base + timedelta(days=1 if lowered == "tomorrow" else 0)
    elif re.fullmatch(_WEEKDAY, lowered):
        ahead = (_WEEKDAYS.index(lowered[:3]) - base.weekday()) % 7 or 7
        day = base + timedelta(days=ahead)
    else:
        try:
            day = dateparser.parse(date_text, default=base.replace(hour=0, minute=0), dayfirst=False)
        except (ValueError, OverflowError):
            return None
        if not re.search(r"\d{4}", date_text) and day < base - timedelta(days=7):
            day = day.replace(year=day.year + 1)  # "March 3" read in December means next year
    if time_text:
        try:
            clock = dateparser.parse(time_text.replace(".", ""), default=day)
        except (ValueError, OverflowError):
            return None
        day = day.replace(hour=clock.hour, minute=clock.minute)
    else:
        day = day.replace(hour=23, minute=59) if not time_text else day
    return day.replace(tzinfo=day.tzinfo or _zone(zone)).astimezone(UTC)


def find_dates(text: str, received: datetime) -> list[FoundDate]:
    found: list[FoundDate] = []
    for match in _DATETIME.finditer(text[:8000]):
        date_text, time_text = match.group("date"), match.group("time")
        if re.fullmatch(_WEEKDAY + "|today|tomorrow", date_text.lower()) and not time_text:
            before = text[max(0, match.start() - 12) : match.start()].lower()
            if "by" not in before and "before" not in before:
                continue  # a bare weekday is rarely a date the email sets
        at = _resolve(date_text, time_text, match.group("zone"), received)
        if at is None or not (received - timedelta(days=2) <= at <= received + timedelta(days=400)):
            continue
        before = text[max(0, match.start() - 80) : match.start()]
        kind = (
            "deadline"
            if _DEADLINE_CUE.search(before)
            else "interview"
            if _INTERVIEW_CUE.search(before) or time_text
            else "other"
        )
        found.append(FoundDate(at, bool(time_text), kind))
    for match in _RELATIVE.finditer(text[:8000]):
        amount = int(match.group(1) or match.group(3))
        unit = (match.group(2) or match.group(4)).lower()
        delta = (
            timedelta(hours=amount)
            if unit.startswith("hour")
            else timedelta(days=amount * (7 / 5 if "business" in unit else 1))
        )
        found.append(FoundDate((received + delta).astimezone(UTC), True, "deadline"))
    return found


def pick_dates(label: Status, found: list[FoundDate]) -> tuple[datetime | None, datetime | None]:
    """(interview time, deadline) as the label makes sense of them."""
    interview = deadline = None
    if label == "interview":
        timed = [d for d in found if d.kind == "interview" and d.has_time] or [
            d for d in found if d.has_time and d.kind != "deadline"
        ]
        interview = timed[0].at if timed else None
        deadlines = [d for d in found if d.kind == "deadline"]
        deadline = deadlines[0].at if deadlines else None
    elif label in {"assessment", "offer"}:
        deadlines = [d for d in found if d.kind == "deadline"] or (
            [d for d in found if d.kind == "other"] if label == "assessment" else []
        )
        deadline = deadlines[0].at if deadlines else None
    return interview, deadline


# ------------------------------------------------------------------------------- next action


def next_action(
    label: Status, interview_at: datetime | None, deadline_at: datetime | None, links: list[dict[str, str]]
) -> str:
    def when(at: datetime) -> str:
        return at.strftime("%a %d %b %Y %H:%M UTC")

    first = {kind: next((link["url"] for link in links if link["kind"] == kind), None) for kind in LINK_KINDS}
    if label == "applied":
        return "Wait for a reply; follow up if nothing arrives within 7 days."
    if label == "rejected":
        return "Nothing to do; ask for feedback if you would like some."
    if label == "interview":
        if interview_at:
            return f"Prepare for the interview on {when(interview_at)}."
        if first["scheduling"]:
            return f"Book an interview slot: {first['scheduling']}"
        return "Reply with your availability for the interview."
    if label == "assessment":
        text = "Complete the assessment"
        text += f" before {when(deadline_at)}" if deadline_at else ""
        return text + (f": {first['assessment']}" if first["assessment"] else ".")
    if label == "offer":
        return (
            f"Review the offer and reply before {when(deadline_at)}."
            if deadline_at
            else "Review the offer and reply."
        )
    if label == "recruiter_outreach":
        return "Reply to the recruiter if the role interests you."
    return ""
