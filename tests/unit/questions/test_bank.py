"""The packaged built-in bank and the pure ranking helpers, without a database."""

from __future__ import annotations

import json
from collections import Counter

from mocki.questions import service
from mocki.questions.schemas import CATEGORIES, QuestionIn


def test_bank_file_is_valid_and_big_enough() -> None:
    lines = [line for line in service.BANK_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [QuestionIn.model_validate(json.loads(line)) for line in lines]
    assert len(items) >= 160
    per_category = Counter(q.category for q in items)
    assert set(per_category) == set(CATEGORIES)
    assert all(count >= 40 for count in per_category.values()), per_category
    slugs = [q.slug for q in items]
    assert None not in slugs and len(set(slugs)) == len(slugs)
    assert {"backend", "frontend", "data", "ml", "devops", "mobile", "any"} <= {q.role for q in items}
    assert {"junior", "mid", "senior", "staff"} <= {q.level for q in items}
    assert all(q.tags and q.rubric and 1 <= q.difficulty <= 5 for q in items)
    # Each line is already in its normalised form, so seeding never rewrites what the file says.
    assert [json.loads(line) for line in lines] == [q.model_dump() for q in items]
    # Loading is strict too, so a broken line fails here rather than at seed time.
    assert len(service.load_builtin_bank()) == len(items)


def test_bank_texts_are_distinct() -> None:
    texts = [q.text.lower() for q in service.load_builtin_bank()]
    assert len(set(texts)) == len(texts)


def test_tokens_normalise_both_sides() -> None:
    assert service.tokens("Kubernetes deployments, Node.js and CI/CD!") >= {
        "kubernete",  # plural "s" stripped the same way on both sides
        "deployment",
        "node.js",
        "node",
        "ci/cd",
        "ci",
        "cd",
    }
    assert "the" not in service.tokens("the and of")
    assert service.tokens("Queues") == service.tokens("queue")
    assert "c++" in service.tokens("Modern C++ tricks")
