"""Conversation memory: the budget is never exceeded, recent turns stay verbatim, facts survive.

Token counts come from the real tiny model's tokenizer; the LLM summariser is tested here against
a recorded-answer fake (it runs against the real model in the integration tests).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest

from mocki.interviews.memory import (
    MARKER,
    SUMMARY_HEADER,
    ConversationMemory,
    ExtractiveSummarizer,
    LLMSummarizer,
    MemoryBudgetError,
    Turn,
    clean_speech,
    is_backchannel,
)
from mocki.llm.base import ChatMessage, ChatStream, Completion, LLMError, Usage
from mocki.llm.local_models import ensure_model
from mocki.llm.tokens import LlamaTokenCounter

SYSTEM = "You are a job interviewer. Output only the next short question."

QUESTIONS = [
    "Tell me about a project you are proud of.",
    "What was the hardest bug you fixed there?",
    "How did you measure the result?",
    "Describe a time you disagreed with your manager.",
    "What would you do differently next time?",
]
ANSWERS = [
    "At Parcelworks I rebuilt the tracking pipeline on Kafka. It handled 40k events per second at peak "
    "and I owned it end to end, from the schema design to the on-call runbook.",
    "A consumer kept stalling under load. I profiled it and found a lock around the PostgreSQL writes, "
    "so I batched the inserts; the lag fell from minutes to two seconds.",
    "We tracked p99 latency in Grafana before and after, and the nightly report went from 3 hours to "
    "20 minutes, which the finance team noticed first.",
    "My manager wanted to rewrite the billing service in Go. I wrote a short benchmark showing the "
    "Python version was fast enough once we cached the tax tables, and we kept it.",
    "I would write the design document earlier and ask the two junior engineers to review it, because "
    "they found the best problems once they saw it.",
]


@pytest.fixture(scope="module")
def counter() -> LlamaTokenCounter:
    return LlamaTokenCounter(ensure_model("tiny"))


def conversation(rounds: int) -> list[tuple[str, str]]:
    """Interviewer and candidate alternating, with the interviewer's "Mmm-hmm." inside answers."""
    turns: list[tuple[str, str]] = []
    for i in range(rounds):
        turns.append(("interviewer", QUESTIONS[i % len(QUESTIONS)]))
        answer = ANSWERS[i % len(ANSWERS)]
        first, _, rest = answer.partition(". ")
        turns.append(("candidate", first + "."))
        if rest:
            turns.append(("interviewer", "Mmm-hmm."))
            turns.append(("candidate", rest))
    return turns


async def filled(memory: ConversationMemory, turns: Sequence[tuple[str, str]]) -> ConversationMemory:
    for speaker, text in turns:
        await memory.add(speaker, text)
    return memory


def text_of(messages: Sequence[ChatMessage]) -> str:
    return "\n".join(m["content"] for m in messages)


@pytest.mark.parametrize("budget", [60, 120, 250, 600])
async def test_never_over_budget_at_any_step(counter: LlamaTokenCounter, budget: int) -> None:
    memory = ConversationMemory(counter, budget, recent_turns=4, fold_every=3)
    long_answer = " ".join(ANSWERS) * 3
    turns = conversation(12)
    turns.insert(9, ("candidate", long_answer))
    seen_full = False
    for speaker, text in turns:
        await memory.add(speaker, text)
        messages = memory.context_messages(SYSTEM)
        assert counter.count_messages(messages) <= budget
        assert memory.tokens(SYSTEM) == counter.count_messages(messages)
        assert messages[0]["role"] == "system" and messages[0]["content"].startswith(SYSTEM)
        seen_full = seen_full or counter.count_messages(messages) > budget * 0.8
    assert seen_full, "the budget should have been reached at some step"


async def test_recent_turns_verbatim_and_window_folds_in_batches(counter: LlamaTokenCounter) -> None:
    memory = ConversationMemory(counter, 4000, recent_turns=4, fold_every=3)
    turns = conversation(6)
    sizes = []
    for i, (speaker, text) in enumerate(turns, start=1):
        await memory.add(speaker, text)
        sizes.append(len(memory.recent))
        recent = memory.context_messages(SYSTEM)[1:]
        expected = turns[i - len(recent) : i]
        assert [(m["role"], m["content"]) for m in recent] == [
            ("assistant" if s == "interviewer" else "user", t) for s, t in expected
        ]
    assert max(sizes) == 4 + 3 - 1 and min(sizes[6:]) == 4
    # Between folds the prompt only grows at its end, so a server's prompt cache keeps all of it.
    assert sizes[6:9] == [4, 5, 6]


async def test_summary_grows_incrementally(counter: LlamaTokenCounter) -> None:
    memory = ConversationMemory(counter, 100_000, recent_turns=2, fold_every=1)
    history: list[list[str]] = []
    for speaker, text in conversation(8):
        await memory.add(speaker, text)
        history.append(memory.summary_lines)
    for before, after in itertools.pairwise(history):
        # Lines are appended; only the last one may be rewritten while its answer goes on.
        assert after[: max(0, len(before) - 1)] == before[: max(0, len(before) - 1)]
        assert len(after) >= len(before)
    lines = history[-1]
    assert len(lines) > 8
    assert all(line.startswith(("Q: ", "A: ")) for line in lines)
    assert any(line.startswith("Q: Tell me about a project") for line in lines)
    # The interviewer's "Mmm-hmm." does not split an answer: one line per answer, not per piece.
    assert sum(line.startswith("A: ") for line in lines) <= sum(line.startswith("Q: ") for line in lines)


async def test_facts_survive_a_long_conversation(counter: LlamaTokenCounter) -> None:
    memory = ConversationMemory(counter, 500, recent_turns=4, fold_every=4)
    await memory.add("interviewer", "Where did you work before?")
    await memory.add(
        "candidate", "I was a data engineer at Tallyhouse for 4 years, mostly Scala and Airflow."
    )
    for speaker, text in conversation(40):
        await memory.add(speaker, text)
    context = text_of(memory.context_messages(SYSTEM))
    for value in ("Tallyhouse", "4 years", "data engineer", "Scala", "Airflow"):
        assert value in context
    assert "Tallyhouse" not in "\n".join(memory.summary_lines)  # the summary forgot; the facts did not
    assert {"Tallyhouse", "Kafka", "40k events per second"} <= {f.value for f in memory.facts}


async def test_facts_over_their_share_keep_the_most_specific(counter: LlamaTokenCounter) -> None:
    memory = ConversationMemory(counter, 400, recent_turns=1, fold_every=1, facts_share=0.06)
    await memory.add("candidate", "I know Python, Java, Rust, Kotlin, Scala, Haskell, Elixir and Erlang.")
    await memory.add("candidate", "I worked at Parcelworks, where we handled 40k events per second.")
    await memory.add("interviewer", "Anything else?")
    system = memory.context_messages(SYSTEM)[0]["content"]
    facts_line = next(line for line in system.splitlines() if line.startswith("Candidate facts:"))
    assert "40k events per second" in facts_line and "Parcelworks" in facts_line
    assert "Erlang" not in facts_line
    assert counter.count(facts_line) <= 400 * 0.06


async def test_summary_lines_go_before_recent_turns_are_cut(counter: LlamaTokenCounter) -> None:
    memory = ConversationMemory(counter, 220, recent_turns=2, fold_every=1, summary_share=1.0)
    for speaker, text in conversation(4):
        await memory.add(speaker, text)
    roomy = memory.context_messages(SYSTEM)
    assert SUMMARY_HEADER in roomy[0]["content"]
    assert all(MARKER not in m["content"] for m in roomy[1:])
    await memory.add("candidate", " ".join(ANSWERS))  # far longer than the budget
    tight = memory.context_messages(SYSTEM)
    assert SUMMARY_HEADER not in tight[0]["content"]
    last = tight[-1]["content"]
    assert MARKER in last
    assert last.startswith("At Parcelworks") and last.endswith("saw it.")  # head and tail kept
    assert counter.count_messages(tight) <= 220


async def test_system_prompt_over_budget_is_refused(counter: LlamaTokenCounter) -> None:
    memory = ConversationMemory(counter, 10)
    with pytest.raises(MemoryBudgetError, match="system prompt alone"):
        memory.context_messages(SYSTEM)
    with pytest.raises(ValueError):
        ConversationMemory(counter, 100, recent_turns=0)


async def test_deterministic_and_restorable(counter: LlamaTokenCounter) -> None:
    turns = conversation(10)
    first = await filled(ConversationMemory(counter, 300), turns)
    second = await filled(ConversationMemory(counter, 300), turns)
    assert first.context_messages(SYSTEM) == second.context_messages(SYSTEM)

    restored = ConversationMemory(counter, 300)
    restored.load_json(first.to_json())
    assert restored.context_messages(SYSTEM) == first.context_messages(SYSTEM)
    for memory in (first, restored):
        await memory.add("candidate", "Then I moved to Stripe as a staff engineer.")
    assert restored.context_messages(SYSTEM) == first.context_messages(SYSTEM)
    assert restored.facts == first.facts


# ------------------------------------------------------------------------------------ summarisers


def turn(speaker: str, text: str, index: int = 0) -> Turn:
    return Turn(index, speaker, text, 0)


def test_extractive_line_keeps_the_question_and_the_fact_bearing_sentence() -> None:
    summarizer = ExtractiveSummarizer(max_words=12)
    asked = summarizer.line([turn("interviewer", "OK, cool. Uhh so tell me about your last project.")])
    assert asked == "Q: so tell me about your last project."
    answer = summarizer.line(
        [
            turn(
                "candidate",
                "Well it was a fun time overall for everyone there. We moved billing to Kafka and cut "
                "costs by 35% in a quarter.",
            )
        ]
    )
    assert answer is not None and answer.startswith("A: We moved billing to Kafka")
    assert answer.endswith(" …")
    assert summarizer.line([turn("candidate", "Yeah. Sure.")]) is None


def test_clean_speech_and_backchannels() -> None:
    assert clean_speech("Umm  so I I was- was like, the lead [laughs] . . . you know") == "so I was the lead"
    assert is_backchannel("Mmm-hmm.") and is_backchannel("Okay, cool.") and is_backchannel("[laughter]")
    assert not is_backchannel("What happened next with the pipeline?")


class RecordedLLM:
    """Answers with a fixed text, or fails; records the prompts it was sent."""

    model = "recorded"

    def __init__(self, answer: str | None) -> None:
        self.answer = answer
        self.prompts: list[Sequence[ChatMessage]] = []

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> Completion:
        self.prompts.append(messages)
        if self.answer is None:
            raise LLMError("unreachable")
        return Completion(self.answer, Usage(self.model))

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> ChatStream:
        raise NotImplementedError

    async def prewarm(self, messages: Sequence[ChatMessage]) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def test_llm_summarizer_line_and_fallbacks() -> None:
    pieces = [turn("candidate", ANSWERS[0]), turn("candidate", ANSWERS[1], 2)]
    llm = RecordedLLM(" Rebuilt the Kafka tracking pipeline at Parcelworks (40k events/s). ")
    line = await LLMSummarizer(llm, max_words=24).fold(pieces)
    assert line == "A: Rebuilt the Kafka tracking pipeline at Parcelworks (40k events/s)."
    prompt = llm.prompts[0]
    assert prompt[0]["role"] == "system" and "24 words" in prompt[0]["content"]
    assert (
        prompt[1]["content"].startswith("Candidate: At Parcelworks")
        and "batched the inserts" in prompt[1]["content"]
    )

    failing = await LLMSummarizer(RecordedLLM(None)).fold(pieces)
    assert failing == ExtractiveSummarizer(max_words=24).line(pieces)
    assert await LLMSummarizer(RecordedLLM("   ")).fold(pieces) == failing
    quiet = RecordedLLM("never asked")
    assert await LLMSummarizer(quiet).fold([turn("candidate", "Yes.")]) is None and not quiet.prompts


async def test_memory_uses_the_configured_summarizer(counter: LlamaTokenCounter) -> None:
    llm = RecordedLLM("Talked about the project.")
    memory = ConversationMemory(counter, 2000, recent_turns=2, fold_every=1, summarizer=LLMSummarizer(llm))
    await filled(memory, conversation(2))
    assert "Q: Talked about the project." in memory.summary_lines
    assert llm.prompts
