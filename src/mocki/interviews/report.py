"""The interview report: rule-based measures per answer, 0-5 scores, one line of model feedback each.

Scores come from measures anyone can check (length, STAR cue words, named tools and numbers,
filler words, overlap with the question, coverage of the bank question's rubric); each score
keeps the transcript sentences it rests on. The model only adds a sentence of advice per answer,
and when it fails or rambles the rule-based advice stands in.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mocki.cache.families import interviews_changed
from mocki.interviews import analysis, measures, prompts, repository
from mocki.interviews.agents.coding import code_digest, extract_code
from mocki.interviews.engine import Plan, zh_measures
from mocki.llm import usage as llm_usage
from mocki.llm.base import LLM, LLMError, Usage
from mocki.models import Report, Turn
from mocki.questions import service as questions

log = logging.getLogger(__name__)

DIMENSIONS = ("relevance", "structure", "depth", "communication")
# Correctness is scored only where a reference answer exists and right or wrong is a fair question.
TECHNICAL = frozenset({"knowledge", "system_design", "coding"})
EVIDENCE_PER_DIMENSION = 2
FEEDBACK_TIMEOUT_S = 30.0
# Past this much model time for one report, the remaining answers get rule-based advice only.
FEEDBACK_BUDGET_S = 120.0
CONNECTORS = re.compile(
    r"\b(because|so that|therefore|first|second|then|finally|for example|for instance|which means|"
    r"trade-?off|however|instead|in short|the reason|as a result)\b"
)


@dataclass
class QA:
    """One main question with its follow-ups and the candidate's answers, by turn seq."""

    question: str
    bank_text: str
    category: str
    question_id: str | None = None
    rubric: str = ""
    seqs: list[int] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    answer_seqs: list[int] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    # Seconds from the interviewer's turn to each answer, and spoken length of voice answers.
    response_s: list[float] = field(default_factory=list)
    speech_s: list[float] = field(default_factory=list)
    # The planned question's index: where its agent's memory is kept in the plan.
    index: int | None = None
    # The interview's language: a Chinese answer is measured with Chinese cues (engine.zh_measures).
    language: str = "en"

    @property
    def answer(self) -> str:
        return "\n".join(self.answers)


def pair_turns(turns: Sequence[Turn], plan: Plan) -> list[QA]:
    """Group the transcript by main question; questions nobody answered are left out."""
    items: list[QA] = []
    current: QA | None = None
    asked: Turn | None = None
    for turn in sorted(turns, key=lambda t: t.seq):
        if turn.speaker == "interviewer":
            asked = turn
            if turn.kind == "question":
                index = (turn.meta or {}).get("question_index")
                planned = (
                    plan.questions[index]
                    if isinstance(index, int) and 0 <= index < len(plan.questions)
                    else None
                )
                current = QA(
                    question=turn.text,
                    bank_text=planned.text if planned else turn.text,
                    category=planned.category if planned else "behavioural",
                    question_id=planned.id if planned else None,
                    seqs=[turn.seq],
                    prompts=[turn.text],
                    index=index if planned else None,
                )
                items.append(current)
            elif turn.kind == "follow_up" and current is not None:
                current.seqs.append(turn.seq)
                current.prompts.append(turn.text)
        elif turn.speaker == "candidate" and current is not None and turn.kind == "answer":
            # Requests (clarification, a hint, another topic, ending) are not answers to score.
            current.seqs.append(turn.seq)
            current.answers.append(turn.text)
            current.answer_seqs.append(turn.seq)
            _add_timing(current, turn, asked)
    return [item for item in items if item.answers]


def _add_timing(qa: QA, answer: Turn, asked: Turn | None) -> None:
    if asked is not None and answer.created_at is not None and asked.created_at is not None:
        waited = (answer.created_at - asked.created_at).total_seconds()
        if waited >= 0:
            qa.response_s.append(waited)
    spoken = (answer.meta or {}).get("speech_s")
    if isinstance(spoken, int | float) and spoken > 0:
        qa.speech_s.append(float(spoken))


def _clamp(value: float) -> float:
    return round(max(0.0, min(5.0, value)), 1)


def score(m: analysis.AnswerMeasures, category: str, keyword_hits: int) -> dict[str, float]:
    if m.skipped or m.word_count == 0:
        return {
            "relevance": 0.0,
            "structure": 0.0,
            "depth": 0.0,
            "communication": 1.0 if m.word_count else 0.0,
        }
    relevance = 4.0 * min(1.0, m.relevance / 0.5) + min(1.0, keyword_hits / 3)
    if m.word_count >= 30:
        relevance = max(relevance, 1.0)  # a real answer that uses other words is still an answer
    sentence_part = 1.0 if m.sentence_count >= 3 else 0.5 if m.sentence_count == 2 else 0.0
    if category == "behavioural":
        structure = m.star_count + sentence_part
    else:
        structure = 3.0 * min(3, int(m.extras.get("connectors", 0))) / 3 + 2 * sentence_part
    if m.word_count < 15:
        length = 0.0
    elif m.word_count < 40:
        length = 1.0
    elif m.word_count < 90:
        length = 2.0
    else:
        length = 2.5
    depth = length + min(2.5, 0.5 * m.specifics)
    communication = 5.0 - min(2.5, m.filler_ratio * 50)
    if m.word_count < 10:
        communication -= 2.0
    if m.sentence_count and m.word_count / m.sentence_count > 40:
        communication -= 1.0  # one endless sentence is hard to follow
    return {
        "relevance": _clamp(relevance),
        "structure": _clamp(structure),
        "depth": _clamp(depth),
        "communication": _clamp(communication),
    }


def measure_item(item: QA, keywords: Sequence[str]) -> tuple[analysis.AnswerMeasures, int]:
    m = analysis.measure(item.bank_text + " " + " ".join(item.prompts[1:]), item.answer, keywords)
    m.extras["connectors"] = float(len(CONNECTORS.findall(item.answer.lower())))
    if item.language == "zh":
        m = zh_measures(m, item.answer, keywords)
    answer_words = set(analysis.content_words(item.answer))
    hits = len(answer_words & {analysis.stem(k) for k in keywords})
    return m, hits


def rubric_points(rubric: str) -> list[str]:
    """The rubric's separate points ("Hash map in one pass; handles duplicates; ...")."""
    return [p.strip() for p in re.split(r"[;\n]", rubric) if analysis.content_words(p)]


def _point_credit(point: str, text: str) -> float:
    # Half of a point's content words said is full credit: answers paraphrase.
    return min(1.0, analysis.overlap(point, text) / 0.5)


def correctness(qa: QA) -> float | None:
    """0-5 by coverage of the bank question's rubric; None where it does not apply."""
    points = rubric_points(qa.rubric)
    if qa.category not in TECHNICAL or not points:
        return None
    if analysis.is_skip(qa.answer):
        return 0.0
    return _clamp(5.0 * sum(_point_credit(p, qa.answer) for p in points) / len(points))


def missed_points(qa: QA) -> list[str]:
    return [p for p in rubric_points(qa.rubric) if _point_credit(p, qa.answer) < 1.0]


def _quote(sentence: str) -> str:
    return sentence if len(sentence) <= 240 else sentence[:237].rstrip() + "..."


Judgement = tuple[str, float, str]  # (dimension, weight, why): the heavier, the better the quote


def _judgements(qa: QA, sentence: str, vocabulary: set[str], points: list[str]) -> list[Judgement]:
    """What one sentence shows for each score it bears on."""
    found: list[Judgement] = []
    lowered = sentence.lower()
    shared = analysis.overlap(qa.bank_text, sentence)
    if shared > 0:
        found.append(("relevance", shared, "uses the question's terms"))
    if qa.category == "behavioural":
        cues = [name for name, hit in analysis.star_elements(sentence).items() if hit]
        if cues:
            found.append(("structure", len(cues), "STAR: " + ", ".join(cues)))
    elif connectors := CONNECTORS.findall(lowered):
        found.append(("structure", len(connectors), "reasoning step: " + connectors[0]))
    named = sorted(set(analysis.content_words(sentence)) & vocabulary)
    if named or analysis.has_number(sentence):
        weight = len(named) + analysis.has_number(sentence)
        found.append(("depth", weight, "specifics: " + ", ".join(named or ["numbers"])))
    slack = analysis.filler_hits(sentence) + analysis.hedge_hits(sentence)
    if slack:
        found.append(("communication", sum(slack.values()), "fillers/hedges: " + ", ".join(slack)))
    if points:
        point = max(points, key=lambda p: analysis.overlap(p, sentence))
        covered = analysis.overlap(point, sentence)
        if covered >= 0.34:
            found.append(("correctness", covered, "covers: " + point))
    return found


def evidence(qa: QA, keywords: Sequence[str], scored: dict[str, float]) -> list[dict[str, Any]]:
    """The answer sentences each score rests on, at most two per dimension, with why they count."""
    vocabulary = {analysis.stem(t) for t in analysis.TECH_TERMS} | {analysis.stem(k) for k in keywords}
    points = rubric_points(qa.rubric) if "correctness" in scored else []
    found: dict[str, list[tuple[float, dict[str, Any]]]] = {}
    for seq, text in zip(qa.answer_seqs, qa.answers, strict=True):
        for sentence in analysis.sentences(text):
            for dimension, weight, note in _judgements(qa, sentence, vocabulary, points):
                entry = {"dimension": dimension, "seq": seq, "quote": _quote(sentence), "note": note}
                found.setdefault(dimension, []).append((weight, entry))
    out: list[dict[str, Any]] = []
    for dimension in (*DIMENSIONS, "correctness"):
        ranked = sorted(found.get(dimension, []), key=lambda we: -we[0])
        out.extend(entry for _, entry in ranked[:EVIDENCE_PER_DIMENSION])
    return out


def weakest(scores: dict[str, float]) -> str:
    names = [d for d in (*DIMENSIONS, "correctness") if d in scores]
    return min(names, key=lambda d: (scores[d], names.index(d)))


def rule_feedback(item: QA, m: analysis.AnswerMeasures, scores: dict[str, float]) -> str:
    if m.skipped:
        return "You skipped this one; even a partial answer that says how you would find out scores better."
    if min(scores.values()) >= 4:
        return "Strong answer: on point, well structured and specific."
    dim = weakest(scores)
    if dim == "relevance":
        missing = [
            w
            for w in dict.fromkeys(analysis.content_words(item.bank_text))
            if w not in set(analysis.content_words(item.answer))
        ][:3]
        focus = f" ({', '.join(missing)})" if missing else ""
        return f"Answer the question that was asked more directly{focus}."
    if dim == "structure":
        if item.category == "behavioural":
            gaps = [name for name in ("situation", "task", "action", "result") if not m.star[name]]
            if gaps:
                return f"Use the STAR structure; the {' and '.join(gaps)} part was missing."
            return "Walk through it in order: situation, task, what you did, and the result."
        return "Lay the answer out in steps: your approach, why you chose it, then the trade-offs."
    if dim == "depth":
        return "Go deeper: name the tools, the numbers and the decisions you made yourself."
    if dim == "correctness":
        missed = missed_points(item)[:2]
        return "Cover the key points a strong answer names: " + "; ".join(missed).rstrip(".") + "."
    if m.fillers:
        return f"Cut the filler words ({m.fillers} here) and keep your sentences short."
    return "Keep sentences short and lead with the main point."


_WEAK_HINT = {
    "relevance": "did not address the question directly",
    "structure": "poorly structured",
    "depth": "few specifics: no tools, numbers or own decisions",
    "communication": "filler words or long rambling sentences",
    "correctness": "missed key technical points",
}


_ECHO = re.compile(r"\b(interview coach|you are an?|as an ai|the candidate'?s answer)\b", re.I)


def clean_feedback(raw: str, answer: str = "") -> str | None:
    """One usable sentence from the model, or None: not the instructions echoed back, not the
    candidate's own answer repeated to them."""
    text = re.sub(r"[*_#`]+", "", raw)
    text = re.sub(r"\s+", " ", text).strip().strip("\"'“” ")
    text = re.sub(r"^(advice|feedback|coach)\s*:\s*", "", text, flags=re.I)
    match = re.match(r"(.+?[.!])(\s|$)", text)
    if match:
        text = match.group(1)
    n = len(analysis.words(text))
    letters = [c for c in text if c.isalpha()]
    if not 4 <= n <= 40 or not letters or sum(c.isascii() for c in letters) / len(letters) < 0.95:
        return None
    if re.match(r"^(question|answer|weakest)\b", text, re.I) or _ECHO.search(text):
        return None
    said = set(analysis.content_words(answer))
    own = analysis.content_words(text)
    if own and sum(w in said for w in own) / len(own) > 0.6:
        return None
    return text


async def model_feedback(llm: LLM, item: QA, dim: str) -> tuple[str | None, Usage]:
    """One sentence of advice from the model, or None; the usage is returned for the record."""
    started = time.perf_counter()
    messages = prompts.feedback(item.bank_text, item.answer, _WEAK_HINT[dim])
    try:
        completion = await asyncio.wait_for(
            llm.complete(messages, max_tokens=50, temperature=0.2), FEEDBACK_TIMEOUT_S
        )
    except (LLMError, TimeoutError) as exc:
        failed = Usage(
            model=llm.model, latency_s=time.perf_counter() - started, error=str(exc)[:500] or "timeout"
        )
        return None, failed
    return clean_feedback(completion.text, item.answer), completion.usage


def overall_score(items: Sequence[dict[str, Any]]) -> float | None:
    """0-100: the mean answer score, each answer weighing the same however many dimensions it has."""
    if not items:
        return None
    return round(sum(measures.item_mean(i["scores"]) for i in items) / len(items) / 5 * 100, 1)


def summarise(items: list[dict[str, Any]], planned: int, overall: float | None) -> str:
    if not items:
        return (
            "No answers were given, so there is nothing to score. "
            "Start a new interview and answer at least one question to get feedback."
        )
    means = measures.dimension_means(items)
    names = [d for d in (*DIMENSIONS, "correctness") if d in means]
    best = max(names, key=lambda d: means[d])
    worst = min(names, key=lambda d: means[d])
    return (
        f"You answered {len(items)} of {planned} planned questions and scored {overall:.0f}/100. "
        f"Strongest: {best} ({means[best]:.1f}/5); to work on: {worst} ({means[worst]:.1f}/5)."
    )


@dataclass
class Draft:
    """What a report is computed from, read in one short transaction."""

    interview_id: uuid.UUID
    owner_id: uuid.UUID
    plan: Plan
    planned: int
    qas: list[QA]


@dataclass
class Written:
    items: list[dict[str, Any]]
    usages: list[Usage]


async def load_draft(session: AsyncSession, interview_id: uuid.UUID) -> Draft | None:
    """None when there is nothing to do: the interview is gone or its report is ready already."""
    interview = await repository.get(session, interview_id)
    if interview is None:
        return None
    report = await repository.report_for(session, interview_id)
    if report is not None and report.status == "ready":
        return None
    plan = Plan.from_json(interview.plan)
    qas = pair_turns(await repository.turns(session, interview_id), plan)
    for qa in qas:
        qa.language = interview.language
    await _attach_rubrics(session, interview.owner_id, qas)
    return Draft(interview_id, interview.owner_id, plan, len(plan.questions) or interview.length, qas)


async def _attach_rubrics(session: AsyncSession, owner_id: uuid.UUID, qas: list[QA]) -> None:
    """Each answered bank question's rubric; a question deleted since keeps an empty one."""
    ids: dict[str, uuid.UUID] = {}
    for qa in qas:
        try:
            ids[qa.question_id or ""] = uuid.UUID(qa.question_id or "")
        except ValueError:
            continue  # not a bank question
    found = {str(q.id): q.rubric for q in await questions.get_questions(session, owner_id, ids.values())}
    for qa in qas:
        qa.rubric = found.get(qa.question_id or "", "")


def score_item(qa: QA, keywords: Sequence[str]) -> tuple[analysis.AnswerMeasures, dict[str, float]]:
    """The four rule-based scores, plus correctness for technical answers with a rubric."""
    m, hits = measure_item(qa, keywords)
    scores = score(m, qa.category, hits)
    right = correctness(qa)
    if right is not None:
        scores["correctness"] = right
    return m, scores


async def write_items(llm: LLM | None, draft: Draft, *, budget_s: float = FEEDBACK_BUDGET_S) -> Written:
    """Scores by rules, advice by the model within the budget; no database session is held here."""
    items: list[dict[str, Any]] = []
    usages: list[Usage] = []
    deadline = time.monotonic() + budget_s
    for qa in draft.qas:
        m, scores = score_item(qa, draft.plan.keywords)
        tested = coding_run(qa, draft.plan)
        if tested is not None:
            scores["correctness"] = coding_correctness(tested)
        feedback = None
        if llm is not None and not m.skipped and time.monotonic() < deadline:
            feedback, used = await model_feedback(llm, qa, weakest(scores))
            usages.append(used)
        cited = evidence(qa, draft.plan.keywords, scores)
        if tested is not None:
            cited = [e for e in cited if e["dimension"] != "correctness"] + [coding_evidence(qa, tested)]
            if weakest(scores) == "correctness":
                feedback = coding_feedback(tested)
        items.append(
            {
                "question": qa.question,
                "answer": qa.answer,
                "category": qa.category,
                "scores": scores,
                "feedback": feedback or rule_feedback(qa, m, scores),
                "turn_seqs": qa.seqs,
                "measures": measures.answer_measures(qa.answers, qa.response_s, qa.speech_s),
                "evidence": cited,
            }
        )
    return Written(items, usages)


# ------------------------------------------------------------------------------------------
# Coding questions (interviews/agents/coding.py): correctness is the share of tests the last
# run of the candidate's code passed, less a little per hint taken, and its evidence cites the
# answer that run was made from. Without a run (no code, or no sandbox) the rubric stands.

HINT_PENALTY = 0.2  # correctness points per hint taken; scores keep one decimal, so a multiple of 0.1


def coding_run(qa: QA, plan: Plan) -> dict[str, Any] | None:
    """The last sandbox run on a coding question, with the hints taken; None when nothing ran."""
    if qa.category != "coding" or qa.index is None:
        return None
    memory = plan.agents.get("coding", {}).get("state", {}).get("questions", {}).get(str(qa.index)) or {}
    runs = [r for r in memory.get("runs") or [] if r.get("sandbox", "ran") == "ran" and r.get("total")]
    if not runs:
        return None
    return {"run": runs[-1], "runs": len(runs), "hints": int(memory.get("hints") or 0)}


def coding_correctness(tested: dict[str, Any]) -> float:
    run = tested["run"]
    passed = 5.0 * int(run["passed"]) / int(run["total"])
    return _clamp(passed - HINT_PENALTY * min(3, tested["hints"]))


def coding_evidence(qa: QA, tested: dict[str, Any]) -> dict[str, Any]:
    """The answer whose code made the last run (by its digest), quoted by its first line."""
    run = tested["run"]
    submitted = [
        (seq, found.code)
        for seq, text in zip(qa.answer_seqs, qa.answers, strict=True)
        if (found := extract_code(text, submitted=True)) is not None
    ]
    same = next((s for s in submitted if code_digest(s[1]) == run.get("code")), None)
    seq, code = same or (submitted[-1] if submitted else (qa.answer_seqs[-1], qa.answers[-1]))
    first = next((line.strip() for line in code.splitlines() if line.strip()), "")
    note = f"last run: {run['passed']} of {run['total']} tests passed ({run['verdict']})"
    if tested["runs"] > 1:
        note += f" after {tested['runs']} runs"
    if tested["hints"]:
        note += f"; {tested['hints']} hint{'s' if tested['hints'] > 1 else ''} taken"
    return {"dimension": "correctness", "seq": seq, "quote": _quote(first), "note": note}


def coding_feedback(tested: dict[str, Any]) -> str:
    run = tested["run"]
    if run["passed"] < run["total"]:
        return (
            f"Your last run passed {run['passed']} of {run['total']} tests: test edge cases (empty input, "
            "duplicates, extremes) before you submit."
        )
    return "All tests passed; next time try it with fewer hints: start from a brute force, then improve it."


async def save_report(session: AsyncSession, draft: Draft, written: Written) -> Report | None:
    report = await repository.report_for(session, draft.interview_id)
    if report is None:
        if await repository.get(session, draft.interview_id) is None:
            return None  # deleted while the advice was being written
        report = Report(interview_id=draft.interview_id, status="pending", summary="", items=[])
        session.add(report)
    elif report.status == "ready":
        return report  # another run finished first
    for used in written.usages:
        llm_usage.record(
            session, used, purpose="report_feedback", user_id=draft.owner_id, interview_id=draft.interview_id
        )
    items = written.items
    report.items = items
    report.overall_score = overall = overall_score(items)
    report.summary = summarise(items, draft.planned, overall)
    report.status = "ready"
    report.error = None
    await session.flush()
    # The owner's progress now counts this report; a worker's invalidation reaches every api process.
    interviews_changed(session, draft.owner_id)
    return report


async def generate_report(
    session: AsyncSession, llm: LLM | None, interview_id: uuid.UUID, *, budget_s: float = FEEDBACK_BUDGET_S
) -> Report | None:
    """All three steps in one session (the terminal's in-process report); a ready report is kept."""
    draft = await load_draft(session, interview_id)
    if draft is None:
        return await repository.report_for(session, interview_id)
    return await save_report(session, draft, await write_items(llm, draft, budget_s=budget_s))


async def mark_failed(session: AsyncSession, interview_id: uuid.UUID, message: str) -> None:
    report = await repository.report_for(session, interview_id)
    if report is not None and report.status != "ready":
        report.status = "failed"
        report.error = message[:500]
        await session.flush()
