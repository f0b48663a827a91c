"""Query–answer pairs for a chunk of a resume or job description.

The model proposes the questions an interviewer would ask about the chunk and the answer the
chunk supports; a rule always adds one pair whose answer is the chunk itself, so a document is
searchable even when the model's output is unusable (the packaged tiny model's usually is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mocki.llm.base import ChatMessage

PAIR_SYSTEM = (
    "You prepare job interviews. From the text, write questions an interviewer would ask the "
    "candidate and the answer the text supports. Use exactly this format, nothing else:\n"
    "Q: <question>\nA: <answer in one or two sentences>"
)

_WHAT = {"resume": "part of the candidate's resume", "job_description": "part of the job description"}
_Q = re.compile(r"^\s*(?:\d+[.)]\s*)?(?:Q|Question)\s*\d*\s*[:.]\s*(.+)$", re.IGNORECASE)
_A = re.compile(r"^\s*(?:A|Answer)\s*\d*\s*[:.]\s*(.+)$", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'+#.-]*")
MAX_QUESTION_CHARS = 300
MAX_ANSWER_CHARS = 600


@dataclass(frozen=True)
class PairSpec:
    question: str
    answer: str
    origin: str  # model | rule


def prompt(kind: str, chunk: str, n: int) -> list[ChatMessage]:
    return [
        {"role": "system", "content": PAIR_SYSTEM},
        {"role": "user", "content": f"{_WHAT.get(kind, 'text')} :\n{chunk}\n\nWrite {n} pairs."},
    ]


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) > 3}


def parse(output: str, chunk: str, n: int) -> list[PairSpec]:
    """Q:/A: pairs from the model's output that are questions and share words with the chunk.

    An answer that shares nothing with its chunk is invented, not supported: it is dropped.
    """
    pairs: list[PairSpec] = []
    seen: set[str] = set()
    question: str | None = None
    source_words = _words(chunk)
    for line in output.splitlines():
        if (m := _Q.match(line)) is not None:
            question = m.group(1).strip()
            continue
        if (m := _A.match(line)) is None or question is None:
            continue
        answer = m.group(1).strip()
        q, question = question, None
        key = q.lower()
        if (
            not q.endswith("?")
            or len(q.split()) < 4
            or len(answer.split()) < 3
            or key in seen
            or not (_words(answer) & source_words)
        ):
            continue
        seen.add(key)
        pairs.append(PairSpec(q[:MAX_QUESTION_CHARS], answer[:MAX_ANSWER_CHARS], "model"))
        if len(pairs) >= n:
            break
    return pairs


def rule_pair(kind: str, chunk: str) -> PairSpec:
    """The chunk as the answer to the question it most plainly raises."""
    head = chunk.splitlines()[0].strip() if chunk.strip() else ""
    head = head if len(head) <= 90 else head[:87].rsplit(" ", 1)[0] + "..."
    if kind == "job_description":
        question = f"How does your experience match this part of the role: {head}?"
    else:
        question = f"Can you tell me about this part of your background: {head}?"
    return PairSpec(question, chunk[: MAX_ANSWER_CHARS * 4], "rule")
