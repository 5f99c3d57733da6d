"""The evaluation's DVC plots and the split of its metrics into numbers and labels.

``camps evaluate --plots-dir`` writes four data files (three of the gold set), each
declared in ``dvc.yaml`` with a DVC template so ``dvc plots show`` draws them:

* ``reliability.csv``: score reliability (calibration) diagram: per score decile,
  the mean score against the share of rows that are right (a positive placed
  within 25 km; a negative is never right), with the count of rows;
* ``score_histogram.csv``: per score decile, how many rows each decision got;
* ``distance_cdf.csv``: the distance from each positive's chosen place to its gold
  point, sorted, with the cumulative share of positives within it (rows with no
  place never arrive, so the curve ends at the share that has a point).

* ``reliability_unseen.csv``: the same diagram on the held-out names never seen
  (:func:`pipeline.evaluate.generalization`), the honest check of calibration.

:func:`calibration` gives the numbers a reader checks the score by: the Brier
score, the expected calibration error over the ten bins and the reliability table.

``dvc metrics show`` reads numbers only: :func:`split_metrics` keeps the numbers
in ``metrics.json`` and moves every text and list (file names, the split's
description, wrong matches) to a sidecar.

Imports only :mod:`pipeline.io` and :mod:`pipeline.records`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.io import write_csv
from pipeline.records import Decision

BINS = 10


@dataclasses.dataclass(frozen=True)
class Scored:
    """One gold row as the pipeline decided it."""

    score: float
    decision: str
    right: bool
    positive: bool
    distance_km: float | None  # to the gold point; None without a place or gold point


def _bin(score: float) -> int:
    return min(BINS - 1, max(0, int(score * BINS)))


def reliability(rows: Sequence[Scored]) -> list[dict[str, str]]:
    """Per non-empty score decile: mean score, share right, count.

    >>> rows = [Scored(0.95, "auto", True, True, 1.0), Scored(0.91, "auto", False, False, None)]
    >>> reliability(rows)
    [{'bin': '0.9-1.0', 'mean_score': '0.9300', 'observed': '0.5000', 'count': '2'}]
    """
    out = []
    for b in range(BINS):
        members = [r for r in rows if _bin(r.score) == b]
        if members:
            out.append(
                {
                    "bin": f"{b / BINS:.1f}-{(b + 1) / BINS:.1f}",
                    "mean_score": f"{sum(r.score for r in members) / len(members):.4f}",
                    "observed": f"{sum(r.right for r in members) / len(members):.4f}",
                    "count": str(len(members)),
                }
            )
    return out


def expected_calibration_error(rows: Sequence[Scored]) -> float:
    """ECE over the ten score bins: the row-weighted mean gap of mean score and share right.

    >>> rows = [Scored(0.95, "auto", True, True, 1.0), Scored(0.91, "auto", False, False, None)]
    >>> round(expected_calibration_error(rows), 4)
    0.43
    """
    total = 0.0
    for b in range(BINS):
        members = [r for r in rows if _bin(r.score) == b]
        if members:
            gap = sum(r.score for r in members) - sum(r.right for r in members)
            total += abs(gap)
    return total / (len(rows) or 1)


def brier(rows: Sequence[Scored]) -> float:
    """The mean squared gap between the score and being right (1) or not (0).

    >>> brier([Scored(0.9, "auto", True, True, 1.0), Scored(0.2, "review", False, True, None)])
    0.025
    """
    return sum((r.score - r.right) ** 2 for r in rows) / (len(rows) or 1)


def calibration(rows: Sequence[Scored]) -> dict[str, Any]:
    """Brier score, ECE (10 bins) and the reliability table of a set of rows.

    >>> calibration([Scored(0.9, "auto", True, True, 1.0)])["ece"]
    0.1
    """
    return {
        "brier": round(brier(rows), 4),
        "ece": round(expected_calibration_error(rows), 4),
        "reliability": reliability(rows),
    }


def score_histogram(rows: Sequence[Scored]) -> list[dict[str, str]]:
    """Per score decile (lower edge), the number of rows of each decision.

    >>> score_histogram([Scored(0.95, "auto", True, True, 1.0)])[-1]
    {'score': '0.9', 'auto': '1', 'review': '0', 'override': '0', 'unresolved': '0'}
    """
    out = []
    for b in range(BINS):
        members = [r for r in rows if _bin(r.score) == b]
        counts = {str(d): str(sum(r.decision == d for r in members)) for d in Decision}
        out.append({"score": f"{b / BINS:.1f}", **counts})
    return out


def distance_cdf(rows: Sequence[Scored]) -> list[dict[str, str]]:
    """Sorted distances of the positives' places, with the cumulative share within each.

    >>> rows = [Scored(0.9, "auto", True, True, 3.0), Scored(0.2, "unresolved", False, True, None)]
    >>> distance_cdf(rows)
    [{'distance_km': '3.000', 'share_within': '0.5000'}]
    """
    positives = [r for r in rows if r.positive]
    distances = sorted(r.distance_km for r in positives if r.distance_km is not None)
    total = len(positives) or 1
    return [
        {"distance_km": f"{d:.3f}", "share_within": f"{(i + 1) / total:.4f}"}
        for i, d in enumerate(distances)
    ]


def write_plots(folder: Path, rows: Sequence[Scored], unseen: Sequence[Scored] = ()) -> None:
    """The plot data files (CSV) into ``folder``: gold ``rows``, held-out ``unseen`` names."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in (
        ("reliability.csv", reliability(rows)),
        ("reliability_unseen.csv", reliability(unseen)),
        ("score_histogram.csv", score_histogram(rows)),
        ("distance_cdf.csv", distance_cdf(rows)),
    ):
        columns = list(table[0]) if table else ["empty"]
        write_csv(folder / name, columns, table)


def split_metrics(metrics: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The numbers (for ``dvc metrics``) and everything else (the labels sidecar).

    A ``None`` (a share of nothing, such as the precision of zero auto rows) is
    left out of the numbers and written as ``null`` among the labels.

    >>> split_metrics({"gold": "g.csv", "n": 3, "sub": {"p": None, "wrong": [], "k": 0.5}})
    ({'n': 3, 'sub': {'k': 0.5}}, {'gold': 'g.csv', 'sub': {'p': None, 'wrong': []}})
    """
    numbers: dict[str, Any] = {}
    labels: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            inner_numbers, inner_labels = split_metrics(value)
            if inner_numbers:
                numbers[key] = inner_numbers
            if inner_labels:
                labels[key] = inner_labels
        elif isinstance(value, bool) or not isinstance(value, int | float):
            labels[key] = value
        else:
            numbers[key] = value
    return numbers, labels
