"""Intent classification without the real models: the regression, the data files, the rule, the
LLM fallback and the weight cache (a hashed bag-of-words embedder and a scripted LLM stand in)."""

from __future__ import annotations

import asyncio
import json
import re
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mocki.interviews import intents
from mocki.interviews.intents import (
    INTENTS,
    IntentClassifier,
    IntentDataError,
    SoftmaxRegression,
    Turn,
)
from mocki.llm.base import ChatMessage, ChatStream, Completion, LLMError, Usage
from mocki.settings import Settings

CODE = "Here's my solution:\n```python\ndef add(a, b):\n    return a + b\n```"


# ---------------------------------------------------------------------------------- fakes


class BagOfWordsEmbedder:
    """Unit vectors of hashed words: enough signal for the classifier's plumbing, no model."""

    model_id = "fake-bag-of-words"
    dim = 384

    def __init__(self) -> None:
        self.texts_embedded = 0
        self.fail = False

    async def embed(self, texts: Sequence[str], *, max_tokens: int | None = None) -> np.ndarray[Any, Any]:
        if self.fail:
            raise AssertionError("the embedder was asked to embed")
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, zlib.crc32(word.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    async def aclose(self) -> None:
        return None


class ScriptedLLM:
    """Replies with scripted texts, raises, or hangs; records the prompts it got."""

    model = "scripted"

    def __init__(self, reply: str | Exception | None) -> None:
        self.reply = reply  # None: never answers
        self.prompts: list[Sequence[ChatMessage]] = []

    def stream(self, messages: Sequence[ChatMessage], **_: object) -> ChatStream:
        async def nothing() -> AsyncIterator[str]:
            if False:
                yield ""

        return ChatStream(nothing(), Usage(model=self.model))

    async def complete(self, messages: Sequence[ChatMessage], **_: object) -> Completion:
        self.prompts.append(messages)
        if self.reply is None:
            await asyncio.Event().wait()
        if isinstance(self.reply, Exception):
            raise self.reply
        assert isinstance(self.reply, str)
        return Completion(self.reply, Usage(model=self.model))

    async def prewarm(self, messages: Sequence[ChatMessage]) -> None:
        return None

    async def aclose(self) -> None:
        return None


@pytest.fixture(autouse=True)
def no_models_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without a model trained by another."""
    monkeypatch.setattr(intents, "_models", {})


def settings(tmp_path: Path, llm_base_url: str = "") -> Settings:
    return Settings(env="test", data_dir=tmp_path, llm_base_url=llm_base_url)


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
        encoding="utf-8",
    )
    return path


# ----------------------------------------------------------------------- logistic regression


def toy_clusters(seed: int = 0) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    centres = np.array([[4.0, 0.0], [0.0, 4.0], [-4.0, -4.0]])
    y = np.repeat(np.arange(3), 40)
    x = centres[y] + rng.normal(scale=0.7, size=(len(y), 2))
    return x, y


def test_softmax_regression_separates_toy_clusters() -> None:
    x, y = toy_clusters()
    model = SoftmaxRegression.fit(x, y, 3)
    probs = model.predict_proba(x)
    assert probs.shape == (120, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert (probs.argmax(axis=1) == y).mean() == 1.0
    # Points it never saw, near each centre.
    fresh = np.array([[3.5, 0.5], [0.5, 3.5], [-3.0, -4.5]])
    assert model.predict_proba(fresh).argmax(axis=1).tolist() == [0, 1, 2]


def test_fitting_is_deterministic() -> None:
    x, y = toy_clusters()
    a = SoftmaxRegression.fit(x, y, 3)
    b = SoftmaxRegression.fit(x, y, 3)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.bias, b.bias)


def test_gradient_descent_lowers_the_loss_and_l2_shrinks_the_weights() -> None:
    x, y = toy_clusters()

    def loss(model: SoftmaxRegression) -> float:
        return float(-np.log(model.predict_proba(x)[np.arange(len(y)), y]).mean())

    assert (
        loss(SoftmaxRegression.fit(x, y, 3, steps=200))
        < loss(SoftmaxRegression.fit(x, y, 3, steps=2))
        < np.log(3)
    )
    weak = SoftmaxRegression.fit(x, y, 3, l2=1e-4)
    strong = SoftmaxRegression.fit(x, y, 3, l2=1.0)
    assert np.linalg.norm(strong.weights) < np.linalg.norm(weak.weights)


def test_columns_left_unstandardised_keep_their_scale() -> None:
    x, y = toy_clusters()
    x = np.hstack([x, x * 100])
    model = SoftmaxRegression.fit(x, y, 3, standardise=np.array([True, True, False, False]))
    assert model.mean[2:].tolist() == [0.0, 0.0] and model.scale[2:].tolist() == [1.0, 1.0]
    assert model.scale[0] != 1.0 and model.mean[0] != 0.0


def test_fit_refuses_labels_outside_the_classes() -> None:
    x, y = toy_clusters()
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.1"):
        SoftmaxRegression.fit(x, y, 2)
    with pytest.raises(ValueError, match="no training rows"):
        SoftmaxRegression.fit(x[:0], y[:0], 3)


# --------------------------------------------------------------------------- data validation


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "hi", "intent": "answer"', "not valid JSON"),
        ('["hi", "answer"]', "expected a JSON object, got list"),
        ('{"intent": "answer"}', "missing field 'text'"),
        ('{"text": "  ", "intent": "answer"}', "field 'text' must be a non-empty string"),
        ('{"text": 3, "intent": "answer"}', "field 'text' must be a non-empty string"),
        ('{"text": "hi"}', "missing field 'intent'"),
        ('{"text": "hi", "intent": "greeting"}', "unknown intent 'greeting' (expected one of: answer, "),
        ('{"text": "hi", "intent": "answer", "context": 7}', "field 'context' must be a string"),
    ],
)
def test_a_bad_line_is_named_with_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = write_jsonl(tmp_path / "data.jsonl", [{"text": "ok", "intent": "end"}, "", line])
    with pytest.raises(IntentDataError) as info:
        intents.load_examples(path)
    assert str(info.value).startswith(f"{path}:3: ")
    assert message in str(info.value)


def test_examples_load_with_optional_context_and_extra_fields_ignored(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "data.jsonl",
        [
            {"text": "Yes please.", "intent": "hint", "context": "Would you like a hint?"},
            "",
            {"text": "bye", "intent": "end", "context": None, "note": "ignored"},
        ],
    )
    first, second = intents.load_examples(path)
    assert (first.turn, first.intent, first.line) == (
        Turn("Yes please.", "Would you like a hint?"),
        "hint",
        1,
    )
    assert (second.turn, second.intent, second.line) == (Turn("bye", None), "end", 3)


def test_an_empty_or_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IntentDataError, match="no examples"):
        intents.load_examples(write_jsonl(tmp_path / "empty.jsonl", ["", " "]))
    with pytest.raises(IntentDataError, match="cannot read it"):
        intents.load_examples(tmp_path / "absent.jsonl")


# ------------------------------------------------------------------------ the packaged data


def normalised(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def char_bigrams(text: str) -> set[str]:
    n = normalised(text)
    return {n[i : i + 2] for i in range(len(n) - 1)} or {n}


TRAIN = intents.load_examples(intents.TRAIN_PATH)
EVAL = intents.load_examples(intents.EVAL_PATH)


def test_every_intent_is_covered_in_both_sets() -> None:
    assert len(EVAL) >= 300
    train_counts = Counter(e.intent for e in TRAIN)
    eval_counts = Counter(e.intent for e in EVAL)
    for intent in INTENTS:
        assert train_counts[intent] >= 40, intent
        assert eval_counts[intent] >= 35, intent
        for examples in (TRAIN, EVAL):
            assert sum(e.intent == intent and intents.is_chinese(e.turn.text) for e in examples) >= 3, intent


def test_the_sets_vary_in_the_ways_that_matter() -> None:
    for examples in (TRAIN, EVAL):
        code = [e.turn.text for e in examples if e.intent == "code_submission"]
        assert any("```python" in t for t in code) and any("```js" in t for t in code)
        assert any(not intents.code_blocks(t) for t in code), "code pasted without fences"
        # Answers talk about code but never submit a fenced block.
        answers = [e.turn.text for e in examples if e.intent == "answer"]
        assert not any(intents.code_blocks(t) for t in answers)
        assert any("`" in t for t in answers)
        assert sum(e.turn.context is not None for e in examples) >= 40
        lengths = [len(e.turn.text) for e in examples]
        assert min(lengths) <= 5 and max(lengths) >= 300


def test_no_turn_is_in_both_sets_or_twice_in_one() -> None:
    train = {normalised(e.turn.text) for e in TRAIN}
    assert not train & {normalised(e.turn.text) for e in EVAL}
    for examples in (TRAIN, EVAL):
        keys = Counter((normalised(e.turn.text), normalised(e.turn.context or "")) for e in examples)
        assert [k for k, n in keys.items() if n > 1] == []


def test_chinese_turns_are_no_near_duplicates_across_the_sets() -> None:
    """MiniLM sees most Chinese characters as [UNK], so its cosine cannot judge these (the
    integration test checks the rest): characters pairs are compared instead."""
    train = [char_bigrams(e.turn.text) for e in TRAIN if intents.is_chinese(e.turn.text)]
    for example in (e for e in EVAL if intents.is_chinese(e.turn.text)):
        grams = char_bigrams(example.turn.text)
        worst = max(len(grams & t) / len(grams | t) for t in train)
        assert worst < 0.5, example.turn.text


# ---------------------------------------------------------------------- features and the rule


def test_the_code_rule_needs_a_fenced_block_and_no_question() -> None:
    assert intents.code_rule(CODE) == "code_submission"
    assert intents.code_rule("```js\nconst a = 1;\nconsole.log(a);") == "code_submission"  # unclosed
    assert intents.code_rule(CODE.replace("Here's my solution:", "Does this look right?")) is None
    assert intents.code_rule("```python\nreturn x\n```") is None  # one line
    assert intents.code_rule("I'd use `sorted(xs)` and then `itertools.groupby`.") is None
    assert intents.code_rule("def f(x):\n    return x") is None  # left to the model


def test_shape_features_tell_code_questions_and_chinese_apart() -> None:
    code = intents.shape_features(CODE)
    prose = intents.shape_features("I would use a hash map and walk the list once.")
    question = intents.shape_features("Can the input be empty?")
    chinese = intents.shape_features("可以给我一点提示吗？")
    assert code.shape == (intents.N_SHAPE,)
    assert code[0] == 1.0 and prose[0] == 0.0
    assert code[1] > prose[1] and code[2] > prose[2]
    assert question[5] == question[6] == 1.0 and prose[5] == 0.0
    assert chinese[6] == 1.0 and chinese[7] > 0.8 and prose[7] == 0.0


def test_cjk_ngrams_are_stable_unit_vectors_and_empty_for_english() -> None:
    a = intents.cjk_ngrams("我们结束面试吧")
    assert np.linalg.norm(a) == pytest.approx(1.0)
    np.testing.assert_array_equal(a, intents.cjk_ngrams("我们结束面试吧"))
    assert np.count_nonzero(a) > 7
    assert not np.any(intents.cjk_ngrams("let's end the interview"))
    assert float(a @ intents.cjk_ngrams("结束面试")) > float(a @ intents.cjk_ngrams("给点提示"))


def test_features_check_their_inputs() -> None:
    vectors = np.ones((2, 384), dtype=np.float32)
    x, standardise = intents.features(["hi", "提示"], vectors)
    assert x.shape == (2, 384 + intents.CJK_BUCKETS + intents.N_SHAPE)
    assert standardise.sum() == 384 + intents.N_SHAPE
    with pytest.raises(ValueError, match="3 texts but 2 vectors"):
        intents.features(["a", "b", "c"], vectors)


# ------------------------------------------------------------------------------- the metrics


def test_metrics_on_a_hand_computed_case() -> None:
    truth = ["hint", "hint", "end", "answer"]
    predicted = ["hint", "end", "end", "hint"]
    figures = intents.metrics(truth, predicted)  # type: ignore[arg-type]
    assert figures["accuracy"] == 0.5 and figures["examples"] == 4
    assert figures["per_intent"]["hint"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert figures["per_intent"]["end"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert figures["per_intent"]["answer"]["f1"] == 0.0
    # Macro F1 over the intents present in the data: hint, end, answer.
    assert figures["macro_f1"] == round((0.5 + 2 / 3 + 0.0) / 3, 4)
    assert figures["confusion"]["hint"]["end"] == 1 and figures["confusion"]["answer"]["hint"] == 1
    assert sum(sum(row.values()) for row in figures["confusion"].values()) == 4


# -------------------------------------------------------------------------------- the LLM path


@pytest.mark.parametrize(
    ("reply", "label"),
    [
        ("hint", "hint"),
        ("  Code_Submission.\n", "code_submission"),
        ('"end"', "end"),
        ("`off_topic`", "off_topic"),
        ("The label is hint", None),
        ("hint, answer", None),
        ("hints", None),
        ("", None),
    ],
)
def test_llm_replies_are_parsed_strictly(reply: str, label: str | None) -> None:
    assert intents.parse_label(reply) == label


def test_the_prompt_lists_every_label_and_carries_the_question() -> None:
    system, user = intents.llm_messages(Turn("Yes please.", "Would you like a hint?"))
    assert all(f"{intent}: " in system["content"] for intent in INTENTS)
    assert "Would you like a hint?" in user["content"] and "Yes please." in user["content"]
    assert "(none)" in intents.llm_messages(Turn("bye"))[1]["content"]
    long = intents.llm_messages(Turn("x" * 10_000))[1]["content"]
    assert len(long) < intents.LLM_MAX_CHARS + 200


async def trained_classifier(tmp_path: Path, llm: ScriptedLLM | None, base_url: str) -> IntentClassifier:
    cfg = settings(tmp_path, base_url)
    embedder = BagOfWordsEmbedder()
    await intents.load_model(cfg, embedder, inline=True)
    return IntentClassifier(cfg, embedder, llm, llm_timeout_s=0.2)


async def test_without_an_endpoint_the_llm_is_not_asked(tmp_path: Path) -> None:
    llm = ScriptedLLM("end")
    classifier = await trained_classifier(tmp_path, llm, "")
    result = await classifier.classify("Can I get a hint? I'm stuck.")
    assert result.source == "model" and llm.prompts == []
    assert result.intent in INTENTS
    assert sum(result.scores.values()) == pytest.approx(1.0)
    assert result.confidence == max(result.scores.values())


async def test_a_valid_llm_label_wins(tmp_path: Path) -> None:
    llm = ScriptedLLM("off_topic")
    classifier = await trained_classifier(tmp_path, llm, "http://llm.example/v1")
    result = await classifier.classify("Yes please.", context="Would you like a hint?")
    assert (result.intent, result.source, result.confidence) == ("off_topic", "llm", 1.0)
    assert set(result.scores) == set(INTENTS)
    assert "Would you like a hint?" in llm.prompts[0][1]["content"]


@pytest.mark.parametrize("reply", ["I think it is a hint", LLMError("unreachable"), None])
async def test_the_offline_model_stands_in_for_a_bad_or_failed_llm(
    tmp_path: Path, reply: str | Exception | None
) -> None:
    offline = await (await trained_classifier(tmp_path, None, "")).classify("Let's end the interview now.")
    classifier = await trained_classifier(tmp_path, ScriptedLLM(reply), "http://llm.example/v1")
    result = await classifier.classify("Let's end the interview now.")
    assert result == offline and result.source == "model"


async def test_the_code_rule_skips_the_llm(tmp_path: Path) -> None:
    llm = ScriptedLLM("answer")
    classifier = await trained_classifier(tmp_path, llm, "http://llm.example/v1")
    result = await classifier.classify(CODE)
    assert (result.intent, result.source, result.confidence) == ("code_submission", "rule", 1.0)
    assert llm.prompts == []


# ------------------------------------------------------------------------------ the weight cache


async def test_weights_are_cached_under_data_dir_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = settings(tmp_path)
    embedder = BagOfWordsEmbedder()
    trained = await intents.load_model(cfg, embedder, inline=True)
    assert embedder.texts_embedded == len(TRAIN) and trained.train_examples == len(TRAIN)
    files = list((tmp_path / "intents").glob("model-*.npz"))
    assert len(files) == 1

    # Same process: from memory. A new process (memory emptied): from the file, nothing embedded.
    assert await intents.load_model(cfg, embedder, inline=True) is trained
    monkeypatch.setattr(intents, "_models", {})
    embedder.fail = True
    loaded = await intents.load_model(cfg, embedder, inline=True)
    np.testing.assert_array_equal(loaded.regression.weights, trained.regression.weights)
    assert loaded.train_examples == trained.train_examples


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
async def test_a_damaged_cache_file_is_retrained_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    cfg = settings(tmp_path)
    embedder = BagOfWordsEmbedder()
    await intents.load_model(cfg, embedder, inline=True)
    (path,) = (tmp_path / "intents").glob("model-*.npz")
    good = path.read_bytes()
    path.write_bytes(b"not a zip file" if damage == "garbage" else good[: len(good) // 2])
    monkeypatch.setattr(intents, "_models", {})
    model = await intents.load_model(cfg, embedder, inline=True)
    assert embedder.texts_embedded == 2 * len(TRAIN)
    assert model.regression.weights.shape == (384 + intents.CJK_BUCKETS + intents.N_SHAPE, len(INTENTS))
    assert path.read_bytes() == good


async def test_an_unwritable_data_dir_costs_only_the_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where data_dir should be")
    model = await intents.load_model(settings(blocker), BagOfWordsEmbedder(), inline=True)
    assert model.train_examples == len(TRAIN)
    assert blocker.is_file()


async def test_the_cache_key_follows_the_training_data_and_the_embedder(tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", [{"text": "bye", "intent": "end"}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"text": "bye!", "intent": "end"}])
    assert intents.cache_key(a, "m1") == intents.cache_key(a, "m1")
    assert intents.cache_key(a, "m1") != intents.cache_key(b, "m1")
    assert intents.cache_key(a, "m1") != intents.cache_key(a, "m2")
