"""Delivery measures counted from the transcript, and the rule-based hiring signal built on the scores.

Nothing here asks the model: filler words, hedges, answer length and timings are counted, so a
candidate can check every figure against their own words. Timings come from the turns' clocks:
the time to answer is the candidate turn's time minus the interviewer turn before it (for typed
answers that includes typing, so it is only ever called a response time); words per minute need
the length of the spoken answer, which only voice answers have.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from statistics import fmean
from typing import Any, Literal

from mocki.interviews import analysis

Signal = Literal["strong_hire", "hire", "lean_no", "no"]
SIGNAL_LABELS: dict[str, str] = {
    "strong_hire": "Strong hire",
    "hire": "Hire",
    "lean_no": "Lean no",
    "no": "No hire",
}
# An answer averaging below this (0-5) is a weak answer; the signal counts them for consistency.
WEAK_ANSWER = 2.5
# Per 100 words: above these the delivery gets called out as a weakness, below as a strength.
FILLERS_HIGH, FILLERS_LOW = 3.0, 1.0
HEDGES_HIGH = 3.0
SHORT_ANSWER_WORDS = 40
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")


def word_count(text: str) -> int:
    """Words, with each Chinese character counted as one (Chinese is measured in characters)."""
    return len(analysis.words(text)) + len(_CJK_CHAR.findall(text))


def _per(count: float, base: float | None, unit: float) -> float | None:
    if not base:
        return None
    return round(count / base * unit, 2)


def answer_measures(
    answers: Sequence[str], response_s: Sequence[float], speech_s: Sequence[float]
) -> dict[str, Any]:
    """The measures of one question's answers (follow-ups included).

    `response_s` has one entry per answer whose timing is known; the first is the time to start
    on the main question. `speech_s` is the spoken length of voice answers; when not every answer
    has one, the per-minute figures stay null rather than mixing typed and spoken answers.
    """
    text = "\n".join(answers)
    words = word_count(text)
    fillers = analysis.filler_hits(text)
    hedges = analysis.hedge_hits(text)
    spoken = sum(speech_s) if speech_s and len(speech_s) == len(answers) else None
    n_fillers = sum(fillers.values())
    return {
        "words": words,
        "fillers": n_fillers,
        "fillers_per_100_words": _per(n_fillers, words, 100) or 0.0,
        "fillers_per_minute": _per(n_fillers, spoken, 60),
        "filler_terms": dict(fillers.most_common(5)),
        "hedges": sum(hedges.values()),
        "hedges_per_100_words": _per(sum(hedges.values()), words, 100) or 0.0,
        "hedge_terms": dict(hedges.most_common(5)),
        "response_s": round(response_s[0], 1) if response_s else None,
        "speech_s": round(spoken, 1) if spoken else None,
        "words_per_minute": _per(words, spoken, 60),
    }


def overall_measures(per_answer: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The whole interview's measures from the per-answer ones; None when nothing was answered."""
    if not per_answer:
        return None
    words = sum(m["words"] for m in per_answer)
    fillers = sum(m["fillers"] for m in per_answer)
    hedges = sum(m["hedges"] for m in per_answer)
    terms: Counter[str] = Counter()
    for m in per_answer:
        terms.update(m.get("filler_terms") or {})
    responses = [m["response_s"] for m in per_answer if m.get("response_s") is not None]
    spoken_all = all(m.get("speech_s") for m in per_answer)
    spoken = sum(m["speech_s"] for m in per_answer) if spoken_all else None
    return {
        "answers": len(per_answer),
        "words": words,
        "mean_words": round(words / len(per_answer), 1),
        "fillers": fillers,
        "fillers_per_100_words": _per(fillers, words, 100) or 0.0,
        "fillers_per_minute": _per(fillers, spoken, 60),
        "filler_terms": dict(terms.most_common(5)),
        "hedges": hedges,
        "hedges_per_100_words": _per(hedges, words, 100) or 0.0,
        "mean_response_s": round(fmean(responses), 1) if responses else None,
        "words_per_minute": _per(words, spoken, 60),
    }


# ----------------------------------------------------------------------------- hiring signal


def item_mean(scores: Mapping[str, float | None]) -> float:
    """One answer's score (0-5): the mean of the dimensions it was scored on."""
    values = [v for v in scores.values() if v is not None]
    return fmean(values) if values else 0.0


def dimension_means(items: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Mean of each dimension over the answers scored on it (correctness: technical ones only)."""
    collected: dict[str, list[float]] = {}
    for item in items:
        for name, value in item["scores"].items():
            if value is not None:
                collected.setdefault(name, []).append(float(value))
    return {name: round(fmean(values), 2) for name, values in collected.items()}


def hiring_signal(items: Sequence[Mapping[str, Any]], overall: float | None) -> Signal:
    """A verdict from the overall score, held back when the answers are uneven.

    One weak answer among strong ones costs a step: interviewers read inconsistency as risk.
    """
    if not items or overall is None:
        return "no"
    weak = sum(item_mean(i["scores"]) < WEAK_ANSWER for i in items)
    if overall >= 80 and weak == 0:
        return "strong_hire"
    if overall >= 65 and weak <= len(items) // 4:
        return "hire"
    if overall >= 45:
        return "lean_no"
    return "no"


_DIMENSION_PRAISE = {
    "relevance": "Answers stayed on the question that was asked",
    "structure": "Answers were well structured",
    "depth": "Answers were specific, with tools, numbers and own decisions",
    "communication": "Clear, concise delivery",
    "correctness": "Technical answers covered the key points",
}
_DIMENSION_CRITIQUE = {
    "relevance": "Answers drifted from the question asked",
    "structure": "Answers lacked a clear structure (situation, action, result or steps and trade-offs)",
    "depth": "Answers stayed general: few tools, numbers or own decisions",
    "communication": "Delivery was hard to follow: fillers or long run-on sentences",
    "correctness": "Technical answers missed key points a strong answer names",
}


def strengths_and_weaknesses(
    items: Sequence[Mapping[str, Any]], overall_m: Mapping[str, Any] | None
) -> tuple[list[str], list[str]]:
    """Two or three bullets each, from the dimension means and the delivery measures."""
    if not items:
        return [], ["No answers were given."]
    means = dimension_means(items)
    ranked = sorted(means.items(), key=lambda kv: (-kv[1], kv[0]))
    strengths = [
        f"{_DIMENSION_PRAISE[d]} ({v:.1f}/5)." for d, v in ranked if v >= 3.5 and d in _DIMENSION_PRAISE
    ]
    weaknesses = [
        f"{_DIMENSION_CRITIQUE[d]} ({v:.1f}/5)."
        for d, v in reversed(ranked)
        if v < 3.0 and d in _DIMENSION_CRITIQUE
    ]
    if overall_m:
        per100 = overall_m["fillers_per_100_words"]
        if per100 > FILLERS_HIGH:
            top = ", ".join(f'"{t}"' for t in list(overall_m["filler_terms"])[:3])
            weaknesses.insert(0, f"Many filler words: {per100:.1f} per 100 words ({top}).")
        elif per100 < FILLERS_LOW and overall_m["words"] >= 50:
            strengths.append(f"Few filler words ({per100:.1f} per 100 words).")
        if overall_m["hedges_per_100_words"] > HEDGES_HIGH:
            weaknesses.append(
                f"Frequent hedging ({overall_m['hedges_per_100_words']:.1f} per 100 words) "
                "made answers sound unsure."
            )
        if overall_m["mean_words"] < SHORT_ANSWER_WORDS:
            weaknesses.append(f"Answers were short: {overall_m['mean_words']:.0f} words on average.")
    if not strengths:
        best, value = ranked[0]
        strengths.append(f"Relatively strongest: {best} ({value:.1f}/5).")
    if not weaknesses:
        worst, value = ranked[-1]
        weaknesses.append(f"Most room to grow: {worst} ({value:.1f}/5).")
    return strengths[:3], weaknesses[:3]
