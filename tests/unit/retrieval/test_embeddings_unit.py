"""Embeddings helpers without the model: cache keys, length batching and reordering, file checks."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from mocki.retrieval.embeddings import (
    MINILM_ID,
    EmbeddingError,
    Vectors,
    cache_key,
    embed_in_length_order,
    length_batches,
    minilm_id,
    verify_model_file,
)


def test_cache_key_names_model_truncation_and_text_hash() -> None:
    digest = hashlib.sha256("héllo".encode()).hexdigest()
    assert (
        cache_key("all-MiniLM-L6-v2-int8", None, "héllo") == f"mocki:emb:all-MiniLM-L6-v2-int8:max:{digest}"
    )
    assert cache_key("openai:text-embedding-3-small", 96, "héllo") == (
        f"mocki:emb:openai:text-embedding-3-small:96:{digest}"
    )


def test_cache_key_differs_by_each_part_and_carries_no_text() -> None:
    base = cache_key("m", None, "secret answer")
    assert "secret" not in base
    assert cache_key("m", None, "secret answer") == base
    assert len({base, cache_key("n", None, "secret answer"), cache_key("m", 96, "secret answer")}) == 3
    assert cache_key("m", None, "secret answer ") != base


def test_lowered_default_truncation_is_part_of_the_model_id() -> None:
    assert minilm_id(256) == MINILM_ID
    assert minilm_id(128) == f"{MINILM_ID}@128"


def test_length_batches_group_short_texts_first_and_cover_every_index_once() -> None:
    lengths = [5, 1, 9, 3, 3, 7, 2]
    batches = length_batches(lengths, 3)
    assert batches == [[1, 6, 3], [4, 0, 5], [2]]
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert length_batches([], 3) == []


class _FakeModel:
    """Stands in for the ONNX model: row i encodes the text's length, and every batch is recorded."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.batches: list[list[int]] = []

    def embed_batch(self, indices: list[int]) -> Vectors:
        self.batches.append(indices)
        return np.asarray([[len(self.texts[i]), i] for i in indices], dtype=np.float32)


def test_embed_in_length_order_batches_by_length_and_restores_input_order() -> None:
    texts = ["a much longer text here", "hi", "", "medium text", "tiny", "the longest text of them all"]
    fake = _FakeModel(texts)

    out = embed_in_length_order([len(t) for t in texts], 2, fake.embed_batch, dim=2)

    assert out[:, 1].tolist() == list(range(len(texts)))
    assert out[:, 0].tolist() == [len(t) for t in texts]
    assert all(len(batch) <= 2 for batch in fake.batches)
    flattened = [len(texts[i]) for batch in fake.batches for i in batch]
    assert flattened == sorted(flattened)


def test_embed_in_length_order_of_nothing_is_an_empty_matrix() -> None:
    fake = _FakeModel([])
    out = embed_in_length_order([], 4, fake.embed_batch, dim=384)
    assert out.shape == (0, 384) and fake.batches == []


def _pin(path: Path) -> tuple[str, int]:
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


def test_verify_model_file_accepts_the_pinned_file(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"weights" * 100)
    sha, size = _pin(model)
    verify_model_file(model, sha256=sha, size=size)


def test_verify_model_file_refuses_wrong_size_wrong_hash_and_missing(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"weights" * 100)
    sha, size = _pin(model)
    model.write_bytes(b"weights" * 100 + b"x")
    with pytest.raises(EmbeddingError, match=rf"has {size + 1} bytes, not the {size}"):
        verify_model_file(model, sha256=sha, size=size)
    model.write_bytes(b"WEIGHTS" * 100)
    with pytest.raises(EmbeddingError, match=rf"not the pinned {sha}.*refusing to load it"):
        verify_model_file(model, sha256=sha, size=size)
    with pytest.raises(EmbeddingError, match="is missing"):
        verify_model_file(tmp_path / "absent.onnx", sha256=sha, size=size)


def test_verify_model_file_hashes_once_per_file_version(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"weights" * 100)
    sha, size = _pin(model)
    verify_model_file(model, sha256=sha, size=size)
    stat = model.stat()

    # Same size and modification time: the earlier hash stands (this is what makes reloads cheap).
    model.write_bytes(b"WEIGHTS" * 100)
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    verify_model_file(model, sha256=sha, size=size)

    # A new modification time is a new file version: hashed again, and refused.
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(EmbeddingError, match="sha256"):
        verify_model_file(model, sha256=sha, size=size)
