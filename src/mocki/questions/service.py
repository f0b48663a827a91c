"""The question bank: CRUD with ownership rules, JSONL import/export, the built-in seed and picking."""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.core.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from mocki.models import Question, User
from mocki.questions import repository
from mocki.questions.schemas import (
    CATEGORIES,
    TECHNICAL,
    ImportLineError,
    ImportResult,
    QuestionFilters,
    QuestionIn,
    QuestionOut,
    QuestionPage,
    QuestionPatch,
    QuestionQuery,
)

BANK_PATH = Path(__file__).resolve().parent / "bank" / "builtin.jsonl"
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_LINES = 5000
EXPORT_FIELDS = ("slug", "category", "text", "role", "level", "tags", "difficulty", "rubric")
_FIELDS = EXPORT_FIELDS[1:]


# ---------------------------------------------------------------- CRUD


async def list_questions(session: AsyncSession, owner_id: uuid.UUID, query: QuestionQuery) -> QuestionPage:
    rows, total = await repository.search(session, owner_id, query, limit=query.limit, offset=query.offset)
    return QuestionPage(items=[QuestionOut.of(q) for q in rows], total=total)


async def get_question(session: AsyncSession, owner_id: uuid.UUID, question_id: uuid.UUID) -> Question:
    """A question the user may read: their own or a built-in one; anything else is 404."""
    question = await repository.get(session, question_id)
    if question is None or (question.owner_id is not None and question.owner_id != owner_id):
        raise NotFound("Question not found.")
    return question


async def get_questions(
    session: AsyncSession, owner_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> list[Question]:
    """The readable questions among `ids`, in the order asked; unknown or foreign ids are skipped."""
    wanted = list(dict.fromkeys(ids))
    found = {q.id: q for q in await repository.get_visible_many(session, owner_id, wanted)}
    return [found[i] for i in wanted if i in found]


async def create_question(session: AsyncSession, user: User, body: QuestionIn) -> Question:
    if body.slug is not None and await repository.slug_taken(session, user.id, body.slug):
        raise Conflict(f"You already have a question with slug {body.slug!r}.", code="slug_taken")
    question = Question(owner_id=user.id, slug=body.slug or _new_slug(body.text), **_values(body))
    repository.add(session, question)
    await session.flush()
    return question


async def update_question(
    session: AsyncSession, user: User, question_id: uuid.UUID, body: QuestionPatch
) -> Question:
    question = await _editable(session, user, question_id)
    changes = body.changes()
    slug = changes.get("slug")
    if (
        slug is not None
        and slug != question.slug
        and await repository.slug_taken(session, question.owner_id, slug, except_id=question.id)
    ):
        raise Conflict(f"Another question already uses slug {slug!r}.", code="slug_taken")
    for name, value in changes.items():
        setattr(question, name, value)
    await session.flush()
    return question


async def delete_question(session: AsyncSession, user: User, question_id: uuid.UUID) -> None:
    question = await _editable(session, user, question_id)
    await repository.delete(session, question)
    await session.flush()


async def _editable(session: AsyncSession, user: User, question_id: uuid.UUID) -> Question:
    question = await get_question(session, user.id, question_id)
    if question.owner_id is None and user.role != "admin":
        raise Forbidden(
            "Built-in questions are read-only; create your own copy to change it.", code="builtin_read_only"
        )
    return question


def _values(body: QuestionIn) -> dict[str, Any]:
    return {name: getattr(body, name) for name in _FIELDS}


def _new_slug(text: str) -> str:
    # Every own question gets a slug, so an export re-imports as updates instead of duplicates.
    words = re.findall(r"[a-z0-9]+", text.lower())[:6]
    stem = "-".join(words)[:60].strip("-") or "question"
    return f"{stem}-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- import / export


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err.get("loc", ()))
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)


def _decode_upload(data: bytes) -> list[str]:
    if len(data) > MAX_IMPORT_BYTES:
        raise TooLarge(
            f"The import file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; "
            "split it into smaller files.",
            code="file_too_large",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            f"The import file is not UTF-8 text (bad byte at offset {exc.start}); "
            "save it as UTF-8 JSON Lines.",
            code="not_utf8",
        ) from exc
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise Invalid("The import file is empty; send one JSON object per line.", code="empty_file")
    if len(lines) > MAX_IMPORT_LINES:
        raise TooLarge(
            f"The import file has {len(lines)} lines; at most {MAX_IMPORT_LINES} are accepted per file.",
            code="too_many_lines",
        )
    return lines


def _parse_lines(lines: list[str]) -> tuple[list[tuple[int, QuestionIn]], list[ImportLineError]]:
    valid: list[tuple[int, QuestionIn]] = []
    errors: list[ImportLineError] = []
    first_seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(
                ImportLineError(line=number, message=f"not valid JSON: {exc.msg} (column {exc.colno})")
            )
            continue
        if not isinstance(raw, dict):
            errors.append(
                ImportLineError(line=number, message="expected a JSON object with the question fields")
            )
            continue
        try:
            item = QuestionIn.model_validate(raw)
        except ValidationError as exc:
            errors.append(ImportLineError(line=number, message=_describe(exc)))
            continue
        if item.slug is not None:
            if item.slug in first_seen:
                errors.append(
                    ImportLineError(
                        line=number,
                        message=f"slug {item.slug!r} already appeared on line {first_seen[item.slug]}",
                    )
                )
                continue
            first_seen[item.slug] = number
        valid.append((number, item))
    return valid, errors


async def _upsert(
    session: AsyncSession, owner_id: uuid.UUID | None, items: list[QuestionIn]
) -> tuple[int, int]:
    existing = await repository.by_slugs(session, owner_id, [i.slug for i in items if i.slug])
    created = updated = 0
    for item in items:
        values = _values(item)
        row = existing.get(item.slug) if item.slug else None
        if row is None:
            slug = item.slug or _new_slug(item.text)
            repository.add(session, Question(owner_id=owner_id, slug=slug, **values))
            created += 1
        else:
            for name, value in values.items():
                # Only real changes, so re-running a seed or import leaves rows untouched.
                if getattr(row, name) != value:
                    setattr(row, name, value)
            updated += 1
    await session.flush()
    return created, updated


async def import_jsonl(session: AsyncSession, user: User, data: bytes) -> ImportResult:
    """Import JSON Lines into the user's own bank: bad lines are reported, good ones still land."""
    valid, errors = _parse_lines(_decode_upload(data))
    created, updated = await _upsert(session, user.id, [item for _, item in valid])
    return ImportResult(created=created, updated=updated, errors=errors)


def to_jsonl(questions: Iterable[Question]) -> str:
    lines = []
    for q in questions:
        record = {name: getattr(q, name) for name in EXPORT_FIELDS}
        record["tags"] = list(q.tags or [])
        lines.append(json.dumps(record, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


async def export_jsonl(session: AsyncSession, owner_id: uuid.UUID, filters: QuestionFilters) -> str:
    return to_jsonl(await repository.all_matching(session, owner_id, filters))


# ---------------------------------------------------------------- built-in bank


@lru_cache(maxsize=1)
def load_builtin_bank() -> tuple[QuestionIn, ...]:
    """The packaged bank, validated; a broken line is a bug in this repository, so it raises."""
    items: list[QuestionIn] = []
    slugs: set[str] = set()
    for number, line in enumerate(BANK_PATH.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = QuestionIn.model_validate_json(line)
        except ValidationError as exc:
            raise ValueError(f"{BANK_PATH.name} line {number}: {_describe(exc)}") from exc
        if not item.slug or item.slug in slugs:
            raise ValueError(f"{BANK_PATH.name} line {number}: missing or duplicate slug {item.slug!r}")
        slugs.add(item.slug)
        items.append(item)
    return tuple(items)


async def seed_builtin(session: AsyncSession) -> int:
    """Create or update the built-in questions by slug; safe to run any number of times."""
    bank = list(load_builtin_bank())
    await _upsert(session, None, bank)
    return len(bank)


# ---------------------------------------------------------------- picking for an interview

_STOPWORDS = frozenset(
    """a an and are as at be but by can do does for from has have how i if in into is it its me my
    of on or our so than that the their them then there these they this to was we were what when
    where which while who why will with would you your about after before could should tell time
    describe explain give walk through example one some any all more most other such only own same
    engineer engineering developer role team work worked working years experience job""".split()  # noqa: SIM905
)
_TOKEN = re.compile(r"[a-z0-9][a-z0-9+#]*(?:[.\-/][a-z0-9+#]+)*")
# Which question role a target role or keyword points at.
_ROLE_ALIASES: dict[str, frozenset[str]] = {
    "backend": frozenset(
        {"backend", "back-end", "server", "api", "apis", "microservice", "django", "fastapi"}
    ),
    "frontend": frozenset({"frontend", "front-end", "react", "ui", "css", "web", "javascript", "typescript"}),
    "data": frozenset({"data", "analyst", "analytics", "etl", "warehouse", "sql", "bi"}),
    "ml": frozenset({"ml", "machine", "learning", "ai", "scientist", "model", "deep", "nlp", "llm"}),
    "devops": frozenset(
        {"devops", "sre", "reliability", "platform", "infrastructure", "kubernetes", "cloud"}
    ),
    "mobile": frozenset({"mobile", "ios", "android", "swift", "kotlin", "flutter"}),
}
_LEVEL_WORDS: dict[str, frozenset[str]] = {
    "junior": frozenset({"junior", "intern", "graduate", "entry", "trainee", "apprentice"}),
    "mid": frozenset({"mid", "intermediate"}),
    "senior": frozenset({"senior", "lead", "sr"}),
    "staff": frozenset({"staff", "principal", "architect", "distinguished"}),
}
_LEVEL_RANK = {"junior": 0, "mid": 1, "senior": 2, "staff": 3}


def _stem(token: str) -> str:
    # Plural and singular should meet ("queues" / "queue") without pulling in a stemmer.
    if len(token) > 4 and token.isalpha() and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def tokens(text: str) -> set[str]:
    """Lowercased content words of `text`, shared by the question side and the keyword side."""
    out: set[str] = set()
    for match in _TOKEN.findall(text.lower()):
        parts = {match, *re.split(r"[.\-/]", match)}
        out.update(_stem(p) for p in parts if p and p not in _STOPWORDS and len(p) > 1)
    return out


def _target_roles(role_tokens: set[str]) -> set[str]:
    return {name for name, aliases in _ROLE_ALIASES.items() if role_tokens & {_stem(a) for a in aliases}}


def _target_level(role_tokens: set[str]) -> str | None:
    for level, words in _LEVEL_WORDS.items():
        if role_tokens & words:
            return level
    return None


# A bank question retrieval found close to the candidate's documents gains up to this much.
SEMANTIC_WEIGHT = 12.0
SEMANTIC_FLOOR = 0.25  # similarity below this is noise between unrelated texts


def _semantic(similarity: float | None) -> float:
    return 0.0 if similarity is None else SEMANTIC_WEIGHT * max(0.0, similarity - SEMANTIC_FLOOR)


@dataclass(frozen=True)
class Focus:
    """Something the candidate should practise (a weak point of earlier interviews): bank questions
    of these categories or with these tags rank `bonus` higher. `reason` is for the candidate."""

    categories: frozenset[str]
    tags: frozenset[str]
    bonus: float
    reason: str


class Classified(Protocol):
    @property
    def category(self) -> str: ...
    @property
    def tags(self) -> list[str]: ...


# At most this share of an interview's questions is picked for a focus: the rest stay the best
# match for the role and documents, so practising a weak point never crowds out the job.
FOCUS_SHARE = 0.6


def max_targeted(n: int) -> int:
    return max(1, math.ceil(n * FOCUS_SHARE))


def focus_of(question: Classified, focus: Sequence[Focus]) -> Focus | None:
    """The strongest focus the question serves, or None."""
    tags = set(question.tags or [])
    matching = [f for f in focus if question.category in f.categories or tags & f.tags]
    return max(matching, key=lambda f: f.bonus, default=None)


def targeted(picked: Sequence[Classified], focus: Sequence[Focus], n: int) -> list[Focus | None]:
    """Which focus each of `pick_questions(..., n=n, focus=focus)`'s questions was picked for.

    The picker ranks by focus until `max_targeted(n)` matching questions are in, so those are the
    first that many matches in pick order; later matches were picked on their own merit."""
    out: list[Focus | None] = []
    left = max_targeted(n) if focus else 0
    for question in picked:
        served = focus_of(question, focus) if left > 0 else None
        if served is not None:
            left -= 1
        out.append(served)
    return out


def _score(q: Question, keywords: set[str], roles: set[str], level: str | None) -> int:
    tag_tokens: set[str] = set()
    for tag in q.tags or []:
        tag_tokens |= tokens(tag)
    score = 3 * len(keywords & tag_tokens) + len(keywords & (tokens(q.text) - tag_tokens))
    if q.role == "any":
        score += 1
    elif q.role in roles:
        score += 4
    elif roles:
        score -= 3  # a frontend question is a poor fit for a backend interview
    if level is not None and q.level != "any":
        gap = abs(_LEVEL_RANK.get(q.level, 1) - _LEVEL_RANK[level])
        score += 1 if gap == 0 else -gap
    return score


async def pick_questions(
    session: AsyncSession,
    owner_id: uuid.UUID,
    *,
    kind: str,
    role: str,
    keywords: list[str],
    n: int,
    exclude: set[uuid.UUID] = set(),  # noqa: B006 - never mutated; the contract fixes this signature
    similarity: dict[uuid.UUID, float] | None = None,
    focus: Sequence[Focus] = (),
) -> list[Question]:
    """Up to `n` questions from the user's own and the built-in bank, best match first.

    The match is keyword overlap plus, when retrieval found a question close to the candidate's
    resume or job description, its `similarity` (cosine) to the closest part. A question serving a
    `focus` (a weak point to practise) gains that focus's bonus, until `max_targeted(n)` such
    questions are picked; `targeted` tells which ones they were.

    kind "behavioural" and "technical" pick within their categories; "mixed" alternates, starting
    with behavioural. When a group runs dry the other categories fill in. Ties break on slug and id,
    so the same inputs always give the same questions.
    """
    if kind not in {"mixed", "behavioural", "technical"}:
        raise Invalid(
            f"Unknown interview kind {kind!r}; use mixed, behavioural or technical.", code="bad_kind"
        )
    if n <= 0:
        return []
    role_tokens = tokens(role)
    wanted = role_tokens.union(*(tokens(k) for k in keywords))
    roles = _target_roles(role_tokens) or _target_roles(wanted)
    level = _target_level(role_tokens)

    pool = await repository.candidates(session, owner_id, CATEGORIES, exclude)
    near = similarity or {}
    base = {q.id: _score(q, wanted, roles, level) + _semantic(near.get(q.id)) for q in pool}
    plain = _ranked(pool, base)
    focused = _ranked(pool, {q.id: base[q.id] + _bonus(q, focus) for q in pool}) if focus else plain
    plain_groups, focused_groups = _groups(kind, plain), _groups(kind, focused)

    picked: list[Question] = []
    taken: set[uuid.UUID] = set()
    left = max_targeted(n) if focus else 0  # focused picks still to make
    turn = 0
    while len(picked) < n:
        ranked, groups = (focused, focused_groups) if left > 0 else (plain, plain_groups)
        groups = groups[turn % len(groups) :] + groups[: turn % len(groups)]
        turn += 1
        choice = next((q for group in groups for q in group if q.id not in taken), None)
        if choice is None:
            # Every preferred group is used up: fall back to any category, still best first.
            choice = next((q for q in ranked if q.id not in taken), None)
        if choice is None:
            break
        picked.append(choice)
        taken.add(choice.id)
        if left > 0 and focus_of(choice, focus) is not None:
            left -= 1
    return picked


def _bonus(question: Question, focus: Sequence[Focus]) -> float:
    served = focus_of(question, focus)
    return served.bonus if served is not None else 0.0


def _ranked(pool: Sequence[Question], scores: dict[uuid.UUID, float]) -> list[Question]:
    return sorted(pool, key=lambda q: (-scores[q.id], q.owner_id is None, q.slug or "", str(q.id)))


def _groups(kind: str, ranked: list[Question]) -> list[list[Question]]:
    """The category groups an interview of this kind alternates between, each best first."""
    behavioural = [q for q in ranked if q.category == "behavioural"]
    technical = [q for q in ranked if q.category in TECHNICAL]
    if kind == "behavioural":
        return [behavioural]
    if kind == "technical":
        return [technical]
    return [behavioural, technical]
