"""`mocki bench llm-cache`: LLM calls the answer cache saves on replayed interview prompts; wrong hits.

The workload is built at run time from the reference data (never copied here): interview
contexts (a role's system prompt, written here) each ask bank questions through one prompt
template. The mix: first asks (misses), exact repeats, human-verified paraphrases of a question
asked earlier in the same context (a right semantic hit), hard negatives (the nearest other
question of the same category and subcategory, which must not hit) and the same question in
another context (must miss). A semantic hit is wrong when the answer it reuses was written for
another question id. Answers come from the packaged model through the product's CachedLLM on a
real Redis. Baseline, in the same run: no cache, every prompt is a model call (each distinct
prompt text timed once, by its miss or a fresh call). The threshold sweep replays the same
sequence offline on the same embeddings, without the model; it must agree with the live run.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from bench.common import LlamaServer, median
from mocki.llm.base import LLM, ChatMessage
from mocki.llm.cache import AnswerCache, CachedAnswer, CachedLLM, best_match, normalise
from mocki.llm.openai_compat import OpenAICompatLLM
from mocki.retrieval.embeddings import Embedder, make_embedder
from mocki.settings import LLMCacheSettings, Settings

SEED = 20240611
PREFIX = "mocki:bench:llm-cache:"
MAX_TOKENS = 24
TEMPERATURE = 0.2
STOP = ["\n"]
# Share of bank questions (first asks) asked again verbatim later, and how often at most.
REPEAT_SHARE = 0.5
MAX_REPEATS = 2
# Share of verified questions also asked in a second context, where they must miss.
CROSS_CONTEXT_SHARE = 0.15
# A candidate this close to the question (raw text) is the same question from another source,
# not a negative: reusing its answer would be right, though its id differs.
DUPLICATE_COSINE = 0.95
SWEEP = (0.80, 0.83, 0.85, 0.87, 0.89, 0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97)

# The interview contexts: one system prompt per role, and which bank subjects each one asks.
CONTEXTS: dict[str, tuple[str, frozenset[str]]] = {
    "frontend": (
        "You interview candidates for a frontend engineer role. Output only one short follow-up question.",
        frozenset({"javascript", "react"}),
    ),
    "backend": (
        "You interview candidates for a backend engineer role. Output only one short follow-up question.",
        frozenset({"python", "sql", "databases", "hld", "microservices", "api_design"}),
    ),
    "data": (
        "You interview candidates for a data scientist role. Output only one short follow-up question.",
        frozenset({"ml_theory", "data_science"}),
    ),
}
FALLBACK_CONTEXT = "backend"

HITS = ("exact", "semantic")
Kind = Literal["first", "repeat", "paraphrase", "negative", "other_context"]


def prompt(question: str) -> str:
    return f"The candidate was asked: {question}\nSuggest one short follow-up question."


@dataclass(frozen=True)
class Ask:
    context: str
    kind: Kind
    question: str
    qid: str  # the bank question this prompt is about
    acceptable: frozenset[str]  # ids whose answer is right for this prompt, qid included

    def messages(self) -> list[ChatMessage]:
        return [
            {"role": "system", "content": CONTEXTS[self.context][0]},
            {"role": "user", "content": prompt(self.question)},
        ]


@dataclass(frozen=True)
class Workload:
    asks: list[Ask]
    duplicates_skipped: int

    def kinds(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for a in self.asks:
            counts[a.kind] += 1
        return dict(counts)


@dataclass
class Outcome:
    ask: Ask
    result: str  # exact | semantic | miss
    seconds: float
    similarity: float | None = None
    entry_qid: str | None = None

    @property
    def wrong(self) -> bool:
        return self.result == "semantic" and self.entry_qid not in self.ask.acceptable


@dataclass
class Replay:
    """Hits and misses of one pass over the workload (live, or simulated at one threshold)."""

    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(o.result == result for o in self.outcomes)

    @property
    def saved_ratio(self) -> float:
        return round((self.count("exact") + self.count("semantic")) / max(1, len(self.outcomes)), 3)

    @property
    def wrong_hits(self) -> int:
        return sum(o.wrong for o in self.outcomes)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_data(data: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    qa_path, dev_path = data / "questions" / "qa.jsonl", data / "questions" / "retrieval_dev.jsonl"
    missing = [str(p) for p in (qa_path, dev_path) if not p.is_file()]
    if missing:
        raise SystemExit(
            f"reference data not found: {', '.join(missing)}. Point --data at the folder that holds "
            "questions/qa.jsonl and questions/retrieval_dev.jsonl (../shared/data beside the checkout)."
        )
    return _read_jsonl(qa_path), _read_jsonl(dev_path)


def _context_of(row: dict[str, Any]) -> str:
    for name, (_, subjects) in CONTEXTS.items():
        if row.get("subcategory") in subjects:
            return name
    return FALLBACK_CONTEXT


async def _embed_one_by_one(embedder: Embedder, texts: Sequence[str]) -> np.ndarray[Any, Any]:
    # As the cache embeds them (one text per call), so the sweep sees the very same vectors.
    return np.stack([(await embedder.embed([t]))[0] for t in texts])


async def _negatives(
    embedder: Embedder, qa: list[dict[str, Any]], positives: list[dict[str, Any]], taken: set[str]
) -> tuple[dict[str, dict[str, Any]], int]:
    """For each positive, the nearest other bank question of its category and subcategory that is
    not a near-duplicate of it; also how many near-duplicates were passed over."""
    vectors = await embedder.embed([r["question"] for r in qa])
    index = {r["id"]: i for i, r in enumerate(qa)}
    chosen: dict[str, dict[str, Any]] = {}
    duplicates = 0
    for row in positives:
        same = [
            i
            for i, r in enumerate(qa)
            if r["category"] == row["category"]
            and r.get("subcategory") == row.get("subcategory")
            and r["id"] not in taken
        ]
        scores = vectors[same] @ vectors[index[row["id"]]]
        for j in np.argsort(-scores):
            if scores[j] >= DUPLICATE_COSINE:
                duplicates += 1
                continue
            chosen[row["id"]] = qa[same[int(j)]]
            taken.add(qa[same[int(j)]]["id"])
            break
    return chosen, duplicates


def _interleave(rng: random.Random, chains: list[list[Ask]]) -> list[Ask]:
    """One random order of all asks that keeps each chain's own order (a repeat after its first ask)."""
    pending = [list(c) for c in chains if c]
    out: list[Ask] = []
    while pending:
        weights = [len(c) for c in pending]
        chain = rng.choices(pending, weights=weights)[0]
        out.append(chain.pop(0))
        if not chain:
            pending.remove(chain)
    return out


def _with_repeats(rng: random.Random, ask: Ask) -> list[Ask]:
    repeats = rng.randint(1, MAX_REPEATS) if rng.random() < REPEAT_SHARE else 0
    return [ask] + [Ask(ask.context, "repeat", ask.question, ask.qid, ask.acceptable)] * repeats


async def build_workload(embedder: Embedder, qa: list[dict[str, Any]], dev: list[dict[str, Any]]) -> Workload:
    rng = random.Random(SEED)
    by_id = {r["id"]: r for r in qa}
    cases = [d for d in dev if d["expected_id"] in by_id]
    positives = [by_id[d["expected_id"]] for d in cases]
    taken = {d["expected_id"] for d in cases} | {i for d in cases for i in d["also_acceptable_ids_auto"]}
    negatives, duplicates = await _negatives(embedder, qa, positives, taken)
    chains: dict[str, list[list[Ask]]] = defaultdict(list)
    for case, row in zip(cases, positives, strict=True):
        context = _context_of(row)
        ok = frozenset({row["id"], *case["also_acceptable_ids_auto"]})
        first = Ask(context, "first", row["question"], row["id"], ok)
        paraphrase = Ask(context, "paraphrase", case["query"], row["id"], ok)
        chains[context].append(_with_repeats(rng, first) + _with_repeats(rng, paraphrase))
        negative = negatives.get(row["id"])
        if negative is not None:
            neg = Ask(context, "negative", negative["question"], negative["id"], frozenset({negative["id"]}))
            chains[context].append(_with_repeats(rng, neg))
        if rng.random() < CROSS_CONTEXT_SHARE:
            other = rng.choice(sorted(set(CONTEXTS) - {context}))
            chains[other].append([Ask(other, "other_context", row["question"], row["id"], ok)])
    asks = [a for name in CONTEXTS for a in _interleave(rng, chains[name])]
    return Workload(asks, duplicates)


async def _clear(redis: Redis[bytes]) -> None:
    keys = [k async for k in redis.scan_iter(match=f"{PREFIX}*", count=500)]
    if keys:
        await redis.delete(*keys)


@dataclass(frozen=True)
class Answer:
    text: str
    seconds: float  # as the caller saw it, cache lookup included
    model_s: float  # the model call alone (0 when none was made)
    cached: str | None


async def _ask(llm: LLM, ask: Ask) -> Answer:
    started = time.perf_counter()
    stream = llm.stream(ask.messages(), max_tokens=MAX_TOKENS, temperature=TEMPERATURE, stop=STOP)
    async for _ in stream:
        pass
    model_s = 0.0 if stream.usage.cached else stream.usage.latency_s
    return Answer(stream.text, time.perf_counter() - started, model_s, stream.usage.cached)


async def _live(
    llm: CachedLLM, hits: list[CachedAnswer], workload: Workload, qid_of: dict[str, str]
) -> tuple[Replay, list[Answer]]:
    replay, answers = Replay(), []
    for ask in workload.asks:
        hits.clear()
        answer = await _ask(llm, ask)
        outcome = Outcome(ask, answer.cached or "miss", answer.seconds)
        if hits:
            outcome.similarity, outcome.entry_qid = hits[0].similarity, qid_of.get(hits[0].entry)
        replay.outcomes.append(outcome)
        answers.append(answer)
    return replay, answers


def simulate(workload: Workload, vectors: dict[str, np.ndarray[Any, Any]], threshold: float) -> Replay:
    """The cache's decisions replayed offline: exact text first, then the best entry of the context."""
    replay = Replay()
    exact: set[tuple[str, str]] = set()
    entries: dict[str, list[Ask]] = defaultdict(list)
    for ask in workload.asks:
        text = normalise(prompt(ask.question))
        if (ask.context, text) in exact:
            replay.outcomes.append(Outcome(ask, "exact", 0.0))
            continue
        stored = entries[ask.context]
        if stored:
            matrix = np.stack([vectors[normalise(prompt(s.question))] for s in stored])
            index, similarity = best_match(vectors[text], matrix)
            if similarity >= threshold:
                replay.outcomes.append(Outcome(ask, "semantic", 0.0, similarity, stored[index].qid))
                continue
        replay.outcomes.append(Outcome(ask, "miss", 0.0))
        exact.add((ask.context, text))
        stored.append(ask)
    return replay


async def _baseline(llm: LLM, workload: Workload, live: list[Answer]) -> list[float]:
    """Model time of every prompt without a cache. Each distinct prompt text is timed once: a miss's
    own call, else a fresh call now; a repeat of that text would cost the same again."""
    timed: dict[tuple[str, str], float] = {}
    for ask, answer in zip(workload.asks, live, strict=True):
        if answer.cached is None:
            timed.setdefault((ask.context, normalise(prompt(ask.question))), answer.model_s)
    seconds = []
    for ask in workload.asks:
        key = (ask.context, normalise(prompt(ask.question)))
        if key not in timed:
            timed[key] = (await _ask(llm, ask)).model_s
        seconds.append(timed[key])
    return seconds


@dataclass(frozen=True)
class Measured:
    live: Replay
    answers: list[Answer]
    lookups: int
    cached_s: float
    baseline: list[float]


async def _measure(
    model: str, workload: Workload, embedder: Embedder, cache_settings: LLMCacheSettings, console: Console
) -> Measured:
    redis: Redis[bytes] = Redis.from_url(os.environ.get("MOCKI_BENCH_REDIS", "redis://127.0.0.1:6379/7"))
    hits: list[CachedAnswer] = []
    cache = AnswerCache(redis, embedder, cache_settings, f"bench-{model}", prefix=PREFIX, on_hit=hits.append)
    qid_of: dict[str, str] = {}
    for ask in workload.asks:
        keys = cache.keys(ask.messages(), max_tokens=MAX_TOKENS, temperature=TEMPERATURE, stop=STOP)
        assert keys is not None
        qid_of[keys.exact] = ask.qid
    try:
        await _clear(redis)
        with LlamaServer(model) as server:
            console.print(f"model {model}: {server.path.name}, loaded in {server.load_s:.1f} s")
            inner = OpenAICompatLLM(server.base_url, "local", "local")
            try:
                await _ask(inner, workload.asks[0])  # warm-up: the first call after load pays one-off costs
                started = time.perf_counter()
                live, answers = await _live(CachedLLM(inner, cache), hits, workload, qid_of)
                cached_s = time.perf_counter() - started
                baseline = await _baseline(inner, workload, answers)
            finally:
                await inner.aclose()
    finally:
        await _clear(redis)
        await redis.aclose()
    return Measured(live, answers, cache.stats.lookups, cached_s, baseline)


async def _run(data: Path, model: str, threshold: float | None, console: Console) -> dict[str, Any]:
    qa, dev = load_data(data)
    settings = Settings(env="test")  # MOCKI_LLM_CACHE__SEMANTIC_THRESHOLD applies, as in the app
    cache_settings = settings.llm_cache
    if threshold is not None:
        cache_settings = cache_settings.model_copy(update={"semantic_threshold": threshold})
    embedder = make_embedder(settings, inline=True)
    try:
        workload = await build_workload(embedder, qa, dev)
        texts = sorted({normalise(prompt(a.question)) for a in workload.asks})
        vectors = dict(zip(texts, await _embed_one_by_one(embedder, texts), strict=True))
        measured = await _measure(model, workload, embedder, cache_settings, console)
    finally:
        await embedder.aclose()
    used = cache_settings.semantic_threshold
    sweep = {t: simulate(workload, vectors, t) for t in sorted({*SWEEP, used})}
    figures = _figures(model, used, workload, measured, sweep)
    _print(console, measured.live, sweep, figures)
    return figures


def _recommended(sweep: dict[float, Replay]) -> tuple[float | None, float | None]:
    """The lowest swept threshold above every wrong match seen at any threshold, and that similarity."""
    wrong = [o.similarity or 0.0 for r in sweep.values() for o in r.outcomes if o.wrong]
    worst = max(wrong, default=None)
    above = [t for t in sorted(sweep) if worst is None or t > worst]
    return (above[0] if above else None), (None if worst is None else round(worst, 3))


def _ms(seconds: list[float]) -> float | None:
    # Hits take well under a millisecond: seconds rounded to three places would say 0.
    return round(statistics.median(seconds) * 1000, 2) if seconds else None


def _figures(
    model: str, threshold: float, workload: Workload, measured: Measured, sweep: dict[float, Replay]
) -> dict[str, Any]:
    live = measured.live
    prompts = len(workload.asks)
    calls = live.count("miss")
    recommended, worst = _recommended(sweep)
    by_kind = defaultdict(list)
    for o in live.outcomes:
        by_kind[o.ask.kind].append(o)
    baseline_s = sum(measured.baseline)
    figures: dict[str, Any] = {
        "model": model,
        "semantic_threshold": threshold,
        "prompts": prompts,
        **{f"prompts_{kind}": len(rows) for kind, rows in sorted(by_kind.items())},
        "near_duplicate_negatives_skipped": workload.duplicates_skipped,
        "cache_lookups": measured.lookups,
        "llm_calls_made": calls,
        "llm_calls_saved": prompts - calls,
        "llm_calls_saved_ratio": live.saved_ratio,
        "exact_hits": live.count("exact"),
        "semantic_hits": live.count("semantic"),
        "wrong_hits": live.wrong_hits,
        "paraphrase_hit_ratio": round(
            sum(o.result == "semantic" for o in by_kind["paraphrase"]) / max(1, len(by_kind["paraphrase"])), 3
        ),
        "negatives_hit": sum(o.result != "miss" for o in by_kind["negative"]),
        "other_context_hit": sum(o.result != "miss" for o in by_kind["other_context"]),
        "empty_answers": sum(not a.text.strip() for a in measured.answers if a.cached is None),
        **{f"{r}_hit_ms_median": _ms([o.seconds for o in live.outcomes if o.result == r]) for r in HITS},
        "miss_ms_median": _ms([o.seconds for o in live.outcomes if o.result == "miss"]),
        "cached_run_s": round(measured.cached_s, 1),
        "baseline_llm_calls": prompts,
        "baseline_call_s_median": median(measured.baseline),
        "baseline_run_s": round(baseline_s, 1),
        "speedup_vs_baseline": round(baseline_s / measured.cached_s, 2) if measured.cached_s else None,
        "simulation_matches_live": [o.result for o in sweep[threshold].outcomes]
        == [o.result for o in live.outcomes],
        "wrong_similarity_max": worst,
        "recommended_threshold": recommended,
        "recommended_saved_ratio": sweep[recommended].saved_ratio if recommended is not None else None,
    }
    for t, r in sorted(sweep.items()):
        tag = f"{t:.2f}".replace(".", "_")
        figures[f"sweep_{tag}_saved_ratio"] = r.saved_ratio
        figures[f"sweep_{tag}_wrong_hits"] = r.wrong_hits
    return figures


def _print(console: Console, live: Replay, sweep: dict[float, Replay], figures: dict[str, Any]) -> None:
    mix = Table(title="workload and live result by kind of prompt")
    for col in ("kind", "prompts", "exact", "semantic", "miss", "wrong"):
        mix.add_column(col, justify="right")
    for kind in ("first", "repeat", "paraphrase", "negative", "other_context"):
        rows = [o for o in live.outcomes if o.ask.kind == kind]
        mix.add_row(
            kind, str(len(rows)),
            *(str(sum(o.result == r for o in rows)) for r in ("exact", "semantic", "miss")),
            str(sum(o.wrong for o in rows)),
        )  # fmt: skip
    console.print(mix)
    table = Table(title="threshold sweep (same sequence and embeddings, simulated without the model)")
    for col in ("threshold", "saved ratio", "semantic hits", "right", "wrong"):
        table.add_column(col, justify="right")
    for t, r in sorted(sweep.items()):
        semantic = r.count("semantic")
        marker = " (live)" if t == figures["semantic_threshold"] else ""
        table.add_row(
            f"{t:.2f}{marker}",
            f"{r.saved_ratio:.3f}",
            str(semantic),
            str(semantic - r.wrong_hits),
            str(r.wrong_hits),
        )
    console.print(table)
    wrong = {(o.ask.qid, o.entry_qid): o for r in sweep.values() for o in r.outcomes if o.wrong}
    if wrong:
        console.print("most similar wrong matches at any swept threshold (ids only):")
        for o in sorted(wrong.values(), key=lambda o: -(o.similarity or 0.0))[:6]:
            console.print(
                f"  {o.similarity:.3f}  {o.ask.kind:<13} {o.ask.qid} reused the answer for {o.entry_qid}"
            )
    summary = Table(title="figures")
    summary.add_column("key")
    summary.add_column("value", justify="right")
    for key, value in figures.items():
        if not key.startswith("sweep_"):
            summary.add_row(key, str(value))
    console.print(summary)


def run(data: Path, model: str = "tiny", *, threshold: float | None = None) -> dict[str, Any]:
    """Entry point for `mocki bench llm-cache`; returns the flat figures the CLI writes as JSON."""
    console = Console(width=140)
    return asyncio.run(_run(Path(data), model, threshold, console))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--model", default="tiny", choices=["default", "fast", "tiny"])
    parser.add_argument("--threshold", type=float, default=None)
    args = parser.parse_args()
    print(json.dumps(run(args.data, args.model, threshold=args.threshold), indent=2))
