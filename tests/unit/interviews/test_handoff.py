"""What the human interviewer is shown as the AI's next question (no model, no DB)."""

from __future__ import annotations

from mocki.interviews.agents.routing import default_router
from mocki.interviews.engine import InterviewEngine, Plan, PlannedQuestion
from mocki.interviews.handoff import suggestion

ENGINE = InterviewEngine(default_router())


def _plan(cursor: int, finished: bool = False) -> Plan:
    questions = [
        PlannedQuestion(id=None, text="Tell me about a conflict in your team.", category="behavioural"),
        PlannedQuestion(id=None, text="How would you design a URL shortener?", category="system_design"),
    ]
    return Plan(keywords=[], questions=questions, cursor=cursor, finished=finished)


def test_the_suggestion_is_the_next_planned_question_with_its_agent() -> None:
    before = suggestion(_plan(-1), ENGINE)
    assert before is not None and before.question_index == 0 and before.agent == "behavioural"
    nxt = suggestion(_plan(0), ENGINE)
    assert nxt is not None and nxt.text == "How would you design a URL shortener?"
    assert (nxt.question_index, nxt.agent) == (1, "system_design")


def test_no_suggestion_once_only_the_closing_is_left() -> None:
    assert suggestion(_plan(1), ENGINE) is None
    assert suggestion(_plan(2, finished=True), ENGINE) is None
    assert suggestion(Plan(keywords=[], questions=[]), ENGINE) is None
