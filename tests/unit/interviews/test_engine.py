"""The engine's decisions, plan round-trip and the guard on the model's output (no model, no DB)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from mocki.interviews.engine import (
    Context,
    FollowUpRules,
    InterviewEngine,
    Move,
    Plan,
    PlannedQuestion,
    StreamGuard,
    best_line,
    build_plan,
    decide_follow_up,
    finalize,
    source_lines,
)

STAR_ANSWER = (
    "At my previous company our checkout service kept timing out. I was responsible for fixing it "
    "before the sale. I profiled the queries, added an index and a Redis cache. As a result p99 "
    "latency dropped from 2 seconds to 300 ms and we had no incidents during the sale."
)
TECH_ANSWER = (
    "I would put a read replica behind PgBouncer, cache hot rows in Redis with a 60 second TTL, and "
    "partition the orders table by month so the planner can skip old data; then I would measure p99."
)


@dataclass
class Q:
    text: str
    category: str
    tags: list[str] = field(default_factory=list)


def _plan() -> Plan:
    questions = [
        Q("Tell me about a time you fixed a production incident.", "behavioural", ["incident"]),
        Q("How would you scale PostgreSQL reads for a busy API?", "system_design", ["postgresql", "scaling"]),
        Q("What is the difference between a process and a thread?", "knowledge", ["os"]),
    ]
    lines = source_lines(
        "Jordan Avery\n- Led incident reviews and wrote the on-call runbook\n"
        "- Scaled PostgreSQL with read replicas",
        "resume",
        "doc-1",
    )
    return build_plan(questions, ["q1", "q2", "q3"], ["postgresql", "incident"], lines)


def test_plan_grounds_questions_in_lines_and_round_trips() -> None:
    plan = _plan()
    assert plan.questions[0].ground is not None and "incident" in plan.questions[0].ground.text
    assert plan.questions[1].ground is not None and "PostgreSQL" in plan.questions[1].ground.text
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert plan.to_json()["v"] == 1


def test_source_lines_skip_short_lines_and_strip_bullets() -> None:
    lines = source_lines("Name\n\n  * Built a billing API in Flask for 1,200 shops\nok", "resume", None)
    assert [line.text for line in lines] == ["Built a billing API in Flask for 1,200 shops"]
    assert lines[0].line == 3


def test_best_line_prefers_unused_lines() -> None:
    lines = source_lines(
        "Scaled PostgreSQL reads with replicas\nTuned PostgreSQL queries and indexes", "resume", None
    )
    q = Q("How do you tune PostgreSQL?", "knowledge", ["postgresql"])
    first = best_line(lines, q, [], set())
    assert first is not None
    second = best_line(lines, q, [], {(first.source, first.line)})
    assert second is not None and second.line != first.line


@pytest.mark.parametrize(
    ("category", "answer", "follow_ups", "expected"),
    [
        ("behavioural", STAR_ANSWER, 0, None),
        ("behavioural", "We had an outage and it was fixed eventually by the team.", 0, "star:action"),
        ("behavioural", "At my last job we had an outage. I restarted the database.", 0, "star:result"),
        ("behavioural", "It went fine.", 1, None),  # one follow-up per question at most
        ("behavioural", "I don't know", 0, None),  # a skip is not pressed
        ("knowledge", "Threads share memory.", 0, "short"),
        ("system_design", TECH_ANSWER, 0, None),
        (
            "knowledge",
            "A process has its own address space and the operating system schedules it, while threads "
            "inside one process share that memory and so they need locks around shared state.",
            0,
            "no_specifics",
        ),
    ],
)
def test_follow_up_rules(category: str, answer: str, follow_ups: int, expected: str | None) -> None:
    question = PlannedQuestion(id="q", text="Tell me about it.", category=category, follow_ups=follow_ups)
    assert decide_follow_up(question, answer, []) == expected


def test_rules_are_configurable() -> None:
    question = PlannedQuestion(id="q", text="Explain caching.", category="knowledge")
    assert decide_follow_up(question, "It stores results.", [], FollowUpRules(min_words=2)) == "no_specifics"


def test_engine_walks_the_plan_with_at_most_one_follow_up() -> None:
    engine = InterviewEngine()
    ctx = Context("Backend Engineer", "Acme", _plan())
    opening = engine.opening(ctx)
    assert opening.kind == "question" and opening.question_index == 0 and ctx.plan.asked == 1
    assert opening.provenance and opening.provenance[0]["source"] == "resume"
    assert "Hello" in opening.fallback and ctx.plan.questions[0].text in opening.fallback
    assert opening.messages is not None and opening.messages[0]["role"] == "system"

    short = engine.after_answer(ctx, "It was bad.")
    assert short.kind == "follow_up" and short.question_index == 0 and short.reason is not None
    still_short = engine.after_answer(ctx, "It was bad.")
    assert still_short.kind == "question" and still_short.question_index == 1
    assert still_short.fallback == ctx.plan.questions[1].text
    good = engine.after_answer(ctx, TECH_ANSWER)
    assert good.kind == "question" and good.question_index == 2 and ctx.plan.asked == 3
    skip = engine.after_answer(ctx, "pass")
    assert skip.kind == "closing" and skip.finished and skip.messages is None
    assert ctx.plan.finished


def test_every_move_has_a_short_prompt_with_a_stable_prefix() -> None:
    engine = InterviewEngine()
    ctx = Context("Backend Engineer", "", _plan())
    moves = [
        engine.opening(ctx),
        engine.after_answer(ctx, "x" * 20000),
        engine.after_answer(ctx, STAR_ANSWER),
    ]
    systems = {m.messages[0]["content"] for m in moves if m.messages}
    assert len(systems) == 1
    for move in moves:
        assert move.messages is not None
        # ~4 characters a token: every prompt stays far below 300 tokens, even for a huge answer.
        assert sum(len(m["content"]) for m in move.messages) < 1200
        assert move.messages[1]["content"].startswith("Role: Backend Engineer")


def test_custom_router_is_used_per_question() -> None:
    from mocki.interviews.engine import GeneralInterviewer

    seen: list[str | None] = []

    class Recorder(GeneralInterviewer):
        name = "recorder"

        def enter(self, ctx: Context, index: int) -> None:
            seen.append(ctx.plan.questions[index].category)

        def follow_up_reason(self, ctx: Context, question: PlannedQuestion, answer: str) -> str | None:
            return None

        def may_follow_up(self, ctx: Context, question: PlannedQuestion) -> bool:
            return False

    recorder = Recorder()
    engine = InterviewEngine(router=lambda _q: recorder)
    ctx = Context("Backend Engineer", "", _plan())
    assert engine.opening(ctx).agent == "recorder"
    engine.after_answer(ctx, "It was bad.")  # the recorder never follows up
    assert seen == ["behavioural", "system_design"]


# ------------------------------------------------------------------------------ output guard

QUESTION_MOVE = Move(
    kind="question", fallback="How would you scale PostgreSQL reads for a busy API?", messages=None,
    anchor="How would you scale PostgreSQL reads for a busy API?",
)  # fmt: skip
FOLLOW_MOVE = Move(kind="follow_up", fallback="What was the result?", messages=None)


def _feed(chunks: list[str]) -> tuple[StreamGuard, str]:
    guard = StreamGuard()
    shown = "".join(guard.feed(c) for c in chunks)
    return guard, shown


def test_guard_strips_labels_and_hides_self_answers() -> None:
    chunks = ["Interviewer:", " Thanks!", " How would you", " scale PostgreSQL", " reads for a busy API?",
              " Candidate:", " I would add replicas."]  # fmt: skip
    guard, shown = _feed(chunks)
    assert shown == "Thanks! How would you scale PostgreSQL reads for a busy API?"
    assert finalize(guard.raw, QUESTION_MOVE) == shown


def test_guard_holds_text_after_the_question_until_another_question() -> None:
    guard, shown = _feed(["Thanks for that answer. What did you", " change? ", "I think that", " is all."])
    assert shown == "Thanks for that answer. What did you change?"
    assert finalize(guard.raw, FOLLOW_MOVE) == "Thanks for that answer. What did you change?"


def test_guard_never_takes_back_what_it_showed() -> None:
    guard = StreamGuard()
    shown = ""
    for ch in "Great. Tell me, how do you test **async** code in Python? Well, I use pytest.":
        shown += guard.feed(ch)
    assert shown == "Great. Tell me, how do you test async code in Python?"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "???",
        "你好，请介绍一下你自己？",
        "Sure!",
        "Tell me about your favourite colour and your hobbies?",  # drifted off the planned question
        "word " * 90 + "?",
    ],
)
def test_finalize_rejects_garbage(raw: str) -> None:
    assert finalize(raw, QUESTION_MOVE) is None


def test_finalize_requires_a_question_for_follow_ups() -> None:
    assert finalize("That sounds great, thank you for sharing.", FOLLOW_MOVE) is None
    assert (
        finalize('"How did you measure the improvement?"', FOLLOW_MOVE)
        == "How did you measure the improvement?"
    )


def test_finalize_accepts_imperative_bank_questions() -> None:
    move = Move(kind="question", fallback="", messages=None,
                anchor="Tell me about a time you fixed a production incident.")  # fmt: skip
    text = "Thanks. Now tell me about a time you fixed a production incident."
    assert finalize(text, move) == text


def test_guard_hides_an_echo_of_the_instructions() -> None:
    guard, shown = _feed(["Greet the candidate in one", " short sentence, then ask the first question."])
    assert shown == ""
    assert finalize(guard.raw, QUESTION_MOVE) is None


@pytest.mark.parametrize("answer", ["It was bad.", STAR_ANSWER], ids=["follow-up", "next-question"])
def test_answer_prompt_starts_with_the_prefix_warmed_while_the_candidate_types(answer: str) -> None:
    from dataclasses import replace

    from mocki.interviews.engine import warm_messages

    engine = InterviewEngine()
    ctx = Context("Backend Engineer", "Acme", _plan())
    engine.opening(ctx)
    said = "Hello! Tell me about a time you fixed a production incident."
    warm = warm_messages(replace(ctx, last_question=said))
    assert warm is not None

    move = engine.after_answer(Context("Backend Engineer", "Acme", ctx.plan, last_question=said), answer)
    assert move.messages is not None
    assert move.messages[0] == warm[0]
    assert move.messages[1]["content"].startswith(warm[1]["content"] + "\n")
    assert warm[1]["content"].endswith(f"Interviewer asked: {said}")


def test_after_a_follow_up_the_warmed_prefix_reaches_the_next_questions_resume_line() -> None:
    from dataclasses import replace

    from mocki.interviews.engine import warm_messages

    engine = InterviewEngine()
    ctx = Context("Backend Engineer", "Acme", _plan())
    engine.opening(ctx)
    follow = engine.after_answer(ctx, "It was bad.")
    assert follow.kind == "follow_up" and not ctx.may_follow_up
    said = "What did you do first?"
    warm = warm_messages(replace(ctx, last_question=said))
    assert warm is not None and "From the resume or job:" in warm[1]["content"]

    move = engine.after_answer(Context("Backend Engineer", "Acme", ctx.plan, last_question=said), STAR_ANSWER)
    assert move.kind == "question" and move.messages is not None
    assert move.messages[1]["content"].startswith(warm[1]["content"] + "\n")


def test_nothing_to_warm_once_the_plan_is_finished() -> None:
    from mocki.interviews.engine import warm_messages

    engine = InterviewEngine()
    ctx = Context("Backend Engineer", "", _plan())
    engine.opening(ctx)
    for _ in range(6):
        engine.after_answer(ctx, "pass")
    assert ctx.plan.finished and warm_messages(ctx) is None


def test_text_cut_off_mid_sentence_is_not_said() -> None:
    anchor = "Design a rate limiter shared by many API servers."
    move = Move(kind="question", fallback=anchor, messages=None, anchor=anchor)
    assert (
        finalize("Thanks. Design a rate limiter shared by many API servers, with per-user and", move) is None
    )
    assert finalize("Thanks. Design a rate limiter shared by many API servers.", move) is not None
