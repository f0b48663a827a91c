"""Parsing the model's query–answer pairs: only supported questions survive; a rule pair always exists."""

from __future__ import annotations

from mocki.retrieval.pairs import parse, prompt, rule_pair

CHUNK = "Led the migration of the billing service from a monolith to Go microservices on Kubernetes"


def test_well_formed_pairs_are_kept_in_order() -> None:
    out = (
        "Q: What did you migrate the billing service to?\n"
        "A: Go microservices running on Kubernetes.\n"
        "Q2: Why did you leave the monolith behind for Kubernetes?\n"
        "A2: The billing monolith was hard to scale, so it moved to microservices."
    )
    pairs = parse(out, CHUNK, 5)
    assert [p.question for p in pairs] == [
        "What did you migrate the billing service to?",
        "Why did you leave the monolith behind for Kubernetes?",
    ]
    assert all(p.origin == "model" for p in pairs)


def test_numbered_and_labelled_variants_parse() -> None:
    out = (
        "1. Question: How was the billing migration planned?\n"
        "Answer: In stages, service by service to Kubernetes."
    )
    assert len(parse(out, CHUNK, 2)) == 1


def test_invented_unasked_duplicate_or_excess_pairs_are_dropped() -> None:
    out = (
        "Q: What is your favourite colour today?\nA: Blue, like the ocean water.\n"  # shares nothing
        "Q: Tell me about billing\nA: Billing moved to microservices.\n"  # not a question
        "A: an answer with no question before it about billing\n"
        "Q: How did the billing migration go?\nA: Smoothly onto Kubernetes.\n"
        "Q: How did the billing migration go?\nA: Smoothly onto Kubernetes again.\n"  # duplicate
        "Q: Which platform hosted the microservices?\nA: Kubernetes hosted the microservices."
    )
    pairs = parse(out, CHUNK, 1)
    assert [p.question for p in pairs] == ["How did the billing migration go?"]


def test_garbage_gives_no_pairs() -> None:
    assert parse("<|im_end|> lorem ipsum\n\n???", CHUNK, 3) == []


def test_rule_pair_answers_with_the_chunk_and_asks_by_kind() -> None:
    resume = rule_pair("resume", CHUNK + "\nsecond line")
    assert resume.answer.startswith(CHUNK) and resume.origin == "rule"
    assert "background" in resume.question and resume.question.endswith("?")
    job = rule_pair("job_description", "x" * 200)
    assert "role" in job.question and len(job.question) < 160


def test_prompt_names_the_source_and_count() -> None:
    messages = prompt("job_description", CHUNK, 2)
    assert messages[0]["role"] == "system" and "job description" in messages[1]["content"]
    assert "Write 2 pairs" in messages[1]["content"]
