"""The coding agent: problem choice, the problem's presentation, graded hints, finding code in a
turn, and its decisions on hand-made evidence (no sandbox, no model, no database; real runs are
in tests/integration/interviews/test_coding_agent.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import ValidationError

from mocki.interviews.agents import coding
from mocki.interviews.agents.coding import (
    MAX_FIXES,
    CodingAgent,
    choose_problem,
    detect_language,
    extract_code,
    preferred_language,
)
from mocki.interviews.agents.routing import AgentRouter, default_router
from mocki.interviews.engine import Context, InterviewEngine, Move, Plan, Tools, build_plan
from mocki.interviews.personas import voice_of
from mocki.sandbox import Limits, Problem, SandboxResult, SandboxUnavailable, builtin_problems
from mocki.sandbox.schemas import CaseResult
from tests.integration.sandbox.solutions import JAVASCRIPT, PYTHON

SOLUTIONS = {"python": PYTHON, "javascript": JAVASCRIPT}
EVERY_SOLUTION = [(language, pid) for language, table in SOLUTIONS.items() for pid in table]

NESTED = {
    "time": "O(n^2)",
    "reason": "nested_loops",
    "detail": "a loop over `nums` inside a loop over `nums`",
}
LINEAR_READ = {"time": "O(n)", "reason": "loop", "detail": "a loop over `nums`"}
CODE = "```python\ndef two_sum(nums, target):\n    return [0, 1]\n```"


@dataclass
class Q:
    text: str
    category: str
    tags: list[str] = field(default_factory=list)


def _plan(*categories: str) -> Plan:
    questions = [Q(f"Question {i} ({c})?", c) for i, c in enumerate(categories)]
    return build_plan(questions, [f"q{i}" for i in range(len(questions))], [], [])


def _started(
    role: str = "Backend Engineer", *categories: str, voice: str = "neutral", language: str = "en"
) -> tuple[InterviewEngine, Context, Move]:
    engine = InterviewEngine(AgentRouter({"coding": CodingAgent()}))
    ctx = Context(role, "Acme", _plan(*(categories or ("coding", "coding"))), voice=voice_of(voice, language))
    return engine, ctx, engine.opening(ctx)


def _memory(ctx: Context) -> dict[str, Any]:
    return dict(ctx.state("coding")["questions"][str(ctx.plan.cursor)])


def _problem(ctx: Context) -> Problem:
    return builtin_problems()[_memory(ctx)["problem"]]


def _run(verdict: str, passed: int, total: int, **more: Any) -> dict[str, Any]:
    return {
        "code": True,
        "question_index": 0,
        "language": "python",
        "verdict": verdict,
        "passed": passed,
        "total": total,
        "complexity": NESTED,
        **more,
    }


def _answer(engine: InterviewEngine, ctx: Context, text: str, evidence: dict[str, Any] | None = None) -> Move:
    ctx.evidence = evidence or {}
    return engine.after_turn(ctx, text, "answer")


# ----------------------------------------------------------------------- choosing a problem


@pytest.mark.parametrize(
    ("role", "levels"),
    [
        ("Junior Backend Developer", {"easy"}),
        ("Graduate Software Engineer", {"easy"}),
        ("Senior Backend Engineer", {"medium", "hard"}),
        ("Staff Engineer", {"medium", "hard"}),
        ("Tech Lead", {"medium", "hard"}),
        ("Backend Engineer", {"easy", "medium"}),
        ("高级后端工程师", {"medium", "hard"}),
    ],
)
def test_problem_suits_the_level_and_is_deterministic(role: str, levels: set[str]) -> None:
    chosen = {choose_problem(role, f"question-{i}", []).id for i in range(40)}
    assert {builtin_problems()[pid].difficulty for pid in chosen} <= levels
    assert len(chosen) >= 2  # the key spreads interviews over the problems of a level
    assert choose_problem(role, "same-key", []) == choose_problem(role, "same-key", [])


def test_no_problem_twice_in_one_interview_and_javascript_for_frontend() -> None:
    engine, ctx, _ = _started("Junior Frontend Developer", *(["coding"] * 6))
    seen = [_memory(ctx)["problem"]]
    for _ in range(5):
        move = engine.after_turn(ctx, "next please", "change_topic")
        seen.append(move.data["problem_id"])
    assert len(set(seen)) == 6  # five easy problems, then any unused one
    assert ctx.state("coding")["used"] == seen
    assert preferred_language("Frontend Engineer (React)") == "javascript"
    assert preferred_language("Data Engineer") == "python"
    assert _memory(ctx)["language"] == "javascript"


# ---------------------------------------------------------------------------- presenting


def test_the_question_presents_the_problem_as_fixed_text_with_editor_data() -> None:
    _, ctx, move = _started("Backend Engineer")
    problem = _problem(ctx)
    assert move.kind == "question" and move.agent == "coding" and move.messages is None
    assert problem.statement in move.fallback and problem.title in move.fallback
    assert f"`{problem.starter['python'].splitlines()[0].rstrip(':')}`" in move.fallback
    example = problem.visible[0]
    assert f"{problem.function['python']}(" in move.fallback and "fenced block" in move.fallback
    assert repr(example.expected) in move.fallback
    assert move.data["problem_id"] == problem.id and move.data["language"] == "python"
    assert move.data["function"] == dict(problem.function) and move.data["starter"] == dict(problem.starter)


def test_chinese_interview_frames_the_problem_in_chinese_and_javascript_literals() -> None:
    _, ctx, move = _started("前端工程师", voice="friendly", language="zh")
    problem = _problem(ctx)
    assert "编程题" in move.fallback and problem.statement in move.fallback
    assert f"`{problem.function['javascript']}(" in move.fallback and move.language == "zh"
    # JavaScript literals: true/false/null, double-quoted strings.
    assert "True" not in move.fallback.split("`")[3] and "'" not in move.fallback.split("`")[3]


def test_every_builtin_problem_has_three_hints_and_a_best_complexity() -> None:
    for problem in builtin_problems().values():
        assert len(problem.hints) == 3 and all(len(h) > 20 for h in problem.hints), problem.id
        assert problem.complexity and problem.complexity.startswith("O("), problem.id
        # From a nudge to nearly the approach: each hint says more than the one before.
        assert len(problem.hints[0]) < len(problem.hints[2]), problem.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hints": ["one", "two"]}, "exactly 3"),
        ({"hints": ["a", " ", "c"]}, "exactly 3"),
        ({"complexity": "fast"}, "big-O"),
    ],
)
def test_a_problem_with_bad_hints_or_complexity_is_refused(change: dict[str, Any], message: str) -> None:
    base = builtin_problems()["two-sum"].model_dump()
    assert Problem.model_validate(base | {"hints": [], "complexity": None}).hints == []
    with pytest.raises(ValidationError, match=message):
        Problem.model_validate(base | change)


# --------------------------------------------------------------------------------- stays


def test_hints_are_graded_then_run_out_without_using_a_follow_up() -> None:
    engine, ctx, _ = _started()
    problem = _problem(ctx)
    for level in (1, 2, 3):
        move = engine.after_turn(ctx, "Could I get a hint?", "hint")
        assert (move.kind, move.reason, move.data["hint_level"]) == ("hint", "hint", level)
        assert problem.hints[level - 1] in move.fallback and f"Hint {level} of 3" in move.fallback
    last = engine.after_turn(ctx, "Another hint?", "hint")
    assert last.data["no_more_hints"] is True and "last hint" in last.fallback
    assert not any(h in last.fallback for h in problem.hints)
    assert _memory(ctx)["hints"] == 3 and ctx.plan.questions[0].follow_ups == 0 and ctx.plan.cursor == 0


def test_clarification_restates_the_statement_with_an_example_and_off_topic_steers_back() -> None:
    engine, ctx, _ = _started()
    problem = _problem(ctx)
    clarify = engine.after_turn(ctx, "What should it return exactly?", "clarification")
    assert clarify.kind == "clarify" and problem.statement in clarify.fallback
    assert f"{problem.function['python']}(" in clarify.fallback and clarify.data["problem_id"] == problem.id
    redirect = engine.after_turn(ctx, "Nice weather today.", "off_topic")
    assert redirect.kind == "redirect" and problem.title in redirect.fallback
    assert redirect.data["problem_id"] == problem.id and ctx.plan.questions[0].follow_ups == 0


# ------------------------------------------------------------------------------ decisions


def test_failing_tests_get_the_failing_visible_case_and_at_most_three_fixes() -> None:
    engine, ctx, _ = _started()
    problem = _problem(ctx)
    case = problem.visible[0]
    failing = {"index": 0, "args": case.args, "expected": case.expected, "got": None, "error": None}
    for attempt in range(1, MAX_FIXES + 1):
        move = _answer(engine, ctx, CODE, _run("failed", 2, 9, failing=failing))
        assert (move.kind, move.reason, move.messages) == ("follow_up", "tests_failed", None)
        assert "2 of 9 tests pass" in move.fallback and repr(case.expected) in move.fallback
        assert "returned `None`" in move.fallback and move.data["run"]["verdict"] == "failed"
        assert _memory(ctx)["fixes"] == attempt
    # A fourth failing run: the interview moves on.
    assert _answer(engine, ctx, CODE, _run("failed", 2, 9, failing=failing)).kind == "question"
    assert ctx.plan.cursor == 1


@pytest.mark.parametrize(
    ("evidence", "needle"),
    [
        (
            _run("error", 0, 9, failing={"args": [[1, 2], 3], "got": None, "error": "NameError: x (line 2)"}),
            "raised NameError",
        ),
        (_run("error", 0, 9, message="SyntaxError: invalid syntax (line 1)"), "stopped with: SyntaxError"),
        (
            _run("timeout", 3, 9, message="Time limit exceeded: still running after 10 s."),
            "loop that never ends",
        ),
        (
            _run("failed", 4, 9, visible_passed=3, visible_total=3, hidden_passed=1, hidden_total=6),
            "5 of the 6 hidden",
        ),
    ],
)
def test_each_kind_of_failure_has_its_reply(evidence: dict[str, Any], needle: str) -> None:
    engine, ctx, _ = _started()
    move = _answer(engine, ctx, CODE, evidence)
    assert move.reason == "tests_failed" and needle in move.fallback


def test_passing_tests_ask_for_complexity_then_a_matching_optimal_claim_moves_on() -> None:
    engine, ctx, _ = _started()
    ask = _answer(engine, ctx, CODE, _run("passed", 9, 9, complexity=LINEAR_READ))
    assert (ask.kind, ask.reason) == ("follow_up", "ask_complexity")
    assert ask.fallback == "All 9 tests pass. What are the time and space complexity of your solution?"
    assert ask.messages is None and ask.data["run"]["passed"] == 9
    best = _problem(ctx).complexity or ""
    nxt = _answer(engine, ctx, f"It runs in {best} time and O(n) space.")
    if best == "O(n)":
        assert nxt.kind == "question" and ctx.plan.cursor == 1
    else:  # the estimate (O(n)) and the claim differ: said once
        assert nxt.reason in ("too_optimistic", "too_optimistic_final", "too_pessimistic")


def _linear_problem_started() -> tuple[InterviewEngine, Context]:
    """An interview whose first coding problem's best complexity is O(n)."""
    for i in range(50):
        engine = InterviewEngine(AgentRouter({"coding": CodingAgent()}))
        plan = build_plan([Q("Code it", "coding"), Q("Next", "coding")], [f"k{i}", "x"], [], [])
        ctx = Context("Backend Engineer", "", plan)
        engine.opening(ctx)
        if _problem(ctx).complexity == "O(n)":
            return engine, ctx
    raise AssertionError("no O(n) problem among the easy and medium ones")


def test_an_optimistic_claim_is_pointed_out_once_with_the_reason() -> None:
    engine, ctx = _linear_problem_started()
    _answer(engine, ctx, CODE, _run("passed", 9, 9))
    point = _answer(engine, ctx, "It's O(n) time, O(1) space.")
    assert point.reason == "too_optimistic"
    assert "loop inside a loop" in point.fallback and "O(n^2) rather than O(n)" in point.fallback
    assert point.fallback.endswith("Can you do better?") and point.data["complexity"]["time"] == "O(n^2)"
    # Not again: insisting moves on (the challenge to improve was part of the same reply).
    assert _answer(engine, ctx, "I still think it is linear.").kind == "question"


def test_a_correct_claim_on_slow_code_is_challenged_to_improve_once() -> None:
    engine, ctx = _linear_problem_started()
    _answer(engine, ctx, CODE, _run("passed", 9, 9))
    improve = _answer(engine, ctx, "Quadratic time because of the two loops, constant space.")
    assert improve.reason == "improve" and improve.fallback.startswith("Agreed, O(n^2).")
    # New, faster code that passes: its complexity is asked again, and a right answer moves on.
    again = _answer(engine, ctx, CODE, _run("passed", 9, 9, complexity=LINEAR_READ))
    assert again.reason == "ask_complexity"
    assert _answer(engine, ctx, "Linear time, linear space.").kind == "question"
    runs = ctx.state("coding")["questions"]["0"]["runs"]
    assert [r["time"] for r in runs] == ["O(n^2)", "O(n)"]


def test_a_pessimistic_claim_is_corrected() -> None:
    engine, ctx = _linear_problem_started()
    _answer(engine, ctx, CODE, _run("passed", 9, 9, complexity=LINEAR_READ))
    move = _answer(engine, ctx, "O(n^2) I think.")
    assert move.reason == "too_pessimistic" and "O(n) rather than O(n^2)" in move.fallback


def test_a_claim_made_with_the_code_is_judged_at_once() -> None:
    engine, ctx = _linear_problem_started()
    text = "Here is my O(n) time solution:\n" + CODE
    move = _answer(engine, ctx, text, _run("passed", 9, 9, complexity=LINEAR_READ))
    assert move.kind == "question" and ctx.plan.cursor == 1


def test_no_claim_is_asked_again_once_then_moves_on() -> None:
    engine, ctx = _linear_problem_started()
    _answer(engine, ctx, CODE, _run("passed", 9, 9, complexity=LINEAR_READ))
    again = _answer(engine, ctx, "It is pretty fast I think.")
    assert again.reason == "complexity_again" and "big-O" in again.fallback
    assert _answer(engine, ctx, "Fast enough.").kind == "question"


def test_an_answer_without_code_is_asked_for_code_once() -> None:
    engine, ctx, _ = _started()
    ask = _answer(engine, ctx, "I would use a hash map and go through the list once.")
    assert ask.reason == "ask_code" and "Paste" in ask.fallback and ask.messages is None
    assert _answer(engine, ctx, "I'd rather explain it in words.").kind == "question"


def test_without_a_sandbox_the_code_is_discussed_instead() -> None:
    engine, ctx, _ = _started()
    unavailable = {"code": True, "language": "python", "sandbox": "unavailable", "complexity": LINEAR_READ}
    move = _answer(engine, ctx, CODE, unavailable)
    assert move.reason == "no_sandbox" and "can't run code" in move.fallback
    assert _memory(ctx)["stage"] == "complexity"


def test_follow_ups_are_capped_per_question() -> None:
    engine, ctx, _ = _started()
    agent = CodingAgent()
    question = ctx.plan.questions[0]
    assert agent.may_follow_up(ctx, question)
    question.follow_ups = coding.MAX_FOLLOW_UPS
    assert not agent.may_follow_up(ctx, question)
    assert _answer(engine, ctx, CODE, _run("failed", 0, 9)).kind == "question"


def test_default_router_sends_coding_questions_to_the_coding_agent() -> None:
    plan = _plan("coding", "behavioural")
    assert default_router()(plan.questions[0]).name == "coding"
    assert default_router()(plan.questions[1]).name == "behavioural"


# -------------------------------------------------------------------------- finding code


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (CODE, "python"),
        ("Here you go:\n```js\nconst twoSum = (a, t) => [0, 1];\n```\nI think it works.", "javascript"),
        ("```\nfunction twoSum(nums, target) {\n  return [0, 1];\n}\n```", "javascript"),
        ("```\ndef f(x):\n    return x\n```", "python"),
        ("def two_sum(nums, target):\n    seen = {}\n    return [0, 1]", "python"),
        ("My answer:\nfunction isValid(s) {\n  return s.length % 2 === 0;\n}", "javascript"),
        ("module.exports.f = function (s) {\n  return s.length;\n};", "javascript"),
        ("export function f(s) {\n  return s.length;\n}", "javascript"),
        ("solve = (nums) => {\n  return nums.length;\n};", "javascript"),
        ("@cache\ndef climb(n):\n    return 1 if n < 2 else climb(n - 1) + climb(n - 2)", "python"),
    ],
)
def test_code_is_found_in_fences_or_plain_text(text: str, language: str) -> None:
    found = extract_code(text)
    assert found is not None and found.language == language
    assert "```" not in found.code and found.code.strip()


@pytest.mark.parametrize(("language", "pid"), EVERY_SOLUTION)
def test_every_reference_solution_pasted_plain_is_found_whole(language: str, pid: str) -> None:
    """Pasted without a fence, a solution is found from its first line, whatever that line's form."""
    code = SOLUTIONS[language][pid].strip()
    found = extract_code(f"Here is my solution.\n{code}")
    assert found is not None and found.language == language
    assert found.code == code and found.prose == "Here is my solution."


def test_prose_is_not_code_and_the_prose_around_code_is_kept() -> None:
    assert extract_code("I would sort the list and then walk it with two pointers.") is None
    assert extract_code("The function returns the index; I defined it clearly.") is None
    found = extract_code("It is O(n) time.\n" + CODE)
    assert found is not None and found.prose == "It is O(n) time."
    assert detect_language("x = 1") is None or detect_language("x = 1") == "python"
    # The classifier's label lets plain code without a definition through.
    loose = "seen = {}\nfor i, n in enumerate(nums):\n    seen[n] = i"
    assert extract_code(loose) is None and extract_code(loose, submitted=True) is not None


# ------------------------------------------------------------------------------- gather


def _result(problem: Problem, statuses: list[str], verdict: str) -> SandboxResult:
    tests = []
    for i, status in enumerate(statuses):
        hidden = i >= len(problem.visible)
        case = None if hidden else problem.visible[i]
        tests.append(
            CaseResult(
                index=i,
                hidden=hidden,
                status=status,  # type: ignore[arg-type]
                args=None if case is None else case.args,
                expected=None if case is None else case.expected,
                actual=None if case is None else "wrong",
            )
        )
    return SandboxResult(
        verdict=verdict,  # type: ignore[arg-type]
        message="m",
        language="python",
        problem_id=problem.id,
        passed=statuses.count("passed"),
        total=len(statuses),
        tests=tests,
    )


async def test_gather_runs_the_code_and_reports_only_visible_cases() -> None:
    calls: list[tuple[str, str, str]] = []

    async def runner(language: str, code: str, problem: Problem, limits: Limits) -> SandboxResult:
        calls.append((language, code, problem.id))
        statuses = ["passed"] + ["failed"] * (len(problem.visible) - 1) + ["failed"] * len(problem.hidden)
        return _result(problem, statuses, "failed")

    agent = CodingAgent(runner=runner)
    engine = InterviewEngine(AgentRouter({"coding": agent}))
    ctx = Context("Backend Engineer", "", _plan("coding"))
    engine.opening(ctx)
    problem = _problem(ctx)
    tools = Tools(uuid.uuid4())
    found = await agent.gather(ctx, "```python\ndef f(nums):\n    for a in nums:\n        pass\n```", tools)
    assert calls and calls[0][0] == "python" and calls[0][2] == problem.id
    assert found["verdict"] == "failed" and found["passed"] == 1
    assert found["complexity"]["time"] == "O(n)" and len(found["code_digest"]) == 16
    if len(problem.visible) > 1:
        assert found["failing"]["index"] == 1 and found["failing"]["args"] == problem.visible[1].args
    assert found["hidden_total"] == len(problem.hidden) and found["hidden_passed"] == 0
    assert await agent.gather(ctx, "I would use a hash map.", tools) == {}


async def test_gather_says_when_the_sandbox_is_unavailable() -> None:
    async def runner(*_: Any) -> SandboxResult:
        raise SandboxUnavailable("the code sandbox needs root")

    agent = CodingAgent(runner=runner)
    ctx = Context("Backend Engineer", "", _plan("coding"))
    InterviewEngine(AgentRouter({"coding": agent})).opening(ctx)
    found = await agent.gather(ctx, CODE, Tools(uuid.uuid4()))
    assert found["sandbox"] == "unavailable" and "verdict" not in found


# -------------------------------------------------------------------------------- report


def test_report_takes_correctness_from_the_last_run_less_a_little_per_hint() -> None:
    from mocki.interviews import report

    engine, ctx, _ = _started()
    engine.after_turn(ctx, "hint?", "hint")
    wrong, right = CODE, CODE.replace("[0, 1]", "[1, 0]")
    _answer(
        engine, ctx, wrong, _run("failed", 2, 8, code_digest=coding.code_digest(extract_code(wrong).code))
    )  # type: ignore[union-attr]
    _answer(
        engine, ctx, right, _run("passed", 8, 8, code_digest=coding.code_digest(extract_code(right).code))
    )  # type: ignore[union-attr]
    qa = report.QA(
        question="q", bank_text="q", category="coding", index=0, answers=[wrong, right], answer_seqs=[4, 6]
    )
    tested = report.coding_run(qa, ctx.plan)
    assert tested is not None and tested["runs"] == 2 and tested["hints"] == 1
    assert report.coding_correctness(tested) == pytest.approx(5.0 - report.HINT_PENALTY)
    cited = report.coding_evidence(qa, tested)
    assert cited["seq"] == 6 and cited["quote"] == "def two_sum(nums, target):"
    assert cited["note"] == "last run: 8 of 8 tests passed (passed) after 2 runs; 1 hint taken"
    # Not a coding question, or nothing ran: the rubric stands.
    assert (
        report.coding_run(report.QA(question="q", bank_text="q", category="knowledge", index=0), ctx.plan)
        is None
    )
    assert (
        report.coding_run(report.QA(question="q", bank_text="q", category="coding", index=1), ctx.plan)
        is None
    )
