"""The router and the behavioural agent's memory (no model, no database)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from mocki.interviews.agents.behavioural import BehaviouralAgent
from mocki.interviews.agents.routing import AgentRouter, default_router
from mocki.interviews.engine import (
    PERSONA_RULES,
    Context,
    GeneralInterviewer,
    InterviewEngine,
    Plan,
    PlannedQuestion,
    build_plan,
    decide_follow_up,
)
from mocki.interviews.personas import voice_of


@dataclass
class Q:
    text: str
    category: str
    tags: list[str] = field(default_factory=list)


ACTION_AND_RESULT = (
    "I profiled the slow PostgreSQL queries, added two indexes and a Redis cache in front of the "
    "product lookups, and then I wrote a load test that replayed the traffic of the last sale. "
    "As a result the p99 latency fell from 2 seconds to 300 ms."
)
SITUATION_ONLY = (
    "At my previous company the checkout service kept timing out during the big sales, back in "
    "2021, on a team of six."
)
SITUATION_AND_TASK = (
    "At my previous company the checkout service kept timing out during the big sales, and I was "
    "responsible for making it hold up before the next campaign, which was six weeks away."
)
ACTION_ONLY = (
    "I profiled the slow PostgreSQL queries, added two indexes and a Redis cache in front of the "
    "product lookups, and then I wrote a load test that replayed the traffic of the last sale."
)


def _plan(*categories: str) -> Plan:
    questions = [Q(f"Question {i} about {c}?", c) for i, c in enumerate(categories)]
    return build_plan(questions, [f"q{i}" for i in range(len(questions))], [], [])


def test_router_picks_by_agent_field_then_category_and_falls_back() -> None:
    general = GeneralInterviewer()
    behavioural = BehaviouralAgent()
    router = AgentRouter({"behavioural": behavioural}, fallback=general)
    plan = _plan("behavioural", "knowledge")
    assert router(plan.questions[0]) is behavioural
    assert router(plan.questions[1]) is general  # no knowledge agent registered here
    assert router(None) is general  # the closing
    plan.questions[1].agent = "behavioural"
    assert router(plan.questions[1]) is behavioural
    assert default_router()(plan.questions[0]).name == "behavioural"


def test_behavioural_agent_probes_the_star_element_still_missing_across_answers() -> None:
    tough = voice_of("tough", "en")  # two follow-ups per question, all four elements wanted
    engine = InterviewEngine(AgentRouter({"behavioural": BehaviouralAgent()}))
    ctx = Context("Backend Engineer", "", _plan("behavioural", "behavioural"), voice=tough)
    assert engine.opening(ctx).agent == "behavioural"

    first = engine.after_answer(ctx, ACTION_AND_RESULT)
    assert (first.kind, first.reason) == ("follow_up", "star:task")
    second = engine.after_answer(ctx, SITUATION_ONLY)
    # Action and result were told in the first answer: the task is what is still missing.
    assert (second.kind, second.reason) == ("follow_up", "star:task")
    # Judged alone, the second answer would have been asked for the action it already gave.
    fresh = replace(ctx.plan.questions[0], follow_ups=1)
    assert decide_follow_up(fresh, SITUATION_ONLY, [], PERSONA_RULES["tough"]) == "star:action"
    assert ctx.state("behavioural")["star"] == {
        "action": True,
        "result": True,
        "task": False,
        "situation": True,
    }

    # A new question starts a new story: its memory is reset when the agent enters it.
    nxt = engine.after_answer(ctx, "I was responsible for the checkout service.")
    assert nxt.kind == "question" and nxt.question_index == 1
    assert ctx.state("behavioural")["question"] == 1
    assert not any(ctx.state("behavioural")["star"].values())


def test_each_agent_keeps_its_own_state_in_the_plan() -> None:
    engine = InterviewEngine(default_router())
    ctx = Context("Backend Engineer", "", _plan("behavioural", "knowledge", "behavioural"))
    engine.opening(ctx)
    engine.after_answer(ctx, SITUATION_AND_TASK + " " + ACTION_ONLY + " As a result it held up.")
    assert ctx.plan.current is not None and ctx.plan.current.category == "knowledge"
    # The behavioural agent's memory is kept, under its own name, while another agent asks.
    kept = Plan.from_json(ctx.plan.to_json())
    assert kept.agents["behavioural"]["state"]["question"] == 0
    assert set(kept.agents) == {"behavioural"}


def test_plan_round_trips_agent_and_target_fields() -> None:
    plan = _plan("behavioural")
    plan.questions[0] = PlannedQuestion(
        id="q0", text="Q?", category="behavioural", agent="deep_dive", target="structure was weak"
    )
    again = Plan.from_json(plan.to_json())
    assert again.questions[0].agent == "deep_dive" and again.questions[0].target == "structure was weak"
