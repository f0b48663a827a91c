"""Chunking keeps whole lines, their numbers and a small overlap, and refuses what it cannot index."""

from __future__ import annotations

import itertools

import pytest

from mocki.core.errors import Invalid
from mocki.retrieval.chunking import ChunkLimitExceeded, chunk_text


def words(text: str) -> int:
    return len(text.split())


def test_short_text_is_one_chunk_with_its_line_numbers() -> None:
    chunks = chunk_text("\n\nAda Lovelace\n\n- wrote the first program\n", words, max_tokens=50)
    assert len(chunks) == 1
    assert chunks[0].text == "Ada Lovelace\n- wrote the first program"
    assert (chunks[0].start_line, chunks[0].end_line) == (3, 5)
    assert chunks[0].token_count == 7  # "-" counts as a word here


def test_lines_are_packed_up_to_the_budget_and_overlap() -> None:
    text = "\n".join(f"line {i} has five words" for i in range(1, 21))  # 5 tokens each
    chunks = chunk_text(text, words, max_tokens=20, overlap_tokens=5)
    assert all(c.token_count <= 20 for c in chunks)
    assert chunks[0].start_line == 1 and chunks[0].end_line == 4
    # One line (5 tokens) of overlap: each chunk starts on the previous chunk's last line.
    for before, after in itertools.pairwise(chunks):
        assert after.start_line == before.end_line
    assert chunks[-1].end_line == 20
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_without_overlap_every_line_is_in_exactly_one_chunk() -> None:
    text = "\n".join(f"w{i} a b c" for i in range(1, 31))
    chunks = chunk_text(text, words, max_tokens=12, overlap_tokens=0)
    covered = [line for c in chunks for line in c.text.splitlines()]
    assert covered == text.splitlines()


def test_a_line_over_the_budget_is_cut_at_sentences_and_keeps_its_number() -> None:
    long_line = " ".join(f"Sentence {i} is here." for i in range(30))  # 120 words
    chunks = chunk_text(f"Title\n{long_line}", words, max_tokens=20, overlap_tokens=0)
    assert all(c.token_count <= 20 for c in chunks)
    assert {c.start_line for c in chunks[1:]} == {2}
    assert " ".join(c.text for c in chunks).split() == f"Title {long_line}".split()


def test_empty_text_cannot_be_indexed() -> None:
    with pytest.raises(Invalid) as info:
        chunk_text(" \n\t\n", words)
    assert info.value.code == "nothing_to_index"


def test_too_many_chunks_is_a_clear_error_with_an_estimate() -> None:
    text = "\n".join(f"line {i} with some words in it" for i in range(500))
    with pytest.raises(ChunkLimitExceeded) as info:
        chunk_text(text, words, max_tokens=14, overlap_tokens=0, max_chunks=10)
    assert info.value.status_code == 422 and info.value.code == "too_many_chunks"
    assert "limit is 10" in info.value.message
    assert info.value.details["chunks"] >= 200


def test_other_scripts_pass_through_unchanged() -> None:
    text = "王小明 软件工程师\nمهندس برمجيات"
    chunks = chunk_text(text, len, max_tokens=100)
    assert chunks[0].text == text


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        chunk_text("a b c", words, max_tokens=10, overlap_tokens=10)
