"""End to end: `camps run` on a tiny raw file, from a folder other than the repo."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


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
