"""SSE formatting and one streamed turn with a scripted fake model, on a throwaway SQLite file."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mocki.core.db import make_engine, make_sessionmaker
from mocki.interviews import report, service, streaming
from mocki.interviews.engine import Context, InterviewEngine, Plan, PlannedQuestion
from mocki.llm.base import ChatMessage, ChatStream, Completion, LLMError, Usage
from mocki.models import Base, Interview, LLMCall, Report, Turn, User


class FakeLLM:
    """Replays scripted deltas; an exception in the script is raised at that point of the stream."""

    model = "fake"

    def __init__(
        self, scripts: list[list[str | Exception]], completions: list[str | Exception] | None = None
    ):
        self.scripts = scripts
        self.completions = completions or []
        self.calls: list[Sequence[ChatMessage]] = []
        self.warmed: list[list[ChatMessage]] = []

    def stream(self, messages: Sequence[ChatMessage], **_: object) -> ChatStream:
        self.calls.append(messages)
        script = self.scripts.pop(0)
        usage = Usage(model=self.model, prompt_tokens=42, completion_tokens=len(script))

        async def deltas() -> AsyncIterator[str]:
            for part in script:
                if isinstance(part, Exception):
                    usage.error = str(part)
                    raise part
                yield part

        return ChatStream(deltas=deltas(), usage=usage)

    async def complete(self, messages: Sequence[ChatMessage], **_: object) -> Completion:
        self.calls.append(messages)
        item = self.completions.pop(0)
        if isinstance(item, Exception):
            raise item
        return Completion(text=item, usage=Usage(model=self.model, prompt_tokens=30, completion_tokens=9))

    async def prewarm(self, messages: Sequence[ChatMessage]) -> None:
        self.warmed.append(list(messages))

    async def aclose(self) -> None:
        return None


def test_format_sse() -> None:
    raw = streaming.format_sse(streaming.TurnEvent("token", {"text": "line one\nline two"}))
    assert raw.endswith(b"\n\n")
    lines = raw.decode().strip().split("\n")
    assert lines[0] == "event: token"
    assert json.loads(lines[1].removeprefix("data: ")) == {"text": "line one\nline two"}
    assert len(lines) == 2  # the newline stays escaped inside the one data line


@pytest.fixture
async def factory(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'unit.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _active_interview(factory: async_sessionmaker[AsyncSession]) -> tuple[uuid.UUID, uuid.UUID]:
    plan = Plan(
        keywords=["redis"],
        questions=[
            PlannedQuestion(id=None, text="How do you use Redis for caching?", category="knowledge"),
            PlannedQuestion(id=None, text="Tell me about a hard bug you fixed.", category="behavioural"),
        ],
    )
    async with streaming.session_scope(factory) as session:
        user = User(email=f"{uuid.uuid4().hex[:6]}@example.com")
        session.add(user)
        await session.flush()
        interview = Interview(
            owner_id=user.id, target_role="Backend Engineer", status="created", plan=plan.to_json()
        )
        session.add(interview)
        await session.flush()
        return user.id, interview.id


async def _start(
    factory: async_sessionmaker[AsyncSession], owner: uuid.UUID, iid: uuid.UUID
) -> service.PreparedTurn:
    # The planning half of prepare_start needs the document and question services; here the plan
    # is made by hand and only the opening move is taken from the engine.
    async with streaming.session_scope(factory) as session:
        interview = await session.get(Interview, iid)
        assert interview is not None
        plan = Plan.from_json(interview.plan)
        ctx = Context(interview.target_role, "", plan)
        move = InterviewEngine().opening(ctx)
        plan.pending = {"since": "2999-01-01T00:00:00+00:00", "seq": 1}
        interview.plan, interview.status = plan.to_json(), "active"
        return service.PreparedTurn(iid, owner, 1, move, context=ctx)


async def _events(
    factory: async_sessionmaker[AsyncSession], llm: FakeLLM, prepared: service.PreparedTurn
) -> list[streaming.TurnEvent]:
    return [e async for e in streaming.run_turn(factory, llm, prepared)]  # type: ignore[arg-type]


async def test_good_model_text_is_streamed_and_stored(factory: async_sessionmaker[AsyncSession]) -> None:
    owner, iid = await _active_interview(factory)
    llm = FakeLLM([["Hi, welcome! ", "How do you use ", "Redis for caching?", " I use it a lot."]])
    events = await _events(factory, llm, await _start(factory, owner, iid))
    names = [e.name for e in events]
    assert names[-1] == "done" and "error" not in names and names.count("token") >= 1
    shown = "".join(e.data["text"] for e in events if e.name == "token")
    assert shown == "Hi, welcome! How do you use Redis for caching?"
    assert events[-1].data["turn"]["text"] == shown and events[-1].data["finished"] is False
    async with factory() as session:
        turn = (await session.execute(select(Turn))).scalar_one()
        assert turn.meta["source"] == "model" and turn.seq == 1
        call = (await session.execute(select(LLMCall))).scalar_one()
        assert call.purpose == "interview_question" and call.prompt_tokens == 42 and call.user_id == owner
        interview = await session.get(Interview, iid)
        assert interview is not None and interview.plan["pending"] is None


async def test_garbage_falls_back_to_the_bank_question(factory: async_sessionmaker[AsyncSession]) -> None:
    owner, iid = await _active_interview(factory)
    llm = FakeLLM([["你好你好你好你好你好你好你好你好你好你好你好你好"]])
    events = await _events(factory, llm, await _start(factory, owner, iid))
    done = events[-1]
    assert done.name == "done" and "How do you use Redis for caching?" in done.data["turn"]["text"]
    assert "error" not in [e.name for e in events]


async def test_model_failure_mid_stream_emits_error_and_stores_fallback(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    owner, iid = await _active_interview(factory)
    llm = FakeLLM([["Hello there, welcome to ", LLMError("connection reset")]])
    events = await _events(factory, llm, await _start(factory, owner, iid))
    names = [e.name for e in events]
    assert names[-2:] == ["error", "done"]
    assert events[-2].data["code"] == "llm_unavailable"
    async with factory() as session:
        turn = (await session.execute(select(Turn))).scalar_one()
        assert turn.meta["source"] == "fallback" and "Redis" in turn.text
        call = (await session.execute(select(LLMCall))).scalar_one()
        assert call.status == "error" and "connection reset" in (call.error or "")


async def test_client_leaving_mid_stream_still_stores_a_turn(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    owner, iid = await _active_interview(factory)
    llm = FakeLLM([["Hello and welcome to this interview today. ", "How do you use Redis", " for caching?"]])
    stream = streaming.run_turn(factory, llm, await _start(factory, owner, iid))  # type: ignore[arg-type]
    first = await anext(stream)
    assert first.name == "token"
    await stream.aclose()
    async with factory() as session:
        turn = (await session.execute(select(Turn))).scalar_one()
        assert turn.meta["source"] == "fallback"


async def test_answers_follow_up_then_move_on_and_report(factory: async_sessionmaker[AsyncSession]) -> None:
    owner, iid = await _active_interview(factory)
    llm = FakeLLM(
        [
            ["Welcome! How do you use Redis for caching?"],
            ["Can you give a concrete example with numbers?"],
            ["Thanks. Tell me about a hard bug you fixed."],
        ],
        completions=["Name the eviction policy you chose and why.", LLMError("down")],
    )
    await _events(factory, llm, await _start(factory, owner, iid))
    prepared = await streaming.open_answer(factory, owner, iid, "It is fast.")
    assert (
        prepared.move.kind == "follow_up" and prepared.candidate is not None and prepared.candidate.seq == 2
    )
    events = await _events(factory, llm, prepared)
    assert events[0].name == "turn" and events[0].data["speaker"] == "candidate"
    prepared = await streaming.open_answer(
        factory, owner, iid, "We cached sessions in Redis with a 300 s TTL."
    )
    assert prepared.move.kind == "question" and prepared.move.question_index == 1
    await _events(factory, llm, prepared)
    star = (
        "At my last job our payment worker crashed every night. I was responsible for the fix. I added "
        "logging, found a race between two consumers and introduced a lock; as a result crashes stopped."
    )
    prepared = await streaming.open_answer(factory, owner, iid, star)
    events = await _events(factory, llm, prepared)
    assert events[-1].data["finished"] is True and prepared.move.kind == "closing"
    await streaming.settle_warmups()
    # Each question turn warmed the start of the prompt the following answer turn then sent.
    assert len(llm.warmed) == 3
    for warmed, sent in zip(llm.warmed[:2], llm.calls[1:3], strict=True):
        assert sent[1]["content"].startswith(warmed[1]["content"] + "\n")

    async with streaming.session_scope(factory) as session:
        out = await service.end_interview(session, owner, iid, celery=None)
        assert out.status == "pending"
    for _ in range(2):  # running twice changes nothing
        async with streaming.session_scope(factory) as session:
            done = await report.generate_report(session, llm, iid)  # type: ignore[arg-type]
            assert done is not None and done.status == "ready"
    async with factory() as session:
        row = (await session.execute(select(Report))).scalar_one()
        assert [i["turn_seqs"] for i in row.items] == [[1, 2, 3, 4], [5, 6]]
        assert row.items[0]["feedback"] == "Name the eviction policy you chose and why."
        assert row.items[1]["feedback"]  # the model failed: rule-based advice instead
        assert row.overall_score is not None and 0 <= row.overall_score <= 100
        purposes = sorted(c.purpose for c in (await session.execute(select(LLMCall))).scalars())
        assert purposes.count("report_feedback") == 2 and purposes.count("interview_question") == 2


async def test_state_errors(factory: async_sessionmaker[AsyncSession]) -> None:
    from mocki.core.errors import Conflict, NotFound

    owner, iid = await _active_interview(factory)
    with pytest.raises(Conflict) as not_started:
        await streaming.open_answer(factory, owner, iid, "hello")
    assert not_started.value.code == "not_started"
    with pytest.raises(NotFound):
        await streaming.open_answer(factory, uuid.uuid4(), iid, "hello")
    await _start(factory, owner, iid)  # pending now: the opening is "being streamed"
    with pytest.raises(Conflict) as busy:
        await streaming.open_answer(factory, owner, iid, "hello")
    assert busy.value.code == "turn_in_progress"
