"""The word error rate the voice benchmarks and tests rely on."""

from __future__ import annotations

import pytest

from mocki.voice.wer import corpus_word_error_rate, edit_distance, word_error_rate, words


def test_words_ignore_case_and_punctuation_but_keep_apostrophes() -> None:
    assert words("Well, I DON'T know — real-time?") == ["well", "i", "don't", "know", "real", "time"]
    assert words("It\u2019s fine.") == ["it's", "fine"]


def test_identical_texts_score_zero() -> None:
    assert word_error_rate("I led the team.", "i led the team") == 0.0


@pytest.mark.parametrize(
    ("hypothesis", "edits"),
    [
        ("i led a team", 1),  # substitution
        ("i led team", 1),  # deletion
        ("i really led the team", 1),  # insertion
        ("team the led i", 4),
        ("", 4),
    ],
)
def test_counts_each_kind_of_edit(hypothesis: str, edits: int) -> None:
    assert word_error_rate("I led the team", hypothesis) == pytest.approx(edits / 4)


def test_insertions_can_push_the_rate_above_one() -> None:
    assert word_error_rate("yes", "yes yes yes") == 2.0


def test_empty_reference() -> None:
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("...", "hello") == 1.0


def test_edit_distance_is_symmetric_on_words() -> None:
    a, b = ["a", "b", "c", "d"], ["b", "c", "x"]
    assert edit_distance(a, b) == edit_distance(b, a) == 2


def test_corpus_rate_weighs_by_reference_length() -> None:
    pairs = [
        (
            "one two three four five six seven eight nine ten",
            "one two three four five six seven eight nine ten",
        ),
        ("yes", "no"),
    ]
    # One edit in eleven words, not the mean of 0 and 1.
    assert corpus_word_error_rate(pairs) == pytest.approx(1 / 11)
    assert corpus_word_error_rate([]) == 0.0
