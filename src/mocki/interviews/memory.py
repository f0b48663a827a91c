"""The interviewer's conversation memory: recent turns verbatim, older ones summarised, under a budget.

Prompt evaluation of the local model runs at about 80 tokens/s on two cores, so sending the whole
history makes every turn of a long interview slower than the last. The memory keeps the last few
turns word for word, folds older ones (a few at a time) into one summary line per utterance, and
keeps a compact line of the facts the candidate stated (employers, numbers, technologies ...)
that survives however long the interview runs. The assembled prompt never exceeds the budget:
oldest summary lines go first, then recent turns are shortened.

Measured with `mocki bench memory` on the reference transcripts (budget 1200, Qwen2.5 tokenizer):
71 % fewer prompt tokens on conversations of 30+ turns, every stated fact still in the prompt.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from mocki.interviews import analysis
from mocki.interviews.facts import Fact, FactSheet, extract_facts, render
from mocki.llm.base import LLM, ChatMessage, LLMError
from mocki.llm.tokens import TokenCounter

log = logging.getLogger(__name__)

INTERVIEWER = "interviewer"
SUMMARY_HEADER = "Earlier (Q: interviewer, A: candidate):"
ELLIPSIS = " …"
MARKER = "…"  # where a shortened recent turn was cut
DROP_LINES = 6  # summary lines leave the prompt this many at a time


class MemoryBudgetError(ValueError):
    """The budget cannot hold even the system prompt."""


@dataclass(frozen=True)
class Turn:
    index: int
    speaker: str
    text: str
    tokens: int

    @property
    def role(self) -> Literal["user", "assistant"]:
        return "assistant" if self.speaker == INTERVIEWER else "user"


# A recent turn as it is sent: role, text (maybe shortened), its tokens.
_Sent = tuple[Literal["user", "assistant"], str, int]


@dataclass(frozen=True)
class SummaryLine:
    turn_index: int
    text: str
    tokens: int


class Summarizer(Protocol):
    async def fold(self, turns: Sequence[Turn]) -> str | None:
        """A short line keeping what matters of one speaker's consecutive turns (one utterance).

        Spoken answers arrive in pieces split by "Mmm-hmm."; they are summarised as one. Called
        again with the longer utterance when another piece of it is folded. None when there is
        nothing worth keeping.
        """
        ...


# ------------------------------------------------------------------------- extractive summariser

_BRACKETED = re.compile(r"\[[^\]]*\]|\([^)]*\)")
_FILLER = re.compile(
    r"\b(?:u+h+|u+m+|e+r+m*|h+m+|a+h+|mm+-?hm+|uh-huh|you know|i mean|sort of|kind of)\b[,.]?\s*",
    re.IGNORECASE,
)
_LIKE = re.compile(r"(?:(?<=\s)|^)like,\s*|\s+like\s+(?=(?:a|an|the|\d)\b)", re.IGNORECASE)
_STUTTER = re.compile(r"\b(\w+)-\s+\1\b|\b(\w+)(?:\s+\2\b)+", re.IGNORECASE)
_DOTS = re.compile(r"(?:\.\s*){2,}|…")
_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")
_ASKING = re.compile(
    r"^(?:so\s+|and\s+|ok(?:ay)?\s+|now\s+|please\s+)*"
    r"(?:tell me|describe|walk me|give me|can you|could you|would you|what|how|why|when|where|which|"
    r"who|have you|did you|do you|are you|talk about)\b",
    re.IGNORECASE,
)
# An utterance this long keeps one more sentence per so many words, up to MAX_SENTENCES.
WORDS_PER_SENTENCE = 120
MAX_SENTENCES = 3


def clean_speech(text: str) -> str:
    """Drop what a transcript adds and a summary does not need: fillers, stutters, stage notes."""
    text = _BRACKETED.sub(" ", text)
    text = _DOTS.sub(" ", text)
    text = _FILLER.sub("", text)
    text = _LIKE.sub(" ", text)
    text = _STUTTER.sub(lambda m: m.group(1) or m.group(2), text)
    return re.sub(r"\s+", " ", text).strip(" ,;-")


def clip_words(text: str, max_words: int) -> str:
    words = text.split()
    if len(words) <= max_words:
        return text
    return " ".join(words[:max_words]).rstrip(",;:-") + ELLIPSIS


def is_backchannel(text: str) -> bool:
    """An acknowledgement ("Mmm-hmm.", "Okay, cool.", "[laughs]"): it does not end the other's answer."""
    return len(clean_speech(text).split()) <= 3


class ExtractiveSummarizer:
    """Keeps an utterance's most informative sentence(s), clipped: no model, deterministic, cheap."""

    def __init__(self, *, max_words: int = 16, min_content_words: int = 3) -> None:
        self.max_words = max_words
        self.min_content_words = min_content_words

    async def fold(self, turns: Sequence[Turn]) -> str | None:
        return self.line(turns)

    def line(self, turns: Sequence[Turn]) -> str | None:
        asking = turns[0].speaker == INTERVIEWER
        text = clean_speech(" ".join(t.text for t in turns))
        sentences = [s.strip() for s in _SENTENCE.findall(text)]
        scored = [(self._score(s, asking=asking), i) for i, s in enumerate(sentences)]
        keep = 1 + min(MAX_SENTENCES - 1, len(text.split()) // WORDS_PER_SENTENCE)
        best = sorted((pair for pair in scored if pair[0] > 0), key=lambda p: (-p[0], p[1]))[:keep]
        if not best:
            return None
        # A question is kept whole up to a limit: it is what must not be asked twice.
        limit = self.max_words + (10 if asking else 0)
        chosen = [clip_words(sentences[i], limit) for _, i in sorted(best, key=lambda p: p[1])]
        return f"{_prefix(turns[0])} {' '.join(chosen)}"

    def _score(self, sentence: str, *, asking: bool) -> float:
        content = set(analysis.content_words(sentence))
        # A question is what the interviewer did, however few its words ("Tell me about yourself.").
        question = asking and bool(content) and (sentence.endswith("?") or bool(_ASKING.match(sentence)))
        if len(content) < self.min_content_words and not question:
            return 0.0
        # Facts are what a later follow-up refers to.
        return min(len(content), 12) + 3.0 * _fact_count(sentence) + (10.0 if question else 0.0)


@functools.lru_cache(maxsize=4096)
def _fact_count(sentence: str) -> int:
    # An utterance is scored again each time a piece is added to it: its sentences repeat.
    return len(extract_facts(sentence, 0))


def _prefix(turn: Turn) -> str:
    return "Q:" if turn.speaker == INTERVIEWER else "A:"


# -------------------------------------------------------------------------------- LLM summariser

SUMMARY_SYSTEM = (
    "You shorten interview turns. Output one line of at most {words} words that keeps who did what, "
    "names, numbers and technologies. No preamble."
)
SUMMARY_INPUT_WORDS = 200


class LLMSummarizer:
    """One model call per folded piece of an utterance: better lines than extraction, at a call's cost.

    On the local model a call costs a few seconds, so use it with a remote endpoint, or fold off
    the critical path. Falls back to the extractive line when the model fails or says nothing.
    """

    def __init__(self, llm: LLM, *, max_words: int = 24) -> None:
        self.llm = llm
        self.max_words = max_words
        self.fallback = ExtractiveSummarizer(max_words=max_words)

    async def fold(self, turns: Sequence[Turn]) -> str | None:
        cleaned = clean_speech(" ".join(t.text for t in turns))
        if len(analysis.content_words(cleaned)) < self.fallback.min_content_words:
            return None
        who = "Interviewer" if turns[0].speaker == INTERVIEWER else "Candidate"
        messages: list[ChatMessage] = [
            {"role": "system", "content": SUMMARY_SYSTEM.format(words=self.max_words)},
            # The end of a long answer is where its result usually is: keep head and tail.
            {"role": "user", "content": f"{who}: {_head_and_tail(cleaned, SUMMARY_INPUT_WORDS)}"},
        ]
        try:
            done = await self.llm.complete(messages, max_tokens=self.max_words * 2, temperature=0.0)
        except LLMError as exc:
            log.warning("summary by extraction, the model failed: %s", exc)
            return self.fallback.line(turns)
        text = re.sub(r"\s+", " ", done.text).strip().strip('"')
        if not text:
            return self.fallback.line(turns)
        return f"{_prefix(turns[0])} {clip_words(text, self.max_words)}"


def _head_and_tail(text: str, max_words: int) -> str:
    words = text.split()
    if len(words) <= max_words:
        return text
    head = max_words * 2 // 3
    return " ".join([*words[:head], MARKER, *words[len(words) - (max_words - head) :]])


# ------------------------------------------------------------------------------------ the memory


class ConversationMemory:
    """Recent turns verbatim + a running summary + the candidate's facts, within `budget_tokens`.

    Between `recent_turns` and `recent_turns + fold_every - 1` turns stay verbatim; when the
    window is full its oldest `fold_every` turns are folded into summary lines at once.
    Shares of the budget: the facts line takes at most `facts_share`, summary lines at most
    `summary_share`; the system prompt and the recent turns use the rest. Deterministic for a
    deterministic summariser: the same turns give the same prompt.
    """

    def __init__(
        self,
        counter: TokenCounter,
        budget_tokens: int,
        *,
        recent_turns: int = 4,
        fold_every: int = 6,
        summarizer: Summarizer | None = None,
        facts_share: float = 0.2,
        summary_share: float = 0.3,
        min_turn_tokens: int = 24,
    ) -> None:
        if budget_tokens <= 0 or recent_turns < 1 or fold_every < 1:
            raise ValueError("budget_tokens, recent_turns and fold_every must be positive")
        if not (0 <= facts_share <= 1 and 0 <= summary_share <= 1):
            raise ValueError("facts_share and summary_share are fractions of the budget (0..1)")
        self.counter = counter
        self.budget_tokens = budget_tokens
        self.recent_turns = recent_turns
        self.fold_every = fold_every
        self.summarizer: Summarizer = summarizer or ExtractiveSummarizer()
        self.facts_share = facts_share
        self.summary_share = summary_share
        self.min_turn_tokens = min_turn_tokens
        self._recent: deque[Turn] = deque()
        self._lines: list[SummaryLine] = []
        self._utterance: list[Turn] = []  # folded turns of the speaker whose line is the last one
        self._open_line = False  # whether the last line is the open utterance's (and may change)
        self._dropped_lines = 0  # lines forgotten for good, from the front
        # Shortening a long turn takes a dozen counts; the same cut is asked for turn after turn.
        self._shortened: dict[tuple[int, int], tuple[str, int]] = {}
        self._sheet = FactSheet()
        self._next_index = 0
        self._facts_cache: tuple[tuple[int, int], str, int] | None = None
        self._sheet_version = 0
        empty = counter.count_messages([])
        self._frames: dict[str, int] = {
            role: counter.count_messages([{"role": role, "content": ""}]) - empty
            for role in ("user", "assistant")
        }
        self._system_prompt_cost: tuple[str | None, int] = (None, 0)
        self._marker_tokens = counter.count(f" {MARKER} ")
        self._header_tokens = counter.count(SUMMARY_HEADER) + 1

    # ---------------------------------------------------------------------------- adding turns

    async def add(self, speaker: str, text: str) -> None:
        """Record a turn; when the verbatim window is full, its oldest turns are folded.

        Facts are taken from every turn but the interviewer's: transcripts sometimes lose who
        spoke, and then it was almost always the candidate.
        """
        turn = Turn(self._next_index, speaker, text, self.counter.count(text))
        self._next_index += 1
        if speaker != INTERVIEWER:
            found = extract_facts(text, turn.index)
            if found:
                self._sheet.add(found)
                self._sheet_version += 1
        self._recent.append(turn)
        # Folding in batches keeps the prompt append-only between folds, so a server's prompt
        # cache reuses all of it; folding every turn would shift the window and re-evaluate it.
        if len(self._recent) >= self.recent_turns + self.fold_every:
            while len(self._recent) > self.recent_turns:
                await self._fold(self._recent.popleft())
        oldest = self._recent[0].index
        self._shortened = {key: value for key, value in self._shortened.items() if key[0] >= oldest}

    def note(self, text: str) -> None:
        """Keep the facts of a turn that went to another agent's memory (no turn is added).

        Each agent remembers its own exchanges; what the candidate stated is known to all."""
        found = extract_facts(text, self._next_index)
        if found:
            self._sheet.add(found)
            self._sheet_version += 1

    async def _fold(self, turn: Turn) -> None:
        """Fold a turn leaving the window into the open utterance, or start a new one.

        The utterance's line is rewritten while it grows, so one spoken answer split by the
        interviewer's "Mmm-hmm." costs one line, not one per piece.
        """
        speaker = self._utterance[0].speaker if self._utterance else None
        if turn.speaker != speaker and is_backchannel(turn.text):
            return
        if turn.speaker == speaker:
            self._utterance.append(turn)
        else:
            self._utterance = [turn]
            self._open_line = False
        line = await self.summarizer.fold(self._utterance)
        if self._open_line:
            self._lines.pop()
        self._open_line = bool(line)
        if line:
            self._lines.append(SummaryLine(self._utterance[0].index, line, self.counter.count(line)))
        self._drop_unreachable_lines()

    def _drop_unreachable_lines(self) -> None:
        # Lines that could never fit again are dropped, so a long interview's memory stays small.
        kept, total = 0, 0
        for old in reversed(self._lines):
            total += old.tokens + 1
            if total > self.budget_tokens:
                break
            kept += 1
        self._dropped_lines += len(self._lines) - kept
        del self._lines[: len(self._lines) - kept]
        self._open_line = self._open_line and bool(self._lines)

    # -------------------------------------------------------------------------------- reading

    @property
    def facts(self) -> list[Fact]:
        return self._sheet.facts

    @property
    def summary_lines(self) -> list[str]:
        return [line.text for line in self._lines]

    @property
    def recent(self) -> list[Turn]:
        return list(self._recent)

    def tokens(self, system_prompt: str = "") -> int:
        """Prompt tokens of the context as it would be sent now (reply priming included)."""
        return self.counter.count_messages(self.context_messages(system_prompt))

    def context_messages(self, system_prompt: str) -> list[ChatMessage]:
        """The prompt: system prompt + summary + facts in the system message, then recent turns.

        The summary and the facts follow the constant system prompt, so a server's prompt cache
        still reuses its tokens. Never over `budget_tokens` by the counter's own count.
        """
        floor = self._system_cost(system_prompt)
        if floor > self.budget_tokens:
            raise MemoryBudgetError(
                f"the system prompt alone is {floor} tokens, over the memory budget of {self.budget_tokens}"
            )
        allowance = self.budget_tokens
        while True:
            system, turns = self._assemble(system_prompt, floor, allowance)
            # count_messages adds up per message, and each turn's text was counted as it is sent:
            # only the system message needs counting again.
            total = self.counter.count_messages([system]) + sum(self._frames[r] + n for r, _, n in turns)
            if total <= self.budget_tokens:
                recent: list[ChatMessage] = [{"role": role, "content": text} for role, text, _ in turns]
                return [system, *recent]
            # Pieces were counted one by one; joined they can tokenise a little longer.
            allowance -= total - self.budget_tokens
            if allowance < floor:  # not seen: at `floor` nothing but the system prompt is left
                return [{"role": "system", "content": system_prompt}]

    def _system_cost(self, system_prompt: str) -> int:
        if self._system_prompt_cost[0] != system_prompt:
            cost = self.counter.count_messages([{"role": "system", "content": system_prompt}])
            self._system_prompt_cost = (system_prompt, cost)
        return self._system_prompt_cost[1]

    def _assemble(self, system_prompt: str, floor: int, allowance: int) -> tuple[ChatMessage, list[_Sent]]:
        room = allowance - floor
        facts_line, facts_cost = self._facts_line(min(room, int(self.budget_tokens * self.facts_share)))
        room -= facts_cost
        turns = self._fit_turns(room)
        room -= sum(self._frames[role] + tokens for role, _, tokens in turns)
        summary = self._summary(min(room, int(self.budget_tokens * self.summary_share)))
        # Summary lines are only ever appended; the facts line changes in place: it goes last.
        block = "\n".join(part for part in (summary, facts_line) if part)
        return {"role": "system", "content": f"{system_prompt}\n\n{block}" if block else system_prompt}, turns

    # ----------------------------------------------------------------------------------- facts

    def _facts_line(self, room: int) -> tuple[str, int]:
        """The facts line within `room` tokens: all facts, or the most specific and recent that fit."""
        if room <= 0 or not len(self._sheet):
            return "", 0
        key = (self._sheet_version, room)
        if self._facts_cache and self._facts_cache[0] == key:
            return self._facts_cache[1], self._facts_cache[2]
        ranked = self._sheet.ranked()
        low, high = 0, len(ranked)  # the longest prefix of the ranking whose line fits
        while low < high:
            middle = (low + high + 1) // 2
            if self._line_cost(render(ranked[:middle])) <= room:
                low = middle
            else:
                high = middle - 1
        line = render(ranked[:low])
        result = (line, self._line_cost(line) if line else 0)
        self._facts_cache = (key, *result)
        return result

    def _line_cost(self, line: str) -> int:
        return self.counter.count(line) + 1  # the newline before it

    # ------------------------------------------------------------------------------- summary

    def _summary(self, room: int) -> str:
        """The newest summary lines that fit in `room`, in spoken order.

        The oldest go first, several at a time: the shown summary's start then stays put for a
        few folds, and so does the cached prompt prefix that starts with it.
        """
        room -= self._header_tokens
        first = len(self._lines)
        while first > 0 and self._lines[first - 1].tokens + 1 <= room:
            first -= 1
            room -= self._lines[first].tokens + 1
        if first > 0:
            numbered = self._dropped_lines + first  # counted from the conversation's first line
            first += -numbered % DROP_LINES
        if first >= len(self._lines):
            return ""
        return "\n".join([SUMMARY_HEADER, *(line.text for line in self._lines[first:])])

    # ---------------------------------------------------------------------------- recent turns

    def _fit_turns(self, room: int) -> list[_Sent]:
        """Recent turns verbatim when they fit; else long ones shortened, and oldest ones dropped.

        Returns (role, text, tokens) per turn.
        """
        turns = list(self._recent)
        while turns:
            frames = sum(self._frames[t.role] for t in turns)
            cap = _water_level([t.tokens for t in turns], room - frames)
            if cap >= min(self.min_turn_tokens, max(t.tokens for t in turns)):
                return [self._within(t, cap) for t in turns]
            turns.pop(0)
        return []

    def _within(self, turn: Turn, cap: int) -> _Sent:
        if turn.tokens <= cap:
            return turn.role, turn.text, turn.tokens
        key = (turn.index, cap)
        if key not in self._shortened:
            text = self._shorten(turn.text, cap, turn.tokens)
            self._shortened[key] = (text, self.counter.count(text))
        text, tokens = self._shortened[key]
        return turn.role, text, tokens

    def _shorten(self, text: str, max_tokens: int, tokens: int) -> str:
        """Head and tail of a long turn: how an answer starts and how it ends both matter."""
        words = text.split()
        per_word = max(tokens, 1) / max(len(words), 1)
        room = max(0, max_tokens - self._marker_tokens)
        head = self._fit(words, room * 2 // 3, per_word, from_end=False)
        rest = words[head:]
        used = self.counter.count(" ".join(words[:head]))
        tail = self._fit(rest, room - used, per_word, from_end=True)
        return " ".join([*words[:head], MARKER, *rest[len(rest) - tail :]])

    def _fit(self, words: Sequence[str], max_tokens: int, per_word: float, *, from_end: bool) -> int:
        """About as many words from one end as fit in `max_tokens`, never more.

        Starts from the turn's own tokens-per-word and steps down by the excess: two or three
        counts, where a binary search would take a dozen on a long turn.
        """
        take = min(len(words), int(max(0, max_tokens) / per_word))
        while take > 0:
            part = words[len(words) - take :] if from_end else words[:take]
            excess = self.counter.count(" ".join(part)) - max_tokens
            if excess <= 0:
                break
            take -= max(1, math.ceil(excess / per_word))
        return max(take, 0)

    # ---------------------------------------------------------------------------- persistence

    def to_json(self) -> dict[str, Any]:
        """State to keep between requests: a model-written summary cannot be rebuilt for free."""
        return {
            "next_index": self._next_index,
            "recent": [asdict(t) for t in self._recent],
            "lines": [asdict(line) for line in self._lines],
            "utterance": [asdict(t) for t in self._utterance],
            "open_line": self._open_line,
            "dropped_lines": self._dropped_lines,
            "facts": [{**asdict(f), "last_seen": self._sheet.last_seen(f)} for f in self._sheet.facts],
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self._next_index = int(data["next_index"])
        self._recent = deque(Turn(**t) for t in data["recent"])
        self._lines = [SummaryLine(**line) for line in data["lines"]]
        self._utterance = [Turn(**t) for t in data["utterance"]]
        self._open_line = bool(data["open_line"])
        self._dropped_lines = int(data["dropped_lines"])
        self._sheet = FactSheet()
        for f in data["facts"]:
            # First mention, then the last one: the sheet keeps the former and remembers the latter.
            self._sheet.add([Fact(f["kind"], f["value"], f["turn_index"])])
            self._sheet.add([Fact(f["kind"], f["value"], f["last_seen"])])
        self._sheet_version += 1


def _water_level(sizes: Sequence[int], room: int) -> int:
    """The largest cap c with sum(min(size, c)) <= room: short turns stay whole, long ones share."""
    if sum(sizes) <= room:
        return max(sizes, default=0)
    if room <= 0:
        return 0
    ordered = sorted(sizes)
    remaining = room
    for i, size in enumerate(ordered):
        share = remaining // (len(ordered) - i)
        if size > share:
            return share
        remaining -= size
    return ordered[-1]  # not reached: the sizes add up to more than `room`
