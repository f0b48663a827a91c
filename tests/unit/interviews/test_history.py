"""Each agent's conversation memory in the plan, and its use in the prompt, on real transcripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mocki.interviews.engine import Move, Plan
from mocki.interviews.history import History
from mocki.interviews.prompts import INTERVIEWER_SYSTEM
from mocki.llm.local_models import ensure_model
from mocki.llm.tokens import LlamaTokenCounter
from mocki.settings import Settings


@pytest.fixture(scope="module")
def counter() -> LlamaTokenCounter:
    return LlamaTokenCounter(ensure_model("tiny"))


def _move(agent: str, content: str = "Role: Backend Engineer\nAnswer: ...\nAsk one follow-up.") -> Move:
    messages = [{"role": "system", "content": INTERVIEWER_SYSTEM}, {"role": "user", "content": content}]
    return Move(kind="follow_up", fallback="Go on?", messages=messages, agent=agent)  # type: ignore[arg-type]


async def test_turns_stay_with_their_agent_and_facts_reach_every_agent(counter: LlamaTokenCounter) -> None:
    history = History(counter, 400, in_prompts=True)
    plan = Plan(keywords=[], questions=[])
    await history.add(plan, "behavioural", "interviewer", "Tell me about a hard bug.")
    await history.add(
        plan,
        "behavioural",
        "candidate",
        "When I worked at Parcelworks I cut the p99 latency from 2 seconds to 300 ms with Redis.",
        others=["behavioural", "system_design"],
    )
    mine = history.memory(plan, "behavioural")
    theirs = history.memory(plan, "system_design")
    assert [t.speaker for t in mine.recent] == ["interviewer", "candidate"]
    assert theirs.recent == []  # the story stays with the agent that heard it ...
    assert {f.value for f in theirs.facts} >= {"Parcelworks", "Redis"}  # ... what was stated does not

    move = _move("system_design")
    history.apply(plan, move)
    assert move.messages is not None
    assert "Parcelworks" in move.messages[0]["content"] and len(move.messages) == 2
    move = _move("behavioural")
    history.apply(plan, move)
    assert move.messages is not None
    assert [m["role"] for m in move.messages] == ["system", "assistant", "user", "user"]


async def test_prompt_memory_stays_within_budget_on_a_long_real_transcript(
    counter: LlamaTokenCounter, shared_data: Path
) -> None:
    conversations = [
        json.loads(line)
        for line in (shared_data / "transcripts" / "transcripts.jsonl").read_text().splitlines()
    ]
    longest = max(conversations, key=lambda c: len(c["turns"]))
    assert len(longest["turns"]) >= 30
    budget = Settings().interview.history_tokens  # the default
    history = History(counter, budget, in_prompts=True)
    plan = Plan(keywords=[], questions=[])
    stated: set[str] = set()
    for t in longest["turns"]:
        speaker = "interviewer" if t["speaker"] == "interviewer" else "candidate"
        await history.add(plan, "behavioural", speaker, t["text"], others=["knowledge"])
        plan = Plan.from_json(json.loads(json.dumps(plan.to_json())))  # stored and read back each turn
        move = _move("behavioural", "Answer: ...")
        history.apply(plan, move)
        assert move.messages is not None
        assert counter.count_messages(move.messages[:-1]) <= budget
        if speaker == "candidate":
            stated |= {f.value for f in history.memory(plan, "behavioural").facts}
    final = _move("knowledge")
    history.apply(plan, final)
    assert final.messages is not None
    kept = sum(value in final.messages[0]["content"] for value in stated)
    assert stated and kept / len(stated) >= 0.9


def test_memory_in_prompts_follows_the_setting() -> None:
    move = _move("behavioural")
    before = list(move.messages or [])
    off = History(None, 400, in_prompts=False)
    off.apply(Plan(keywords=[], questions=[]), move)
    assert move.messages == before
    hosted = Settings(env="test", llm={"base_url": "http://127.0.0.1:9/v1"})  # type: ignore[arg-type]
    assert History.from_settings(hosted).in_prompts
    assert not History.from_settings(Settings(env="test")).in_prompts
    assert History.from_settings(Settings(env="test", interview={"history": "on"})).in_prompts  # type: ignore[arg-type]
