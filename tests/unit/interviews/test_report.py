"""Report measures, scores and feedback guards, from hand-made turns (no model, no DB)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mocki.interviews import analysis
from mocki.interviews.engine import Plan, PlannedQuestion
from mocki.interviews.report import (
    QA,
    Draft,
    clean_feedback,
    correctness,
    evidence,
    measure_item,
    overall_score,
    pair_turns,
    rule_feedback,
    score,
    score_item,
    summarise,
    weakest,
    write_items,
)
from mocki.interviews.schemas import ReportOut
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


def test_feedback_that_echoes_the_prompt_or_the_answer_is_refused() -> None:
    assert clean_feedback("You're an interview coach.") is None
    assert clean_feedback("You are an expert interviewer and you give advice.") is None
    answer = "I would keep PostgreSQL as the source of truth and move slow work to background jobs."
    assert (
        clean_feedback(
            "Keep PostgreSQL as the source of truth and move slow work to background jobs.", answer
        )
        is None
    )
    assert clean_feedback("Say how you would measure whether the background jobs keep up.", answer) == (
        "Say how you would measure whether the background jobs keep up."
    )


def test_summary_for_no_answers_says_so() -> None:
    assert "No answers" in summarise([], 5, None)
    items = [{"scores": {"relevance": 4.0, "structure": 2.0, "depth": 3.0, "communication": 5.0}}]
    text = summarise(items, 5, 70.0)
    assert "1 of 5" in text and "communication" in text and "structure" in text


def test_measure_uses_interview_keywords_as_tech_terms() -> None:
    m = analysis.measure("q", "We used Zookeeper heavily.", keywords=["zookeeper"])
    assert "zookeeper" in m.tech_terms


MUTEX_RUBRIC = "Mutual exclusion of a critical section; one thread holds the lock at a time; deadlock risk"


def _technical(answer: str, category: str = "knowledge", rubric: str = MUTEX_RUBRIC) -> QA:
    q = "What is a mutex?"
    return QA(question=q, bank_text=q, category=category, rubric=rubric, answers=[answer], answer_seqs=[2],
              prompts=[q])  # fmt: skip


def test_pair_turns_times_each_answer_from_the_turn_before() -> None:
    turns = [
        _turn(1, "interviewer", "What is a mutex?", "question", 2),
        _turn(2, "candidate", "Could you repeat that?", "clarification", 2),
        _turn(3, "interviewer", "What is a mutex, a lock?", "clarification", 2),
        _turn(4, "candidate", "A lock for one thread at a time.", "answer", 2),
    ]
    for offset, t in zip((0, 5, 9, 30), turns, strict=True):
        t.created_at = NOW + timedelta(seconds=offset)
    turns[3].meta = {"speech_s": 4.5}
    [item] = pair_turns(turns, PLAN)
    assert item.answer_seqs == [4] and item.response_s == [21.0] and item.speech_s == [4.5]
    assert item.question_id == "c"


def test_correctness_rewards_rubric_coverage_and_skips_behavioural() -> None:
    full = correctness(
        _technical(
            "A mutex gives mutual exclusion over a critical section: only one thread holds the lock at a "
            "time, and taking two locks in different orders risks deadlock."
        )
    )
    partial = correctness(_technical("Only one thread can hold the lock at a time."))
    off = correctness(_technical("It is a kind of database index."))
    assert full is not None and partial is not None and off is not None
    assert full == 5.0 and 0 < partial < full and off < partial
    assert correctness(_technical("I don't know")) == 0.0
    assert correctness(_technical("anything", category="behavioural")) is None
    assert correctness(_technical("anything", rubric="")) is None


def test_low_correctness_feedback_names_the_missed_points() -> None:
    qa = _technical("A mutex is a lock. Only one thread holds it at a time, because otherwise data races.")
    m, scores = score_item(qa, [])
    assert "correctness" in scores
    scores = {**scores, "correctness": 0.5}
    assert weakest(scores) == "correctness"
    assert "deadlock risk" in rule_feedback(qa, m, scores)


def test_evidence_quotes_the_sentences_scores_rest_on() -> None:
    qa = _technical(
        "Um, basically it is a lock. Only one thread holds the lock at a time, so the critical section is "
        "safe. In Python 3.12 I used threading.Lock around a Redis client."
    )
    _, scores = score_item(qa, [])
    found = evidence(qa, [], scores)
    by_dim: dict[str, list[str]] = {}
    for e in found:
        assert e["seq"] == 2 and e["quote"] in qa.answer and e["note"]
        by_dim.setdefault(e["dimension"], []).append(e["quote"])
    assert all(len(quotes) <= 2 for quotes in by_dim.values())
    assert by_dim["communication"] == ["Um, basically it is a lock."]
    assert any("3.12" in q for q in by_dim["depth"])
    assert any("critical section" in q for q in by_dim["correctness"])


def test_overall_weighs_each_answer_equally() -> None:
    items = [
        {"scores": {"relevance": 5.0, "structure": 5.0, "depth": 5.0, "communication": 5.0}},
        {
            "scores": {
                "relevance": 0.0,
                "structure": 0.0,
                "depth": 0.0,
                "communication": 0.0,
                "correctness": 5.0,
            }
        },
    ]
    assert overall_score(items) == 60.0  # (5 + 1) / 2 / 5
    assert overall_score([]) is None


async def test_written_items_carry_measures_and_evidence_and_read_back() -> None:
    turns = [
        _turn(1, "interviewer", "What is a mutex?", "question", 2),
        _turn(2, "candidate", "Um, one thread holds the lock at a time, I think.", "answer", 2),
    ]
    turns[1].created_at = NOW + timedelta(seconds=12)
    qas = pair_turns(turns, PLAN)
    qas[0].rubric = MUTEX_RUBRIC
    draft = Draft(uuid.uuid4(), uuid.uuid4(), PLAN, 3, qas)
    [item] = (await write_items(None, draft)).items
    assert item["category"] == "knowledge" and 0 <= item["scores"]["correctness"] <= 5
    assert item["measures"]["response_s"] == 12.0 and item["measures"]["fillers"] == 1
    assert item["measures"]["hedges"] == 1 and item["evidence"]
    out = ReportOut(status="ready", overall_score=overall_score([item]), summary="", items=[item], error=None)
    body = out.model_dump()
    assert body["measures"]["answers"] == 1 and body["measures"]["mean_response_s"] == 12.0
    assert body["signal"] in ("strong_hire", "hire", "lean_no", "no")
    assert body["strengths"] and body["weaknesses"]
    pending = ReportOut(status="pending", overall_score=None, summary="", items=[], error=None).model_dump()
    assert pending["signal"] is None and pending["strengths"] == [] and pending["measures"] is None


def test_old_items_without_measures_still_read() -> None:
    old = {"question": "q", "answer": "a", "feedback": "f", "turn_seqs": [1, 2],
           "scores": {"relevance": 1.0, "structure": 1.0, "depth": 1.0, "communication": 1.0}}  # fmt: skip
    out = ReportOut(status="ready", overall_score=20.0, summary="", items=[old], error=None).model_dump()
    assert out["items"][0]["measures"] is None and out["items"][0]["evidence"] == []
    assert out["measures"] is None and out["signal"] == "no"


def test_chinese_answers_are_measured_with_chinese_cues() -> None:
    q = "Tell me about a conflict in your team."
    star = (
        "当时我们团队在讨论 Kafka 迁移方案，大家意见不一致。我负责在周五之前做出决定。"
        "我先写了一个基准测试，然后把结果分享给大家。最终我们选了新的设计，延迟降低了百分之四十。"
    )
    thin = "有一次团队里有冲突，后来解决了。"
    item = QA(question=q, bank_text=q, category="behavioural", answers=[star], prompts=[q], language="zh")
    m, hits = measure_item(item, ["kafka"])
    full = score(m, "behavioural", hits)
    english_m, english_hits = measure_item(replace(item, language="en"), ["kafka"])
    english = score(english_m, "behavioural", english_hits)
    assert m.star_count == 4 and m.sentence_count >= 4 and m.word_count > 40
    assert full["structure"] >= 4 > english["structure"]
    assert full["depth"] > english["depth"] and full["communication"] >= 4
    short = QA(question=q, bank_text=q, category="behavioural", answers=[thin], prompts=[q], language="zh")
    short_m, short_hits = measure_item(short, ["kafka"])
    assert score(short_m, "behavioural", short_hits)["structure"] < full["structure"]
