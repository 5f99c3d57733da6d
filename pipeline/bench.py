"""Scale benchmark: a synthetic register run through every stage (issue 8).

Real registers (the 41,362 names of Japan's register of the dead, the ~700,000
Soviet registration cards) repeat a few thousand place names many times, in many
spellings. The register made here draws gazetteer katakana names (GeoNames' own
katakana plus Cyrillic names rendered by the Japanese transcription rules) with a
Zipf-like repetition, and spells them the ways hand-written sources do: long vowels
dropped or added, ヴ for ブ, a stray ッ, a region prefix, half-width kana.

Each stage runs in its own process so that its peak memory (``ru_maxrss``) is its
own; times are wall-clock seconds.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from pipeline import synthetic
from pipeline.io import Row, read_csv, write_csv

logger = logging.getLogger(__name__)

STAGES = ("transliterate", "reconcile", "geocode", "export")


@dataclasses.dataclass(frozen=True)
class StageTiming:
    """Wall time and peak memory of one stage's process."""

    stage: str
    seconds: float
    peak_mb: float


def register_names(gazetteer_dir: Path, limit: int = 20_000) -> list[str]:
    """Katakana place names to draw from, most populous places first."""
    from pipeline.names import kana_of_cyrillic

    _, places = read_csv(gazetteer_dir / "places.csv")
    population = {p["place_id"]: int(p["population"] or 0) for p in places}
    _, names = read_csv(gazetteer_dir / "names.csv")
    kana: dict[str, int] = {}
    for row in names:
        if row["script"] == "Kana":
            text = row["name"]
        elif row["script"] == "Cyrl":
            text = kana_of_cyrillic(row["name"])
        else:
            continue
        if text:
            kana[text] = max(kana.get(text, 0), population.get(row["place_id"], 0))
    ranked = sorted(kana, key=lambda n: (-kana[n], n))
    return ranked[:limit]


def make_register(n_rows: int, names: list[str], seed: int = 1945) -> list[Row]:
    """``n_rows`` register rows with Zipf-like repetition of ``names`` and their misspellings."""
    rng = random.Random(seed)
    weights = [1.0 / (rank + 1) for rank in range(len(names))]
    picks = rng.choices(names, weights=weights, k=n_rows)
    return [
        {"record_id": f"b{i:07d}", "katakana": synthetic.misspell(name, rng), "source": "synthetic"}
        for i, name in enumerate(picks)
    ]


def _run_stage(argv: list[str]) -> StageTiming:
    """Run one ``camps`` stage in a child process; measure wall time and peak RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "-q", *argv])
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"stage {argv[0]} failed with exit code {status}")
    return StageTiming(argv[0], seconds, usage.ru_maxrss / 1024)


def run(
    n_rows: int, workdir: Path, gazetteer_dir: Path, overrides: Path, params: Path
) -> dict[str, object]:
    """Make a register of ``n_rows`` rows in ``workdir`` and time every stage on it."""
    workdir.mkdir(parents=True, exist_ok=True)
    rows = make_register(n_rows, register_names(gazetteer_dir))
    raw = workdir / "register.csv"
    write_csv(raw, ["record_id", "katakana", "source"], rows)
    distinct = len({r["katakana"] for r in rows})
    paths = [workdir / f"{s}.csv" for s in STAGES[:3]]
    common = ["--params", str(params)]
    gaz = ["--gazetteer", str(gazetteer_dir), "--overrides", str(overrides)]
    argvs = [
        ["transliterate", "--input", str(raw), "--output", str(paths[0]), *common],
        ["reconcile", "--input", str(paths[0]), "--output", str(paths[1]), *gaz, *common],
        ["geocode", "--input", str(paths[1]), "--output", str(paths[2]), *gaz, *common],
        ["export", "--input", str(paths[2]), "--output-dir", str(workdir / "out"), *common],
    ]
    timings = []
    for argv in argvs:
        timings.append(_run_stage(argv))
        logger.info("%s: %.1f s", argv[0], timings[-1].seconds)
    total = sum(t.seconds for t in timings)
    return {
        "rows": n_rows,
        "distinct_names": distinct,
        "total_seconds": round(total, 2),
        "rows_per_second": round(n_rows / total),
        "distinct_names_per_second": round(distinct / total),
        "peak_memory_mb": round(max(t.peak_mb for t in timings)),
        "stages": [dataclasses.asdict(t) for t in timings],
    }


def format_report(report: dict[str, object]) -> str:
    """A readable table of a :func:`run` report."""
    lines = [
        f"rows: {report['rows']:,}   distinct names: {report['distinct_names']:,}",
        f"{'stage':<14}{'seconds':>10}{'rows/s':>12}{'names/s':>12}{'peak MB':>10}",
    ]
    rows, distinct = int(report["rows"]), int(report["distinct_names"])  # type: ignore[call-overload]
    for stage in report["stages"]:  # type: ignore[attr-defined]
        seconds = max(stage["seconds"], 1e-9)
        lines.append(
            f"{stage['stage']:<14}{seconds:>10.2f}{rows / seconds:>12,.0f}"
            f"{distinct / seconds:>12,.0f}{stage['peak_mb']:>10.0f}"
        )
    lines.append(
        f"{'total':<14}{report['total_seconds']:>10.2f}{report['rows_per_second']:>12,}"
        f"{report['distinct_names_per_second']:>12,}{report['peak_memory_mb']:>10}"
    )
    return "\n".join(lines)
