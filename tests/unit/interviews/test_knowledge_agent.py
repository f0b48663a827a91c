"""The knowledge and system-design agents: the reference check and the decisions on hand-made
evidence (no model, no database; the gathering through the real API is in the integration tests)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pytest

from mocki.interviews.agents import knowledge
from mocki.interviews.agents.knowledge import KnowledgeAgent, check_answer, job_line
from mocki.interviews.agents.routing import AgentRouter, default_router
from mocki.interviews.engine import Context, InterviewEngine, Plan, Tools, build_plan
from mocki.interviews.personas import voice_of
from mocki.questions import service as question_bank
from mocki.retrieval.service import ChunkText

RUBRIC = (
    "GET, PUT, DELETE, HEAD idempotent, POST not; idempotency keys stored with the result; "
    "unique constraint; returning the original response on retry."
)
# Covers the idempotent methods and the original response; says nothing of a unique constraint
# and only half of the stored idempotency keys.
PARTIAL = (
    "GET, PUT and DELETE are idempotent but POST is not, so a retried POST could charge twice. "
    "On a retry the server should find the earlier attempt and return the original response."
)
COMPLETES = "I would put a unique constraint on the idempotency key and store the result with it."
FULL = PARTIAL + " " + COMPLETES
JOB_ID = str(uuid.uuid4())
JOB_CHUNK = "Own the payments API\nEnforce a unique constraint on every ledger write\nMentor engineers"


@dataclass
class Q:
    text: str
    category: str
    tags: list[str] = field(default_factory=list)


def _refs(*, job: bool = False, bank: bool = False) -> list[dict[str, Any]]:
    refs: list[dict[str, Any]] = [{"source": "rubric", "question_id": "q0", "text": RUBRIC, "score": None}]
    if bank:
        refs.append(
            {
                "source": "bank",
                "question_id": "q-pay",
                "question": "Design a payment API.",
                "text": "Ledger with double entry; reconciliation job; retries with exponential backoff.",
                "score": 0.52,
            }
        )
    if job:
        refs.append(
            {
                "source": "job_description",
                "document_id": JOB_ID,
                "line": 12,
                "quote": "Enforce a unique constraint on every ledger write",
                "text": JOB_CHUNK,
                "chunk_start": 11,
                "chunk_end": 13,
                "score": 0.41,
            }
        )
    return refs


def _ctx(*categories: str, persona: str = "neutral", language: str = "en") -> Context:
    texts = {
        "knowledge": "How would you make a POST that creates a payment safe to retry?",
        "system_design": "Design a URL shortening service for millions of links a day.",
        "behavioural": "Tell me about a time you disagreed with a teammate.",
    }
    questions = [Q(texts[c], c) for c in categories]
    plan = build_plan(questions, [f"q{i}" for i in range(len(questions))], [], [])
    return Context("Backend Engineer", "", plan, voice=voice_of(persona, language))


def _engine() -> InterviewEngine:
    return InterviewEngine(default_router())


def _answer(engine: InterviewEngine, ctx: Context, text: str, refs: list[dict[str, Any]] | None) -> Any:
    ctx.evidence = {"question_index": ctx.plan.cursor, "references": refs} if refs is not None else {}
    return engine.after_answer(ctx, text)


# ------------------------------------------------------------------------------ the check


def test_check_finds_covered_and_missed_rubric_points() -> None:
    check = check_answer(PARTIAL, _refs(), design=False)
    assert check is not None
    assert [p.text for p in check.covered] == [
        "GET, PUT, DELETE, HEAD idempotent, POST not",
        "returning the original response on retry.",
    ]
    # Not touched at all comes before half said.
    assert [p.text for p in check.missed] == ["unique constraint", "idempotency keys stored with the result"]
    assert check.coverage == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    full = check_answer(FULL, _refs(), design=False)
    assert full is not None and full.missed == [] and full.coverage == 1.0


def test_a_point_the_job_asks_for_is_missed_first() -> None:
    check = check_answer(
        PARTIAL + " We stored the idempotency keys with the result.", _refs(job=True), design=False
    )
    assert check is not None and check.missed[0].text == "unique constraint" and check.missed[0].job
    plain = check_answer("GET, PUT and DELETE are idempotent, POST is not.", _refs(job=True), design=False)
    assert plain is not None
    # Without the job description's line, "unique constraint" would come after the earlier points.
    assert plain.missed[0].text == "unique constraint"
    assert [p.job for p in plain.missed] == [True, False, False]


def test_bank_neighbours_count_only_what_was_said() -> None:
    answer = FULL + " A reconciliation job compares the ledger with the bank every night."
    check = check_answer(answer, _refs(bank=True), design=False)
    assert check is not None
    bank = [p for p in check.covered if p.source == "bank"]
    assert [p.text for p in bank] == ["reconciliation job"]
    # Saying "retries" is not "retries with exponential backoff".
    assert "retries with exponential backoff." not in [p.text for p in check.points]
    assert all(p.source != "bank" for p in check.missed)  # a neighbour's point is never required


def test_design_dimensions_are_checked_unless_the_rubric_names_them() -> None:
    refs = [{"source": "rubric", "text": "API and data model; key generation with base62; expiry handling."}]
    answer = (
        "Users shorten a URL and get redirected; I assume 100 million new links a day, about 1,200 "
        "writes per second. Keys come from a counter in base62. I would shard by key and cache hot "
        "links, accepting eventual consistency instead of a single primary."
    )
    check = check_answer(answer, refs, design=True)
    assert check is not None
    design = {p.text: p.covered for p in check.points if p.source == "design"}
    # "API" and "data model" are the rubric's own first point: not asked twice.
    assert set(design) == {
        "the requirements, what the system must do and for whom",
        "a scale estimate, requests per second and data size",
        "the bottlenecks and how it scales",
        "the trade-offs of your choices",
    }
    assert all(design.values())
    assert [p.text for p in check.missed] == ["API and data model", "expiry handling."]
    vague = check_answer("I would use a database and a hash.", refs, design=True)
    assert vague is not None
    assert "a scale estimate, requests per second and data size" in [p.text for p in vague.missed]


def test_nothing_to_check_without_a_rubric() -> None:
    assert check_answer(PARTIAL, [], design=False) is None
    assert check_answer(PARTIAL, [{"source": "rubric", "text": ""}], design=False) is None


def test_job_line_maps_chunk_lines_back_when_none_were_skipped() -> None:
    chunk = ChunkText(uuid.uuid4(), uuid.UUID(JOB_ID), 0, 11, 13, JOB_CHUNK)
    line = job_line(chunk, 0.4123456, "unique constraint on the ledger")
    assert (line.line, line.text, line.chunk_start, line.chunk_end) == (
        12,
        "Enforce a unique constraint on every ledger write",
        11,
        13,
    )
    assert line.score == 0.4123
    gappy = ChunkText(uuid.uuid4(), uuid.UUID(JOB_ID), 0, 11, 16, JOB_CHUNK)
    first = job_line(gappy, 0.4, "unique constraint on the ledger")
    assert (first.line, first.text) == (11, "Own the payments API")  # blank lines were skipped


# ------------------------------------------------------------------------------- decisions


def test_follow_up_on_the_missed_point_with_references_in_data() -> None:
    engine, ctx = _engine(), _ctx("knowledge", "behavioural")
    assert engine.opening(ctx).agent == "knowledge"
    move = _answer(engine, ctx, PARTIAL, _refs(job=True, bank=True))
    assert (move.kind, move.agent, move.reason) == ("follow_up", "knowledge", "missed:unique constraint")
    assert move.fallback == "You have not covered this yet: unique constraint. How would you handle that?"
    assert move.data["asked"] == move.anchor == "unique constraint"
    assert {"point": "unique constraint", "source": "rubric"} in move.data["missed"]
    assert {"point": "returning the original response on retry.", "source": "rubric"} in move.data["covered"]
    sources = [(r["source"], r["score"]) for r in move.data["references"]]
    assert sources == [("rubric", None), ("bank", 0.52), ("job_description", 0.41)]
    # The job description's line is where the reference came from.
    assert move.provenance == [
        {
            "source": "job_description",
            "document_id": JOB_ID,
            "line": 12,
            "text": "Enforce a unique constraint on every ledger write",
            "chunk_start": 11,
            "chunk_end": 13,
            "score": 0.41,
        }
    ]
    assert move.messages is not None
    prompt = move.messages[-1]["content"]
    assert "Not covered: unique constraint" in prompt and len(prompt.split()) < 90


def test_the_follow_up_answer_completes_the_first_and_the_agent_moves_on() -> None:
    engine, ctx = _engine(), _ctx("knowledge", "behavioural")
    engine.opening(ctx)
    assert _answer(engine, ctx, PARTIAL, _refs()).kind == "follow_up"
    # Judged alone this answer misses the idempotent methods; with the first it covers everything.
    nxt = _answer(engine, ctx, COMPLETES, _refs())
    assert nxt.kind == "question" and nxt.agent == "behavioural"
    state = ctx.plan.agents["knowledge"]["state"]
    assert state["missed"] == [] and len(state["covered"]) == 4


def test_personas_accept_different_coverage() -> None:
    almost = PARTIAL + " We stored the idempotency keys with the result."  # all but the constraint
    for persona, kind in (("friendly", "question"), ("neutral", "question"), ("tough", "follow_up")):
        engine, ctx = _engine(), _ctx("knowledge", "behavioural", persona=persona)
        engine.opening(ctx)
        assert _answer(engine, ctx, almost, _refs()).kind == kind, persona
    engine, ctx = _engine(), _ctx("knowledge", "behavioural", persona="friendly")
    engine.opening(ctx)
    move = _answer(engine, ctx, "GET and PUT are idempotent, POST is not.", _refs())
    assert move.kind == "follow_up" and move.fallback.startswith("That's a good start.")


def test_tough_asks_two_different_points_then_moves_on() -> None:
    engine, ctx = _engine(), _ctx("knowledge", "behavioural", persona="tough")
    engine.opening(ctx)
    first = _answer(engine, ctx, "GET and PUT are idempotent, POST is not.", _refs())
    second = _answer(engine, ctx, "I am not sure what else matters here, honestly.", _refs())
    assert first.reason != second.reason and {first.kind, second.kind} == {"follow_up"}
    assert _answer(engine, ctx, "That is all I know.", _refs()).kind == "question"


def test_skip_moves_on_and_without_evidence_the_general_rules_decide() -> None:
    engine, ctx = _engine(), _ctx("knowledge", "behavioural")
    engine.opening(ctx)
    assert _answer(engine, ctx, "I don't know.", _refs()).kind == "question"

    engine, ctx = _engine(), _ctx("knowledge", "behavioural")
    engine.opening(ctx)
    move = _answer(engine, ctx, "Use retries.", None)  # gathering failed or found nothing
    assert (move.kind, move.reason, move.data) == ("follow_up", "short", {})


def test_a_chinese_answer_is_left_to_the_general_rules() -> None:
    engine, ctx = _engine(), _ctx("knowledge", "behavioural", language="zh")
    engine.opening(ctx)
    move = _answer(engine, ctx, "我会用幂等键。", _refs())
    assert (move.kind, move.reason) == ("follow_up", "short")
    engine, ctx = _engine(), _ctx("knowledge", "behavioural", persona="tough", language="zh")
    engine.opening(ctx)
    english = _answer(engine, ctx, PARTIAL, _refs())  # an English answer is still checked
    assert english.reason == "missed:unique constraint" and english.fallback.startswith("你漏掉了这一点")


def test_system_design_follows_up_on_a_missing_dimension() -> None:
    engine, ctx = _engine(), _ctx("system_design", "behavioural")
    assert engine.opening(ctx).agent == "system_design"
    refs = [{"source": "rubric", "question_id": "q0", "text": "Keys from a counter in base62."}]
    move = _answer(engine, ctx, "Keys come from a counter in base62, stored in a table.", refs)
    assert move.reason == "missed:the requirements, what the system must do and for whom"
    assert move.data["covered"] == [
        {"point": "Keys from a counter in base62.", "source": "rubric"},
        {"point": "the data model", "source": "design"},
    ]


def test_router_and_state_of_the_two_configurations() -> None:
    router = default_router()
    ctx = _ctx("knowledge", "system_design")
    know, design = router(ctx.plan.questions[0]), router(ctx.plan.questions[1])
    assert isinstance(know, KnowledgeAgent) and isinstance(design, KnowledgeAgent)
    assert (know.name, know.design, design.name, design.design) == ("knowledge", False, "system_design", True)
    # Entering writes nothing: a plan only holds the agents that spoke.
    engine = InterviewEngine(AgentRouter({"knowledge": KnowledgeAgent()}))
    engine.opening(ctx)
    assert ctx.plan.agents == {}


def test_remember_documents_tells_each_configuration_its_job_description() -> None:
    plan = Plan(keywords=[], questions=[])
    knowledge.remember_documents(plan, None)
    assert plan.agents == {}
    job = uuid.uuid4()
    knowledge.remember_documents(plan, job)
    again = Plan.from_json(plan.to_json())
    assert KnowledgeAgent().job_ids(again) == [str(job)]
    assert KnowledgeAgent("system_design", design=True).job_ids(again) == [str(job)]


# ------------------------------------------------------------------------------- gathering


@dataclass
class _Rubric:
    rubric: str


class _Session:
    async def __aenter__(self) -> _Session:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class _BrokenEmbedder:
    async def embed(self, texts: Any, *, max_tokens: int | None = None) -> Any:
        raise RuntimeError("the embedding process died")


@dataclass
class _Retriever:
    embedder: _BrokenEmbedder


async def test_gather_keeps_the_rubric_when_retrieval_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    qid = uuid.uuid4()

    async def get_questions(session: Any, owner_id: uuid.UUID, ids: Any) -> list[_Rubric]:
        assert list(ids) == [qid]
        return [_Rubric(RUBRIC)]

    monkeypatch.setattr(question_bank, "get_questions", get_questions)
    ctx = _ctx("knowledge")
    ctx.plan.questions[0].id = str(qid)
    ctx.plan.cursor = 0
    agent = KnowledgeAgent()
    tools = Tools(uuid.uuid4(), _Retriever(_BrokenEmbedder()), lambda: _Session())  # type: ignore[arg-type]
    found = await agent.gather(ctx, PARTIAL, tools)
    assert found == {
        "references": [{"source": "rubric", "question_id": str(qid), "text": RUBRIC, "score": None}]
    }
    assert await agent.gather(ctx, PARTIAL, Tools(uuid.uuid4())) == {}  # no database to read
