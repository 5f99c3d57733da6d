"""The scale benchmark on a small real register: every stage runs, figures come back."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest

from pipeline import bench

pytestmark = pytest.mark.slow


def test_register_repeats_names_and_misspells_them(repo: Path) -> None:
    names = bench.register_names(repo / "gazetteer" / "build", limit=2_000)
    rows = bench.make_register(5_000, names)
    spellings = {r["katakana"] for r in rows}
    assert len(rows) == 5_000
    assert len(spellings) < 3_000  # heavy repetition, as real registers have
    assert any(s not in names for s in spellings)  # and spellings of their own
    assert bench.make_register(100, names) == bench.make_register(100, names)


def test_bench_runs_every_stage_and_keeps_every_row(repo: Path, tmp_path: Path) -> None:
    report = bench.run(
        300,
        tmp_path,
        repo / "gazetteer" / "build",
        repo / "gazetteer" / "overrides.csv",
        repo / "params.yaml",
    )
    assert [s["stage"] for s in report["stages"]] == list(bench.STAGES)  # type: ignore[union-attr]
    assert report["rows"] == 300 and 0 < report["distinct_names"] <= 300  # type: ignore[operator]
    text = bench.format_report(report)
    assert "rows/s" in text and "naive chain" in text and "floor" in text
    # the two yardsticks of issue 14, measured in the same run
    assert report["naive_seconds"] > 0 and report["floor_seconds"] > 0  # type: ignore[operator]
    assert report["export_over_floor"] > 1  # type: ignore[operator]
    sizes = report["bytes_per_row"]
    assert set(sizes) == {"camps.gpkg", "camps.geojson"}  # type: ignore[arg-type]
    for name, per_row in sizes.items():  # type: ignore[union-attr]
        assert per_row == round((tmp_path / "out" / name).stat().st_size / 300), name
    with (tmp_path / "geocode.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 300
    assert (tmp_path / "out" / "camps.gpkg").exists()


def test_lookup_bench_times_fresh_processes_of_the_named_files(repo: Path, tmp_path: Path) -> None:
    """`camps bench --only lookup` reports one name and 1 + 20 names in fresh processes
    (no timing asserted: speed lives in the README); a gazetteer that is not there
    fails the bench instead of timing an error."""
    report = bench.bench_lookup(
        repo / "gazetteer/build", repo / "gazetteer/overrides.csv", repo / "params.yaml", runs=1
    )
    assert set(report) == {"bytecode_written", "runs", "one_name", "names_21", "further_name_ms"}
    for label in ("one_name", "names_21"):
        timing = report[label]
        assert isinstance(timing, dict) and timing["wall_s"] > 0 and timing["cpu_s"] > 0
    assert len(set(bench.LOOKUP_NAMES)) == 21
    raw = {row["katakana"] for row in csv.DictReader((repo / "raw/camps.csv").open())}
    assert set(bench.LOOKUP_NAMES) <= raw
    with pytest.raises(subprocess.CalledProcessError):
        bench.bench_lookup(tmp_path, tmp_path / "overrides.csv", repo / "params.yaml", runs=1)
