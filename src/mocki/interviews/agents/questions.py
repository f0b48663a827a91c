"""The question agent ("deep_dive"): an in-depth question about one concrete claim of the resume.

At planning (`plan_deep_dive`, one call from `prepare_start`) an interview with a resume and at
least `MIN_LENGTH` questions trades one planned question for a deep dive. The claim is the resume
line that says the most and matches the job: a number, a technology, an outcome, named in the job
description too. The question is the model-written one retrieval indexed for that line's chunk
(`qa_pairs`, kind "resume") when one is specific to the line, else a template over the line and
its facts (`interviews.facts`). Its ground is the line, with the chunk's lines when it came from
retrieval, so the candidate sees where it came from.

The deep dive takes the slot and the category of the weakest-matching question after the opening
(never a coding one: there is no code to run), so the interview keeps the mix of categories its
kind asked for and the report scores it like the question it replaced.

Its follow-ups probe depth: how the result was measured, why that choice, what trade-off it had,
what they would do differently, in that order of what the answer (and the earlier answers on the
same claim) still lacks.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.interviews import analysis, facts, personas, prompts
from mocki.interviews.engine import (
    Context,
    FollowUpRules,
    GeneralInterviewer,
    Move,
    Plan,
    PlannedQuestion,
    SourceLine,
    answer_context,
    measure_answer,
)
from mocki.interviews.personas import Language
from mocki.models import Chunk, Interview, QAPair
from mocki.retrieval.service import open_pairs

NAME = "deep_dive"
MIN_LENGTH = 3
MAX_PAIRS = 200
QUOTE_CHARS = 110

# ------------------------------------------------------------------------------ the claim

_OUTCOME = re.compile(
    r"\b(reduc\w*|cut(?:ting)?|improv\w*|increas\w*|grew|grow\w*|sav(?:ed|ing)|boost\w*|rais\w*|"
    r"lower\w*|doubl\w*|tripl\w*|halv\w*|faster|eliminat\w*|launch\w*|shipp?\w*|scal\w*|migrat\w*|"
    r"automat\w*|optimi[sz]\w*)\b",
    re.I,
)


# A number that is a result someone measured (a rate, a share, a time, money), not a head count.
_METRIC = re.compile(
    r"(%|\bpercent|\bper\b|\ba (?:day|second|minute|month|year)\b|\b(?:ms|seconds?|minutes?|hours?|"
    r"days?|weeks?|x|times|million|billion|thousand|k|m)\b|[$€£¥])",
    re.I,
)


@dataclass(frozen=True)
class Claim:
    line: SourceLine
    numbers: list[str]
    metrics: list[str]  # the numbers that are measured results
    technologies: list[str]  # the ones the job names first
    score: float


def is_metric(number: str, line: str) -> bool:
    return bool(_METRIC.search(number)) or bool(_OUTCOME.search(line))


def _job_terms(job: Sequence[SourceLine], role: str) -> tuple[set[str], set[str]]:
    """The job's content words and technologies (the role's words when there is no description)."""
    text = "\n".join(line.text for line in job) or role
    techs = {f.value.casefold() for f in facts.extract_facts(text, 0) if f.kind == "technology"}
    return set(analysis.content_words(text)), techs


def claim_of(line: SourceLine, job_words: set[str], job_techs: set[str]) -> Claim | None:
    """How much a resume line claims: a number, technologies, an outcome, what the job asks for.

    None for a line with neither a number nor a technology: nothing concrete to dig into."""
    found = facts.extract_facts(line.text, 0)
    numbers = [f.value for f in found if f.kind == "number"]
    techs = [f.value for f in found if f.kind == "technology"]
    if not numbers and not techs:
        return None
    metrics = [n for n in numbers if is_metric(n, line.text)]
    shared_techs = [t for t in techs if t.casefold() in job_techs]
    shared_words = set(analysis.content_words(line.text)) & job_words
    score = (
        3.0 * bool(metrics)
        + 1.0 * bool(numbers)
        + min(3, len(techs))
        + 2.0 * bool(_OUTCOME.search(line.text))
        + 2.0 * len(shared_techs)
        + min(3, len(shared_words))
        - 2.0 * any(f.kind == "school" for f in found)  # a degree is not a claim to dig into
    )
    ordered = shared_techs + [t for t in techs if t not in shared_techs]
    return Claim(line, numbers, metrics, ordered, score)


def pick_claim(
    lines: Sequence[SourceLine], role: str, used: AbstractSet[tuple[str, int]] = frozenset()
) -> Claim | None:
    """The resume line most worth a deep dive. A line another question is grounded in comes only
    when no other line claims anything: the deep dive should open something new."""
    job_words, job_techs = _job_terms([ln for ln in lines if ln.source == "job_description"], role)
    claims = [
        claim
        for line in lines
        if line.source == "resume" and (claim := claim_of(line, job_words, job_techs)) is not None
    ]
    # max() keeps the first of equals: the earlier line in the resume.
    return max(claims, key=lambda c: ((c.line.source, c.line.line) not in used, c.score), default=None)


# --------------------------------------------------------------------------- the question


@dataclass(frozen=True)
class ModelPair:
    """A question the model wrote for a chunk of the resume (retrieval's pairs), with its lines."""

    question: str
    chunk_start: int
    chunk_end: int


_GENERIC = re.compile(
    r"\b(about yourself|your (?:background|strengths|weaknesses|experience in general)|"
    r"why do you want|where do you see yourself|this part of your)\b",
    re.I,
)


def specificity(question: str, claim: Claim) -> int:
    """How many of the claim's facts and words a model-written question names; 0 if unusable.

    A usable one is a real question of sensible length, not a generic one, and names a number or
    technology of the line or at least three of its words."""
    q = question.strip()
    if not q.endswith("?") or not 6 <= len(analysis.words(q)) <= 40 or _GENERIC.search(q):
        return 0
    named = sum(value.casefold() in q.casefold() for value in claim.numbers + claim.technologies)
    shared = len(set(analysis.content_words(q)) & set(analysis.content_words(claim.line.text)))
    if named == 0 and shared < 3:
        return 0
    return 2 * named + shared


def _quote(text: str) -> str:
    text = text.strip().rstrip(".")
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 3].rsplit(" ", 1)[0] + "..."


def deep_dive_question(
    claim: Claim, pairs: Sequence[ModelPair], category: str, language: Language = "en"
) -> PlannedQuestion:
    """The model's question for the claim's chunk when one is specific to the line, else a template."""
    line = claim.line
    inside = [p for p in pairs if p.chunk_start <= line.line <= p.chunk_end]
    ranked = sorted(inside, key=lambda p: -specificity(p.question, claim))
    tags = [t.casefold() for t in claim.technologies]
    if ranked and specificity(ranked[0].question, claim) > 0:
        pair = ranked[0]
        ground = replace(line, chunk_start=pair.chunk_start, chunk_end=pair.chunk_end)
        return PlannedQuestion(None, pair.question.strip(), category, tags, ground, agent=NAME)
    number = claim.metrics[-1] if claim.metrics else None  # "from 2 hours to 15 minutes": the result
    tech = claim.technologies[0] if claim.technologies else None
    text = personas.deep_dive_question(language, _quote(line.text), number, tech)
    return PlannedQuestion(None, text, category, tags, line, agent=NAME)


def replace_slot(plan: Plan) -> int | None:
    """The question a deep dive replaces: the last (weakest-matching) one after the opening that is
    not a coding problem, not already an agent's own, and not picked for a weak point if avoidable."""
    free = [i for i, q in enumerate(plan.questions) if i > 0 and q.category != "coding" and not q.agent]
    untargeted = [i for i in free if plan.questions[i].target is None]
    pool = untargeted or free
    return pool[-1] if pool else None


async def model_pairs(session: AsyncSession, owner_id: uuid.UUID, document_id: uuid.UUID) -> list[ModelPair]:
    # Read here, like interviews.grounding does: retrieval has no reader of pairs by document.
    rows = await session.execute(
        select(QAPair, Chunk.start_line, Chunk.end_line)
        .join(Chunk, Chunk.id == QAPair.chunk_id)
        .where(
            QAPair.document_id == document_id,
            QAPair.owner_id == owner_id,
            QAPair.kind == "resume",
            QAPair.origin == "model",
        )
        .order_by(Chunk.ordinal, QAPair.created_at)
        .limit(MAX_PAIRS)
    )
    found = list(rows)
    opened = await open_pairs(session, [pair for pair, _, _ in found])  # sealed under the resume's key
    return [ModelPair(pair.question, start, end) for pair, (_, start, end) in zip(opened, found, strict=True)]


async def plan_deep_dive(
    session: AsyncSession, interview: Interview, plan: Plan, lines: Sequence[SourceLine]
) -> PlannedQuestion | None:
    """Replace one planned question by a deep dive into the resume (in place); the new question."""
    if interview.resume_id is None or len(plan.questions) < MIN_LENGTH:
        return None
    slot = replace_slot(plan)
    if slot is None:
        return None
    kept = [q for i, q in enumerate(plan.questions) if i != slot]
    used = {(q.ground.source, q.ground.line) for q in kept if q.ground is not None}
    claim = pick_claim(lines, interview.target_role, used)
    if claim is None:
        return None
    pairs = await model_pairs(session, interview.owner_id, interview.resume_id)
    language: Language = "zh" if interview.language == "zh" else "en"
    question = deep_dive_question(claim, pairs, plan.questions[slot].category, language)
    plan.questions[slot] = question
    return question


# ------------------------------------------------------------------------------------ agent

ASPECTS = ("measure", "why", "tradeoff", "differently")
_ASPECT_CUES: dict[str, re.Pattern[str]] = {
    "measure": re.compile(
        r"(\b(measur\w*|metrics?|dashboards?|benchmark\w*|baseline|monitor\w*|tracked|load test\w*|"
        r"a/b test\w*|p9\d|percent\w*)\b|\d\s?(?:%|ms\b|x\b|k\b|seconds?|minutes?|hours?|million|"
        r"thousand|requests|rps|qps)|衡量|指标|监控|基准|压测|统计|对比)",
        re.I,
    ),
    "why": re.compile(
        r"(\b(because|since|so that|the reason|reasons?|chose|choose|picked|decided|instead of|"
        r"rather than|compared|alternatives?|considered)\b|因为|所以|原因|选择|决定|而不是|相比|考虑)",
        re.I,
    ),
    "tradeoff": re.compile(
        r"(\b(trade-?offs?|downsides?|drawbacks?|cost us|at the cost|the price|complexity|risks?|"
        r"but it|gave up|sacrific\w*|limitations?)\b|权衡|取舍|代价|缺点|成本|风险|牺牲)",
        re.I,
    ),
    "differently": re.compile(
        r"(\b(next time|in hindsight|looking back|would have|should have|would do differently|"
        r"would change|lessons?|learned|learnt|if i did it again)\b|下次|回头看|重来|教训|学到|应该)",
        re.I,
    ),
}


def heard(answer: str) -> dict[str, bool]:
    """Which depth aspects an answer speaks to, by cue words (English and Chinese)."""
    return {aspect: bool(cue.search(answer)) for aspect, cue in _ASPECT_CUES.items()}


def probe_order(question: PlannedQuestion) -> tuple[str, ...]:
    """A claimed result is first asked how it was measured; anything else why, then the trade-off."""
    claim = question.ground.text if question.ground else question.text
    found = facts.extract_facts(claim, 0)
    if any(f.kind == "number" and is_metric(f.value, claim) for f in found):
        return ASPECTS
    return ("why", "tradeoff", "measure", "differently")


# A deep dive asks one more follow-up than the persona allows elsewhere, and is satisfied once
# this many aspects were spoken to.
ENOUGH_ASPECTS = {"friendly": 2, "neutral": 3, "tough": 4}


class DeepDiveAgent(GeneralInterviewer):
    """Runs a deep-dive question: probes the depth the answers have not shown yet."""

    name = NAME

    def rules_for(self, ctx: Context) -> FollowUpRules:
        rules = super().rules_for(ctx)
        return replace(rules, max_follow_ups=rules.max_follow_ups + 1)

    def _state(self, ctx: Context) -> dict[str, Any]:
        state = ctx.state(self.name)
        if state.get("question") != ctx.plan.cursor:
            state.clear()
            state.update(question=ctx.plan.cursor, heard=dict.fromkeys(ASPECTS, False), asked=[])
        return state

    def enter(self, ctx: Context, index: int) -> None:
        state = ctx.plan.agents.get(self.name, {}).get("state")
        if state is not None:
            state.clear()

    def follow_up_reason(self, ctx: Context, question: PlannedQuestion, answer: str) -> str | None:
        state = self._state(ctx)
        now = heard(answer)
        state["heard"] = {a: bool(state["heard"].get(a)) or now[a] for a in ASPECTS}
        if question.follow_ups >= self.rules_for(ctx).max_follow_ups:
            return None
        if measure_answer(question, answer, ctx.plan.keywords, ctx.voice.language).skipped:
            return None
        if sum(state["heard"].values()) >= ENOUGH_ASPECTS[ctx.voice.persona]:
            return None
        aspect = next(
            (a for a in probe_order(question) if not state["heard"][a] and a not in state["asked"]), None
        )
        if aspect is None:
            return None
        state["asked"].append(aspect)
        return "depth:" + aspect

    def follow_up(self, ctx: Context, index: int, answer: str, reason: str) -> Move:
        q = ctx.plan.questions[index]
        state = self._state(ctx)
        context = ctx.answer_context or answer_context(ctx)
        return Move(
            kind="follow_up",
            fallback=personas.depth_probe(ctx.voice, reason),
            messages=prompts.probe_depth(context, answer, reason, ctx.voice),
            max_tokens=60,
            question_index=index,
            question_id=q.id,
            provenance=[asdict(q.ground)] if q.ground else [],
            reason=reason,
            agent=self.name,
            language=ctx.voice.language,
            data={
                "claim": q.ground.text if q.ground else q.text,
                "probe": reason.removeprefix("depth:"),
                "heard": [a for a in ASPECTS if state["heard"].get(a)],
            },
        )
