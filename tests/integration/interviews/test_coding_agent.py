"""The coding agent through the real API: the real intent classifier, the real sandbox running the
candidate's Python and JavaScript against visible and hidden tests, the stored turns and the
report; and, slow-marked, a few turns with the real local model phrasing its question.

A technical interview is started as usual; its plan is then rewritten in the database so the
second question is a coding one (and the first moves on after one answer), which is the seam a
planner putting coding questions in an interview uses too.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mocki.interviews import report
from mocki.interviews.engine import Plan, PlannedQuestion
from mocki.models import Interview, Turn
from mocki.sandbox import check_available, get_problem
from mocki.sandbox.complexity import parse_big_o
from tests.integration.interviews.helpers import create, done, seed, turn
from tests.integration.sandbox.solutions import JAVASCRIPT, PYTHON

# Real classifier, real sandbox runs (Node starts in 1-4 s here) and a dozen turns: seconds each.
pytestmark = pytest.mark.slow

FIRST_ANSWER = (
    "I would put the retries behind a queue with exponential backoff and an idempotency key, "
    "so a retried payment is never charged twice, and alert when the dead-letter queue grows."
)


def _sandbox_or_skip() -> None:
    try:
        check_available()
    except Exception as exc:  # not root, or no unshare: nothing here can run code
        pytest.skip(f"the sandbox cannot run here: {exc}")


async def _rows(app: Any, iid: str) -> tuple[Interview, list[Turn]]:
    async with app.state.sessionmaker() as session:
        row = (await session.scalars(select(Interview).where(Interview.id == uuid.UUID(iid)))).one()
        turns = (
            await session.scalars(select(Turn).where(Turn.interview_id == row.id).order_by(Turn.seq))
        ).all()
        return row, list(turns)


async def _coding_next(app: Any, iid: str) -> None:
    """Make the second planned question a coding one, and let the first move on after one answer."""
    async with app.state.sessionmaker() as session:
        row = (await session.scalars(select(Interview).where(Interview.id == uuid.UUID(iid)))).one()
        plan = Plan.from_json(row.plan)
        first = plan.questions[0]
        first.agent, first.follow_ups = "general", 99  # "general": the router's fallback, no follow-up left
        coding = PlannedQuestion(id=str(uuid.uuid4()), text="Solve a coding problem.", category="coding")
        plan.questions = [first, coding]
        row.plan = plan.to_json()
        await session.commit()


async def _to_coding_question(app: Any, client: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> str:
    await seed(app)
    iid = str((await create(client, auth, kind="technical", length=2, **body))["id"])
    done((await turn(client, auth, iid))[1])
    await _coding_next(app, iid)
    return iid


async def _say(client: httpx.AsyncClient, auth: dict[str, str], iid: str, text: str) -> dict[str, Any]:
    resp, events = await turn(client, auth, iid, text)
    assert resp.status_code == 200, resp.text
    return dict(done(events)["turn"])


def _fenced(language: str, code: str) -> str:
    return f"Here is my solution:\n```{language}\n{code.strip()}\n```"


def _hidden_texts(problem_id: str) -> list[str]:
    """JSON texts of hidden arguments no visible test shares (at least 4 characters)."""
    problem = get_problem(problem_id)
    shown = {json.dumps(arg) for case in problem.visible for arg in case.args}
    hidden = {json.dumps(arg) for case in problem.hidden for arg in case.args} - shown
    return [h.strip("[]").replace(" ", "") for h in hidden if len(h.strip("[]").replace(" ", "")) >= 4]


async def test_coding_question_runs_code_grades_hints_and_discusses_complexity(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    _sandbox_or_skip()
    iid = await _to_coding_question(app, client, auth, target_role="Backend Engineer")

    # The problem is presented as fixed text, with what the web app needs for its editor.
    presented = await _say(client, auth, iid, FIRST_ANSWER)
    assert presented["kind"] == "question" and presented["agent"] == "coding"
    pid = presented["data"]["problem_id"]
    problem = get_problem(pid)
    assert problem.statement in presented["text"] and problem.function["python"] in presented["text"]
    assert presented["data"]["starter"]["javascript"] == problem.starter["javascript"]

    # Graded hints: level 1, then 2, each keeping the question.
    for level in (1, 2):
        hint = await _say(client, auth, iid, "I'm stuck, could you give me a hint please?")
        assert hint["kind"] == "hint" and hint["data"]["hint_level"] == level
        assert problem.hints[level - 1] in hint["text"]

    # Wrong JavaScript: the first failing visible case, what it returned, and no hidden input.
    wrong = f"function {problem.function['javascript']}(...args) {{\n  return null;\n}}"
    failed = await _say(client, auth, iid, _fenced("javascript", wrong))
    run = failed["data"]["run"]
    assert failed["kind"] == "follow_up" and run["verdict"] == "failed" and run["language"] == "javascript"
    assert run["passed"] == 0 and run["total"] == len(problem.visible) + len(problem.hidden)
    case = problem.visible[0]
    assert run["failing"]["args"] == case.args and run["failing"]["expected"] == case.expected
    assert f"0 of {run['total']} tests pass" in failed["text"] and "returned `null`" in failed["text"]
    assert json.dumps(case.expected, ensure_ascii=False) in failed["text"]
    stored = json.dumps(failed, ensure_ascii=False).replace(" ", "")
    assert not any(h in stored for h in _hidden_texts(pid))

    # The reference solution in Python passes every test, visible and hidden: complexity is asked
    # (no model listens in this test, so the fixed question is said).
    passed = await _say(client, auth, iid, _fenced("python", PYTHON[pid]))
    assert passed["kind"] == "follow_up" and passed["data"]["run"]["verdict"] == "passed"
    assert passed["data"]["run"]["passed"] == passed["data"]["run"]["total"] == run["total"]
    assert "time and space complexity" in passed["text"]
    best = parse_big_o(problem.complexity or "")
    assert best is not None and passed["data"]["run"]["complexity"]["time"] == best.label

    # A claim better than the code: pointed out with the reason; the right one then moves on.
    optimistic = "O(1)" if best.label != "O(1)" else "O(log n)"
    pointed = await _say(client, auth, iid, f"It's {optimistic} time and O(1) extra space.")
    assert pointed["kind"] == "follow_up" and "I read it differently" in pointed["text"]
    assert f"{best.label} rather than {optimistic}" in pointed["text"]
    closing = await _say(client, auth, iid, f"You're right, it is {best.label} time.")
    assert closing["kind"] == "closing"

    row, turns = await _rows(app, iid)
    memory = Plan.from_json(row.plan).agents["coding"]["state"]["questions"]["1"]
    assert [r["verdict"] for r in memory["runs"]] == ["failed", "passed"] and memory["hints"] == 2
    assert memory["claim"] == best.label and memory["stage"] == "done"

    # The report: correctness from the last run's tests, a little less for two hints, citing it.
    async with app.state.sessionmaker() as session:
        made = await report.generate_report(session, None, row.id)
        await session.commit()
    assert made is not None and made.status == "ready"
    item = next(i for i in made.items if i["category"] == "coding")
    assert item["scores"]["correctness"] == pytest.approx(5.0 - 2 * report.HINT_PENALTY)
    cited = [e for e in item["evidence"] if e["dimension"] == "correctness"]
    code_turn = next(t for t in turns if t.speaker == "candidate" and "```python" in t.text)
    assert len(cited) == 1 and cited[0]["seq"] == code_turn.seq
    assert cited[0]["note"].startswith(f"last run: {run['total']} of {run['total']} tests passed (passed)")
    assert "2 hints taken" in cited[0]["note"] and problem.function["python"] in cited[0]["quote"]


async def test_an_answer_without_code_is_asked_for_code_and_javascript_for_frontend(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    _sandbox_or_skip()
    iid = await _to_coding_question(app, client, auth, target_role="Junior Frontend Developer", language="zh")
    presented = await _say(client, auth, iid, FIRST_ANSWER)
    problem = get_problem(presented["data"]["problem_id"])
    assert problem.difficulty == "easy" and presented["data"]["language"] == "javascript"
    assert "编程题" in presented["text"] and f"`{problem.function['javascript']}(" in presented["text"]

    ask = await _say(client, auth, iid, "我会用一个哈希表，遍历一遍数组就可以了。")
    assert ask["kind"] == "follow_up" and "写成代码" in ask["text"]
    # Plain JavaScript, no fence: found, run, and it passes.
    solved = await _say(client, auth, iid, JAVASCRIPT[problem.id].strip())
    assert solved["data"]["run"]["verdict"] == "passed" and solved["data"]["run"]["language"] == "javascript"
    assert "时间复杂度" in solved["text"]


async def test_coding_agent_with_the_real_model(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], llm_server: str
) -> None:
    """A few turns with the packaged model serving the interview: it phrases the technical opening
    and, as the configured endpoint, classifies the candidate's turns (the offline classifier
    stands in for any reply that is not a label). Whatever it says, the coding turns are the
    agent's fixed texts, the code runs, and the discussion ends the question."""
    _sandbox_or_skip()
    iid = await _to_coding_question(app, client, auth, target_role="Backend Engineer")
    presented = await _say(client, auth, iid, FIRST_ANSWER)
    pid = presented["data"]["problem_id"]
    problem = get_problem(pid)
    assert presented["agent"] == "coding" and problem.statement in presented["text"]

    hint = await _say(client, auth, iid, "I'm stuck. Can I have a hint, please?")
    assert hint["kind"] == "hint" and problem.hints[0] in hint["text"]
    asked = await _say(client, auth, iid, _fenced("python", PYTHON[pid]))
    assert asked["kind"] == "follow_up" and asked["data"]["run"]["verdict"] == "passed"
    assert "time and space complexity" in asked["text"]

    best = problem.complexity or "O(n)"
    final = await _say(client, auth, iid, f"It is {best} time and O(n) space.")
    assert final["kind"] == "closing"
    _, turns = await _rows(app, iid)
    opening = turns[0]
    print(f"\nopening [{opening.meta['source']}]: {opening.text!r}")
    assert opening.meta["source"] in ("model", "fallback")
    sources = {
        t.meta["source"] for t in turns if t.speaker == "interviewer" and t.meta.get("agent") == "coding"
    }
    assert sources == {"fixed"}
    intents = [t.meta.get("intent") for t in turns if t.speaker == "candidate"]
    print(f"intents: {intents}")
    assert intents[1] == "hint" and intents[2] == "code_submission"
