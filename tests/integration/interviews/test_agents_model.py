"""The knowledge, system-design and deep-dive agents' follow-ups, phrased by the real local model.

Each agent's follow-up prompt goes to the packaged model behind llama-cpp-python's server, through
the same stream, guard and check the interview uses. What must hold whatever the small model says:
the prompt stays a few dozen tokens (prompt evaluation is the slow part on two cores), the call
succeeds with the interview's stop words, and what the candidate would hear is a question in the
interview's language: the model's phrasing when the guard accepts it, the agent's fallback else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from mocki.interviews.agents.questions import deep_dive_question, pick_claim
from mocki.interviews.agents.routing import default_router
from mocki.interviews.engine import (
    Context,
    GeneralInterviewer,
    InterviewEngine,
    Move,
    PlannedQuestion,
    build_plan,
    finalize,
    source_lines,
)
from mocki.interviews.personas import han_count, voice_of
from mocki.interviews.prompts import STOP
from mocki.interviews.streaming import TEMPERATURE
from mocki.llm.openai_compat import OpenAICompatLLM

pytestmark = pytest.mark.slow

# What an agent's follow-up prompt may cost beyond the general interviewer's follow-up on the same
# answer (measured with the packaged model: -2 to +11 tokens, the missed point or the probe).
EXTRA_TOKENS = 30

RUBRIC = (
    "GET, PUT, DELETE, HEAD idempotent, POST not; idempotency keys stored with the result; "
    "unique constraint; returning the original response on retry."
)
PARTIAL = (
    "GET, PUT and DELETE are idempotent but POST is not, so a retried POST could charge twice. "
    "On a retry the server should find the earlier attempt and return the original response."
)


@dataclass
class Q:
    text: str
    category: str
    tags: list[str] = field(default_factory=list)


async def _say(llm_server: str, move: Move) -> tuple[str, int]:
    """What the candidate would hear (the model's phrasing or the fallback), and the prompt size."""
    llm = OpenAICompatLLM(llm_server, "local", "local")
    assert move.messages is not None
    done = await llm.complete(move.messages, max_tokens=move.max_tokens, temperature=TEMPERATURE, stop=STOP)
    assert done.usage.error is None and not done.usage.estimated
    text = finalize(done.text, move)
    source = "model" if text else "fallback"
    print(f"\n{move.reason} [{done.usage.prompt_tokens} tokens]: {done.text!r} -> {source}")
    return text or move.fallback, done.usage.prompt_tokens


async def _general_tokens(llm_server: str, ctx: Context, move: Move, answer: str) -> int:
    """The prompt size of the general interviewer's follow-up on the same answer: the baseline."""
    assert move.question_index is not None
    general = GeneralInterviewer().follow_up(ctx, move.question_index, answer, "short")
    assert general.messages is not None
    llm = OpenAICompatLLM(llm_server, "local", "local")
    done = await llm.complete(general.messages, max_tokens=1, temperature=0.0)
    assert not done.usage.estimated
    print(f"general follow-up: {done.usage.prompt_tokens} tokens")
    return done.usage.prompt_tokens


def _knowledge_turn(
    category: str, question: str, refs: list[dict[str, Any]], answer: str, language: str
) -> tuple[Context, Move]:
    plan = build_plan(
        [Q(question, category), Q("Tell me about a conflict.", "behavioural")], ["q0", "q1"], [], []
    )
    ctx = Context("Backend Engineer", "Acme", plan, voice=voice_of("neutral", language))
    engine = InterviewEngine(default_router())
    ctx.last_question = engine.opening(ctx).fallback
    ctx.evidence = {"question_index": 0, "references": refs}
    return ctx, engine.after_answer(ctx, answer)


def _asks(text: str, language: str) -> bool:
    return text.endswith(("?", "？")) and (han_count(text) > 0) == (language == "zh")


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_knowledge_follow_up_on_the_local_model(llm_server: str, language: str) -> None:
    refs = [{"source": "rubric", "question_id": "q0", "text": RUBRIC, "score": None}]
    question = "How would you make a POST that creates a payment safe to retry?"
    ctx, move = _knowledge_turn("knowledge", question, refs, PARTIAL, language)
    assert move.reason == "missed:unique constraint" and move.agent == "knowledge"
    said, tokens = await _say(llm_server, move)
    assert tokens - await _general_tokens(llm_server, ctx, move, PARTIAL) <= EXTRA_TOKENS
    assert _asks(said, language), said


async def test_system_design_follow_up_on_the_local_model(llm_server: str) -> None:
    refs = [{"source": "rubric", "question_id": "q0", "text": "Keys from a counter in base62."}]
    question = "Design a URL shortening service for millions of links a day."
    answer = "Keys come from a counter in base62, stored in a table."
    ctx, move = _knowledge_turn("system_design", question, refs, answer, "en")
    assert move.reason == "missed:the requirements, what the system must do and for whom"
    said, tokens = await _say(llm_server, move)
    assert tokens - await _general_tokens(llm_server, ctx, move, answer) <= EXTRA_TOKENS
    assert _asks(said, "en"), said


async def test_deep_dive_probe_on_the_local_model(llm_server: str) -> None:
    lines = source_lines(
        "- Built order APIs in Python and FastAPI serving 3 million requests a day", "resume", "r"
    )
    claim = pick_claim(lines, "Backend Engineer")
    assert claim is not None
    plan = build_plan([Q("Tell me about a project.", "behavioural")], ["q0"], [], [])
    plan.questions.append(deep_dive_question(claim, [], "behavioural"))
    plan.questions.append(PlannedQuestion("q2", "What is a B-tree?", "knowledge"))
    ctx = Context("Backend Engineer", "Acme", plan, voice=voice_of("neutral", "en"))
    engine = InterviewEngine(default_router())
    engine.opening(ctx)
    asked = engine.after_answer(ctx, "I don't know.")
    assert asked.agent == "deep_dive"
    ctx.last_question = asked.fallback
    answer = "I built the order service with FastAPI and deployed it on Kubernetes."
    move = engine.after_answer(ctx, answer)
    assert (move.agent, move.reason) == ("deep_dive", "depth:measure")
    said, tokens = await _say(llm_server, move)
    assert tokens - await _general_tokens(llm_server, ctx, move, answer) <= EXTRA_TOKENS
    assert _asks(said, "en"), said
