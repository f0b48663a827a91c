"""Keyword extraction and the plain-text measures behind follow-ups and scores."""

from __future__ import annotations

from mocki.interviews import analysis
from mocki.interviews.engine import keywords_for


def test_content_words_drop_stop_words_and_stem_plurals() -> None:
    assert analysis.content_words("The queues and the Services of our team") == ["queue", "service"]
    assert "c++" in analysis.content_words("I write C++ and node.js daily")
    assert "node.js" in analysis.content_words("I write C++ and node.js daily")


def test_keywords_weight_the_job_and_reward_shared_words() -> None:
    resume = "Built Kafka pipelines. Kafka consumers. Wrote Django views. Django admin. Django forms."
    job = "We need Kafka and PostgreSQL experience. PostgreSQL tuning."
    keywords = keywords_for("Backend Engineer", resume, job, n=5)
    assert keywords[0] == "kafka"  # in both texts
    assert "postgresql" in keywords
    assert "experience" not in keywords and "we" not in keywords


def test_keywords_cap_repetition() -> None:
    spam = "redis " * 50
    keywords = analysis.extract_keywords([(spam, 1.0), ("kafka kafka kafka kafka", 1.0)], n=2)
    assert set(keywords) == {"redis", "kafka"}


def test_star_elements() -> None:
    full = (
        "At my last job our service was slow. My task was to fix it before launch. "
        "I profiled it and added a cache. As a result latency fell by 60%."
    )
    assert analysis.star_elements(full) == {"situation": True, "task": True, "action": True, "result": True}
    assert analysis.star_elements("It went fine.") == {
        "situation": False, "task": False, "action": False, "result": False,
    }  # fmt: skip


def test_fillers_and_skips() -> None:
    assert analysis.filler_count("Um, I basically, you know, like, did stuff") == 5
    assert analysis.filler_count("I like Python") == 0
    assert analysis.is_skip("I don't know")
    assert analysis.is_skip("pass")
    assert not analysis.is_skip("I don't know every detail, but I built the cache layer with Redis and TTLs.")


def test_measure_counts_specifics_and_relevance() -> None:
    m = analysis.measure(
        "How would you scale PostgreSQL reads?",
        "I added two read replicas in PostgreSQL and a Redis cache; reads scaled 3x.",
        keywords=["replica"],
    )
    assert m.numbers == 1
    assert {"postgresql", "redis", "replica"} <= set(m.tech_terms)
    assert m.relevance > 0.3
