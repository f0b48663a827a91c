"""Report measures, scores and feedback guards, from hand-made turns (no model, no DB)."""

from __future__ import annotations

from datetime import UTC, datetime

from mocki.interviews import analysis
from mocki.interviews.engine import Plan, PlannedQuestion
from mocki.interviews.report import (
    QA,
    clean_feedback,
    measure_item,
    pair_turns,
    rule_feedback,
    score,
    summarise,
    weakest,
)
from mocki.models import Turn

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _turn(seq: int, speaker: str, text: str, kind: str, index: int | None = None) -> Turn:
    return Turn(
        seq=seq, speaker=speaker, text=text, kind=kind, meta={"question_index": index}, created_at=NOW
    )


PLAN = Plan(
    keywords=["kafka", "postgresql"],
    questions=[
        PlannedQuestion(id="a", text="Tell me about a conflict in your team.", category="behavioural"),
        PlannedQuestion(id="b", text="How would you scale PostgreSQL reads?", category="system_design"),
        PlannedQuestion(id="c", text="What is a mutex?", category="knowledge"),
    ],
)


def test_pair_turns_groups_follow_ups_and_drops_unanswered() -> None:
    turns = [
        _turn(1, "interviewer", "Hello! Tell me about a conflict in your team.", "question", 0),
        _turn(2, "candidate", "We argued.", "answer", 0),
        _turn(3, "interviewer", "What did you do?", "follow_up", 0),
        _turn(4, "candidate", "I proposed a test and we measured.", "answer", 0),
        _turn(5, "interviewer", "How would you scale PostgreSQL reads?", "question", 1),
        _turn(6, "candidate", "Read replicas.", "answer", 1),
        _turn(7, "interviewer", "What is a mutex?", "question", 2),
    ]
    items = pair_turns(turns, PLAN)
    assert [i.seqs for i in items] == [[1, 2, 3, 4], [5, 6]]
    assert items[0].bank_text == PLAN.questions[0].text and items[0].category == "behavioural"
    assert items[0].answer == "We argued.\nI proposed a test and we measured."
    assert items[1].category == "system_design"


def _scores(question: str, answer: str, category: str) -> dict[str, float]:
    item = QA(question=question, bank_text=question, category=category, answers=[answer], prompts=[question])
    m, hits = measure_item(item, ["postgresql", "replica"])
    return score(m, category, hits)


def test_scores_are_in_range_and_reward_good_answers() -> None:
    good = _scores(
        "How would you scale PostgreSQL reads?",
        "First I would add two PostgreSQL read replicas behind PgBouncer, because most traffic is reads. "
        "Then I would cache hot rows in Redis with a 60 second TTL. Finally I would watch p99 latency in "
        "Grafana and the replication lag, so stale reads stay under one second.",
        "system_design",
    )
    poor = _scores(
        "How would you scale PostgreSQL reads?", "Um, like, basically more servers I guess.", "system_design"
    )
    for scores in (good, poor):
        assert set(scores) == {"relevance", "structure", "depth", "communication"}
        assert all(0 <= v <= 5 for v in scores.values())
    assert all(good[d] > poor[d] for d in good)


def test_star_drives_behavioural_structure() -> None:
    q = "Tell me about a conflict in your team."
    full = _scores(
        q,
        "At my last job our team disagreed on a Kafka migration. My task was to decide by Friday. I wrote a "
        "benchmark and shared it. As a result we chose the new design and cut lag by 40%.",
        "behavioural",
    )
    thin = _scores(
        q, "There was a conflict in my team once and it was resolved in the end somehow.", "behavioural"
    )
    assert full["structure"] >= 4 and thin["structure"] < full["structure"]


def test_skipped_answer_scores_zero() -> None:
    assert _scores("What is a mutex?", "I don't know", "knowledge")["relevance"] == 0


def test_rule_feedback_names_the_weak_spot() -> None:
    item = QA(question="q", bank_text="Tell me about a conflict in your team.", category="behavioural",
              answers=["We had a conflict in my team and I talked to them."], prompts=["q"])  # fmt: skip
    m, hits = measure_item(item, [])
    scores = score(m, "behavioural", hits)
    text = rule_feedback(item, m, scores)
    assert text and text.endswith(".")
    if weakest(scores) == "structure":
        assert "STAR" in text


def test_clean_feedback() -> None:
    assert (
        clean_feedback("Advice: Quantify the result, e.g. latency saved. Also more.")
        == ("Quantify the result, e.g.")
        or clean_feedback("Advice: Quantify the result. Also more.") == "Quantify the result."
    )
    assert clean_feedback("**Name the tools you used and why you picked them.**") == (
        "Name the tools you used and why you picked them."
    )
    assert clean_feedback("") is None
    assert clean_feedback("Good.") is None
    assert clean_feedback("Question: what is a mutex? Answer: a lock.") is None


def test_summary_for_no_answers_says_so() -> None:
    assert "No answers" in summarise([], 5, None)
    items = [{"scores": {"relevance": 4.0, "structure": 2.0, "depth": 3.0, "communication": 5.0}}]
    text = summarise(items, 5, 70.0)
    assert "1 of 5" in text and "communication" in text and "structure" in text


def test_measure_uses_interview_keywords_as_tech_terms() -> None:
    m = analysis.measure("q", "We used Zookeeper heavily.", keywords=["zookeeper"])
    assert "zookeeper" in m.tech_terms
