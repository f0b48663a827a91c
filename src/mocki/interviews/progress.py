"""Progress across interviews: a score time series and the weak points the next interview targets.

Everything here is computed from the stored reports (per answer: its category and 0-5 scores on
the rubric dimensions of `interviews.report`; per interview: the 0-100 overall score), so a
candidate can check every figure against their reports. The functions are pure over plain data;
`load_sessions` is the one reader of the database.

A weak point is a dimension (relevance, structure, ...) or a question category (behavioural,
coding, ...) whose recent average is below `WEAK_BELOW`. Recent means the last `WINDOW`
interviews that have it, the newer weighing more. The next interview's questions are nudged
towards the categories and tags that exercise the weakest ones (`focus_for`), and each question
picked for that carries the weak point's reason (`PlannedQuestion.target`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from statistics import fmean
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from mocki.cache.families import PROGRESS
from mocki.cache.reads import adapter_of, read_json, read_model
from mocki.core.timeutil import as_utc
from mocki.interviews import measures, repository
from mocki.interviews.engine import Plan
from mocki.interviews.report import DIMENSIONS
from mocki.interviews.schemas import ProgressOut
from mocki.questions import service as questions
from mocki.questions.schemas import CATEGORIES

# The chart shows at most this many interviews, the newest.
MAX_SERIES = 20
# Weak points rest on each metric's last WINDOW interviews, weighted 1, 2, ... WINDOW (newest).
WINDOW = 5
# Below this average (0-5) a dimension or category is a weak point; the report calls the same
# range "to work on" (`measures.strengths_and_weaknesses`).
WEAK_BELOW = 3.0
# The latest interview this far (0-5) above or below the earlier ones in the window is a trend.
TREND_STEP = 0.3
# The next interview targets at most this many weak points, the weakest.
MAX_FOCUS = 3
# A targeted question ranks FOCUS_BONUS * (0.5 + severity) higher: 3 to 9 points, against keyword
# scores of about 0-15 and retrieval's up to 9, so relevance to the job still counts.
FOCUS_BONUS = 6.0

ALL_DIMENSIONS: tuple[str, ...] = (*DIMENSIONS, "correctness")
Kind = Literal["dimension", "category"]
Trend = Literal["improving", "declining", "flat"]

_LABELS = {"system_design": "system design"}
# Which bank questions exercise a weak dimension: STAR stories train structure, questions with a
# right answer train correctness, design questions make you name numbers and trade-offs.
DIMENSION_PRACTICE: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "relevance": (frozenset({"knowledge"}), frozenset()),
    "structure": (frozenset({"behavioural"}), frozenset()),
    "depth": (frozenset({"system_design"}), frozenset({"tradeoffs", "impact", "performance"})),
    "communication": (
        frozenset(),
        frozenset({"communication", "stakeholders", "collaboration", "conflict", "feedback"}),
    ),
    "correctness": (frozenset({"knowledge", "coding"}), frozenset()),
}


@dataclass(frozen=True)
class SessionScores:
    """One ended interview with a ready report, as read from the database."""

    interview_id: uuid.UUID
    date: datetime
    target_role: str
    company: str
    overall_score: float | None
    items: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Point:
    """One interview on the chart: overall 0-100, dimension and category averages 0-5."""

    interview_id: uuid.UUID
    date: datetime
    target_role: str
    company: str
    overall_score: float | None
    answers: int
    dimensions: dict[str, float]
    categories: dict[str, float]


@dataclass(frozen=True)
class WeakPoint:
    kind: Kind
    name: str
    label: str
    average: float
    interviews: int
    trend: Trend
    reason: str


@dataclass
class Progress:
    points: list[Point] = field(default_factory=list)
    weak_points: list[WeakPoint] = field(default_factory=list)


# ------------------------------------------------------------------------------ the series


def label_of(name: str) -> str:
    return _LABELS.get(name, name)


def category_means(items: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Mean answer score (0-5) per question category; items without a category are left out."""
    collected: dict[str, list[float]] = {}
    for item in items:
        category = str(item.get("category") or "")
        if category in CATEGORIES:
            collected.setdefault(category, []).append(measures.item_mean(item["scores"]))
    return {name: round(fmean(values), 2) for name, values in collected.items()}


def point_of(session: SessionScores) -> Point:
    dimensions = measures.dimension_means(session.items)
    return Point(
        interview_id=session.interview_id,
        date=session.date,
        target_role=session.target_role,
        company=session.company,
        overall_score=session.overall_score,
        answers=len(session.items),
        dimensions={d: dimensions[d] for d in ALL_DIMENSIONS if d in dimensions},
        categories=category_means(session.items),
    )


def series(sessions: Sequence[SessionScores], cap: int = MAX_SERIES) -> list[Point]:
    """Oldest to newest, the last `cap` interviews."""
    ordered = sorted(sessions, key=lambda s: (as_utc(s.date), str(s.interview_id)))
    return [point_of(s) for s in ordered[-cap:]] if cap > 0 else []


# ----------------------------------------------------------------------------- weak points


def weighted_mean(values: Sequence[float]) -> float:
    """Oldest first; the i-th value weighs i + 1, so the newest counts most."""
    weights = range(1, len(values) + 1)
    return sum(w * v for w, v in zip(weights, values, strict=True)) / sum(weights)


def trend_of(values: Sequence[float], step: float = TREND_STEP) -> Trend:
    """The latest value against the mean of the ones before it (oldest first)."""
    if len(values) < 2:
        return "flat"
    change = values[-1] - fmean(values[:-1])
    if change >= step:
        return "improving"
    if change <= -step:
        return "declining"
    return "flat"


def recent(points: Sequence[Point], kind: Kind, name: str, window: int = WINDOW) -> list[float]:
    """The metric's values in the last `window` interviews that have it, oldest first."""
    values = [(p.dimensions if kind == "dimension" else p.categories).get(name) for p in points]
    return [v for v in values if v is not None][-window:]


def _span(n: int) -> str:
    return "your last interview" if n == 1 else f"your last {n} interviews"


def reason_for(kind: Kind, name: str, average: float, n: int, trend: Trend, weakest: bool) -> str:
    label = label_of(name)
    moving = {"improving": ", improving", "declining": ", declining", "flat": ""}[trend]
    if kind == "dimension":
        if weakest:
            return f"{label} was your weakest score in {_span(n)} ({average:.1f}/5{moving})"
        return f"{label} averaged {average:.1f}/5 in {_span(n)}{moving}"
    return f"your {label} answers averaged {average:.1f}/5 in {_span(n)} that had them{moving}"


def _candidates(points: Sequence[Point], kind: Kind, names: Sequence[str], window: int) -> list[WeakPoint]:
    found: list[tuple[str, float, list[float]]] = []
    for name in names:
        values = recent(points, kind, name, window)
        if values:
            found.append((name, round(weighted_mean(values), 2), values))
    lowest = min((avg for _, avg, _ in found), default=None)
    out: list[WeakPoint] = []
    for name, average, values in found:
        trend = trend_of(values)
        weakest = kind == "dimension" and len(found) > 1 and average == lowest
        reason = reason_for(kind, name, average, len(values), trend, weakest)
        out.append(WeakPoint(kind, name, label_of(name), average, len(values), trend, reason))
    return out


def weak_points(
    points: Sequence[Point], *, window: int = WINDOW, threshold: float = WEAK_BELOW
) -> list[WeakPoint]:
    """Dimensions and categories averaging below `threshold` recently, weakest first."""
    every = _candidates(points, "dimension", ALL_DIMENSIONS, window) + _candidates(
        points, "category", CATEGORIES, window
    )
    weak = [w for w in every if w.average < threshold]
    order = {name: i for i, name in enumerate((*ALL_DIMENSIONS, *CATEGORIES))}
    return sorted(weak, key=lambda w: (w.average, w.kind != "dimension", order[w.name]))


def progress_of(sessions: Sequence[SessionScores]) -> Progress:
    points = series(sessions)
    return Progress(points=points, weak_points=weak_points(points))


# ------------------------------------------------------------------ targeting the next interview


def severity(weak: WeakPoint, threshold: float = WEAK_BELOW) -> float:
    """0 (just under the threshold) to 1 (scored zero)."""
    return max(0.0, min(1.0, (threshold - weak.average) / threshold))


def focus_for(weak: Sequence[WeakPoint], limit: int = MAX_FOCUS) -> list[questions.Focus]:
    """What the next interview's questions should practise, for the weakest `limit` weak points."""
    out: list[questions.Focus] = []
    for point in weak[:limit]:
        if point.kind == "category":
            categories, tags = frozenset({point.name}), frozenset[str]()
        else:
            categories, tags = DIMENSION_PRACTICE[point.name]
        bonus = round(FOCUS_BONUS * (0.5 + severity(point)), 2)
        out.append(questions.Focus(categories, tags, bonus, point.reason))
    return out


def mark_targets(plan: Plan, focus: Sequence[questions.Focus], n: int) -> None:
    """Set each planned question's `target` to the reason it was picked for, if it was."""
    for question, served in zip(plan.questions, questions.targeted(plan.questions, focus, n), strict=True):
        question.target = served.reason if served is not None else None


def plan_targets(plan: Mapping[str, Any] | None) -> list[str]:
    """The distinct weak points a stored plan targets, in question order."""
    reasons = [q.get("target") for q in (plan or {}).get("questions", [])]
    return list(dict.fromkeys(r for r in reasons if isinstance(r, str) and r))


# ---------------------------------------------------------------------------------- reading


async def load_sessions(
    session: AsyncSession, owner_id: uuid.UUID, limit: int = MAX_SERIES
) -> list[SessionScores]:
    """The user's last `limit` ended interviews with a ready report."""
    rows = await repository.scored_interviews(session, owner_id, limit)
    return [
        SessionScores(
            interview_id=interview.id,
            date=as_utc(interview.ended_at or report.created_at or interview.created_at),
            target_role=interview.target_role,
            company=interview.company,
            overall_score=report.overall_score,
            items=[i for i in report.items or [] if isinstance(i.get("scores"), dict)],
        )
        for interview, report in rows
    ]


async def load_progress(session: AsyncSession, owner_id: uuid.UUID) -> Progress:
    return progress_of(await load_sessions(session, owner_id))


async def get_progress(session: AsyncSession, owner_id: uuid.UUID) -> ProgressOut:
    # Cached (mocki.cache); interviews_changed invalidates it with the owner's interview list.
    return await read_model(
        session, PROGRESS, owner_id, ProgressOut, lambda: _compute_progress(session, owner_id)
    )


async def get_progress_json(session: AsyncSession, owner_id: uuid.UUID) -> bytes:
    """GET /progress as the JSON the cache keeps, under the same key as get_progress."""
    return await read_json(
        session, PROGRESS, owner_id, adapter_of(ProgressOut), lambda: _compute_progress(session, owner_id)
    )


async def _compute_progress(session: AsyncSession, owner_id: uuid.UUID) -> ProgressOut:
    found = await load_progress(session, owner_id)
    return ProgressOut.model_validate(
        {
            "interviews": [asdict(p) for p in found.points],
            "weak_points": [asdict(w) for w in found.weak_points],
            "threshold": WEAK_BELOW,
            "window": WINDOW,
        }
    )
