"""Hypothesis strategies that damage a valid file: flipped bytes, cut tails, inserted garbage.

A parser meets real files that are almost right far more often than pure noise; mutating a valid
sample reaches its deeper code paths (a PDF's xref, a docx's XML) that random bytes never do.
"""

from __future__ import annotations

from hypothesis import strategies as st


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, *, max_edits: int = 8) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_edits))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(("flip", "cut", "insert", "delete", "repeat")))
        if edit == "flip":
            data[at] = draw(st.integers(0, 255))
        elif edit == "cut":
            del data[at:]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 256))]
        else:
            end = min(len(data), at + draw(st.integers(1, 64)))
            data[at:at] = data[at:end] * draw(st.integers(2, 20))
    return bytes(data)
