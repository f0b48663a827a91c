"""Progress across interviews from hand-made report items: the series, weak points and targeting."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mocki.interviews import progress
from mocki.interviews.engine import Plan, PlannedQuestion
from mocki.interviews.progress import SessionScores, WeakPoint
from mocki.questions import service as questions

DAY0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def item(category: str, **scores: float | None) -> dict[str, Any]:
    base: dict[str, float | None] = {"relevance": 4.0, "structure": 4.0, "depth": 4.0, "communication": 4.0}
    return {"category": category, "scores": base | scores}


def session(day: int, items: list[dict[str, Any]], overall: float | None = 70.0) -> SessionScores:
    return SessionScores(
        interview_id=uuid.UUID(int=day + 1),
        date=DAY0 + timedelta(days=day),
        target_role=f"Role {day}",
        company="Acme",
        overall_score=overall,
        items=items,
    )


def weak(kind: str, name: str, average: float, reason: str = "why") -> WeakPoint:
    return WeakPoint(kind, name, name, average, 3, "flat", reason)  # type: ignore[arg-type]


def test_series_is_oldest_first_and_capped() -> None:
    sessions = [session(day, [item("behavioural")]) for day in (5, 1, 3, 0, 4, 2)]
    points = progress.series(sessions, cap=4)
    assert [p.date.day for p in points] == [3, 4, 5, 6]  # days 2..5 after the 1st
    assert [p.target_role for p in points] == ["Role 2", "Role 3", "Role 4", "Role 5"]
    assert progress.series([], cap=4) == []


def test_point_averages_dimensions_and_categories() -> None:
    point = progress.point_of(
        session(
            0,
            [
                item("behavioural", structure=1.0),
                item("behavioural", structure=2.0, depth=3.0),
                item("knowledge", correctness=1.0, relevance=2.0),
                {"category": "", "scores": {"relevance": 5.0}},  # an old report without categories
            ],
            overall=55.0,
        )
    )
    assert point.overall_score == 55.0 and point.answers == 4
    assert point.dimensions["structure"] == pytest.approx((1 + 2 + 4) / 3, abs=0.01)
    assert point.dimensions["correctness"] == 1.0  # only the technical answer has it
    assert list(point.dimensions) == ["relevance", "structure", "depth", "communication", "correctness"]
    # Each answer's own mean, then the mean per category.
    assert point.categories["behavioural"] == pytest.approx(((1 + 12) / 4 + (2 + 3 + 8) / 4) / 2, abs=0.01)
    assert point.categories["knowledge"] == pytest.approx((2 + 4 + 4 + 4 + 1) / 5, abs=0.01)
    assert set(point.categories) == {"behavioural", "knowledge"}


def test_no_answers_gives_an_empty_point() -> None:
    point = progress.point_of(session(0, [], overall=None))
    assert point.overall_score is None and point.answers == 0
    assert point.dimensions == {} and point.categories == {}


def test_weighted_mean_favours_the_newest() -> None:
    assert progress.weighted_mean([1.0, 4.0]) == pytest.approx((1 + 8) / 3)
    assert progress.weighted_mean([4.0, 1.0]) == pytest.approx((4 + 2) / 3)
    assert progress.weighted_mean([2.5]) == 2.5


@pytest.mark.parametrize(
    ("values", "trend"),
    [
        ([2.0], "flat"),
        ([1.0, 1.0, 2.0], "improving"),
        ([3.0, 2.0, 2.0], "declining"),
        ([2.0, 2.2, 2.1], "flat"),
    ],
)
def test_trend_compares_the_latest_with_the_ones_before(values: list[float], trend: str) -> None:
    assert progress.trend_of(values) == trend


def test_weak_points_rank_weakest_first_with_counts_and_reasons() -> None:
    sessions = [
        session(0, [item("behavioural", structure=1.0), item("knowledge", structure=1.0, correctness=2.0)]),
        session(1, [item("behavioural", structure=1.5), item("coding", structure=1.5, correctness=2.5)]),
        session(2, [item("behavioural", structure=2.0)]),
    ]
    found = progress.weak_points(progress.series(sessions))
    names = [(w.kind, w.name) for w in found]
    assert names[0] == ("dimension", "structure")
    structure = found[0]
    assert structure.interviews == 3 and structure.trend == "improving"
    assert structure.average == pytest.approx((1 * 1.0 + 2 * 1.5 + 3 * 2.0) / 6, abs=0.01)
    assert structure.reason.startswith("structure was your weakest score in your last 3 interviews")
    correctness = next(w for w in found if w.name == "correctness")
    # Correctness only exists where technical answers were given: two interviews.
    assert correctness.interviews == 2 and "averaged" in correctness.reason
    # Strong dimensions and categories are not weak points.
    assert ("dimension", "relevance") not in names and ("category", "behavioural") not in names
    assert [w.average for w in found] == sorted(w.average for w in found)


def test_a_weak_category_names_its_answers() -> None:
    low = dict(relevance=1.0, structure=1.0, depth=1.0, communication=1.0)
    sessions = [session(0, [item("system_design", **low), item("behavioural")])]
    found = {(w.kind, w.name): w for w in progress.weak_points(progress.series(sessions))}
    design = found[("category", "system_design")]
    assert design.label == "system design" and design.interviews == 1
    assert design.reason == "your system design answers averaged 1.0/5 in your last interview that had them"
    assert ("category", "behavioural") not in found


def test_only_the_window_counts() -> None:
    old_bad = [session(day, [item("behavioural", structure=0.0)]) for day in range(5)]
    new_good = [session(day, [item("behavioural", structure=4.5)]) for day in range(5, 7)]
    points = progress.series(old_bad + new_good)
    assert progress.weak_points(points, window=2) == []
    # Over all seven the old zeros still pull it under, though the newest weigh most.
    longer = progress.weak_points(points, window=7)
    assert longer[0].name == "structure" and longer[0].trend == "improving"


def test_new_user_has_no_progress() -> None:
    empty = progress.progress_of([])
    assert empty.points == [] and empty.weak_points == []


def test_focus_maps_weak_dimensions_to_practice_and_keeps_the_weakest() -> None:
    focus = progress.focus_for(
        [
            weak("dimension", "structure", 0.0, "structure reason"),
            weak("category", "knowledge", 1.5),
            weak("dimension", "communication", 2.4),
            weak("dimension", "depth", 2.9),
        ]
    )
    assert len(focus) == progress.MAX_FOCUS
    structure, knowledge, communication = focus
    assert structure.categories == {"behavioural"} and structure.reason == "structure reason"
    assert knowledge.categories == {"knowledge"} and knowledge.tags == frozenset()
    assert "communication" in communication.tags and communication.categories == frozenset()
    # The lower the average, the larger the bonus.
    assert structure.bonus > knowledge.bonus > communication.bonus > 0


def _focus(category: str, bonus: float, reason: str) -> questions.Focus:
    return questions.Focus(frozenset({category}), frozenset(), bonus, reason)


def test_targeted_labels_the_first_matches_up_to_the_cap() -> None:
    focus = [_focus("knowledge", 5.0, "knowledge is weak"), _focus("coding", 8.0, "coding is weak")]
    plan = Plan(
        keywords=[],
        questions=[
            PlannedQuestion(id=str(i), text=f"q{i}", category=c)
            for i, c in enumerate(["behavioural", "knowledge", "coding", "knowledge", "knowledge"])
        ],
    )
    progress.mark_targets(plan, focus, n=5)  # at most 3 of 5 targeted
    assert [q.target for q in plan.questions] == [
        None,
        "knowledge is weak",
        "coding is weak",
        "knowledge is weak",
        None,
    ]
    progress.mark_targets(plan, [], n=5)
    assert all(q.target is None for q in plan.questions)


def test_a_tag_match_serves_the_strongest_focus() -> None:
    tagged = PlannedQuestion(id="t", text="q", category="behavioural", tags=["communication"])
    by_tag = questions.Focus(frozenset(), frozenset({"communication"}), 7.0, "by tag")
    by_category = _focus("behavioural", 4.0, "by category")
    served = questions.focus_of(tagged, [by_category, by_tag])
    assert served is not None and served.reason == "by tag"
    assert questions.focus_of(PlannedQuestion(id="x", text="q", category="coding"), [by_tag]) is None


def test_plan_targets_are_distinct_in_order() -> None:
    stored = {
        "questions": [
            {"text": "a", "target": "structure reason"},
            {"text": "b", "target": None},
            {"text": "c", "target": "knowledge reason"},
            {"text": "d", "target": "structure reason"},
            {"text": "e"},
        ]
    }
    assert progress.plan_targets(stored) == ["structure reason", "knowledge reason"]
    assert progress.plan_targets({}) == [] and progress.plan_targets(None) == []
