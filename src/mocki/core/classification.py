"""Figures of a labelled classification run: accuracy, macro-F1, per-label figures, confusion.

Shared by `mocki eval intents` and `mocki eval mail`, so both report the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def classification_metrics(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str], per_key: str = "per_label"
) -> dict[str, Any]:
    """Accuracy, macro F1 over the labels present, per-label precision/recall/F1/support (under
    `per_key`) and confusion counts (true → predicted)."""
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} labels but {len(predicted)} predictions")
    confusion: dict[str, dict[str, int]] = {t: dict.fromkeys(labels, 0) for t in labels}
    for t, p in zip(truth, predicted, strict=True):
        confusion[t][p] += 1
    per_label: dict[str, dict[str, float | int]] = {}
    for label in labels:
        hits = confusion[label][label]
        support = sum(confusion[label].values())
        claimed = sum(confusion[t][label] for t in labels)
        precision = hits / claimed if claimed else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": support,
        }
    present = [label for label in labels if per_label[label]["support"]]
    return {
        "accuracy": round(sum(confusion[s][s] for s in labels) / len(truth), 4) if truth else 0.0,
        "macro_f1": round(sum(float(per_label[s]["f1"]) for s in present) / len(present), 4)
        if present
        else 0.0,
        per_key: per_label,
        "confusion": confusion,
        "examples": len(truth),
    }
