"""Word error rate: how far a transcript is from what was said, in word edits per reference word."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Apostrophes stay inside words ("don't"); hyphens split ("real-time" -> "real time") as
# speech recognisers write them either way.
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def words(text: str) -> list[str]:
    """Lower-cased words without punctuation: the form both sides are compared in."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Fewest substitutions, deletions and insertions turning reference into hypothesis."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Edits / reference words. An empty reference scores 0 against an empty hypothesis, else 1."""
    ref, hyp = words(reference), words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def corpus_word_error_rate(pairs: Sequence[tuple[str, str]]) -> float:
    """All edits over all reference words, so long answers weigh more than short ones."""
    edits = sum(edit_distance(words(ref), words(hyp)) for ref, hyp in pairs)
    total = sum(len(words(ref)) for ref, _ in pairs)
    if total == 0:
        return 0.0 if edits == 0 else 1.0
    return edits / total
