"""The eval's metrics and its input validation, without a model or a store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mocki.retrieval import evaluate
from mocki.retrieval.evaluate import Case, EvalInputError, KBItem, Params
from mocki.retrieval.store import PairHit
from mocki.settings import Settings

KB = [
    {"id": "py-1", "category": "python", "question": "What is a list?", "answer": "A mutable sequence."},
    {"id": "py-2", "category": "python", "question": "What is a tuple?", "answer": "An immutable one."},
    {"id": "db-1", "category": "databases", "question": "What is an index?", "answer": "A lookup structure."},
]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def kb_map() -> dict[str, KBItem]:
    return {r["id"]: KBItem(r["id"], r["category"], r["question"], r["answer"]) for r in KB}


# Metrics


def test_first_rank_is_the_first_acceptable_position() -> None:
    assert evaluate.first_rank(["a", "b", "c"], {"a"}) == 0
    assert evaluate.first_rank(["a", "b", "c"], {"c", "b"}) == 1
    assert evaluate.first_rank(["a", "b", "c"], {"z"}) is None
    assert evaluate.first_rank([], {"a"}) is None


def test_hit_rate_and_mrr_count_absent_answers_as_misses() -> None:
    ranks: list[int | None] = [0, 1, 2, None]
    assert evaluate.hit_rate(ranks, 1) == 0.25
    assert evaluate.hit_rate(ranks, 3) == 0.75
    assert evaluate.hit_rate(ranks, 10) == 0.75
    assert evaluate.mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 2 + 1 / 3 + 0) / 4)
    m = evaluate.metrics(ranks, k=2)
    assert (m.top1, m.topk, m.top3) == (0.25, 0.5, 0.75)
    assert evaluate.mean_reciprocal_rank([]) == 0.0 and evaluate.hit_rate([], 3) == 0.0


def test_case_ranks_map_point_ids_back_to_kb_ids_per_mode() -> None:
    pid = {kb_id: evaluate.point_id(kb_id) for kb_id in ("py-1", "py-2", "db-1")}
    kb_ids = {v: k for k, v in pid.items()}
    # py-2 is best on the question vector, py-1 on the answer vector.
    hits = [
        PairHit(pid["py-2"], "kb", "py-2", 0.9, 0.1, 0, 2),
        PairHit(pid["py-1"], "kb", "py-1", 0.6, 0.9, 1, 0),
        PairHit(pid["db-1"], "kb", "db-1", 0.2, 0.3, 2, 1),
    ]
    case = Case("q", "py-1", frozenset({"py-1"}), "python")
    weighted = Params("weighted", 0.8, 10)
    assert evaluate.case_ranks([hits], [case], "query", weighted, kb_ids) == [1]
    assert evaluate.case_ranks([hits], [case], "answer", weighted, kb_ids) == [0]
    assert evaluate.case_ranks([hits], [case], "merged", Params("weighted", 0.3, 10), kb_ids) == [0]
    also = Case("q", "db-1", frozenset({"db-1", "py-2"}), "databases")
    assert evaluate.case_ranks([hits], [also], "query", weighted, kb_ids) == [0]
    absent = Case("q", "nope", frozenset({"nope"}), "python")
    assert evaluate.case_ranks([hits], [absent], "merged", weighted, kb_ids) == [None]


def test_point_ids_are_stable_uuids() -> None:
    assert evaluate.point_id("py-1") == evaluate.point_id("py-1") != evaluate.point_id("py-2")
    assert len(evaluate.point_id("py-1")) == 36


# Input


def test_valid_input_is_read_and_the_category_falls_back_to_the_kb(tmp_path: Path) -> None:
    kb = evaluate.load_kb(write_jsonl(tmp_path / "kb.jsonl", [*KB, "", {**KB[0], "id": "x", "extra": 1}]))
    assert [i.id for i in kb] == ["py-1", "py-2", "db-1", "x"]
    cases = evaluate.load_cases(
        write_jsonl(
            tmp_path / "cases.jsonl",
            [
                {"query": "lists?", "expected_id": "py-1"},
                {
                    "query": "idx?",
                    "expected_id": "db-1",
                    "category": "sql",
                    "also_acceptable_ids_auto": ["py-2"],
                },
            ],
        ),
        kb_map(),
    )
    assert cases[0] == Case("lists?", "py-1", frozenset({"py-1"}), "python")
    assert cases[1].category == "sql" and cases[1].acceptable == {"db-1", "py-2"}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([KB[0], "{not json"], r"kb\.jsonl:2: not valid JSON"),
        ([KB[0], "[1, 2]"], r"kb\.jsonl:2: expected a JSON object"),
        ([KB[0], {k: v for k, v in KB[1].items() if k != "answer"}], r"kb\.jsonl:2: missing field 'answer'"),
        ([{**KB[0], "question": "  "}], r"kb\.jsonl:1: field 'question' is empty"),
        ([{**KB[0], "id": 7}], r"kb\.jsonl:1: field 'id' must be a string"),
        ([KB[0], KB[1], KB[0]], r"kb\.jsonl:3: duplicate id 'py-1' \(first on line 1\)"),
        (["", "  "], r"kb\.jsonl: no KB items"),
    ],
)
def test_bad_kb_names_file_and_line(tmp_path: Path, rows: list[Any], message: str) -> None:
    with pytest.raises(EvalInputError, match=message):
        evaluate.load_kb(write_jsonl(tmp_path / "kb.jsonl", rows))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"query": "q", "expected_id": "py-1"}, '{"query": '], r"cases\.jsonl:2: not valid JSON"),
        ([{"expected_id": "py-1"}], r"cases\.jsonl:1: missing field 'query'"),
        (
            [{"query": "q", "expected_id": "py-1"}, {"query": "q"}],
            r"cases\.jsonl:2: missing field 'expected_id'",
        ),
        (
            [{"query": "q", "expected_id": "gone"}],
            r"cases\.jsonl:1: expected_id 'gone' is not an id in the KB",
        ),
        (
            [{"query": "q", "expected_id": "py-1", "also_acceptable_ids_auto": "py-2"}],
            r"cases\.jsonl:1: field 'also_acceptable_ids_auto' must be a list",
        ),
        ([], r"cases\.jsonl: no cases"),
    ],
)
def test_bad_cases_name_file_and_line(tmp_path: Path, rows: list[Any], message: str) -> None:
    with pytest.raises(EvalInputError, match=message):
        evaluate.load_cases(write_jsonl(tmp_path / "cases.jsonl", rows), kb_map())


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "kb.jsonl").write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(EvalInputError, match="cannot read"):
        evaluate.load_kb(tmp_path / "kb.jsonl")


def test_options_are_checked_before_any_work(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path)
    kb = write_jsonl(tmp_path / "kb.jsonl", KB)
    cases = write_jsonl(tmp_path / "cases.jsonl", [{"query": "q", "expected_id": "py-1"}])
    with pytest.raises(EvalInputError, match="unknown fusion 'max'"):
        evaluate.run(settings, kb, cases, fusion="max")
    with pytest.raises(EvalInputError, match="unknown mode 'hybrid'"):
        evaluate.run(settings, kb, cases, modes=["query", "hybrid"])
    with pytest.raises(EvalInputError, match="between 0 and 1"):
        evaluate.run(settings, kb, cases, weight=1.2)
    with pytest.raises(EvalInputError, match="k must be at least 1"):
        evaluate.run(settings, kb, cases, k=0)
