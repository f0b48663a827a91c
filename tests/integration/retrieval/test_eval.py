"""`mocki eval retrieval` end to end: the real MiniLM, a real qdrant-edge shard, the product's merge."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mocki.retrieval import evaluate
from mocki.settings import Settings
from tests.support.processes import PYTHON

MOCKI = str(Path(PYTHON).parent / "mocki")

# Written for this test: four pairs in each of three categories.
KB = [
    ("py-gil", "python", "What is the global interpreter lock in CPython?",
     "A mutex that lets only one thread execute Python bytecode at a time, so CPU-bound threads do not "
     "run in parallel; processes or native extensions that release it are the way around it."),
    ("py-generator", "python", "How does a generator differ from a list?",
     "A generator produces its items lazily, one at a time, when iterated, keeping only its state in "
     "memory; a list holds every item at once."),
    ("py-decorator", "python", "What does a decorator do?",
     "It is a callable that takes a function and returns a replacement, used to wrap behaviour such as "
     "caching, logging or access checks around the original function."),
    ("py-context", "python", "What is a context manager and the with statement for?",
     "An object with __enter__ and __exit__ that sets something up and reliably tears it down, such as "
     "closing a file or releasing a lock even when an exception is raised."),
    ("db-index", "databases", "Why would you add an index to a database table?",
     "To find rows matching a condition without scanning the whole table; a B-tree index speeds up "
     "lookups and range queries at the cost of slower writes and extra storage."),
    ("db-acid", "databases", "What do the ACID properties of a transaction mean?",
     "Atomicity, consistency, isolation and durability: a transaction applies completely or not at "
     "all, keeps constraints valid, is isolated from concurrent ones and survives a crash once committed."),
    ("db-normal", "databases", "What is database normalisation?",
     "Organising tables so each fact is stored once, splitting data into related tables to remove "
     "redundancy and update anomalies."),
    ("db-replica", "databases", "What is a read replica used for?",
     "A copy of the primary database that receives its changes and serves read-only queries, spreading "
     "read load and offering a standby for failover."),
    ("beh-conflict", "behavioral", "Tell me about a disagreement with a teammate and how you resolved it.",
     "I listened to understand their concern, we compared both options against the project's goals with "
     "data, agreed on one and I followed up to make sure the relationship stayed good."),
    ("beh-failure", "behavioral", "Describe a project that failed and what you learned.",
     "A launch slipped because we underestimated a migration; I learned to split work into smaller "
     "milestones and to raise risks early with the stakeholders."),
    ("beh-deadline", "behavioral", "How do you handle a tight deadline?",
     "I agree on what is essential, cut scope on the rest, communicate progress daily and ask for help "
     "before the deadline is at risk."),
    ("beh-feedback", "behavioral", "Give an example of feedback you received and acted on.",
     "A reviewer said my pull requests were too large; I started sending smaller changes with clear "
     "descriptions and reviews became faster."),
]  # fmt: skip

CASES = [
    {"query": "Why can't Python threads use several CPU cores at once?", "expected_id": "py-gil"},
    {"query": "Explain lazy iteration with yield versus a full list.", "expected_id": "py-generator"},
    {"query": "How do database indexes make queries faster?", "expected_id": "db-index"},
    {"query": "Explain atomicity, isolation and durability in transactions.", "expected_id": "db-acid",
     "also_acceptable_ids_auto": ["db-replica"]},
    {"query": "Tell me about a time you disagreed with a colleague.", "expected_id": "beh-conflict",
     "category": "teamwork"},
    {"query": "What do you do when a deadline is very short?", "expected_id": "beh-deadline"},
]  # fmt: skip

MODES = ("query", "answer", "merged")


def write_inputs(folder: Path) -> tuple[Path, Path]:
    kb = folder / "kb.jsonl"
    kb.write_text(
        "".join(
            json.dumps({"id": i, "category": c, "question": q, "answer": a, "note": "ignored"}) + "\n"
            for i, c, q, a in KB
        ),
        encoding="utf-8",
    )
    cases = folder / "cases.jsonl"
    cases.write_text("".join(json.dumps(c) + "\n" for c in CASES), encoding="utf-8")
    return kb, cases


def mocki(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKI_") or k == "MOCKI_CACHE"}
    env["MOCKI_DATA_DIR"] = str(data_dir)
    return subprocess.run([MOCKI, *args], env=env, capture_output=True, text=True, timeout=300)


def test_eval_retrieval_on_a_small_kb(tmp_path: Path) -> None:
    kb, cases = write_inputs(tmp_path)
    out = tmp_path / "figures.json"
    done = mocki(
        [
            "eval",
            "retrieval",
            "--kb",
            str(kb),
            "--cases",
            str(cases),
            "--k",
            "2",
            "--sweep",
            "--json",
            str(out),
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    figures: dict[str, Any] = json.loads(out.read_text())

    assert (figures["kb_size"], figures["cases"], figures["k"]) == (12, 6, 2)
    assert (figures["fusion"], figures["weight_query"]) == ("weighted", 0.8)
    for mode in MODES:
        for metric in ("top1", "top2", "top3", "mrr"):
            assert 0.0 <= figures[f"{metric}_{mode}"] <= 1.0, (metric, mode)
        assert figures[f"top1_{mode}"] <= figures[f"top2_{mode}"] <= figures[f"top3_{mode}"]
    # Easy paraphrases of a dozen distinct topics: the merged search finds each in its top 3.
    assert figures["top3_merged"] == 1.0
    assert figures["mrr_merged"] >= 0.8
    # The case's own category wins over its KB item's.
    assert set(figures["by_category"]) == {"python", "databases", "behavioral", "teamwork"}
    assert figures["cases_by_category"]["teamwork"] == 1
    assert set(figures["by_category"]["python"]) == set(MODES)
    assert len(figures["sweep"]) == len(evaluate.SWEEP_WEIGHTS) * (1 + len(evaluate.SWEEP_RRF_K))
    assert figures["index_s"] > 0
    for title in ("retrieval: 6 cases over 12 pairs", "by category", "merged-mode sweep"):
        assert title in done.stdout


def test_eval_retrieval_rejects_bad_input_with_the_line(tmp_path: Path) -> None:
    kb, cases = write_inputs(tmp_path)
    lines = kb.read_text().splitlines()
    lines[2] = lines[2][:-5]  # truncated JSON on line 3
    bad_kb = tmp_path / "bad_kb.jsonl"
    bad_kb.write_text("\n".join(lines) + "\n")
    done = mocki(["eval", "retrieval", "--kb", str(bad_kb), "--cases", str(cases)], tmp_path)
    assert done.returncode == 1
    assert f"{bad_kb}:3: not valid JSON" in done.stderr

    bad_cases = tmp_path / "bad_cases.jsonl"
    bad_cases.write_text(cases.read_text() + json.dumps({"query": "q", "expected_id": "missing"}) + "\n")
    done = mocki(["eval", "retrieval", "--kb", str(kb), "--cases", str(bad_cases)], tmp_path)
    assert done.returncode == 1
    assert f"{bad_cases}:7: expected_id 'missing' is not an id in the KB" in done.stderr


@pytest.mark.slow
@pytest.mark.needs_shared_data
def test_merged_search_on_the_reference_questions(shared_data: Path, tmp_path: Path) -> None:
    questions = shared_data / "questions"
    figures = evaluate.run(
        Settings(env="test", data_dir=tmp_path), questions / "qa.jsonl", questions / "retrieval_dev.jsonl"
    )
    assert figures["top3_merged"] >= 0.95
    assert figures["mrr_merged"] >= figures["mrr_query"]
    assert figures["mrr_merged"] >= figures["mrr_answer"]
