"""The memory on real transcripts (reference data) and against the real local model server."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench import memory as bench_memory

from mocki.interviews.memory import ConversationMemory, LLMSummarizer, Turn
from mocki.interviews.prompts import INTERVIEWER_SYSTEM
from mocki.llm.base import ChatMessage
from mocki.llm.openai_compat import OpenAICompatLLM
from mocki.llm.tokens import LlamaTokenCounter

ANSWER = (
    "At Parcelworks I rebuilt the parcel tracking pipeline on Kafka. It handled 40k events per second "
    "at peak. I batched the PostgreSQL writes and the consumer lag fell from minutes to two seconds."
)


@pytest.mark.slow
@pytest.mark.needs_shared_data
def test_targets_on_the_reference_transcripts(shared_data: Path) -> None:
    figures = bench_memory.run(shared_data / "transcripts", 1200, quiet=True)
    assert figures["conversations_30plus"] >= 20, figures
    assert figures["over_budget_prompts"] == 0 and figures["max_prompt_tokens_memory"] <= 1200
    assert figures["token_reduction_30plus"] >= 0.45, figures
    assert figures["fact_retention"] >= 0.90, figures
    assert figures["facts_stated"] > 100, "the extractor found too few facts to measure retention"


def test_bench_refuses_a_folder_without_transcripts(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"no transcripts\.jsonl"):
        bench_memory.run(tmp_path, 1200, quiet=True)


@pytest.mark.slow
async def test_our_count_is_the_servers_count(llm_server: str, tiny_model: Path) -> None:
    """The prompt tokens the memory budgets for are the ones the local server reports using."""
    counter = LlamaTokenCounter(tiny_model)
    memory = ConversationMemory(counter, 300, recent_turns=2, fold_every=1)
    for speaker, text in [
        ("interviewer", "Tell me about a project you are proud of."),
        ("candidate", ANSWER),
        ("interviewer", "Mmm-hmm. How did you measure it?"),
        (
            "candidate",
            "We watched p99 latency in Grafana; the nightly report went from 3 hours to 20 minutes.",
        ),
    ]:
        await memory.add(speaker, text)
    messages: list[ChatMessage] = memory.context_messages(INTERVIEWER_SYSTEM)
    llm = OpenAICompatLLM(llm_server, "local", "local", default_max_tokens=4)
    try:
        done = await llm.complete(messages, temperature=0.0)
    finally:
        await llm.aclose()
    assert not done.usage.estimated
    assert done.usage.prompt_tokens == counter.count_messages(messages) <= 300


@pytest.mark.slow
async def test_llm_summarizer_on_the_local_model(llm_server: str) -> None:
    llm = OpenAICompatLLM(llm_server, "local", "local")
    try:
        line = await LLMSummarizer(llm, max_words=20).fold([Turn(0, "candidate", ANSWER, 0)])
    finally:
        await llm.aclose()
    assert line is not None and line.startswith("A: ")
    assert 2 <= len(line.split()) <= 1 + 20 + 1  # prefix, at most 20 words, maybe an ellipsis
