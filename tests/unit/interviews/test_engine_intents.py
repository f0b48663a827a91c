"""How the engine answers each intent of a candidate turn, and when an intent is trusted."""

from __future__ import annotations

import pytest

from mocki.interviews.engine import Context, InterviewEngine
from mocki.interviews.service import TurnIntent
from tests.unit.interviews.test_engine import STAR_ANSWER, _plan


def _started() -> tuple[InterviewEngine, Context]:
    engine = InterviewEngine()
    ctx = Context("Backend Engineer", "Acme", _plan())
    engine.opening(ctx)
    return engine, ctx


@pytest.mark.parametrize(
    ("intent", "kind", "needle"),
    [
        ("clarification", "clarify", "Put simply"),
        ("hint", "hint", "hint"),
        ("off_topic", "redirect", "keep our"),
    ],
)
def test_requests_keep_the_question_and_spare_the_follow_up(intent: str, kind: str, needle: str) -> None:
    engine, ctx = _started()
    question = ctx.plan.questions[0]
    move = engine.after_turn(ctx, "whatever the candidate typed", intent)
    assert move.kind == kind and move.reason == intent and move.messages is None
    assert needle in move.fallback and question.text in move.fallback
    assert move.question_index == 0 and ctx.plan.cursor == 0 and question.follow_ups == 0
    assert move.provenance == [] or move.provenance[0]["source"] in ("resume", "job_description")
    # The answer that follows is judged as usual and may still earn its follow-up.
    assert engine.after_turn(ctx, "It was bad.", "answer").kind == "follow_up"


def test_behavioural_and_technical_hints_differ() -> None:
    engine, ctx = _started()
    behavioural = engine.after_turn(ctx, "hint?", "hint").fallback
    engine.after_turn(ctx, STAR_ANSWER, "answer")
    technical = engine.after_turn(ctx, "hint?", "hint").fallback
    assert "situation" in behavioural and "simplest approach" in technical


def test_another_topic_moves_on_without_a_follow_up_and_end_closes() -> None:
    engine, ctx = _started()
    move = engine.after_turn(ctx, "Can we do a different question?", "change_topic")
    assert move.kind == "question" and move.question_index == 1 and ctx.plan.asked == 2
    end = engine.after_turn(ctx, "I'd like to stop here.", "end")
    assert end.kind == "closing" and end.finished and ctx.plan.finished


def test_changing_topic_on_the_last_question_closes() -> None:
    engine, ctx = _started()
    engine.after_turn(ctx, "skip", "change_topic")
    engine.after_turn(ctx, "skip", "change_topic")
    assert engine.after_turn(ctx, "skip", "change_topic").kind == "closing"


@pytest.mark.parametrize(
    ("label", "confidence", "acted"),
    [
        ("answer", 0.3, "answer"),
        ("code_submission", 0.99, "answer"),
        ("hint", 0.65, "hint"),
        ("hint", 0.5, "answer"),
        ("change_topic", 0.65, "answer"),
        ("change_topic", 0.75, "change_topic"),
        ("end", 0.75, "answer"),
        ("end", 0.85, "end"),
    ],
)
def test_only_confident_requests_are_acted_on(label: str, confidence: float, acted: str) -> None:
    intent = TurnIntent(label, confidence)
    assert intent.acted_on == acted and intent.kind == acted
