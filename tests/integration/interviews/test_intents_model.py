"""Intent classification with the real MiniLM (inline and in its process pool), the real packaged
LLM behind llama.cpp's server, and `mocki eval intents` as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mocki.interviews import intents
from mocki.interviews.intents import INTENTS, IntentClassifier, Turn
from mocki.llm.factory import make_llm
from mocki.retrieval.embeddings import MiniLM, make_embedder
from mocki.settings import Settings
from tests.support.processes import PYTHON

MOCKI = str(Path(PYTHON).parent / "mocki")
CODE = "Final version:\n```python\ndef last(xs):\n    return xs[-1] if xs else None\n```"


@pytest.fixture(autouse=True)
def no_models_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intents, "_models", {})


def mocki(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKI_")}
    env["MOCKI_DATA_DIR"] = str(data_dir)
    return subprocess.run([MOCKI, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_accuracy_on_the_held_out_set(tmp_path: Path) -> None:
    # Measured when the classifier was built: accuracy 0.900, macro F1 0.901, English 0.908,
    # Chinese 0.833 (36 turns); lowest recall off_topic 0.822. The floors leave room for a
    # retrained model to differ by a few turns, not for a broken one.
    figures = intents.evaluate_file(Settings(env="test", data_dir=tmp_path), None)
    assert figures["examples"] == 320 and figures["train_examples"] >= 700
    assert figures["accuracy"] >= 0.85
    assert figures["macro_f1"] >= 0.85
    assert figures["accuracy_en"] >= 0.85
    assert figures["accuracy_zh"] >= 0.70
    for intent, row in figures["per_intent"].items():
        assert row["recall"] >= 0.75, intent
    assert figures["rule_overrides"] >= 20


@pytest.mark.slow
def test_no_eval_turn_has_a_near_duplicate_in_training() -> None:
    """Cosine of MiniLM vectors below 0.95 for every pair; pairs of Chinese turns are left to the unit
    test's character comparison, as MiniLM reads most Chinese characters as [UNK]."""
    train = intents.load_examples(intents.TRAIN_PATH)
    held_out = intents.load_examples(intents.EVAL_PATH)
    model = MiniLM()
    similarity = model.embed([e.turn.text for e in train]) @ model.embed([e.turn.text for e in held_out]).T
    chinese_pair = np.outer(
        [intents.is_chinese(e.turn.text) for e in train], [intents.is_chinese(e.turn.text) for e in held_out]
    )
    similarity[chinese_pair] = 0.0
    i, j = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
    assert similarity[i, j] < 0.95, (train[i].turn.text, held_out[j].turn.text)


@pytest.mark.slow
def test_eval_intents_writes_the_figures(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = mocki(["eval", "intents", "--json", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr
    figures: dict[str, Any] = json.loads(out.read_text())
    for key in ("accuracy", "macro_f1", "per_intent", "confusion", "examples", "classifier"):
        assert key in figures, key
    assert figures["data"] == str(intents.EVAL_PATH)
    assert set(figures["per_intent"]) == set(INTENTS) == set(figures["confusion"])
    assert sum(sum(row.values()) for row in figures["confusion"].values()) == figures["examples"] == 320
    assert sum(figures["confusion"][i][i] for i in INTENTS) / 320 == pytest.approx(
        figures["accuracy"], abs=1e-4
    )
    for row in figures["per_intent"].values():
        assert set(row) == {"precision", "recall", "f1", "support"}
    for title in ("per intent", "confusion (rows: true intent, columns: predicted)", "macro F1"):
        assert title in done.stdout
    assert list((tmp_path / "intents").glob("model-*.npz")), "the weights are cached under data_dir"

    # Any labelled file; the weights cached by the first run are reused.
    small = tmp_path / "small.jsonl"
    small.write_text(
        "".join(
            json.dumps(row) + "\n"
            for row in [
                {"text": "Could you give me a hint? I'm stuck.", "intent": "hint"},
                {"text": "Let's end the interview here, thanks.", "intent": "end"},
                {"text": CODE, "intent": "code_submission"},
            ]
        )
    )
    done = mocki(["eval", "intents", "--data", str(small), "--json", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    assert figures["examples"] == 3 and figures["data"] == str(small)


def test_a_bad_data_file_fails_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "bye", "intent": "end"}\n\n{"text": "hi", "intent": "greeting"}\n')
    done = mocki(["eval", "intents", "--data", str(bad)], tmp_path)
    assert done.returncode == 1
    assert f"{bad}:3: unknown intent 'greeting'" in done.stderr

    bad.write_text('{"text": "bye", "intent": "end"}\n{"text": "hi", "intent": \n')
    done = mocki(["eval", "intents", "--data", str(bad)], tmp_path)
    assert done.returncode == 1
    assert f"{bad}:2: not valid JSON" in done.stderr


@pytest.mark.slow
async def test_classifier_through_the_embedding_process_pool(tmp_path: Path) -> None:
    """The product's path: MiniLM in its process pool, the fit in a short-lived process."""
    cfg = Settings(env="test", data_dir=tmp_path)
    embedder = make_embedder(cfg)
    try:
        classifier = IntentClassifier(cfg, embedder, llm=None)
        turns = {
            "Could you give me a hint? I'm totally stuck on this one.": "hint",
            "Let's stop the interview here, I need to go.": "end",
            "Can we skip to a different question?": "change_topic",
            "Wait, can the array contain negative numbers?": "clarification",
            CODE: "code_submission",
        }
        results = {text: await classifier.classify(text) for text in turns}
    finally:
        await embedder.aclose()
    assert {text: r.intent for text, r in results.items()} == turns
    assert results[CODE].source == "rule"
    assert all(r.source == "model" for text, r in results.items() if text != CODE)
    assert list((tmp_path / "intents").glob("model-*.npz"))


@pytest.mark.slow
async def test_llm_path_against_the_packaged_model(llm_server: str, tmp_path: Path) -> None:
    """The tiny test model rarely replies with a bare label; whatever it replies, the result is its
    label when the reply is exactly one and the offline model's otherwise (greedy decoding, so the
    reply is the same when asked again)."""
    cfg = Settings(env="test", data_dir=tmp_path, llm_base_url=llm_server, llm_model="local")
    embedder = make_embedder(cfg, inline=True)
    llm = make_llm(cfg)
    try:
        await intents.load_model(cfg, embedder, inline=True)
        classifier = IntentClassifier(cfg, embedder, llm, llm_timeout_s=120)
        offline = IntentClassifier(Settings(env="test", data_dir=tmp_path), embedder)
        for turn in (Turn("Yes please.", "Would you like a hint?"), Turn("Can we stop here? I have to go.")):
            result = await classifier.classify(turn.text, turn.context)
            reply = await llm.complete(intents.llm_messages(turn), max_tokens=8, temperature=0.0)
            label = intents.parse_label(reply.text)
            if label is None:
                assert result == await offline.classify(turn.text, turn.context)
            else:
                assert (result.intent, result.source) == (label, "llm")
    finally:
        await llm.aclose()
        await embedder.aclose()
