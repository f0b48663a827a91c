"""`mocki bench retrieval`: time to index the real KB, and query latency at 10k–100k pairs (embedded default).

1. Index: the 2,683 pairs of `questions/qa.jsonl` through the product's path (MiniLM int8 in
   this process, questions at the model's 256-token limit and answers at their first
   `answer_max_tokens`, then upsert, flush and optimize into a fresh qdrant-edge shard), timed
   end to end. Baseline, measured in the same run on the same sample of pairs: embedding whole
   answers (256 tokens), the obvious alternative to truncating them; the full KB at 256 tokens
   takes minutes on 2 cores, so the baseline runs on a sample and the ratio is per pair.
2. Latency: real embeddings cannot fill 100k pairs here (the KB's own rate, printed, would need
   many minutes), so each corpus is built from real vectors:
   - the KB's own pairs as indexed in step 1;
   - textual variants: for a sample of KB questions, one of a few rewordings (prefix/suffix
     templates below) re-embedded by the model, paired with the original answer vector plus
     small noise;
   - the rest: a real or variant pair with Gaussian noise added to both vectors and the rows
     renormalised, the noise drawn per point so that the cosine to its source lies uniformly
     in [0.80, 0.95] (near neighbours, as paraphrases and same-topic chunks are).
   Owners: the KB, the variants and 80 % of the noisy points are public; 20 % belong to 100
   users. Each query is a real query vector (the retrieval_dev queries, then KB questions),
   embedded once, searched with the product's call (`search_pairs`, `candidates` per vector,
   owner filter on) and merged with the product's settings. Two filters are timed: public +
   one user (matches ~80 % of points, the filtered-HNSW worst case; the headline figure) and
   one user alone (a tenant's own documents). Embedding one query is timed separately.
"""

from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psutil  # type: ignore[import-untyped]  # no stubs installed
from rich.console import Console
from rich.table import Table

from bench.common import PeakRSS, median, p95
from mocki.retrieval import evaluate, merge
from mocki.retrieval.embeddings import MiniLM
from mocki.retrieval.evaluate import KBItem
from mocki.retrieval.store import PUBLIC_OWNER, EdgeStore, VectorPoint
from mocki.settings import Settings

Matrix = npt.NDArray[np.float32]

SEED = 20240611
BASELINE_SAMPLE = 100  # pairs embedded both ways for the whole-answer baseline
TEXT_VARIANTS = 400  # KB questions reworded and re-embedded for the synthetic corpora
USERS = 100
USER_SHARE = 0.2  # of the noisy points
COSINE_RANGE = (0.80, 0.95)  # of a noisy point to the pair it was made from
WARMUP_QUERIES = 10
EMBED_ONE_QUERIES = 50
UPSERT_CHUNK = 10_000
TEMPLATES = (
    "Can you explain this: {q}",
    "{q} Please give an example.",
    "In an interview you are asked: {q}",
    "Briefly, {q}",
)


@dataclass(frozen=True)
class Pairs:
    """Question and answer vectors, row n of each belonging to the same pair."""

    query: Matrix
    answer: Matrix


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def _rss_mb() -> float:
    return round(float(psutil.Process(os.getpid()).memory_info().rss) / 2**20, 1)


def _disk_mb(path: Path) -> float:
    """Blocks actually allocated (the shard's files are partly sparse)."""
    return round(sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file()) / 2**20, 1)


# 1. Indexing the real KB


def _index_kb(
    model: MiniLM, kb: Sequence[KBItem], settings: Settings, shard: Path
) -> tuple[Pairs, dict[str, float]]:
    cfg = settings.embeddings
    started, cpu_started = time.perf_counter(), time.process_time()
    questions, q_s = _timed(lambda: model.embed([i.question for i in kb]))
    answers, a_s = _timed(lambda: model.embed([i.answer for i in kb], max_tokens=cfg.answer_max_tokens))
    store = EdgeStore(shard, cfg.dim)
    try:
        points = [
            VectorPoint(evaluate.point_id(i.id), questions[n], answers[n], PUBLIC_OWNER, "question", i.id)
            for n, i in enumerate(kb)
        ]
        _, upsert_s = _timed(lambda: store.upsert(points))
        _, optimize_s = _timed(store.optimize)
    finally:
        store.close()
    total = time.perf_counter() - started
    return Pairs(questions, answers), {
        f"index_s_{len(kb)}": round(total, 2),
        # CPU seconds of this process (both model threads): near 2x the wall time on an idle
        # 2-core machine, far less when other processes compete for the cores.
        "index_cpu_s": round(time.process_time() - cpu_started, 2),
        "index_pairs_per_s": round(len(kb) / total, 1),
        "index_embed_questions_s": round(q_s, 2),
        "index_embed_answers_s": round(a_s, 2),
        "index_upsert_s": round(upsert_s, 2),
        "index_optimize_s": round(optimize_s, 2),
        "index_disk_mb": _disk_mb(shard),
    }


def _baseline(
    model: MiniLM, kb: Sequence[KBItem], settings: Settings, rng: np.random.Generator
) -> dict[str, float]:
    """Both sides of the same sample, ours (answers truncated) then whole answers (256 tokens)."""
    sample = [kb[n] for n in rng.choice(len(kb), size=min(BASELINE_SAMPLE, len(kb)), replace=False)]
    questions = [i.question for i in sample]
    answers = [i.answer for i in sample]

    def embed_pairs(answer_tokens: int) -> None:
        model.embed(questions)
        model.embed(answers, max_tokens=answer_tokens)

    _, ours = _timed(lambda: embed_pairs(settings.embeddings.answer_max_tokens))
    _, whole = _timed(lambda: embed_pairs(model.max_tokens))
    return {
        "baseline_sample_pairs": len(sample),
        "embed_s_sample_ours": round(ours, 2),
        "embed_s_sample_answer256": round(whole, 2),
        "index_speedup_vs_answer256": round(whole / ours, 2),
    }


# 2. Synthetic corpora and query latency


def _text_variants(model: MiniLM, kb: Sequence[KBItem], real: Pairs, rng: np.random.Generator) -> Pairs:
    picked = rng.choice(len(kb), size=min(TEXT_VARIANTS, len(kb)), replace=False)
    texts = [TEMPLATES[n % len(TEMPLATES)].format(q=kb[i].question) for n, i in enumerate(picked)]
    return Pairs(model.embed(texts), _perturb(real.answer[picked], rng, (0.93, 0.97)))


def _perturb(rows: Matrix, rng: np.random.Generator, cosine: tuple[float, float] = COSINE_RANGE) -> Matrix:
    """Unit rows at a random cosine in `cosine` to `rows`.

    Isotropic noise of per-dimension scale s has squared norm ≈ dim·s², so a unit row plus it
    has cosine ≈ 1/sqrt(1 + dim·s²) to the row; solve for s per point.
    """
    target = rng.uniform(*cosine, size=(len(rows), 1))
    scale = np.sqrt((1 / target**2 - 1) / rows.shape[1])
    noisy = rows + rng.standard_normal(rows.shape) * scale
    unit: Matrix = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    return unit


def _owner(n: int, base: int, rng: np.random.Generator) -> str:
    if n < base or rng.random() >= USER_SHARE:
        return PUBLIC_OWNER
    return f"user-{rng.integers(USERS)}"


def _corpus(pool: Pairs, size: int, rng: np.random.Generator) -> Iterator[list[VectorPoint]]:
    """`size` points in chunks: the pool itself first, then noisy copies of pool pairs."""
    base = len(pool.query)
    for start in range(0, size, UPSERT_CHUNK):
        rows = np.arange(start, min(start + UPSERT_CHUNK, size))
        source = rows % base
        query, answer = pool.query[source], pool.answer[source]
        noisy = rows >= base
        query[noisy] = _perturb(query[noisy], rng)
        answer[noisy] = _perturb(answer[noisy], rng)
        owners = [_owner(int(n), base, rng) for n in rows]
        yield [
            VectorPoint(
                str(uuid.uuid5(uuid.NAMESPACE_OID, f"bench-{size}-{n}")),
                query[i],
                answer[i],
                owners[i],
                "question" if owners[i] == PUBLIC_OWNER else "resume",
                f"syn-{source[i]}",
            )
            for i, n in enumerate(rows.tolist())
        ]


def _query_ms(store: EdgeStore, vectors: Matrix, owners: Sequence[str], settings: Settings) -> list[float]:
    r = settings.retrieval

    def one(vector: Matrix) -> None:
        hits = store.search_pairs(vector, owners=owners, kinds=None, limit=r.candidates)
        merge.rank(hits, "merged", fusion=r.fusion, weight_query=r.weight_query, rrf_k=r.rrf_k)

    for vector in vectors[:WARMUP_QUERIES]:
        one(vector)
    timings = []
    for vector in vectors:
        started = time.perf_counter()
        one(vector)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _measure_size(
    pool: Pairs, size: int, queries: Matrix, settings: Settings, rng: np.random.Generator, console: Console
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"mocki-bench-retrieval-{size}-") as tmp:
        shard = Path(tmp) / "shard"
        rss_start = _rss_mb()
        with PeakRSS({"bench": os.getpid()}) as rss:
            store = EdgeStore(shard, settings.embeddings.dim)
            try:
                upsert_s = 0.0
                for chunk in _corpus(pool, size, rng):
                    started = time.perf_counter()
                    store.upsert(chunk)
                    upsert_s += time.perf_counter() - started
                _, optimize_s = _timed(store.optimize)
                broad = _query_ms(store, queries, [PUBLIC_OWNER, "user-0"], settings)
                tenant = _query_ms(store, queries, ["user-0"], settings)
                users_points = store.count(owners=["user-0"])
            finally:
                store.close()
        disk = _disk_mb(shard)
    console.print(
        f"{size:,} pairs: upsert {upsert_s:.1f} s, optimize {optimize_s:.1f} s, "
        f"{disk} MB on disk; user-0 owns {users_points} points"
    )
    return {
        f"build_upsert_s_{_label(size)}": round(upsert_s, 2),
        f"build_optimize_s_{_label(size)}": round(optimize_s, 2),
        f"query_p50_ms_{_label(size)}": median(broad),
        f"query_p95_ms_{_label(size)}": p95(broad),
        f"query_mean_ms_{_label(size)}": round(statistics.fmean(broad), 3),
        f"query_p50_ms_{_label(size)}_tenant": median(tenant),
        f"query_p95_ms_{_label(size)}_tenant": p95(tenant),
        f"disk_mb_{_label(size)}": disk,
        f"rss_mb_start_{_label(size)}": rss_start,
        f"rss_mb_peak_{_label(size)}": rss.mb("bench"),
    }


def _label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def _query_texts(data: Path, kb: Sequence[KBItem], count: int, rng: np.random.Generator) -> list[str]:
    dev = [
        c.query
        for c in evaluate.load_cases(data / "questions" / "retrieval_dev.jsonl", {i.id: i for i in kb})
    ]
    extra = [kb[n].question for n in rng.choice(len(kb), size=max(0, count - len(dev)), replace=False)]
    return (dev + extra)[:count]


def _embed_one_ms(model: MiniLM, texts: Sequence[str]) -> list[float]:
    model.embed([texts[0]])  # warm-up
    timings = []
    for text in texts[:EMBED_ONE_QUERIES]:
        started = time.perf_counter()
        model.embed([text])
        timings.append((time.perf_counter() - started) * 1000)
    return timings


# The run


def _check_data(data: Path) -> None:
    missing = [p for p in ("qa.jsonl", "retrieval_dev.jsonl") if not (data / "questions" / p).is_file()]
    if missing:
        raise SystemExit(
            f"error: reference data not found: {data}/questions/ lacks {', '.join(missing)} "
            "(pass --data pointing at the shared data folder)"
        )


def _embedded(
    data: Path,
    kb: Sequence[KBItem],
    queries: int,
    settings: Settings,
    rng: np.random.Generator,
    console: Console,
) -> tuple[Pairs, Matrix, dict[str, Any]]:
    """Every step that needs the model: the KB index, the baseline, the query vectors and the text
    variants. The model is dropped on return, so the corpora's memory figures are the store's."""
    model, load_s = _timed(lambda: evaluate.load_model(settings))
    figures: dict[str, Any] = {"model_load_s": round(load_s, 2)}
    with (
        tempfile.TemporaryDirectory(prefix="mocki-bench-retrieval-kb-") as tmp,
        PeakRSS({"bench": os.getpid()}) as rss,
    ):
        real, index = _index_kb(model, kb, settings, Path(tmp) / "shard")
    figures.update(index)
    figures["rss_mb_peak_index"] = rss.mb("bench")
    figures.update(_baseline(model, kb, settings, rng))
    console.print(
        f"indexed {len(kb):,} pairs in {index[f'index_s_{len(kb)}']} s; whole answers (256 tokens) are "
        f"{figures['index_speedup_vs_answer256']}x slower to embed on a {BASELINE_SAMPLE}-pair sample"
    )
    texts = _query_texts(data, kb, queries, rng)
    query_vectors, batch_s = _timed(lambda: model.embed(texts))
    embed_one = _embed_one_ms(model, texts)
    variants, variants_s = _timed(lambda: _text_variants(model, kb, real, rng))
    figures.update(
        {
            "queries": len(texts),
            "embed_query_p50_ms": median(embed_one),
            "embed_query_p95_ms": p95(embed_one),
            "embed_queries_batch_per_s": round(len(texts) / batch_s, 1),
            "synthetic_text_variants": len(variants.query),
            "synthetic_text_variants_s": round(variants_s, 2),
        }
    )
    pool = Pairs(np.concatenate([real.query, variants.query]), np.concatenate([real.answer, variants.answer]))
    return pool, query_vectors, figures


def _run(data: Path, sizes: Sequence[int], queries: int, console: Console) -> dict[str, Any]:
    settings = Settings()
    rng = np.random.default_rng(SEED)
    kb = evaluate.load_kb(data / "questions" / "qa.jsonl")
    figures: dict[str, Any] = {
        "kb_size": len(kb),
        "cores": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    with PeakRSS({"bench": os.getpid()}) as rss:
        pool, query_vectors, embedded = _embedded(data, kb, queries, settings, rng, console)
        figures.update(embedded)
        gc.collect()
        for size in sizes:
            minutes = size / figures["index_pairs_per_s"] / 60
            console.print(
                f"{size:,} pairs by real embedding at this run's rate would take {minutes:.0f} min; "
                f"synthesised from {len(pool.query):,} real vectors instead"
            )
            figures.update(_measure_size(pool, size, query_vectors, settings, rng, console))
    figures["rss_mb_peak"] = rss.mb("bench")
    return figures


def _print(console: Console, figures: dict[str, Any], sizes: Sequence[int]) -> None:
    n = figures["kb_size"]
    index = Table(title=f"indexing the real KB ({n:,} pairs, embedded default, {figures['cores']} cores)")
    for col in ("step", "seconds"):
        index.add_column(col, justify="left" if col == "step" else "right")
    for label, key in (
        ("embed questions (256 tokens)", "index_embed_questions_s"),
        ("embed answers (first tokens)", "index_embed_answers_s"),
        ("upsert + flush", "index_upsert_s"),
        ("optimize", "index_optimize_s"),
        ("total", f"index_s_{n}"),
    ):
        index.add_row(label, f"{figures[key]:.2f}")
    index.add_row("CPU seconds of the total (2 threads)", f"{figures['index_cpu_s']:.2f}")
    index.add_row("pairs/s", f"{figures['index_pairs_per_s']:.1f}")
    index.add_row("peak RSS MB", f"{figures['rss_mb_peak_index']:.0f}")
    index.add_row(
        f"baseline: whole answers, {figures['baseline_sample_pairs']}-pair sample (ours → theirs s)",
        f"{figures['embed_s_sample_ours']:.2f} → {figures['embed_s_sample_answer256']:.2f} "
        f"({figures['index_speedup_vs_answer256']}x)",
    )
    console.print(index)

    latency = Table(title=f"query latency: search_pairs + merge, {figures['queries']} real queries (ms)")
    for col in (
        "pairs",
        "p50",
        "p95",
        "mean",
        "p50 tenant",
        "p95 tenant",
        "upsert s",
        "optimize s",
        "disk MB",
        "peak RSS MB",
    ):
        latency.add_column(col, justify="right")
    for size in sizes:
        s = _label(size)
        latency.add_row(
            f"{size:,}", f"{figures[f'query_p50_ms_{s}']:.2f}", f"{figures[f'query_p95_ms_{s}']:.2f}",
            f"{figures[f'query_mean_ms_{s}']:.2f}", f"{figures[f'query_p50_ms_{s}_tenant']:.2f}",
            f"{figures[f'query_p95_ms_{s}_tenant']:.2f}", f"{figures[f'build_upsert_s_{s}']:.1f}",
            f"{figures[f'build_optimize_s_{s}']:.1f}", f"{figures[f'disk_mb_{s}']:.1f}",
            f"{figures[f'rss_mb_peak_{s}']:.0f}",
        )  # fmt: skip
    console.print(latency)
    console.print(
        f"embedding one query: p50 {figures['embed_query_p50_ms']:.1f} ms, "
        f"p95 {figures['embed_query_p95_ms']:.1f} ms; peak RSS of the whole run "
        f"{figures['rss_mb_peak']:.0f} MB (the 256-token baseline's batches included); "
        f"load average at start {figures['load_avg_1m']}"
    )


def run(data: Path, sizes: list[int], queries: int) -> dict[str, Any]:
    """Entry point for `mocki bench retrieval`."""
    _check_data(data)
    console = Console(width=160)
    figures = _run(data, sizes, queries, console)
    _print(console, figures, sizes)
    return figures
