"""`mocki eval retrieval`: how often the right pair ranks first (or in the top k) for each search mode.

Any knowledge base of question–answer pairs and any set of cases in the documented JSONL format is
indexed into a throw-away in-process store with the product's own model, store and ranking code,
so the figures measure what users get rather than a re-implementation of it.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from rich.console import Console
from rich.table import Table

from mocki.core.jsonl import records
from mocki.retrieval import merge
from mocki.retrieval.embeddings import MiniLM
from mocki.retrieval.store import EdgeStore, PairHit, VectorPoint
from mocki.settings import Settings

OWNER = "eval"
KIND = "kb"
MODES: tuple[merge.Mode, ...] = get_args(merge.Mode)
FUSIONS: tuple[merge.Fusion, ...] = get_args(merge.Fusion)
SWEEP_WEIGHTS = tuple(round(step / 10, 1) for step in range(11))
SWEEP_RRF_K = (1, 5, 10, 60)
# Point ids must be UUIDs; deriving them from the KB id keeps a KB's points the same on every run.
_ID_NAMESPACE = uuid.UUID("5f0c7a52-5a2e-4f0e-9c1e-3f3b6f1d2a90")


class EvalInputError(ValueError):
    """A KB or cases file (or option) the evaluation cannot use; the message names file and line."""


@dataclass(frozen=True)
class KBItem:
    id: str
    category: str
    question: str
    answer: str


@dataclass(frozen=True)
class Case:
    query: str
    expected_id: str
    acceptable: frozenset[str]  # expected_id and every also-acceptable id
    category: str


@dataclass(frozen=True)
class Params:
    """How the merged mode combines the two vectors."""

    fusion: merge.Fusion
    weight_query: float
    rrf_k: int


@dataclass(frozen=True)
class Metrics:
    top1: float
    topk: float
    top3: float
    mrr: float


# Reading and validating input


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line."""
    return records(path, EvalInputError)


def _text(record: Mapping[str, Any], field: str, where: str) -> str:
    value = record.get(field)
    if value is None:
        raise EvalInputError(f"{where}: missing field {field!r}")
    if not isinstance(value, str):
        raise EvalInputError(f"{where}: field {field!r} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise EvalInputError(f"{where}: field {field!r} is empty")
    return value


def load_kb(path: Path) -> list[KBItem]:
    """Every pair of the KB, in file order; extra fields are ignored."""
    items: list[KBItem] = []
    first_line: dict[str, int] = {}
    for number, record in _records(path):
        where = f"{path}:{number}"
        item = KBItem(*(_text(record, field, where) for field in ("id", "category", "question", "answer")))
        if item.id in first_line:
            raise EvalInputError(f"{where}: duplicate id {item.id!r} (first on line {first_line[item.id]})")
        first_line[item.id] = number
        items.append(item)
    if not items:
        raise EvalInputError(f"{path}: no KB items (expected JSON lines with id, category, question, answer)")
    return items


def _also_acceptable(record: Mapping[str, Any], where: str) -> list[str]:
    value = record.get("also_acceptable_ids_auto")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise EvalInputError(f"{where}: field 'also_acceptable_ids_auto' must be a list of id strings")
    return value


def load_cases(path: Path, kb: Mapping[str, KBItem]) -> list[Case]:
    """Every case, with its category from the case or else from its expected KB item."""
    cases: list[Case] = []
    for number, record in _records(path):
        where = f"{path}:{number}"
        query = _text(record, "query", where)
        expected = _text(record, "expected_id", where)
        if expected not in kb:
            raise EvalInputError(f"{where}: expected_id {expected!r} is not an id in the KB")
        category = _text(record, "category", where) if record.get("category") is not None else None
        acceptable = frozenset([expected, *_also_acceptable(record, where)])
        cases.append(Case(query, expected, acceptable, category or kb[expected].category))
    if not cases:
        raise EvalInputError(f"{path}: no cases (expected JSON lines with query and expected_id)")
    return cases


def _params(settings: Settings, weight: float | None, fusion: str | None) -> Params:
    chosen = fusion or settings.retrieval.fusion
    if chosen not in FUSIONS:
        raise EvalInputError(f"unknown fusion {chosen!r}; choose one of {', '.join(FUSIONS)}")
    weight_query = settings.retrieval.weight_query if weight is None else weight
    if not 0.0 <= weight_query <= 1.0:
        raise EvalInputError(f"weight must be between 0 and 1, got {weight_query}")
    return Params(chosen, weight_query, settings.retrieval.rrf_k)


def _modes(modes: Sequence[str]) -> list[merge.Mode]:
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise EvalInputError(f"unknown mode {unknown[0]!r}; choose from {', '.join(MODES)}")
    return [m for m in MODES if m in modes]


# Metrics


def first_rank(ranked_ids: Sequence[str], acceptable: Collection[str]) -> int | None:
    """0-based position of the first acceptable id, None when no candidate is acceptable."""
    return next((n for n, pid in enumerate(ranked_ids) if pid in acceptable), None)


def hit_rate(ranks: Sequence[int | None], k: int) -> float:
    return sum(r is not None and r < k for r in ranks) / len(ranks) if ranks else 0.0


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """Over the candidate list: a case whose answer is not among the candidates counts 0."""
    return sum(0.0 if r is None else 1.0 / (r + 1) for r in ranks) / len(ranks) if ranks else 0.0


def metrics(ranks: Sequence[int | None], k: int) -> Metrics:
    return Metrics(hit_rate(ranks, 1), hit_rate(ranks, k), hit_rate(ranks, 3), mean_reciprocal_rank(ranks))


def ranked_ids(
    hits: Sequence[PairHit], mode: merge.Mode, params: Params, kb_ids: Mapping[str, str]
) -> list[str]:
    """KB ids best first, ranked by the product's merge code."""
    ranked = merge.rank(
        hits, mode, fusion=params.fusion, weight_query=params.weight_query, rrf_k=params.rrf_k
    )
    return [kb_ids[r.hit.id] for r in ranked]


def case_ranks(
    candidates: Sequence[Sequence[PairHit]],
    cases: Sequence[Case],
    mode: merge.Mode,
    params: Params,
    kb_ids: Mapping[str, str],
) -> list[int | None]:
    return [
        first_rank(ranked_ids(hits, mode, params, kb_ids), case.acceptable)
        for hits, case in zip(candidates, cases, strict=True)
    ]


# Indexing and searching with the product's code


def load_model(settings: Settings) -> MiniLM:
    """The packaged model in this process: a CLI run blocks nobody, so no pool is needed."""
    cfg = settings.embeddings
    return MiniLM(batch_size=cfg.batch_size, threads=cfg.threads, max_tokens=cfg.max_tokens)


def point_id(kb_id: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, kb_id))


def index(store: EdgeStore, model: MiniLM, items: Sequence[KBItem], settings: Settings) -> dict[str, str]:
    """Embed both sides of every pair as the product does and upsert them; returns point id → KB id.

    No HNSW is built (no `optimize`), so every search is exact: the figures measure the embeddings
    and the merge, not the approximate index (`mocki bench retrieval` times that one).
    """
    questions = model.embed([i.question for i in items])
    answers = model.embed([i.answer for i in items], max_tokens=settings.embeddings.answer_max_tokens)
    points = [
        VectorPoint(point_id(item.id), questions[n], answers[n], OWNER, KIND, item.id)
        for n, item in enumerate(items)
    ]
    store.upsert(points)
    return {p.id: p.source for p in points}


def search(
    store: EdgeStore, model: MiniLM, cases: Sequence[Case], settings: Settings
) -> tuple[list[list[PairHit]], list[float]]:
    """Candidates of every case (each query embedded once) and the search time of each in ms."""
    vectors = model.embed([c.query for c in cases])
    candidates: list[list[PairHit]] = []
    search_ms: list[float] = []
    for vector in vectors:
        started = time.perf_counter()
        candidates.append(
            store.search_pairs(vector, owners=[OWNER], kinds=[KIND], limit=settings.retrieval.candidates)
        )
        search_ms.append((time.perf_counter() - started) * 1000)
    return candidates, search_ms


# The evaluation


def _by_category(
    cases: Sequence[Case], ranks: Mapping[merge.Mode, Sequence[int | None]], k: int
) -> dict[str, dict[str, dict[str, float]]]:
    result: dict[str, dict[str, dict[str, float]]] = {}
    for category in sorted({c.category for c in cases}):
        members = [n for n, c in enumerate(cases) if c.category == category]
        result[category] = {}
        for mode, mode_ranks in ranks.items():
            m = metrics([mode_ranks[n] for n in members], k)
            result[category][mode] = {"top1": _r(m.top1), "topk": _r(m.topk), "mrr": _r(m.mrr)}
    return result


def _sweep(
    candidates: Sequence[Sequence[PairHit]], cases: Sequence[Case], kb_ids: Mapping[str, str], k: int
) -> list[dict[str, Any]]:
    """Merged-mode figures for each weight, with the weighted sum and with RRF at several k."""
    rows: list[dict[str, Any]] = []
    for weight in SWEEP_WEIGHTS:
        # rrf_k is unused by the weighted sum.
        variants = [Params("weighted", weight, 0), *(Params("rrf", weight, rrf_k) for rrf_k in SWEEP_RRF_K)]
        for params in variants:
            m = metrics(case_ranks(candidates, cases, "merged", params, kb_ids), k)
            rows.append(
                {
                    "fusion": params.fusion,
                    "weight_query": weight,
                    "rrf_k": params.rrf_k if params.fusion == "rrf" else None,
                    "top1": _r(m.top1),
                    "topk": _r(m.topk),
                    "mrr": _r(m.mrr),
                }
            )
    return rows


def _r(value: float) -> float:
    return round(value, 4)


def run(
    settings: Settings,
    kb_path: Path,
    cases_path: Path,
    *,
    k: int = 3,
    modes: Sequence[str] = MODES,
    weight: float | None = None,
    fusion: str | None = None,
    sweep: bool = False,
    console: Console | None = None,
) -> dict[str, Any]:
    """Index `kb_path`, run every case of `cases_path`, print the tables and return the figures."""
    if k < 1:
        raise EvalInputError(f"k must be at least 1, got {k}")
    params = _params(settings, weight, fusion)
    chosen = _modes(modes)
    kb = load_kb(kb_path)
    cases = load_cases(cases_path, {item.id: item for item in kb})

    started = time.perf_counter()
    model = load_model(settings)
    model_load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="mocki-eval-") as tmp:
        store = EdgeStore(Path(tmp) / "shard", settings.embeddings.dim)
        try:
            started = time.perf_counter()
            kb_ids = index(store, model, kb, settings)
            index_s = time.perf_counter() - started
            candidates, search_ms = search(store, model, cases, settings)
        finally:
            store.close()

    ranks = {mode: case_ranks(candidates, cases, mode, params, kb_ids) for mode in chosen}
    figures: dict[str, Any] = {
        "kb_size": len(kb),
        "cases": len(cases),
        "k": k,
        "fusion": params.fusion,
        "weight_query": params.weight_query,
        "rrf_k": params.rrf_k,
        "candidates": settings.retrieval.candidates,
        "answer_max_tokens": settings.embeddings.answer_max_tokens,
        "model_load_s": round(model_load_s, 2),
        "index_s": round(index_s, 2),
        "index_pairs_per_s": round(len(kb) / index_s, 1),
        "search_ms_median": round(statistics.median(search_ms), 2),
    }
    for mode, mode_ranks in ranks.items():
        m = metrics(mode_ranks, k)
        figures.update({f"top1_{mode}": _r(m.top1), f"top{k}_{mode}": _r(m.topk), f"mrr_{mode}": _r(m.mrr)})
        figures[f"top3_{mode}"] = _r(m.top3)
    figures["by_category"] = _by_category(cases, ranks, k)
    figures["cases_by_category"] = {
        cat: sum(c.category == cat for c in cases) for cat in figures["by_category"]
    }
    if sweep:
        figures["sweep"] = _sweep(candidates, cases, kb_ids, k)
    _print(console or Console(width=160), figures, chosen)
    return figures


# Output


def _print(console: Console, figures: Mapping[str, Any], modes: Sequence[merge.Mode]) -> None:
    k = figures["k"]
    merged = f"{figures['fusion']}, weight_query {figures['weight_query']}" + (
        f", rrf_k {figures['rrf_k']}" if figures["fusion"] == "rrf" else ""
    )
    console.print(
        f"retrieval: {figures['cases']} cases over {figures['kb_size']} pairs; "
        f"{figures['candidates']} candidates per vector; merged = {merged}"
    )
    depths = sorted({1, k, 3})
    summary = Table(title="by mode")
    summary.add_column("mode")
    for depth in depths:
        summary.add_column(f"top-{depth}", justify="right")
    summary.add_column("MRR", justify="right")
    for mode in modes:
        cells = [f"{figures[f'top{depth}_{mode}']:.3f}" for depth in depths]
        summary.add_row(mode, *cells, f"{figures[f'mrr_{mode}']:.3f}")
    console.print(summary)
    _print_categories(console, figures["by_category"], figures["cases_by_category"], modes, k)
    if "sweep" in figures:
        _print_sweep(console, figures["sweep"], k)
    console.print(
        f"model load {figures['model_load_s']:.2f} s; index {figures['index_s']:.2f} s "
        f"({figures['index_pairs_per_s']:.0f} pairs/s, answers embedded from their first "
        f"{figures['answer_max_tokens']} tokens); search median {figures['search_ms_median']:.2f} ms"
    )


def _print_categories(
    console: Console,
    by_category: Mapping[str, Mapping[str, Mapping[str, float]]],
    counts: Mapping[str, int],
    modes: Sequence[merge.Mode],
    k: int,
) -> None:
    table = Table(title=f"by category (top-1 / top-{k} / MRR)")
    table.add_column("category")
    table.add_column("cases", justify="right")
    for mode in modes:
        table.add_column(mode, justify="right")
    for category, per_mode in by_category.items():
        cells = [
            f"{per_mode[m]['top1']:.3f} / {per_mode[m]['topk']:.3f} / {per_mode[m]['mrr']:.3f}" for m in modes
        ]
        table.add_row(category, str(counts[category]), *cells)
    console.print(table)


def _print_sweep(console: Console, rows: Sequence[Mapping[str, Any]], k: int) -> None:
    table = Table(title=f"merged-mode sweep (top-1/top-{k}/MRR)")
    table.add_column("weight_query", justify="right")
    table.add_column("weighted", justify="right")
    for rrf_k in SWEEP_RRF_K:
        table.add_column(f"rrf k={rrf_k}", justify="right")
    for weight in SWEEP_WEIGHTS:
        cells = [
            f"{r['top1']:.3f}/{r['topk']:.3f}/{r['mrr']:.3f}" for r in rows if r["weight_query"] == weight
        ]
        table.add_row(f"{weight:.1f}", *cells)
    console.print(table)
