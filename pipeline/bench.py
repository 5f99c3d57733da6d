"""Scale benchmark: a synthetic register run through every stage (issue 8).

Real registers (the 41,362 names of Japan's register of the dead, the ~700,000
Soviet registration cards) repeat a few thousand place names many times, in many
spellings. The register made here draws gazetteer katakana names (GeoNames' own
katakana plus Cyrillic names rendered by the Japanese transcription rules) with a
Zipf-like repetition, and spells them the ways hand-written sources do: long vowels
dropped or added, ヴ for ブ, a stray ッ, a region prefix, half-width kana.

Each stage runs in its own process so that its peak memory (``ru_maxrss``) is its
own; times are wall-clock seconds.

Two yardsticks are measured in the same run (issue 14): the naive chain (each
row's Hepburn romaji matched with rapidfuzz ``extractOne`` against every Latin
name of the gazetteer, one row at a time, no work shared between rows) and the
floor (pyogrio writing the export's own camps rows as GeoPackage and GeoJSON,
with no other work). The naive chain is linear in the rows by construction, so
it is timed on its first :data:`NAIVE_SAMPLE` rows and scaled to the register.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pipeline import synthetic
from pipeline.io import Row, read_csv, write_csv

logger = logging.getLogger(__name__)

STAGES = ("transliterate", "reconcile", "geocode", "export")
#: Rows of the register the naive chain is timed on (then scaled to all rows).
NAIVE_SAMPLE = 1_000
#: The layer files whose bytes per row the report gives (issue 14: <= 1 KB per row).
SIZED = ("camps.gpkg", "camps.geojson")


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
    out = workdir / "out"
    naive = naive_seconds(rows, gazetteer_dir)
    floor = floor_seconds(out / "camps.gpkg", workdir / "floor")
    export = timings[-1].seconds
    return {
        "rows": n_rows,
        "distinct_names": distinct,
        "total_seconds": round(total, 2),
        "rows_per_second": round(n_rows / total),
        "distinct_names_per_second": round(distinct / total),
        "peak_memory_mb": round(max(t.peak_mb for t in timings)),
        "stages": [dataclasses.asdict(t) for t in timings],
        "naive_seconds": round(naive, 2),
        "naive_over_pipeline": round(naive / total, 2),
        "floor_seconds": round(floor, 2),
        "export_over_floor": round(export / max(floor, 1e-9), 2),
        "bytes_per_row": {name: round((out / name).stat().st_size / n_rows) for name in SIZED},
    }


def naive_seconds(rows: list[Row], gazetteer_dir: Path, sample: int = NAIVE_SAMPLE) -> float:
    """Seconds the naive chain would take on ``rows``: romaji, then ``extractOne``
    over the gazetteer's Latin names, one row at a time (timed on ``sample`` rows)."""
    from rapidfuzz import fuzz, process

    from pipeline.names import normalize, romanize

    _, names = read_csv(gazetteer_dir / "names.csv")
    latin = sorted({row["name"] for row in names if row["script"] == "Latn"})
    chosen = rows[:sample]
    start = time.perf_counter()
    for row in chosen:
        process.extractOne(romanize(normalize(row["katakana"])), latin, scorer=fuzz.WRatio)
    seconds = time.perf_counter() - start
    return seconds * len(rows) / max(len(chosen), 1)


def floor_seconds(gpkg: Path, folder: Path) -> float:
    """Seconds pyogrio takes to write the export's camps rows as GeoPackage and GeoJSON.

    The rows are read back from the export's own ``camps`` layer (not timed), so
    the floor writes exactly the columns and points the export wrote.
    """
    import pyogrio

    frame = pyogrio.read_dataframe(gpkg, layer="camps", use_arrow=True)
    folder.mkdir(parents=True, exist_ok=True)
    targets = [(folder / "floor.gpkg", "GPKG"), (folder / "floor.geojson", "GeoJSON")]
    for path, _ in targets:
        path.unlink(missing_ok=True)
    start = time.perf_counter()
    for path, driver in targets:
        pyogrio.write_dataframe(frame, path, layer="camps", driver=driver, use_arrow=True)
    return time.perf_counter() - start


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
    if "naive_seconds" in report:
        lines.append(
            f"naive chain (romaji + rapidfuzz extractOne per row, scaled from "
            f"{min(rows, NAIVE_SAMPLE):,} rows): {report['naive_seconds']:.2f} s, "
            f"{report['naive_over_pipeline']}x the pipeline's time"
        )
        lines.append(
            f"floor (pyogrio writes the camps rows as GeoPackage + GeoJSON): "
            f"{report['floor_seconds']:.2f} s; export is {report['export_over_floor']}x the floor"
        )
        sizes = report["bytes_per_row"]
        lines.append(
            "bytes per row: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items())  # type: ignore[attr-defined]
        )
    return "\n".join(lines)


# --------------------------------------------------------------- camps lookup start-up

#: The names ``camps bench --only lookup`` asks for: the first, then the further ones
#: (camp places of raw/camps.csv, in the spellings the map prints).
LOOKUP_NAMES = (
    "ライチハ",
    "タイシェト",
    "チタ",
    "カラガンダ",
    "ハバロフスク",
    "コムソモリスク",
    "ウランバートル",
    "ブカチャチャ",
    "イルクーツク",
    "ナホトカ",
    "アルチョム",
    "スーチャン",
    "スパスク",
    "タシケント",
    "クラスノヤルスク",
    "ノリリスク",
    "マガダン",
    "ジェズカズガン",
    "カダラ",
    "モゴチャ",
    "ウランウデ",
)


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one command in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # No timeout: with one, the wait polls in steps of up to 50 ms, and the wall time
    # would be rounded up to them.
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def bench_lookup(
    gazetteer_dir: Path,
    overrides_path: Path,
    params_path: Path,
    runs: int = 5,
    bytecode: bool | None = None,
) -> dict[str, object]:
    """``camps -q lookup`` as a user's shell starts it: one name, then 1 + 20 names.

    Each run is a fresh process (the artifacts come from the cache, which a first,
    untimed run fills); ``bytecode`` sets ``PYTHONDONTWRITEBYTECODE`` (None: as
    the environment has it). Times are the median and range of ``runs`` runs; a
    further name costs the difference of the medians over 20.
    """
    camps = Path(sys.executable).with_name("camps")
    argv = [str(camps)] if camps.exists() else [sys.executable, "-m", "pipeline"]
    argv += ["-q", "lookup", "--gazetteer", str(gazetteer_dir), "--overrides", str(overrides_path)]
    argv += ["--params", str(params_path)]
    env = dict(os.environ)
    if bytecode is True:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    elif bytecode is False:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    _timed([*argv, LOOKUP_NAMES[0]], env)  # fills the cache (and the bytecode) if need be
    report: dict[str, object] = {
        "bytecode_written": "PYTHONDONTWRITEBYTECODE" not in env,
        "runs": runs,
    }
    medians = {}
    for label, names in (("one_name", LOOKUP_NAMES[:1]), ("names_21", LOOKUP_NAMES)):
        times = [_timed([*argv, *names], env) for _ in range(runs)]
        walls, cpus = sorted(w for w, _ in times), sorted(c for _, c in times)
        medians[label] = statistics.median(walls), statistics.median(cpus)
        report[label] = {
            "wall_s": round(medians[label][0], 3),
            "wall_range_s": [round(walls[0], 3), round(walls[-1], 3)],
            "cpu_s": round(medians[label][1], 3),
            "cpu_range_s": [round(cpus[0], 3), round(cpus[-1], 3)],
        }
    further = len(LOOKUP_NAMES) - 1
    report["further_name_ms"] = {
        "wall": round(1000 * (medians["names_21"][0] - medians["one_name"][0]) / further, 1),
        "cpu": round(1000 * (medians["names_21"][1] - medians["one_name"][1]) / further, 1),
    }
    return report
