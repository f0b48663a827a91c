"""The question agent: choosing the resume claim, writing the deep-dive question (from a specific
model-written pair or a template), where it goes in the plan, and its depth probes (no model, no
database; planning through the real API is in the integration tests)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from mocki.interviews.agents.questions import (
    DeepDiveAgent,
    ModelPair,
    deep_dive_question,
    heard,
    pick_claim,
    replace_slot,
    specificity,
)
from mocki.interviews.agents.routing import default_router
from mocki.interviews.engine import (
    Context,
    InterviewEngine,
    Plan,
    PlannedQuestion,
    SourceLine,
    build_plan,
    source_lines,
)
from mocki.interviews.personas import voice_of

RESUME = """Sam Rivera - Backend Engineer
- Led the incident review process for a team of six engineers
- Moved nightly batch jobs to Celery workers with Redis, cutting run time from 2 hours to 15 minutes
- Built order APIs in Python and FastAPI serving 3 million requests a day
- BSc Computer Science, University of Lagos, 2016
"""
JOB = """Senior Backend Engineer (Python)
- Design FastAPI services and event pipelines on Kafka
- Lead incident reviews and mentor engineers
"""
ORDERS_LINE = "Built order APIs in Python and FastAPI serving 3 million requests a day"
BATCH_LINE = (
    "Moved nightly batch jobs to Celery workers with Redis, cutting run time from 2 hours to 15 minutes"
)


@dataclass
class Q:
    text: str
    category: str
    tags: list[str] = field(default_factory=list)


def _lines(resume: str = RESUME, job: str = JOB) -> list[SourceLine]:
    return source_lines(resume, "resume", "doc-r") + source_lines(job, "job_description", "doc-j")


# ------------------------------------------------------------------------------ the claim


def test_the_claim_has_a_result_and_what_the_job_asks_for() -> None:
    claim = pick_claim(_lines(), "Backend Engineer")
    assert claim is not None and claim.line.text == ORDERS_LINE and claim.line.line == 4
    # Python and FastAPI are in the job description: they come first, the number is a result.
    assert claim.technologies == ["Python", "FastAPI"] and claim.metrics == ["3 million requests a day"]


def test_without_a_job_description_the_most_concrete_line_wins() -> None:
    claim = pick_claim(_lines(job=""), "Backend Engineer")
    assert claim is not None and claim.line.text in (ORDERS_LINE, BATCH_LINE)
    assert claim.metrics  # a measured result beats "six engineers"


def test_head_counts_and_degrees_are_not_results() -> None:
    lines = _lines(
        "Led the incident review process for a team of six engineers\nBSc Computer Science, 2016", ""
    )
    claim = pick_claim(lines, "Backend Engineer")
    assert claim is not None and claim.numbers == ["six engineers"] and claim.metrics == []
    assert pick_claim(_lines("Worked on many interesting things with people", ""), "Engineer") is None


def test_a_line_already_grounding_a_question_ranks_lower() -> None:
    lines = _lines()
    orders = next(ln for ln in lines if ln.text == ORDERS_LINE)
    claim = pick_claim(lines, "Backend Engineer", {("resume", orders.line)})
    assert claim is not None and claim.line.text == BATCH_LINE


# --------------------------------------------------------------------------- the question


def test_a_specific_model_pair_becomes_the_question_with_its_chunk_lines() -> None:
    claim = pick_claim(_lines(), "Backend Engineer")
    assert claim is not None
    pairs = [
        ModelPair("Can you tell me about this part of your background?", 2, 5),  # generic
        ModelPair("What did you do?", 2, 5),  # too short and names nothing
        ModelPair("How did the FastAPI services handle 3 million requests a day at peak?", 2, 5),
        ModelPair("How did you run the Celery workers for the nightly batch jobs?", 2, 3),  # not this line
    ]
    q = deep_dive_question(claim, pairs, "knowledge")
    assert q.text == "How did the FastAPI services handle 3 million requests a day at peak?"
    assert (q.agent, q.category, q.id) == ("deep_dive", "knowledge", None)
    assert q.ground is not None and q.ground.text == ORDERS_LINE and q.ground.line == 4
    assert (q.ground.chunk_start, q.ground.chunk_end) == (2, 5)
    assert q.tags == ["python", "fastapi"]


def test_specificity_wants_the_lines_facts_or_words() -> None:
    claim = pick_claim(_lines(), "Backend Engineer")
    assert claim is not None
    assert specificity("Why did you choose Python for the order APIs?", claim) > 0
    assert specificity("Which requests did the order APIs serve per day, and how?", claim) > 0  # 3 words
    assert specificity("What are your strengths as an engineer today?", claim) == 0
    assert specificity("Why did you choose Python for the order APIs", claim) == 0  # not a question
    assert specificity("How do you usually approach learning a brand new framework?", claim) == 0


def test_the_template_names_the_result_and_the_technology() -> None:
    claim = pick_claim(_lines(), "Backend Engineer")
    assert claim is not None
    q = deep_dive_question(claim, [ModelPair("What did you do there?", 1, 9)], "behavioural")
    assert q.text == (
        f'Your resume says: "{ORDERS_LINE}". How did you get to 3 million requests a day, how was it '
        "measured, and why Python?"
    )
    assert q.ground is not None and q.ground.chunk_start is None  # from the line alone
    zh = deep_dive_question(claim, [], "behavioural", "zh")
    assert zh.text.startswith("你的简历上写着：“Built order APIs") and "为什么选择 Python" in zh.text
    batch = pick_claim(_lines(job=""), "Backend Engineer", {("resume", 4)})
    assert batch is not None
    text = deep_dive_question(batch, [], "knowledge").text
    assert "How did you get to 15 minutes" in text  # "from 2 hours to 15 minutes": the result
    long_claim = pick_claim(
        _lines("Cut AWS costs by 35 percent " + "across services and regions " * 6, ""), ""
    )
    assert long_claim is not None
    quoted = deep_dive_question(long_claim, [], "knowledge")
    assert "..." in quoted.text and len(quoted.text) < 220


def test_the_deep_dive_replaces_the_last_free_question_after_the_opening() -> None:
    plan = build_plan(
        [
            Q("a", "behavioural"),
            Q("b", "knowledge"),
            Q("c", "coding"),
            Q("d", "system_design"),
            Q("e", "coding"),
        ],
        ["q0", "q1", "q2", "q3", "q4"],
        [],
        [],
    )
    assert replace_slot(plan) == 3  # never the opening, never a coding problem
    plan.questions[3].target = "depth was weak"
    assert replace_slot(plan) == 1  # a question picked for a weak point is kept if possible
    plan.questions[1].target = "relevance was weak"
    assert replace_slot(plan) == 3
    only = Plan(
        keywords=[], questions=[PlannedQuestion("q0", "a", "knowledge"), PlannedQuestion("q1", "b", "coding")]
    )
    assert replace_slot(only) is None


# ------------------------------------------------------------------------------- the agent


def _ctx(persona: str = "neutral", language: str = "en", line: str = ORDERS_LINE) -> Context:
    plan = build_plan([Q("Tell me about a project.", "behavioural")], ["q0"], [], [])
    lines = source_lines(f"- {line}", "resume", "doc-r")
    claim = pick_claim(lines, "Backend Engineer")
    assert claim is not None
    plan.questions.append(deep_dive_question(claim, [], "behavioural", "en"))
    plan.questions.append(PlannedQuestion("q2", "What is a B-tree index?", "knowledge"))
    return Context("Backend Engineer", "", plan, voice=voice_of(persona, language))


def _to_deep_dive(engine: InterviewEngine, ctx: Context) -> None:
    engine.opening(ctx)
    move = engine.after_answer(ctx, "I don't know.")  # a skip moves on without a follow-up
    assert (move.kind, move.agent) == ("question", "deep_dive")
    ground = ctx.plan.questions[1].ground
    assert ground is not None and move.provenance == [asdict(ground)]


def test_probes_measurement_first_then_why_then_moves_on() -> None:
    engine, ctx = InterviewEngine(default_router()), _ctx()
    _to_deep_dive(engine, ctx)
    first = engine.after_answer(ctx, "I built the order service with FastAPI and deployed it on Kubernetes.")
    assert (first.kind, first.reason, first.agent) == ("follow_up", "depth:measure", "deep_dive")
    assert first.fallback == "How did you measure that result, and what was the baseline?"
    assert first.data == {"claim": ORDERS_LINE, "probe": "measure", "heard": []}
    assert first.provenance[0]["text"] == ORDERS_LINE
    assert first.messages is not None and "how they measured that result" in first.messages[-1]["content"]

    second = engine.after_answer(ctx, "We counted requests in Prometheus; the baseline was 1 million a day.")
    assert second.reason == "depth:why" and second.data["heard"] == ["measure"]
    # Neutral: two follow-ups on a deep dive (one more than elsewhere), then the next question.
    third = engine.after_answer(ctx, "We chose FastAPI because the team knew Python.")
    assert third.kind == "question" and third.agent == "knowledge"
    assert ctx.plan.agents["deep_dive"]["state"]["heard"] == {
        "measure": True,
        "why": True,
        "tradeoff": False,
        "differently": False,
    }


def test_a_rich_answer_is_accepted_and_tough_wants_all_four() -> None:
    rich = (
        "We measured it in Prometheus against a baseline of 1 million a day. We chose FastAPI because "
        "the team knew Python; the trade-off was a less mature ecosystem."
    )
    engine, ctx = InterviewEngine(default_router()), _ctx()
    _to_deep_dive(engine, ctx)
    assert engine.after_answer(ctx, rich).kind == "question"
    engine, ctx = InterviewEngine(default_router()), _ctx("tough")
    _to_deep_dive(engine, ctx)
    move = engine.after_answer(ctx, rich)
    assert (move.reason, move.fallback) == (
        "depth:differently",
        "What would you do differently if you built it again?",
    )


def test_a_claim_without_a_result_is_asked_why_first_in_the_chosen_language() -> None:
    engine = InterviewEngine(default_router())
    ctx = _ctx(language="zh", line="Tuned PostgreSQL indexes and partitions for the reporting database")
    _to_deep_dive(engine, ctx)
    move = engine.after_answer(ctx, "我调整了 PostgreSQL 的索引。")
    assert (move.reason, move.fallback) == ("depth:why", "为什么选择这个方案，而不是其他方案？")


def test_depth_cues_in_both_languages() -> None:
    assert heard("Looking back, I would have added a load test first.") == {
        "measure": True,
        "why": False,
        "tradeoff": False,
        "differently": True,
    }
    assert heard("因为团队熟悉 Python，代价是生态不够成熟。") == {
        "measure": False,
        "why": True,
        "tradeoff": True,
        "differently": False,
    }
    assert isinstance(default_router()(_ctx().plan.questions[1]), DeepDiveAgent)
