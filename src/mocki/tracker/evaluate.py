"""`mocki eval mail`: the analysis on labelled emails: status accuracy, macro-F1, per-label precision and
recall, the confusion matrix, and exact match of company and position where the data gives them.

Company and position match after the normalisation applications are matched on (case, spaces,
punctuation and legal suffixes ignored: `extract.company_key`, `extract.position_key`). Rows
whose `company_basis` / `position_basis` is `regex_unverified` carry hints, not truth: they are
counted separately as well.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dateutil import parser as dateparser  # type: ignore[import-untyped]

from mocki.core.classification import classification_metrics
from mocki.core.timeutil import as_utc
from mocki.tracker.analysis import Analysis, Analyzer, LLMMode, MailInput, make_structured_llm
from mocki.tracker.classifier import STATUSES, LabelledEmail, load_labelled
from mocki.tracker.extract import company_key, position_key
from mocki.tracker.parsing import text_links

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from mocki.settings import Settings


def to_input(email: LabelledEmail) -> MailInput:
    name, address = parseaddr(email.sender)
    return MailInput(
        subject=email.subject,
        sender_name=name or (email.sender if "@" not in email.sender else ""),
        sender_address=address.lower() if "@" in address else "",
        sent_at=_date(email.date),
        body=email.body,
        links=[link.as_dict() for link in text_links(email.body)],
    )


def _date(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        return as_utc(dateparser.parse(value))
    except (ValueError, OverflowError):
        return None


def _bases(path: Path) -> list[dict[str, Any]]:
    """The optional `company_basis` / `position_basis` of each line (not part of LabelledEmail)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            out.append({k: record.get(k) for k in ("company_basis", "position_basis", "id")})
    return out


def status_metrics(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the labels present, per-label figures and the confusion (true → predicted)."""
    return classification_metrics(truth, predicted, STATUSES, per_key="per_label")


def _exact(pairs: Sequence[tuple[str, str | None]], key: Any) -> tuple[float | None, int]:
    if not pairs:
        return None, 0
    hits = sum(1 for truth, got in pairs if got is not None and key(got) == key(truth))
    return round(hits / len(pairs), 4), len(pairs)


def field_metrics(
    emails: Sequence[LabelledEmail], results: Sequence[Analysis], bases: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, key in (("company", company_key), ("position", position_key)):
        rows = [
            (getattr(e, name), getattr(r, name), b.get(f"{name}_basis"))
            for e, r, b in zip(emails, results, bases, strict=True)
            if getattr(e, name)
        ]
        figures[f"{name}_exact"], figures[f"{name}_examples"] = _exact([(t, g) for t, g, _ in rows], key)
        verified = [(t, g) for t, g, basis in rows if basis != "regex_unverified"]
        hints = [(t, g) for t, g, basis in rows if basis == "regex_unverified"]
        figures[f"{name}_exact_verified"], figures[f"{name}_examples_verified"] = _exact(verified, key)
        figures[f"{name}_exact_unverified"], figures[f"{name}_examples_unverified"] = _exact(hints, key)
        figures[f"{name}_found"] = round(sum(1 for _, g, _ in rows if g) / len(rows), 4) if rows else None
    return figures


async def _analyse(
    settings: Settings, emails: Sequence[LabelledEmail], mode: LLMMode
) -> tuple[list[Analysis], float, int]:
    from redis.asyncio import Redis

    from mocki.retrieval.embeddings import make_embedder

    embedder = make_embedder(settings, inline=True)
    llm = make_structured_llm(settings) if mode != "off" else None
    redis: Redis[bytes] | None = Redis.from_url(settings.resolved_redis_url) if mode != "off" else None
    try:
        analyzer = Analyzer(settings, embedder, llm=llm, redis=redis, mode=mode)
        await analyzer.model()
        started = time.perf_counter()
        results, usages = await analyzer.analyse([to_input(e) for e in emails])
        return results, time.perf_counter() - started, len(usages)
    finally:
        await embedder.aclose()
        if llm is not None:
            await llm.aclose()
        if redis is not None:
            await redis.aclose()  # type: ignore[attr-defined]  # types-redis predates aclose


def evaluate_file(
    settings: Settings, path: Path, *, mode: LLMMode = "off", console: Console | None = None
) -> dict[str, Any]:
    """Run the analysis over a labelled file, print the tables and return the figures."""
    from rich.console import Console

    emails = load_labelled(path)
    results, seconds, llm_calls = asyncio.run(_analyse(settings, emails, mode))
    figures = status_metrics([e.label for e in emails], [r.status for r in results])
    figures.update(field_metrics(emails, results, _bases(path)))
    figures.update(
        {
            "data": str(path),
            "llm": mode,
            "llm_calls": llm_calls,
            "seconds": round(seconds, 2),
            "ms_per_email": round(1000 * seconds / len(emails), 2),
            "misclassified": [
                {
                    "line": e.line,
                    "label": e.label,
                    "predicted": r.status,
                    "confidence": round(r.confidence, 3),
                }
                for e, r in zip(emails, results, strict=True)
                if e.label != r.status
            ],
        }
    )
    print_figures(console or Console(width=160), figures)
    return figures


def print_figures(console: Console, figures: Mapping[str, Any]) -> None:
    from rich.table import Table

    console.print(
        f"mail: {figures['examples']} emails of {figures['data']}; LLM {figures['llm']} "
        f"({figures['llm_calls']} calls); {figures['ms_per_email']:.1f} ms per email"
    )
    summary = Table(title="summary")
    for column in ("accuracy", "macro F1", "company exact", "position exact"):
        summary.add_column(column, justify="right")
    summary.add_row(
        f"{figures['accuracy']:.3f}",
        f"{figures['macro_f1']:.3f}",
        _fmt(figures["company_exact"], figures["company_examples"]),
        _fmt(figures["position_exact"], figures["position_examples"]),
    )
    console.print(summary)
    fields = Table(title="company and position by how the data knows them")
    for column in ("field", "verified", "unverified hints", "found at all"):
        fields.add_column(column, justify="right")
    for name in ("company", "position"):
        fields.add_row(
            name,
            _fmt(figures[f"{name}_exact_verified"], figures[f"{name}_examples_verified"]),
            _fmt(figures[f"{name}_exact_unverified"], figures[f"{name}_examples_unverified"]),
            "-" if figures[f"{name}_found"] is None else f"{figures[f'{name}_found']:.3f}",
        )
    console.print(fields)
    per = Table(title="per label")
    per.add_column("label")
    for column in ("precision", "recall", "F1", "support"):
        per.add_column(column, justify="right")
    for label, row in figures["per_label"].items():
        per.add_row(
            label, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", str(row["support"])
        )
    console.print(per)
    confusion = Table(title="confusion (rows: true label, columns: predicted)")
    confusion.add_column("true \\ predicted")
    for label in STATUSES:
        confusion.add_column(label, justify="right")
    for label, row in figures["confusion"].items():
        confusion.add_row(label, *(str(row[p]) if row[p] else "·" for p in STATUSES))
    console.print(confusion)


def _fmt(value: float | None, count: int) -> str:
    return "-" if value is None else f"{value:.3f} (n={count})"
