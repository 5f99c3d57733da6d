"""End to end: `camps run` on a tiny raw file, from a folder other than the repo."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

STAGE_FILES = ("transliterated", "reconciled", "geocoded")


@pytest.fixture(scope="module")
def layers(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    elsewhere = tmp_path_factory.mktemp("user-folder")
    out = elsewhere / "layers"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--input",
            str(repo / "tests/data/raw_tiny.csv"),
            "--output-dir",
            str(out),
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out


def features(path: Path) -> dict[str, dict[str, object]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {f["properties"]["record_id"]: f for f in data["features"]}


def test_every_raw_row_is_in_exactly_one_layer(layers: Path, repo: Path) -> None:
    with (repo / "tests/data/raw_tiny.csv").open(encoding="utf-8") as handle:
        raw_ids = [row["record_id"] for row in csv.DictReader(handle)]
    placed = list(features(layers / "camps.geojson"))
    with (layers / "unresolved.csv").open(encoding="utf-8") as handle:
        unresolved = [row["record_id"] for row in csv.DictReader(handle)]
    assert sorted(placed + unresolved) == sorted(raw_ids)


def test_taishet_is_placed_and_classed_from_its_sourced_count(layers: Path) -> None:
    taishet = features(layers / "camps.geojson")["t-taishet"]
    lon, lat = taishet["geometry"]["coordinates"]  # type: ignore[index]
    assert abs(lat - 55.93) < 0.1 and abs(lon - 97.99) < 0.1
    assert taishet["properties"]["symbol_class"] == "over_20000"  # type: ignore[index]


def test_negative_is_not_placed_and_latin_row_is_kept_flagged(layers: Path) -> None:
    assert "t-london" not in features(layers / "camps.geojson")
    with (layers / "stages" / "transliterated.csv").open(encoding="utf-8") as handle:
        flags = {row["record_id"]: row["name_flag"] for row in csv.DictReader(handle)}
    assert flags["t-latin"] == "latin"
    assert flags["t-taishet"] == ""


def test_geopackage_has_both_layers(layers: Path) -> None:
    import pyogrio

    names = {name for name, _ in pyogrio.list_layers(layers / "camps.gpkg")}
    assert {"camps", "unresolved"} <= names


def _camps(repo: Path, *args: str) -> None:
    """Run one `camps` command in its own interpreter, from the repo."""
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_run_in_one_process_equals_the_four_stage_commands(repo: Path, tmp_path: Path) -> None:
    """`camps run` (one process) writes what the DVC stage commands write, file by file.

    On the project's own register (raw/camps.csv, 101 rows), with the commands of
    dvc.yaml pointed at temporary folders; only the output-set manifest, which
    lists the stage CSVs under stages/ for `camps run`, may differ.
    """
    staged, together = tmp_path / "staged", tmp_path / "run"
    shared = ["--gazetteer", "gazetteer/build", "--params", "params.yaml"]
    with_overrides = [*shared, "--overrides", "gazetteer/overrides.csv"]
    t_csv, r_csv, g_csv = (staged / "stages" / f"{n}.csv" for n in STAGE_FILES)
    _camps(repo, "transliterate", "--input", "raw/camps.csv", "--output", str(t_csv))
    _camps(repo, "reconcile", "--input", str(t_csv), "--output", str(r_csv), *with_overrides)
    _camps(repo, "geocode", "--input", str(r_csv), "--output", str(g_csv), *with_overrides)
    _camps(repo, "export", "--input", str(g_csv), "--output-dir", str(staged), *shared)
    run = ["run", "--input", "raw/camps.csv", "--output-dir", str(together)]
    _camps(repo, *run, *with_overrides)

    def files(folder: Path) -> dict[str, bytes]:
        return {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "manifest.json"
        }

    ours, theirs = files(together), files(staged)
    assert ours.keys() == theirs.keys()
    assert {f"stages/{n}.csv" for n in STAGE_FILES} <= ours.keys()
    assert [name for name in ours if ours[name] != theirs[name]] == []
