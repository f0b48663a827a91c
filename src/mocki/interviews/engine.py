"""The interview engine: planning, the deterministic what-to-ask-next rules, and the output guard.

The engine decides; the model only phrases. Each turn the engine produces a `Move` (what kind of
turn, which bank question, a prompt, and a fallback text that is always usable). Who phrases a
move is an `Interviewer`; a `Router` picks one per planned question, which is the seam for later
specialist agents (a coding interviewer, a system-design interviewer ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from mocki.interviews import analysis, prompts
from mocki.llm.base import ChatMessage

PLAN_VERSION = 1
MAX_LINES_PER_DOC = 200


# ------------------------------------------------------------------------------------ planning


@dataclass
class SourceLine:
    """A line of the resume or job description a question was grounded in (kept as provenance)."""

    source: Literal["resume", "job_description"]
    document_id: str | None
    line: int
    text: str
    # Set when retrieval chose the question: the chunk (lines) that matched it, and how well.
    chunk_start: int | None = None
    chunk_end: int | None = None
    score: float | None = None


@dataclass
class PlannedQuestion:
    id: str | None
    text: str
    category: str
    tags: list[str] = field(default_factory=list)
    ground: SourceLine | None = None
    follow_ups: int = 0


@dataclass
class Plan:
    keywords: list[str]
    questions: list[PlannedQuestion]
    cursor: int = -1  # index of the question being discussed; -1 before the opening
    asked: int = 0  # main questions asked so far
    finished: bool = False
    # Set while an interviewer turn is being streamed; a second answer meanwhile is refused.
    pending: dict[str, Any] | None = None

    @property
    def current(self) -> PlannedQuestion | None:
        if 0 <= self.cursor < len(self.questions):
            return self.questions[self.cursor]
        return None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["v"] = PLAN_VERSION
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Plan:
        data = data or {}
        questions = []
        for q in data.get("questions", []):
            ground = q.get("ground")
            questions.append(
                PlannedQuestion(
                    id=q.get("id"),
                    text=q["text"],
                    category=q.get("category", "behavioural"),
                    tags=list(q.get("tags") or []),
                    ground=SourceLine(**ground) if ground else None,
                    follow_ups=int(q.get("follow_ups", 0)),
                )
            )
        return cls(
            keywords=list(data.get("keywords", [])),
            questions=questions,
            cursor=int(data.get("cursor", -1)),
            asked=int(data.get("asked", 0)),
            finished=bool(data.get("finished", False)),
            pending=data.get("pending"),
        )


class QuestionLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def tags(self) -> list[str]: ...


_BULLET = re.compile(r"^[\s\-*•·–—>#\d.)]+")


def source_lines(
    text: str, source: Literal["resume", "job_description"], document_id: str | None
) -> list[SourceLine]:
    """Lines worth quoting: a few words at least, bullets stripped, in document order."""
    out: list[SourceLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _BULLET.sub("", raw).strip()
        if len(analysis.words(line)) < 4 or len(analysis.content_words(line)) < 2:
            continue
        out.append(SourceLine(source, document_id, number, line[:300]))
        if len(out) >= MAX_LINES_PER_DOC:
            break
    return out


def best_line(
    lines: Sequence[SourceLine], question: QuestionLike, keywords: Sequence[str], used: set[tuple[str, int]]
) -> SourceLine | None:
    """The line that shares most with the question (and the interview's keywords), unused first."""
    wanted = set(analysis.content_words(question.text + " " + " ".join(question.tags)))
    top = set(keywords[:10])
    best: tuple[float, SourceLine] | None = None
    for line in lines:
        words = set(analysis.content_words(line.text))
        score = 2.0 * len(words & wanted) + len(words & top)
        if (line.source, line.line) in used:
            score -= 2.5
        if line.source == "resume":
            score += 0.5  # talking about what the candidate did beats quoting the ad back
        if best is None or score > best[0]:
            best = (score, line)
    if best is None or best[0] <= 0:
        return None
    return best[1]


def keywords_for(role: str, resume: str, job: str, n: int = 20) -> list[str]:
    # The job description says what the interview is for; the resume says what to ask about.
    return analysis.extract_keywords([(role, 3.0), (job, 2.0), (resume, 1.0)], n=n)


def build_plan(
    questions: Sequence[QuestionLike],
    question_ids: Sequence[str | None],
    keywords: list[str],
    lines: Sequence[SourceLine],
    grounds: dict[str, SourceLine] | None = None,
) -> Plan:
    """`grounds`: lines retrieval already tied to some question ids; the rest get the best line."""
    used: set[tuple[str, int]] = set()
    planned: list[PlannedQuestion] = []
    for question, qid in zip(questions, question_ids, strict=True):
        chosen = (grounds or {}).get(qid or "")
        ground = chosen or best_line(lines, question, keywords, used)
        if ground is not None:
            used.add((ground.source, ground.line))
        planned.append(
            PlannedQuestion(
                id=qid,
                text=question.text,
                category=question.category,
                tags=list(question.tags or []),
                ground=ground,
            )
        )
    return Plan(keywords=keywords, questions=planned)


# -------------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class FollowUpRules:
    max_follow_ups: int = 1
    min_words: int = 25
    # A technical answer this short with no tool or number named gets asked for an example.
    specific_words: int = 60
    # A behavioural answer missing this many STAR elements gets asked about the first missing one.
    min_star: int = 3


STAR_ORDER = ("action", "result", "task", "situation")


def decide_follow_up(
    question: PlannedQuestion, answer: str, keywords: Sequence[str], rules: FollowUpRules = FollowUpRules()
) -> str | None:
    """Why to ask one follow-up (a reason code), or None to move on. Pure rules, no model."""
    if question.follow_ups >= rules.max_follow_ups or analysis.is_skip(answer):
        return None
    m = analysis.measure(question.text, answer, keywords)
    if question.category == "behavioural":
        if m.star_count < rules.min_star:
            missing = next(name for name in STAR_ORDER if not m.star[name])
            return f"star:{missing}"
        if m.word_count < rules.min_words:
            return "short"
        return None
    if m.word_count < rules.min_words:
        return "short"
    if m.specifics == 0 and m.word_count < rules.specific_words:
        return "no_specifics"
    return None


FALLBACK_FOLLOW_UP = {
    "short": "Could you go into a bit more detail on that?",
    "no_specifics": "Can you give a concrete example, with the tools or numbers involved?",
    "star:situation": "Can you set the scene: what was the situation?",
    "star:task": "What exactly was your responsibility there?",
    "star:action": "What did you personally do, step by step?",
    "star:result": "What was the result, and how did you measure it?",
}


# ----------------------------------------------------------------------------------- moves


@dataclass
class Move:
    """One interviewer turn to produce: the prompt for the model and a text that always works."""

    kind: Literal["question", "follow_up", "closing", "clarify", "hint", "redirect"]
    fallback: str
    messages: list[ChatMessage] | None  # None: say `fallback` as it is, no model call
    max_tokens: int = 90
    question_index: int | None = None
    question_id: str | None = None
    # Bank text the model's phrasing must stay close to; otherwise the fallback is used.
    anchor: str | None = None
    provenance: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None
    agent: str = "general"

    @property
    def finished(self) -> bool:
        return self.kind == "closing"

    @property
    def purpose(self) -> str:
        return f"interview_{self.kind}"


@dataclass
class Context:
    role: str
    company: str
    plan: Plan
    last_question: str = ""  # what the interviewer last said, as stored
    # The prompt text known before the answer (prompts.answer_context), set by the engine.
    answer_context: str = ""
    # Whether the current question may still get a follow-up; set by the engine after each move.
    may_follow_up: bool = True


class Interviewer(Protocol):
    """Phrases the moves for one kind of question. Specialist agents implement this."""

    name: str

    def follow_up_reason(self, ctx: Context, question: PlannedQuestion, answer: str) -> str | None: ...

    def may_follow_up(self, ctx: Context, question: PlannedQuestion) -> bool: ...

    def opening(self, ctx: Context, index: int) -> Move: ...

    def follow_up(self, ctx: Context, index: int, answer: str, reason: str) -> Move: ...

    def next_question(self, ctx: Context, index: int, previous_answer: str) -> Move: ...

    def closing(self, ctx: Context) -> Move: ...


Router = Callable[[PlannedQuestion | None], Interviewer]


def _provenance(line: SourceLine | None) -> list[dict[str, Any]]:
    return [asdict(line)] if line is not None else []


class GeneralInterviewer:
    """The one interviewer for now: bank questions, rule-chosen follow-ups, model-phrased."""

    name = "general"

    def __init__(self, rules: FollowUpRules = FollowUpRules()) -> None:
        self.rules = rules

    def follow_up_reason(self, ctx: Context, question: PlannedQuestion, answer: str) -> str | None:
        return decide_follow_up(question, answer, ctx.plan.keywords, self.rules)

    def may_follow_up(self, ctx: Context, question: PlannedQuestion) -> bool:
        return question.follow_ups < self.rules.max_follow_ups

    def opening(self, ctx: Context, index: int) -> Move:
        q = ctx.plan.questions[index]
        line = q.ground.text if q.ground else None
        company = f" at {ctx.company}" if ctx.company else ""
        return Move(
            kind="question",
            fallback=f"Hello, and thank you for joining this {ctx.role}{company} interview. {q.text}",
            messages=prompts.opening(ctx.role, ctx.company, q.text, line),
            max_tokens=90,
            question_index=index,
            question_id=q.id,
            anchor=q.text,
            provenance=_provenance(q.ground),
            agent=self.name,
        )

    def follow_up(self, ctx: Context, index: int, answer: str, reason: str) -> Move:
        q = ctx.plan.questions[index]
        asked = ctx.last_question or q.text
        return Move(
            kind="follow_up",
            fallback=FALLBACK_FOLLOW_UP.get(reason, FALLBACK_FOLLOW_UP["short"]),
            messages=prompts.follow_up(ctx.answer_context or _context_text(ctx, asked), answer, reason),
            max_tokens=60,
            question_index=index,
            question_id=q.id,
            reason=reason,
            agent=self.name,
        )

    def next_question(self, ctx: Context, index: int, previous_answer: str) -> Move:
        q = ctx.plan.questions[index]
        return Move(
            kind="question",
            fallback=q.text,
            messages=prompts.bridge(
                ctx.answer_context or _context_text(ctx, ctx.last_question),
                previous_answer,
                q.text,
                q.ground.text if q.ground else None,
            ),
            max_tokens=90,
            question_index=index,
            question_id=q.id,
            anchor=q.text,
            provenance=_provenance(q.ground),
            agent=self.name,
        )

    def closing(self, ctx: Context) -> Move:
        # Fixed text: nothing to ask, so nothing worth a model call.
        return Move(
            kind="closing",
            fallback=(
                "Thank you, that was my last question. It was good talking with you; "
                "end the interview to see your report."
            ),
            messages=None,
            agent=self.name,
        )


def _context_text(ctx: Context, asked: str) -> str:
    current = ctx.plan.current
    return prompts.answer_context(ctx.role, ctx.company, asked or (current.text if current else ""))


def answer_context(ctx: Context) -> str:
    """The part of the next answer turn's prompt that is known before the answer arrives."""
    return _context_text(ctx, ctx.last_question)


def warm_messages(ctx: Context) -> list[ChatMessage] | None:
    """Messages to warm the model's prompt cache with while the candidate types (None: nothing next).

    While a follow-up is still possible only the common start is known; once it is ruled out the
    next move is the next question, whose resume line is known as well.
    """
    plan = ctx.plan
    if plan.finished or plan.current is None:
        return None
    context = answer_context(ctx)
    if not ctx.may_follow_up:
        nxt = plan.questions[plan.cursor + 1] if plan.cursor + 1 < len(plan.questions) else None
        if nxt is None:
            return None  # the closing comes next: a fixed text, no model call
        context = prompts.with_line(context, nxt.ground.text if nxt.ground else None)
    return prompts.warm(context)


def _hint(q: PlannedQuestion) -> str:
    if q.category == "behavioural":
        tip = (
            "pick one specific situation, say what you were responsible for, what you did yourself, "
            "and how it turned out, with a number if you have one"
        )
    else:
        tip = (
            "start from the simplest approach you can think of, say where it falls short, then improve "
            "it, naming the tools or numbers involved"
        )
    return f"Here is a hint: {tip}. Whenever you are ready: {q.text}"


# Replies that keep the current question: fixed text, no model call, no follow-up used up.
STAY_REPLIES: dict[str, Callable[[PlannedQuestion], str]] = {
    "clarification": lambda q: (
        f"Of course. Put simply: {q.text} Answer from your own experience; a concrete example is best."
    ),
    "hint": _hint,
    "off_topic": lambda q: f"Let's keep our time for the interview. {q.text}",
}
STAY_KIND: dict[str, Literal["clarify", "hint", "redirect"]] = {
    "clarification": "clarify",
    "hint": "hint",
    "off_topic": "redirect",
}


def single_router(interviewer: Interviewer) -> Router:
    return lambda _question: interviewer


class InterviewEngine:
    """Turns the plan and the latest answer into the next move, updating the plan in place."""

    def __init__(self, router: Router | None = None) -> None:
        self.route: Router = router or single_router(GeneralInterviewer())

    def opening(self, ctx: Context) -> Move:
        plan = ctx.plan
        if not plan.questions:
            plan.finished = True
            return self.route(None).closing(ctx)
        plan.cursor, plan.asked = 0, 1
        interviewer = self.route(plan.questions[0])
        ctx.may_follow_up = interviewer.may_follow_up(ctx, plan.questions[0])
        return interviewer.opening(ctx, 0)

    def after_turn(self, ctx: Context, text: str, intent: str) -> Move:
        """The next move for a candidate turn of this intent (see interviews/intents.py).

        Only an answer (or submitted code) can earn a follow-up. A request for clarification, a
        hint or an off-topic remark gets a fixed reply and the same question again, without using
        up a follow-up; "another topic" moves on; "end" closes the interview.
        """
        plan = ctx.plan
        current = plan.current
        if intent == "end":
            plan.cursor, plan.finished = len(plan.questions), True
            return self.route(None).closing(ctx)
        if intent == "change_topic":
            return self._next(ctx, text)
        if current is not None and intent in STAY_REPLIES:
            ctx.answer_context = answer_context(ctx)
            return Move(
                kind=STAY_KIND[intent],
                fallback=STAY_REPLIES[intent](current),
                messages=None,
                question_index=plan.cursor,
                question_id=current.id,
                provenance=_provenance(current.ground),
                reason=intent,
                agent=self.route(current).name,
            )
        return self.after_answer(ctx, text)

    def _next(self, ctx: Context, previous_answer: str) -> Move:
        plan = ctx.plan
        ctx.answer_context = answer_context(ctx)
        nxt = plan.cursor + 1
        if nxt < len(plan.questions):
            plan.cursor, plan.asked = nxt, plan.asked + 1
            interviewer = self.route(plan.questions[nxt])
            ctx.may_follow_up = interviewer.may_follow_up(ctx, plan.questions[nxt])
            return interviewer.next_question(ctx, nxt, previous_answer)
        plan.cursor = len(plan.questions)
        plan.finished = True
        return self.route(None).closing(ctx)

    def after_answer(self, ctx: Context, answer: str) -> Move:
        plan = ctx.plan
        current = plan.current
        # Fixed before the plan moves on, so the prompt starts exactly as the warmed one did.
        ctx.answer_context = answer_context(ctx)
        if current is not None:
            interviewer = self.route(current)
            reason = interviewer.follow_up_reason(ctx, current, answer)
            if reason is not None:
                current.follow_ups += 1
                ctx.may_follow_up = interviewer.may_follow_up(ctx, current)
                return interviewer.follow_up(ctx, plan.cursor, answer, reason)
        return self._next(ctx, answer)


# ------------------------------------------------------------------------------ output guard

_LABEL = re.compile(r"^\s*(?:[*_#>\"'`]+\s*)*(?:interviewer|question|q|assistant)\s*:\s*", re.I)
_MARKERS = re.compile(
    r"(candidate\s*:|interviewee\s*:|answer\s*:|\bA\s*:|\(\s*(?:wait|pause|candidate|note)|<\||"
    # A small model sometimes echoes the instructions of prompts.py back.
    r"greet the candidate|ask one short follow-up|thank them in a few words|"
    r"(?:first|next) question\s*:|previous answer\s*:|interviewer asked\s*:|\brole\s*:|"
    r"from the resume or job\s*:)",
    re.I,
)
_MARKDOWN = re.compile(r"[*_#`]+")
HOLD_START_CHARS = 13  # long enough to see a leading "Interviewer:" whole
MAX_WORDS = 70


def _clean(raw: str) -> str:
    text = _MARKDOWN.sub("", raw)
    text = re.sub(r"\s+", " ", text)
    text = _LABEL.sub("", text).lstrip(" \"'“")
    marker = _MARKERS.search(text)
    if marker:
        text = text[: marker.start()]
    return text


class StreamGuard:
    """Filters streamed model text into what the candidate should see, while it arrives.

    It holds back the first few characters (so a leading "Interviewer:" can be cut), anything after
    a role-play marker, and text after the last question mark until another one arrives: a small
    model tends to go on and answer its own question. What it lets through never changes later.
    """

    def __init__(self) -> None:
        self.raw = ""
        self._sent = ""

    def feed(self, delta: str) -> str:
        self.raw += delta
        visible = self._visible()
        if not visible.startswith(self._sent) or len(visible) <= len(self._sent):
            return ""
        out = visible[len(self._sent) :]
        self._sent = visible
        return out

    def _visible(self) -> str:
        if len(self.raw.strip()) < HOLD_START_CHARS:
            return ""
        text = _clean(self.raw)
        if "?" in text:
            return text[: text.rindex("?") + 1]
        # Only whole words: a half-received word might be the start of a marker.
        cut = text.rfind(" ")
        return text[:cut] if cut > 0 else ""

    @property
    def sent(self) -> str:
        return self._sent


def finalize(raw: str, move: Move) -> str | None:
    """The model's text cleaned up, or None when it is unusable and the fallback must be said."""
    text = _clean(raw).strip()
    if "?" in text:
        text = text[: text.rindex("?") + 1]
    text = text.strip().strip("\"'”“ ").strip()
    parts = analysis.words(text)
    if not 3 <= len(parts) <= MAX_WORDS:
        return None
    letters = [c for c in text if c.isalpha()]
    if not letters or sum(c.isascii() for c in letters) / len(letters) < 0.95:
        return None  # the model switched language or wrote symbols
    if not text.endswith(("?", ".", "!")):
        return None  # cut off by max_tokens mid-sentence
    # A bank question may be an imperative ("Tell me about ..."); a follow-up must ask.
    if (move.kind == "follow_up" or move.anchor is None) and not text.endswith("?"):
        return None
    if move.anchor is not None and analysis.overlap(move.anchor, text) < 0.4:
        return None  # it drifted to a question of its own; ask the planned one
    return text
