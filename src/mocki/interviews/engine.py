"""The interview engine: planning, the deterministic what-to-ask-next rules, and the output guard.

The engine decides; the model only phrases. Each turn the engine produces a `Move` (what kind of
turn, which bank question, a prompt, and a fallback text that is always usable). Who phrases a
move is an `Interviewer`; a `Router` picks one per planned question, which is the seam for later
specialist agents (a coding interviewer, a system-design interviewer ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

from mocki.interviews import analysis, personas, prompts
from mocki.interviews.personas import NEUTRAL_EN, Language, Voice
from mocki.llm.base import ChatMessage

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from mocki.interviews.history import History
    from mocki.retrieval.service import Retriever

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
    # The agent that runs this question (agents.routing); "" means the one for its category.
    agent: str = ""
    # Why it was picked when it targets a weak point from earlier interviews (interviews.progress).
    target: str | None = None


@dataclass
class Plan:
    keywords: list[str]
    questions: list[PlannedQuestion]
    cursor: int = -1  # index of the question being discussed; -1 before the opening
    asked: int = 0  # main questions asked so far
    finished: bool = False
    # Set while an interviewer turn is being streamed; a second answer meanwhile is refused.
    pending: dict[str, Any] | None = None
    # Each agent's own memory, by agent name: its state (a coding problem, STAR elements heard,
    # hints given ...) and its conversation memory. Only that agent reads or writes its entry.
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)

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
                    agent=str(q.get("agent") or ""),
                    target=q.get("target"),
                )
            )
        return cls(
            keywords=list(data.get("keywords", [])),
            questions=questions,
            cursor=int(data.get("cursor", -1)),
            asked=int(data.get("asked", 0)),
            finished=bool(data.get("finished", False)),
            pending=data.get("pending"),
            agents=dict(data.get("agents") or {}),
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


# A friendly interviewer lets a shorter answer stand; a tough one asks twice, wants longer, more
# specific answers and all four STAR elements, so it follows up on answers the neutral one accepts.
PERSONA_RULES: dict[str, FollowUpRules] = {
    "friendly": FollowUpRules(min_words=15, specific_words=40, min_star=2),
    "neutral": FollowUpRules(),
    "tough": FollowUpRules(max_follow_ups=2, min_words=40, specific_words=90, min_star=4),
}

STAR_ORDER = ("action", "result", "task", "situation")

# analysis.py reads English only; a Chinese answer needs its own STAR cues, skip phrases and a
# word count, or every Chinese answer would look like an empty one.
ZH_STAR_CUES: dict[str, re.Pattern[str]] = {
    "situation": re.compile(r"当时|那时|之前在|在上一家|背景|项目|我们团队|我们公司|有一次|客户"),
    "task": re.compile(r"负责|任务|目标|需要|要求|职责|截止|挑战"),
    "action": re.compile(
        r"我(?:先|就|们?决定|设计|实现|写|搭建|开发|重构|优化|带领|推动|提出|分析|排查|调整|加了)|首先|然后|接着|于是"
    ),
    "result": re.compile(r"结果|最终|最后|提升|提高|降低|减少|增加|节省|上线|解决|学到|%|％"),
}
_ZH_SKIP = re.compile(r"^\s*(?:我)?(?:不知道|不清楚|不会|不太清楚|答不上|跳过|下一题|下一个问题|没有想法)")


ZH_CONNECTORS = re.compile(
    r"因为|所以|因此|首先|其次|然后|接着|最后|但是|不过|然而|例如|比如|也就是说|权衡|结果是"
)
_ZH_SENTENCE_END = re.compile(r"[。！？!?；;]+")


def zh_measures(m: analysis.AnswerMeasures, answer: str, keywords: Sequence[str]) -> analysis.AnswerMeasures:
    """English measures of a Chinese answer corrected with Chinese cues: words from the Han
    characters, STAR cues, sentences ended by Chinese punctuation, connectors, "I don't know".

    Relevance stays word overlap with the (English) question, which a Chinese answer can only
    reach through the English names it keeps (technologies, the role's keywords): it is raised to
    what those names show, never invented. Unchanged when the answer holds no Han characters."""
    han = personas.han_count(answer)
    if han == 0:
        return m
    named = {analysis.stem(t) for t in m.tech_terms} | set(analysis.content_words(answer))
    hits = len(named & {analysis.stem(k) for k in keywords})
    sentences = len([s for s in _ZH_SENTENCE_END.split(answer) if s.strip()])
    extras = dict(m.extras)
    extras["connectors"] = extras.get("connectors", 0.0) + len(ZH_CONNECTORS.findall(answer))
    return replace(
        m,
        word_count=m.word_count + round(han / personas.HAN_PER_WORD),
        sentence_count=max(m.sentence_count, sentences),
        star={name: m.star[name] or bool(cue.search(answer)) for name, cue in ZH_STAR_CUES.items()},
        relevance=max(m.relevance, min(0.5, 0.15 * hits)),
        skipped=m.skipped or (han <= 12 and bool(_ZH_SKIP.search(answer))),
        extras=extras,
    )


def measure_answer(
    question: PlannedQuestion, answer: str, keywords: Sequence[str], language: str
) -> analysis.AnswerMeasures:
    m = analysis.measure(question.text, answer, keywords)
    return zh_measures(m, answer, keywords) if language == "zh" else m


def decide_follow_up(
    question: PlannedQuestion,
    answer: str,
    keywords: Sequence[str],
    rules: FollowUpRules = FollowUpRules(),
    language: str = "en",
) -> str | None:
    """Why to ask one follow-up (a reason code), or None to move on. Pure rules, no model."""
    if question.follow_ups >= rules.max_follow_ups:
        return None
    m = measure_answer(question, answer, keywords, language)
    if m.skipped:
        return None
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
    # The language the candidate must hear: the output guard checks the model's text against it.
    language: Language = "en"
    # What the agent wants stored with the turn and shown to the client (a coding problem's id,
    # a run's results, the hint level ...); JSON-safe.
    data: dict[str, Any] = field(default_factory=dict)

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
    # How the interviewer sounds and which language it speaks (from the interview row).
    voice: Voice = NEUTRAL_EN
    # What the classifier called the candidate's latest turn (before confidence thresholds).
    intent: str = "answer"
    # What the current agent gathered for this turn before the transaction (`Interviewer.gather`):
    # a sandbox run, reference material found by retrieval ...; empty when nothing was gathered.
    evidence: dict[str, Any] = field(default_factory=dict)

    def state(self, agent: str) -> dict[str, Any]:
        """The agent's own memory in the plan (created empty on first use)."""
        state: dict[str, Any] = self.plan.agents.setdefault(agent, {}).setdefault("state", {})
        return state


@dataclass(frozen=True)
class Tools:
    """What an agent may use while gathering evidence, outside any transaction."""

    owner_id: uuid.UUID
    retriever: Retriever | None = None
    sessionmaker: async_sessionmaker[AsyncSession] | None = None


class Interviewer(Protocol):
    """Runs one kind of question. Specialist agents implement this (see interviews/agents/).

    `enter` is called when one of its questions starts (to reset its per-question memory);
    `gather` runs before the turn's transaction, may be slow (run code, search references) and
    returns JSON-safe evidence the decision methods then read from `ctx.evidence`; `stay` answers
    a request that keeps the current question (clarification, hint, off-topic).
    """

    name: str

    def enter(self, ctx: Context, index: int) -> None: ...

    async def gather(self, ctx: Context, text: str, tools: Tools) -> dict[str, Any]: ...

    def stay(self, ctx: Context, intent: str) -> Move: ...

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

    def __init__(self, rules: FollowUpRules | None = None) -> None:
        # Fixed rules for every interview, or (None) the rules of each interview's persona.
        self.rules = rules

    def rules_for(self, ctx: Context) -> FollowUpRules:
        return self.rules or PERSONA_RULES[ctx.voice.persona]

    def follow_up_reason(self, ctx: Context, question: PlannedQuestion, answer: str) -> str | None:
        return decide_follow_up(question, answer, ctx.plan.keywords, self.rules_for(ctx), ctx.voice.language)

    def may_follow_up(self, ctx: Context, question: PlannedQuestion) -> bool:
        return question.follow_ups < self.rules_for(ctx).max_follow_ups

    def enter(self, ctx: Context, index: int) -> None:
        return None

    async def gather(self, ctx: Context, text: str, tools: Tools) -> dict[str, Any]:
        return {}

    def stay(self, ctx: Context, intent: str) -> Move:
        """A fixed reply that keeps the current question (no model call, no follow-up used up)."""
        current = ctx.plan.current
        assert current is not None
        return Move(
            kind=STAY_KIND[intent],
            fallback=personas.stay_reply(ctx.voice, intent, current.text, current.category),
            messages=None,
            question_index=ctx.plan.cursor,
            question_id=current.id,
            provenance=_provenance(current.ground),
            reason=intent,
            agent=self.name,
            language=ctx.voice.language,
        )

    def opening(self, ctx: Context, index: int) -> Move:
        q = ctx.plan.questions[index]
        line = q.ground.text if q.ground else None
        return Move(
            kind="question",
            fallback=personas.greeting(ctx.voice, ctx.role, ctx.company, q.text),
            messages=prompts.opening(ctx.role, ctx.company, q.text, line, ctx.voice),
            max_tokens=90,
            question_index=index,
            question_id=q.id,
            anchor=q.text,
            provenance=_provenance(q.ground),
            agent=self.name,
            language=ctx.voice.language,
        )

    def follow_up(self, ctx: Context, index: int, answer: str, reason: str) -> Move:
        q = ctx.plan.questions[index]
        asked = ctx.last_question or q.text
        return Move(
            kind="follow_up",
            fallback=personas.follow_up(ctx.voice, reason),
            messages=prompts.follow_up(
                ctx.answer_context or _context_text(ctx, asked), answer, reason, ctx.voice
            ),
            max_tokens=60,
            question_index=index,
            question_id=q.id,
            reason=reason,
            agent=self.name,
            language=ctx.voice.language,
        )

    def next_question(self, ctx: Context, index: int, previous_answer: str) -> Move:
        q = ctx.plan.questions[index]
        return Move(
            kind="question",
            fallback=personas.next_question(ctx.voice, q.text),
            messages=prompts.bridge(
                ctx.answer_context or _context_text(ctx, ctx.last_question),
                previous_answer,
                q.text,
                q.ground.text if q.ground else None,
                ctx.voice,
            ),
            max_tokens=90,
            question_index=index,
            question_id=q.id,
            anchor=q.text,
            provenance=_provenance(q.ground),
            agent=self.name,
            language=ctx.voice.language,
        )

    def closing(self, ctx: Context) -> Move:
        # Fixed text: nothing to ask, so nothing worth a model call.
        return Move(
            kind="closing",
            fallback=personas.closing(ctx.voice),
            messages=None,
            agent=self.name,
            language=ctx.voice.language,
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
    return prompts.warm(context, ctx.voice)


# Replies that keep the current question (personas.stay_reply): fixed text, no model call, no
# follow-up used up.
STAY_KIND: dict[str, Literal["clarify", "hint", "redirect"]] = {
    "clarification": "clarify",
    "hint": "hint",
    "off_topic": "redirect",
}


def single_router(interviewer: Interviewer) -> Router:
    return lambda _question: interviewer


class InterviewEngine:
    """Turns the plan and the latest answer into the next move, updating the plan in place."""

    def __init__(self, router: Router | None = None, history: History | None = None) -> None:
        self.route: Router = router or single_router(GeneralInterviewer())
        # The agents' conversation memories (interviews/history.py); None keeps none.
        self.history = history

    def opening(self, ctx: Context) -> Move:
        plan = ctx.plan
        if not plan.questions:
            plan.finished = True
            return self.route(None).closing(ctx)
        plan.cursor, plan.asked = 0, 1
        interviewer = self.route(plan.questions[0])
        interviewer.enter(ctx, 0)
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
        if current is not None and intent in STAY_KIND:
            ctx.answer_context = answer_context(ctx)
            return self.route(current).stay(ctx, intent)
        return self.after_answer(ctx, text)

    def _next(self, ctx: Context, previous_answer: str) -> Move:
        plan = ctx.plan
        ctx.answer_context = answer_context(ctx)
        nxt = plan.cursor + 1
        if nxt < len(plan.questions):
            plan.cursor, plan.asked = nxt, plan.asked + 1
            interviewer = self.route(plan.questions[nxt])
            interviewer.enter(ctx, nxt)
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

_LABEL = re.compile(
    r"^\s*(?:[*_#>\"'`]+\s*)*(?:interviewer|question|q|assistant|面试官|问题)\s*[:：]\s*", re.I
)
_MARKERS = re.compile(
    r"(candidate\s*:|interviewee\s*:|answer\s*:|\bA\s*:|\(\s*(?:wait|pause|candidate|note)|<\||"
    r"(?:候选人|应聘者|求职者|回答)\s*[:：]|[(（]\s*(?:等待|停顿)|"
    # A small model sometimes echoes the instructions of prompts.py back.
    r"greet the candidate|ask one short follow-up|thank them in a few words|"
    r"(?:first|next) question\s*:|previous answer\s*:|interviewer asked\s*:|\brole\s*:|"
    r"from the resume or job\s*:)",
    re.I,
)
_MARKDOWN = re.compile(r"[*_#`]+")
HOLD_START_CHARS = 13  # long enough to see a leading "Interviewer:" whole
MAX_WORDS = 70
_QUESTION_MARKS = "?？"
# Where Chinese text may be cut while streaming: after its punctuation (it has no spaces).
_ZH_BREAKS = "，。！；："
# Of the letters in a Chinese turn at least this share must be Han (English tool names may stay).
MIN_HAN_SHARE = 0.5


def _last_question_mark(text: str) -> int:
    return max(text.rfind(mark) for mark in _QUESTION_MARKS)


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
        mark = _last_question_mark(text)
        if mark >= 0:
            return text[: mark + 1]
        # Only whole words: a half-received word might be the start of a marker.
        cut = text.rfind(" ")
        if cut > 0:
            return text[:cut]
        # Chinese: up to its last punctuation mark, so a marker like "候选人：" is never half shown.
        cut = max(text.rfind(mark) for mark in _ZH_BREAKS)
        return text[: cut + 1] if cut > 0 else ""

    @property
    def sent(self) -> str:
        return self._sent


def _in_language(text: str, language: str) -> bool:
    """Whether the text is in the interview's language (not switched, not symbols)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    if language == "zh":
        # Han characters count as letters; the rest may be English tool names, nothing else.
        han = personas.han_count(text)
        return han / len(letters) >= MIN_HAN_SHARE and all(
            c.isascii() or personas.han_count(c) for c in letters
        )
    return sum(c.isascii() for c in letters) / len(letters) >= 0.95


def _on_anchor(anchor: str, text: str, language: str) -> bool:
    """Whether the phrasing kept to the planned bank question.

    The bank is English, so a Chinese phrasing can only be held to the technologies the question
    names (kept in English by the model); one naming none is taken as it is."""
    if language != "zh":
        return analysis.overlap(anchor, text) >= 0.4
    named = set(analysis.content_words(anchor)) & {analysis.stem(t) for t in analysis.TECH_TERMS}
    return named <= set(analysis.content_words(text))


def finalize(raw: str, move: Move) -> str | None:
    """The model's text cleaned up, or None when it is unusable and the fallback must be said."""
    text = _clean(raw).strip()
    mark = _last_question_mark(text)
    if mark >= 0:
        text = text[: mark + 1]
    text = text.strip().strip("\"'”“ ").strip()
    size = len(analysis.words(text)) + round(personas.han_count(text) / personas.HAN_PER_WORD)
    if not 3 <= size <= MAX_WORDS:
        return None
    if not _in_language(text, move.language):
        return None  # the model switched language or wrote symbols
    if not text.endswith(("?", ".", "!", "？", "。", "！")):
        return None  # cut off by max_tokens mid-sentence
    # A bank question may be an imperative ("Tell me about ..."); a follow-up must ask.
    if (move.kind == "follow_up" or move.anchor is None) and not text.endswith(tuple(_QUESTION_MARKS)):
        return None
    if move.anchor is not None and not _on_anchor(move.anchor, text, move.language):
        return None  # it drifted to a question of its own; ask the planned one
    return text
