"""`mocki bench memory`: prompt tokens of the interviewer's memory against sending the whole history.

Real mock-interview transcripts (reference data, read at run time, never copied here) are
replayed turn by turn. Before each interviewer turn the prompt that would produce it is built two
ways with the same system prompt: the baseline sends every earlier turn as a message; ours is
`ConversationMemory` (recent turns verbatim, older ones folded into extractive summary lines, the
candidate's facts, all within the budget). Tokens are counted with the packaged default model's
own tokenizer (Qwen2.5), as the local server would count them.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.common import median, p95
from mocki.interviews.facts import FactSheet, extract_facts
from mocki.interviews.memory import INTERVIEWER, ConversationMemory
from mocki.interviews.prompts import INTERVIEWER_SYSTEM
from mocki.llm.base import ChatMessage
from mocki.llm.local_models import ensure_model
from mocki.llm.tokens import LlamaTokenCounter, TokenCounter

LONG_TURNS = 30
MODEL = "default"
RETENTION_DEFINITION = (
    "fact_retention = retained / stated, summed over all conversations. Stated: the distinct facts "
    "(kind + value, case-insensitive) that extract_facts finds in every non-interviewer turn of a "
    "conversation. Retained: the fact's value occurs (case-insensitive substring) in the text of the "
    "memory's context as it stands after the conversation's last turn (facts line, summary lines or "
    "recent turns)."
)


@dataclass
class Replay:
    id: str
    turns: int
    memory_tokens: list[int] = field(default_factory=list)
    full_tokens: list[int] = field(default_factory=list)
    stated: int = 0
    retained: int = 0
    final_memory: int = 0
    final_full: int = 0
    shortened: int = 0  # prompts in which a recent turn had to be cut to fit the budget
    # Tokens after the prefix shared with the previous prompt: what a server with a prompt cache
    # (llama.cpp keeps the last prompt's) still has to evaluate.
    memory_new: list[int] = field(default_factory=list)
    full_new: list[int] = field(default_factory=list)

    @property
    def reduction(self) -> float:
        return _reduction([self])


def _reduction(replays: list[Replay]) -> float:
    return _ratio(sum(sum(r.memory_tokens) for r in replays), sum(sum(r.full_tokens) for r in replays))


def _ratio(ours: int, full: int) -> float:
    return round(1 - ours / full, 3) if full else float("nan")


def _retention(replays: list[Replay]) -> float:
    stated = sum(r.stated for r in replays)
    return round(sum(r.retained for r in replays) / stated, 3) if stated else float("nan")


def _transcripts(data: Path) -> list[dict[str, Any]]:
    for path in (data / "transcripts.jsonl", data / "transcripts" / "transcripts.jsonl"):
        if path.is_file():
            with path.open(encoding="utf-8") as fh:
                return [json.loads(line) for line in fh if line.strip()]
    raise SystemExit(
        f"error: no transcripts.jsonl in {data} (nor in {data / 'transcripts'}). Point --data at the "
        "reference data's transcripts folder, e.g. ../shared/data/transcripts."
    )


@dataclass
class Timings:
    add_ms: list[float] = field(default_factory=list)
    context_ms: list[float] = field(default_factory=list)
    # Per interviewer turn: the adds since the previous prompt plus building this one.
    prompt_ms: list[float] = field(default_factory=list)


async def _replay(
    row: dict[str, Any], counter: TokenCounter, budget: int, shape: tuple[int, int], timings: Timings
) -> Replay:
    memory = ConversationMemory(counter, budget, recent_turns=shape[0], fold_every=shape[1])
    system: ChatMessage = {"role": "system", "content": INTERVIEWER_SYSTEM}
    full = counter.count_messages([system])  # grows by each turn's framed tokens: the count is additive
    sheet = FactSheet()
    replay = Replay(str(row["id"]), len(row["turns"]))
    since_prompt_ms = 0.0
    spoken: set[str] = set()
    previous: list[ChatMessage] = []
    previous_full = counter.count_messages([])
    for index, turn in enumerate(row["turns"]):
        speaker, text = str(turn["speaker"]), str(turn["text"])
        if speaker == INTERVIEWER:
            started = time.perf_counter()
            messages = memory.context_messages(INTERVIEWER_SYSTEM)
            elapsed = (time.perf_counter() - started) * 1000
            timings.context_ms.append(elapsed)
            timings.prompt_ms.append(since_prompt_ms + elapsed)
            since_prompt_ms = 0.0
            replay.memory_tokens.append(counter.count_messages(messages))
            replay.full_tokens.append(full)
            replay.memory_new.append(_uncached(counter, previous, messages))
            replay.full_new.append(full - previous_full)
            previous, previous_full = messages, full
            replay.shortened += any(m["content"] not in spoken for m in messages[1:])
        else:
            sheet.add(extract_facts(text, index))
        started = time.perf_counter()
        await memory.add(speaker, text)
        elapsed = (time.perf_counter() - started) * 1000
        timings.add_ms.append(elapsed)
        since_prompt_ms += elapsed
        sent: ChatMessage = {"role": "assistant" if speaker == INTERVIEWER else "user", "content": text}
        full += counter.count_messages([sent]) - counter.count_messages([])
        spoken.add(text)
    final = memory.context_messages(INTERVIEWER_SYSTEM)
    context = "\n".join(m["content"] for m in final).casefold()
    replay.stated = len(sheet)
    replay.retained = sum(1 for fact in sheet.facts if fact.value.casefold() in context)
    replay.final_memory, replay.final_full = counter.count_messages(final), full
    return replay


def _uncached(counter: TokenCounter, before: list[ChatMessage], after: list[ChatMessage]) -> int:
    """Tokens of `after` past its common prefix with `before` (the reply priming is always new)."""
    same = 0
    while same < min(len(before), len(after)) and before[same] == after[same]:
        same += 1
    new = counter.count_messages(after[same:])
    if same < len(before) and same < len(after) and before[same]["role"] == after[same]["role"]:
        old, text = before[same]["content"], after[same]["content"]
        common = len(os.path.commonprefix([old, text]))  # noqa: RUF071  (characters, not paths)
        new -= counter.count(text) - counter.count(text[common:])
    return new


async def _replay_all(
    rows: list[dict[str, Any]], counter: TokenCounter, budget: int, shape: tuple[int, int]
) -> tuple[list[Replay], Timings]:
    timings = Timings()
    replays = [await _replay(row, counter, budget, shape, timings) for row in rows]
    return replays, timings


def _figures(
    replays: list[Replay], timings: Timings, budget: int, shape: tuple[int, int], load_s: float
) -> dict[str, Any]:
    long = [r for r in replays if r.turns >= LONG_TURNS]
    ours = [t for r in replays for t in r.memory_tokens]
    full = [t for r in replays for t in r.full_tokens]
    ours_long = [t for r in long for t in r.memory_tokens]
    full_long = [t for r in long for t in r.full_tokens]
    longest = max(replays, key=lambda r: r.turns)
    stated = sum(r.stated for r in replays)
    retained = sum(r.retained for r in replays)
    return {
        "budget": budget,
        "recent_turns": shape[0],
        "fold_every": shape[1],
        "tokenizer": f"llama:{MODEL}",
        "tokenizer_load_s": round(load_s, 3),
        "conversations": len(replays),
        "conversations_30plus": len(long),
        "interviewer_turns": len(ours),
        "token_reduction_30plus": _reduction(long),
        # The sums above are dominated by the longest conversation; this is the typical one.
        "token_reduction_30plus_median_conversation": median([r.reduction for r in long]),
        "token_reduction_all": _reduction(replays),
        "token_reduction_longest": longest.reduction,
        "longest_turns": longest.turns,
        "median_prompt_tokens_memory": median(ours),
        "median_prompt_tokens_full": median(full),
        "median_prompt_tokens_memory_30plus": median(ours_long),
        "median_prompt_tokens_full_30plus": median(full_long),
        "median_uncached_tokens_memory_30plus": median([t for r in long for t in r.memory_new]),
        "median_uncached_tokens_full_30plus": median([t for r in long for t in r.full_new]),
        # Above 1: with a perfect prefix cache the growing full history costs less evaluation.
        "uncached_tokens_memory_over_full_30plus": round(
            sum(sum(r.memory_new) for r in long) / max(1, sum(sum(r.full_new) for r in long)), 3
        ),
        "p95_prompt_tokens_memory": p95(ours),
        "p95_prompt_tokens_full": p95(full),
        "max_prompt_tokens_memory": max(ours, default=0),
        "max_prompt_tokens_full": max(full, default=0),
        "over_budget_prompts": sum(1 for t in ours if t > budget),
        "prompts_with_a_shortened_turn": sum(r.shortened for r in replays),
        "facts_stated": stated,
        "facts_retained": retained,
        "fact_retention": _retention(replays),
        "fact_retention_30plus": round(
            sum(r.retained for r in long) / max(1, sum(r.stated for r in long)), 3
        ),
        "add_ms_median": median(timings.add_ms),
        "add_ms_p95": p95(timings.add_ms),
        "context_ms_median": median(timings.context_ms),
        "context_ms_p95": p95(timings.context_ms),
        "prompt_ms_median": median(timings.prompt_ms),
        "prompt_ms_p95": p95(timings.prompt_ms),
    }


def _print(console: Console, replays: list[Replay], figures: dict[str, Any]) -> None:
    table = Table(title=f"conversations of {LONG_TURNS}+ turns (budget {figures['budget']} tokens)")
    for column in ("transcript", "turns", "prompts", "median ours", "median full", "last ours", "last full"):
        table.add_column(column, justify="left" if column == "transcript" else "right")
    table.add_column("reduction", justify="right")
    table.add_column("facts kept", justify="right")
    for r in sorted((r for r in replays if r.turns >= LONG_TURNS), key=lambda r: r.turns):
        table.add_row(
            r.id[:40],
            str(r.turns),
            str(len(r.memory_tokens)),
            f"{median(r.memory_tokens):.0f}",
            f"{median(r.full_tokens):.0f}",
            str(r.final_memory),
            str(r.final_full),
            f"{r.reduction:.0%}",
            f"{r.retained}/{r.stated}",
        )
    console.print(table)
    summary = Table(title="figures (baseline: the whole history every turn, same system prompt)")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    for key, value in figures.items():
        summary.add_row(key, str(value))
    console.print(summary)
    console.print(RETENTION_DEFINITION)
    console.print(
        f"token_reduction = 1 - sum(memory prompt tokens) / sum(full-history prompt tokens) over the "
        f"prompts before each interviewer turn; _30plus: conversations of {LONG_TURNS}+ turns."
    )


def run(
    data: Path, budget: int, *, recent_turns: int = 4, fold_every: int = 6, quiet: bool = False
) -> dict[str, Any]:
    """Entry point for `mocki bench memory`."""
    rows = _transcripts(Path(data))
    started = time.perf_counter()
    counter = LlamaTokenCounter(ensure_model(MODEL))
    load_s = time.perf_counter() - started
    shape = (recent_turns, fold_every)
    replays, timings = asyncio.run(_replay_all(rows, counter, budget, shape))
    figures = _figures(replays, timings, budget, shape, load_s)
    if not quiet:
        _print(Console(width=160), replays, figures)
    return figures
