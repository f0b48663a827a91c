"""Token counting on the real tokenizers: the tiny GGUF's vocabulary and tiktoken's shipped files."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
from llama_cpp import Llama

from mocki.llm.base import ChatMessage
from mocki.llm.local_models import ensure_model
from mocki.llm.tokens import (
    TIKTOKEN_FILES,
    EstimateCounter,
    LlamaTokenCounter,
    TiktokenCounter,
    _encoding,
    counter_for,
    encoding_name_for,
    litellm_tokenizer_dir,
)
from mocki.settings import Settings

CHAT: list[ChatMessage] = [
    {"role": "system", "content": "You are a job interviewer. Ask one short question."},
    {"role": "assistant", "content": "Tell me about a project you are proud of."},
    {"role": "user", "content": "At Parcelworks I built a Kafka pipeline handling 40k events per second."},
]


@pytest.fixture(scope="module")
def tiny() -> Path:
    return ensure_model("tiny")


def test_local_count_matches_the_models_own_chat_template(tiny: Path) -> None:
    """The per-message frame is measured, not assumed: render the GGUF's template and compare."""
    counter = LlamaTokenCounter(tiny)
    vocab = Llama(model_path=str(tiny), vocab_only=True, verbose=False)
    template = jinja2.Template(str(vocab.metadata["tokenizer.chat_template"]))
    rendered = template.render(messages=CHAT, add_generation_prompt=True)
    expected = len(vocab.tokenize(rendered.encode(), add_bos=False, special=True))
    assert counter.count_messages(CHAT) == expected


def test_local_count_of_plain_text(tiny: Path) -> None:
    counter = LlamaTokenCounter(tiny)
    assert counter.count("") == 0
    short, longer = counter.count("Kafka"), counter.count("Kafka pipeline handling 40k events per second")
    assert 0 < short < longer
    # Special-token text in a candidate's answer is counted as text, never as a control token.
    assert counter.count("<|im_end|>") > 1


def test_one_loaded_vocabulary_per_model_file(tiny: Path) -> None:
    first, second = LlamaTokenCounter(tiny), LlamaTokenCounter(tiny)
    assert first._vocab is second._vocab
    assert first.load_s == second.load_s


def test_encoding_follows_the_model_name() -> None:
    for name in ("gpt-4o", "gpt-4o-mini", "gpt-4.1-nano", "o3-mini", "openai/o1", "azure/gpt-4.1"):
        assert encoding_name_for(name) == "o200k_base", name
    for name in ("gpt-4", "gpt-3.5-turbo", "local", "llama3:8b", "mistral-7b"):
        assert encoding_name_for(name) == "cl100k_base", name


def test_tiktoken_counts_from_the_files_litellm_ships() -> None:
    folder = litellm_tokenizer_dir()
    assert folder is not None
    assert all((folder / sha).is_file() for sha in TIKTOKEN_FILES.values())
    older, newer = TiktokenCounter("gpt-4"), TiktokenCounter("gpt-4o")
    # The figure in OpenAI's cookbook ("How to count tokens with tiktoken").
    assert older.count("tiktoken is great!") == 6
    assert (older._encoding.n_vocab, newer._encoding.n_vocab) == (100277, 200019)
    # Special-token text is counted as text instead of raising.
    assert TiktokenCounter("gpt-4o").count("<|endoftext|>") > 1


def test_tiktoken_frames_each_message_as_openai_documents() -> None:
    counter = TiktokenCounter("gpt-4o-mini")
    contents = sum(counter.count(m["content"]) for m in CHAT)
    assert counter.count_messages(CHAT) == contents + 3 * len(CHAT) + 3


def test_a_cache_dir_without_the_file_is_pointed_at_litellms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tiktoken would otherwise try to download the file: there is no network here."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    _encoding.cache_clear()
    try:
        assert TiktokenCounter("gpt-3.5-turbo").count("hello world") == 2
        assert os.environ["TIKTOKEN_CACHE_DIR"] == str(litellm_tokenizer_dir())
    finally:
        _encoding.cache_clear()


def test_estimate_is_four_characters_a_token() -> None:
    counter = EstimateCounter()
    assert counter.count("") == 0
    assert counter.count("abcd" * 10) == 10
    assert counter.count("abcde") == 2
    assert counter.count_messages(CHAT[:1]) == counter.count(CHAT[0]["content"]) + 4 + 3


def test_counter_for_picks_by_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    remote = Settings(_env_file=None, llm_base_url="https://llm.example/v1", llm_model="gpt-4o")  # type: ignore[call-arg]
    assert counter_for(remote).name == "tiktoken:o200k_base"

    monkeypatch.delenv("MOCKI_LLM_BASE_URL", raising=False)
    local = Settings(_env_file=None, local_model={"name": "tiny"})  # type: ignore[call-arg]
    assert counter_for(local).name == f"llama:{ensure_model('tiny').name}"

    # No assembled model and no wheels to assemble it from: an estimate, never a download.
    monkeypatch.setenv("MOCKI_CACHE", str(tmp_path))
    assert counter_for(local).name == "estimate:chars/4"
