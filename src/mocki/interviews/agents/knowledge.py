"""The knowledge and system-design agents: domain questions, answers checked against references.

Before an answer is decided (`gather`, outside the turn's transaction) the agent collects its
reference material: the planned question's own rubric from the bank and, when retrieval is
available, the bank questions and the job-description chunks closest to the question and the
answer. The check is rules over those texts, with the report's point matching (so the follow-up
and the report agree on what was covered): which rubric points the answer covered and which it
missed, and for system design also the standard dimensions of a design (requirements, a scale
estimate, data model, API, bottlenecks and scaling, trade-offs). When the answer covers less than
the persona accepts, the most important missed point gets the follow-up ("missed:<point>"); a
point the job description asks for comes first. The turn's `data` carries the references with
their sources and scores, and the covered and missed points; job-description references are also
the turn's provenance.

One class, two configurations: "knowledge" and "system_design" (with the design dimensions).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.interviews import analysis, personas, prompts
from mocki.interviews.engine import (
    Context,
    GeneralInterviewer,
    Move,
    Plan,
    PlannedQuestion,
    SourceLine,
    Tools,
    answer_context,
    measure_answer,
)
from mocki.interviews.report import _point_credit, rubric_points
from mocki.questions import service as questions
from mocki.retrieval.service import ChunkText, Retriever, search_vector

log = logging.getLogger(__name__)

BANK_K = 3  # closest other bank questions kept as references
JOB_K = 2  # closest chunks of the interview's job description
# Below this merged score a reference is mostly noise. Measured on the built-in bank (each question
# with its rubric as the query, all-MiniLM-L6-v2): 1.9 % of pairs sharing no tag reach 0.35 (4.6 %
# reach 0.30), while the median nearest neighbour scores 0.41.
MIN_SCORE = 0.35
EXCERPT_CHARS = 200
QUERY_ANSWER_WORDS = 80
# A rubric point this much named in the job description is one the job asks for.
JOB_OVERLAP = 0.5
BANK_OVERLAP = 0.75

# Below this mean credit over the key points the answer gets a follow-up; a friendly interviewer
# lets half the points stand, a tough one wants nearly all of them.
MIN_COVERAGE = {"friendly": 0.5, "neutral": 0.75, "tough": 0.9}


@dataclass(frozen=True)
class Dimension:
    """A part every system design should address, found by cue words in the answer."""

    name: str
    label: str  # its words, to see whether the question's rubric names it already
    point: str  # how the follow-up names it
    cue: re.Pattern[str]


DESIGN_DIMENSIONS = (
    Dimension(
        "requirements",
        "requirements",
        "the requirements, what the system must do and for whom",
        re.compile(
            r"\b(requirements?|functional|use cases?|users? (?:can|should|must|need|want)|"
            r"must support|clarify|assum\w*|in scope|out of scope)\b",
            re.I,
        ),
    ),
    Dimension(
        "scale",
        "scale estimate",
        "a scale estimate, requests per second and data size",
        re.compile(
            r"(\b(qps|rps|tps|per second|per day|a day|a second|million|billion|thousand|estimate\w*|"
            r"back[- ]of[- ]the[- ]envelope|throughput|peak)\b|\d+\s?(?:k|m|gb|tb|pb|mb)\b)",
            re.I,
        ),
    ),
    Dimension(
        "data_model",
        "data model",
        "the data model",
        re.compile(
            r"\b(data model|schema|tables?|columns?|primary key|partition key|rows?|entit(?:y|ies)|"
            r"key[- ]value|documents? store)\b",
            re.I,
        ),
    ),
    Dimension(
        "api",
        "api",
        "the API",
        re.compile(r"\b(apis?|endpoints?|rest|grpc|rpc|(?:get|post|put|delete) /)", re.I),
    ),
    Dimension(
        "scaling",
        "bottlenecks scaling",
        "the bottlenecks and how it scales",
        re.compile(
            r"\b(bottlenecks?|shard\w*|partition\w*|replica\w*|replicat\w*|cach\w*|load balanc\w*|"
            r"horizontal\w*|scale out|scales? (?:out|up)|hot ?spots?)\b",
            re.I,
        ),
    ),
    Dimension(
        "tradeoffs",
        "trade-offs",
        "the trade-offs of your choices",
        re.compile(
            r"\b(trade-?offs?|instead of|rather than|versus|vs\.?|downsides?|drawbacks?|at the cost|"
            r"cost of|in exchange|on the other hand|eventual consistency|cap theorem)\b",
            re.I,
        ),
    ),
)


# ------------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class Point:
    """One thing a good answer says, and how much of it this answer said (0..1)."""

    text: str
    source: str  # rubric | design | bank
    credit: float
    key: bool  # what the question asks for; a bank neighbour's point only counts when said
    job: bool = False  # the job description asks for it too
    order: int = 0

    @property
    def covered(self) -> bool:
        return self.credit >= 1.0

    def to_json(self) -> dict[str, Any]:
        return {"point": self.text, "source": self.source}


@dataclass(frozen=True)
class Check:
    points: tuple[Point, ...]

    @property
    def key(self) -> list[Point]:
        return [p for p in self.points if p.key]

    @property
    def coverage(self) -> float:
        key = self.key
        return sum(p.credit for p in key) / len(key) if key else 1.0

    @property
    def covered(self) -> list[Point]:
        return [p for p in self.points if p.covered]

    @property
    def missed(self) -> list[Point]:
        """Key points not covered, the most important first: those the job asks for, then ones not
        touched at all, the question's own rubric before the design dimensions, rubric order."""
        gaps = [p for p in self.key if not p.covered]
        return sorted(gaps, key=lambda p: (not p.job, p.credit > 0, p.source != "rubric", p.order))

    def with_credit(self, earlier: Mapping[str, float]) -> Check:
        """What earlier answers to the same question said counts too (a follow-up completes them)."""
        return Check(
            tuple(
                Point(p.text, p.source, max(p.credit, float(earlier.get(p.text, 0.0))), p.key, p.job, p.order)
                for p in self.points
            )
        )


def _names_dimension(dimension: Dimension, points: Sequence[str]) -> bool:
    words = analysis.content_words(dimension.label)
    return bool(words) and any(analysis.overlap(dimension.label, p) >= 0.5 for p in points)


def _clearly_said(point: str, answer: str) -> bool:
    """A neighbouring question's point counts as covered on a stricter bar than the question's own:
    the report's half-the-words rule would credit "idempotency caveat" for saying "idempotent"."""
    return analysis.overlap(point, answer) >= BANK_OVERLAP


def check_answer(answer: str, references: Sequence[Mapping[str, Any]], *, design: bool) -> Check | None:
    """Which reference points the answer covers; None when there is nothing key to check against."""
    job_text = " ".join(str(r["text"]) for r in references if r.get("source") == "job_description")
    rubric = next((str(r["text"]) for r in references if r.get("source") == "rubric"), "")
    own = rubric_points(rubric)
    points = [
        Point(
            text,
            "rubric",
            _point_credit(text, answer),
            key=True,
            job=bool(job_text) and analysis.overlap(text, job_text) >= JOB_OVERLAP,
            order=i,
        )
        for i, text in enumerate(own)
    ]
    if design:
        points += [
            Point(d.point, "design", 1.0 if d.cue.search(answer) else 0.0, key=True, order=100 + i)
            for i, d in enumerate(DESIGN_DIMENSIONS)
            if not _names_dimension(d, own)
        ]
    seen = {p.text for p in points}
    for ref in references:
        if ref.get("source") != "bank":
            continue
        for text in rubric_points(str(ref["text"])):
            if text not in seen and _clearly_said(text, answer):
                seen.add(text)
                points.append(Point(text, "bank", 1.0, key=False))
    if not any(p.key for p in points):
        return None
    return Check(tuple(points))


def judgeable(answer: str) -> bool:
    """Rubrics are English: an answer in Chinese would look as if it missed every point."""
    return personas.han_count(answer) == 0


# ------------------------------------------------------------------------------ references


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 3].rstrip() + "..."


def shown(reference: Mapping[str, Any]) -> dict[str, Any]:
    """A reference as the turn shows it: its source, an excerpt of its text, its score."""
    return {**reference, "text": _excerpt(str(reference["text"]))}


_BULLET = re.compile(r"^[\s\-*•·–—>]+")  # quoted as the resume and job lines are (engine.source_lines)


def job_line(chunk: ChunkText, score: float, query: str) -> SourceLine:
    """The chunk's line closest to the query, as provenance.

    A chunk's text is its document's non-empty lines; only when none were skipped do its lines map
    back to line numbers one to one, otherwise the chunk's first line (at `start_line`) is quoted."""
    texts = chunk.text.splitlines()
    index = 0
    if len(texts) == chunk.end_line - chunk.start_line + 1:
        index = max(range(len(texts)), key=lambda i: (analysis.overlap(texts[i], query), -i))
    return SourceLine(
        "job_description",
        str(chunk.document_id),
        chunk.start_line + index,
        _BULLET.sub("", texts[index] if texts else "")[:300],
        chunk_start=chunk.start_line,
        chunk_end=chunk.end_line,
        score=round(score, 4),
    )


async def _rubric(session: AsyncSession, owner_id: uuid.UUID, question_id: str | None) -> str:
    try:
        qid = uuid.UUID(question_id or "")
    except ValueError:
        return ""  # not a bank question (a deep dive, an agent's own)
    found = await questions.get_questions(session, owner_id, [qid])
    return found[0].rubric.strip() if found else ""


async def _bank_refs(
    session: AsyncSession,
    retriever: Retriever,
    owner_id: uuid.UUID,
    vector: np.ndarray,
    question: PlannedQuestion,
) -> list[dict[str, Any]]:
    refs: list[dict[str, Any]] = []
    for found in await search_vector(session, retriever, owner_id, vector, ["question"], k=BANK_K + 1):
        pair = found.pair
        own = pair.question_id is not None and str(pair.question_id) == question.id
        # A bank question without a rubric is indexed with its own text as the answer: no points.
        if own or pair.question_id is None or found.score < MIN_SCORE or pair.answer == pair.question:
            continue
        refs.append(
            {
                "source": "bank",
                "question_id": str(pair.question_id),
                "question": _excerpt(pair.question),
                "text": pair.answer,
                "score": round(found.score, 4),
            }
        )
    return refs[:BANK_K]


async def _job_refs(
    session: AsyncSession,
    retriever: Retriever,
    owner_id: uuid.UUID,
    vector: np.ndarray,
    query: str,
    job_ids: Sequence[str],
) -> list[dict[str, Any]]:
    refs: list[dict[str, Any]] = []
    # More candidates than kept: the user's other job descriptions are searched too and dropped.
    for found in await search_vector(session, retriever, owner_id, vector, ["job_description"], k=4 * JOB_K):
        chunk = found.chunk
        if chunk is None or str(chunk.document_id) not in job_ids or found.score < MIN_SCORE:
            continue
        line = job_line(chunk, found.score, query)
        # The check reads the whole chunk; the provenance quotes its closest line.
        refs.append({**asdict(line), "quote": line.text, "text": chunk.text})
    return refs[:JOB_K]


async def _retrieved(
    session: AsyncSession,
    retriever: Retriever,
    owner_id: uuid.UUID,
    question: PlannedQuestion,
    answer: str,
    job_ids: Sequence[str],
) -> list[dict[str, Any]]:
    """Other bank questions and this interview's job-description chunks close to the question and
    the answer, embedded once for both searches."""
    query = f"{question.text}\n{prompts.excerpt(answer, QUERY_ANSWER_WORDS)}"
    vector = (await retriever.embedder.embed([query]))[0]
    refs = await _bank_refs(session, retriever, owner_id, vector, question)
    if job_ids:
        refs += await _job_refs(session, retriever, owner_id, vector, query, job_ids)
    return refs


async def find_references(
    session: AsyncSession, tools: Tools, question: PlannedQuestion, answer: str, job_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """The question's rubric, then what retrieval finds; a retrieval failure leaves the rubric."""
    refs: list[dict[str, Any]] = []
    rubric = await _rubric(session, tools.owner_id, question.id)
    if rubric:
        refs.append({"source": "rubric", "question_id": question.id, "text": rubric, "score": None})
    if tools.retriever is None:
        return refs
    try:
        refs += await _retrieved(session, tools.retriever, tools.owner_id, question, answer, job_ids)
    except Exception:  # references from retrieval are an improvement; the rubric still checks
        log.warning("retrieval of references failed; checking against the rubric only", exc_info=True)
    return refs


# --------------------------------------------------------------------------------- planning

DOCUMENTS = "documents"


def remember_documents(plan: Plan, job_description_id: uuid.UUID | None) -> None:
    """Which job description the knowledge agents may quote (set once, at planning)."""
    if job_description_id is None:
        return
    for name in ("knowledge", "system_design"):
        plan.agents.setdefault(name, {})[DOCUMENTS] = {"job_description": [str(job_description_id)]}


# ------------------------------------------------------------------------------------ agent


class KnowledgeAgent(GeneralInterviewer):
    """Asks a bank question of its category and follows up on what the references say was missed."""

    def __init__(self, name: str = "knowledge", *, design: bool = False) -> None:
        super().__init__()
        self.name = name
        self.design = design

    def _state(self, ctx: Context) -> dict[str, Any]:
        state = ctx.state(self.name)
        if state.get("question") != ctx.plan.cursor:
            state.clear()
            state.update(question=ctx.plan.cursor, credit={}, asked=[])
        return state

    def enter(self, ctx: Context, index: int) -> None:
        # Lazily reset (see `_state`): entering writes nothing, so a plan only holds agents that spoke.
        state = ctx.plan.agents.get(self.name, {}).get("state")
        if state is not None:
            state.clear()

    def job_ids(self, plan: Plan) -> list[str]:
        return list(plan.agents.get(self.name, {}).get(DOCUMENTS, {}).get("job_description", []))

    async def gather(self, ctx: Context, text: str, tools: Tools) -> dict[str, Any]:
        question = ctx.plan.current
        if question is None or tools.sessionmaker is None:
            return {}
        async with tools.sessionmaker() as session:
            refs = await find_references(session, tools, question, text, self.job_ids(ctx.plan))
        return {"references": refs} if refs else {}

    def check(self, ctx: Context, answer: str) -> Check | None:
        refs = ctx.evidence.get("references") or []
        if not refs or not judgeable(answer):
            return None
        found = check_answer(answer, refs, design=self.design)
        if found is None:
            return None
        state = self._state(ctx)
        found = found.with_credit(state["credit"])
        state["credit"] = {p.text: p.credit for p in found.points if p.credit > 0}
        state["covered"] = [p.to_json() for p in found.covered]
        state["missed"] = [p.to_json() for p in found.missed]
        return found

    def follow_up_reason(self, ctx: Context, question: PlannedQuestion, answer: str) -> str | None:
        found = self.check(ctx, answer)
        if found is None:
            # Nothing to check against (no rubric, no retrieval, an answer in Chinese): the rules.
            return super().follow_up_reason(ctx, question, answer)
        if question.follow_ups >= self.rules_for(ctx).max_follow_ups:
            return None
        if measure_answer(question, answer, ctx.plan.keywords, ctx.voice.language).skipped:
            return None
        if found.coverage >= MIN_COVERAGE[ctx.voice.persona]:
            return None
        asked = self._state(ctx)["asked"]
        point = next((p for p in found.missed if p.text not in asked), None)
        if point is None:
            return None
        asked.append(point.text)
        return "missed:" + point.text

    def follow_up(self, ctx: Context, index: int, answer: str, reason: str) -> Move:
        if not reason.startswith("missed:"):
            return super().follow_up(ctx, index, answer, reason)
        point = reason.removeprefix("missed:")
        q = ctx.plan.questions[index]
        refs = [shown(r) for r in ctx.evidence.get("references") or []]
        state = self._state(ctx)
        context = ctx.answer_context or answer_context(ctx)
        return Move(
            kind="follow_up",
            fallback=personas.missed_point(ctx.voice, point),
            messages=prompts.missed_point(context, answer, point, ctx.voice),
            max_tokens=60,
            question_index=index,
            question_id=q.id,
            # The model's phrasing must name the point (the guard checks), else the fallback is said.
            anchor=point,
            provenance=[_provenance(r) for r in refs if r.get("source") == "job_description"],
            reason=reason,
            agent=self.name,
            language=ctx.voice.language,
            data={
                "references": refs,
                "covered": list(state.get("covered", [])),
                "missed": list(state.get("missed", [])),
                "asked": point,
            },
        )


def _provenance(reference: Mapping[str, Any]) -> dict[str, Any]:
    fields = ("source", "document_id", "line", "text", "chunk_start", "chunk_end", "score")
    return {k: reference.get(k) for k in fields} | {"text": str(reference["quote"])}
