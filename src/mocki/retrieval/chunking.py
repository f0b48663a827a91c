"""Token-aware chunking of resumes and job descriptions into runs of whole lines.

A chunk is what one query–answer pair is grounded in, so it keeps line numbers (shown as
provenance) and never splits a line unless that line alone is over the budget. Consecutive
chunks overlap by a few lines so a bullet that continues a heading keeps its context.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from mocki.core.errors import Invalid

TokenCounter = Callable[[str], int]

_SENTENCE = re.compile(r"(?<=[.!?;])\s+")


@dataclass(frozen=True)
class ChunkSpec:
    ordinal: int
    text: str
    start_line: int  # 1-based, inclusive
    end_line: int
    token_count: int


@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    tokens: int


class ChunkLimitExceeded(Invalid):
    def __init__(self, chunks: int, limit: int) -> None:
        super().__init__(
            f"This document is too long to index: it makes {chunks} sections and the limit is {limit}. "
            "Keep the parts an interviewer should ask about (recent roles, projects, skills) "
            "and upload it again.",
            code="too_many_chunks",
            details={"chunks": chunks, "limit": limit},
        )


def _split_long(line: _Line, budget: int, count: TokenCounter) -> list[_Line]:
    """A line over the budget is cut at sentence ends, then at words, keeping its line number."""
    pieces: list[_Line] = []
    current: list[str] = []
    for sentence in _SENTENCE.split(line.text):
        for word in sentence.split():
            candidate = " ".join([*current, word])
            if current and count(candidate) > budget:
                pieces.append(_Line(line.number, " ".join(current), count(" ".join(current))))
                current = [word]
            else:
                current.append(word)
    if current:
        pieces.append(_Line(line.number, " ".join(current), count(" ".join(current))))
    return pieces


def _lines(text: str, budget: int, count: TokenCounter) -> list[_Line]:
    out: list[_Line] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        line = _Line(number, stripped, count(stripped))
        out.extend(_split_long(line, budget, count) if line.tokens > budget else [line])
    return out


def chunk_text(
    text: str,
    count: TokenCounter,
    *,
    max_tokens: int = 160,
    overlap_tokens: int = 32,
    max_chunks: int = 120,
) -> list[ChunkSpec]:
    """Whole lines packed up to `max_tokens`; the next chunk repeats trailing lines worth up to
    `overlap_tokens`. Raises ChunkLimitExceeded past `max_chunks`, Invalid for no text."""
    if max_tokens < 8 or not 0 <= overlap_tokens < max_tokens:
        raise ValueError("chunk sizes: need max_tokens >= 8 and 0 <= overlap_tokens < max_tokens")
    lines = _lines(text, max_tokens, count)
    if not lines:
        raise Invalid("There is no text to index in this document.", code="nothing_to_index")
    chunks: list[ChunkSpec] = []
    start = 0
    while start < len(lines):
        end, used = start, 0
        while end < len(lines) and (end == start or used + lines[end].tokens <= max_tokens):
            used += lines[end].tokens
            end += 1
        window = lines[start:end]
        chunks.append(
            ChunkSpec(
                ordinal=len(chunks),
                text="\n".join(line.text for line in window),
                start_line=window[0].number,
                end_line=window[-1].number,
                token_count=used,
            )
        )
        if len(chunks) > max_chunks:
            raise ChunkLimitExceeded(_estimate_total(len(lines), end, len(chunks)), max_chunks)
        if end >= len(lines):
            break
        # Step back over trailing lines that fit in the overlap, but always move forward.
        back, carried = end, 0
        while back - 1 > start and carried + lines[back - 1].tokens <= overlap_tokens:
            back -= 1
            carried += lines[back].tokens
        start = back
    return chunks


def _estimate_total(total_lines: int, lines_done: int, chunks_done: int) -> int:
    return max(chunks_done, round(chunks_done * total_lines / max(lines_done, 1)))
