"""The GeoPackage opens in real QGIS with the ministry map's style; GDAL reads it cleanly.

QGIS runs headless through Debian's python3-qgis (bindings for the system Python
3.11 only), in a subprocess: ``/usr/bin/python3 tests/qgis_check.py GPKG PNG``.
Without QGIS or gdal-bin these tests skip, naming the Debian package; under
``CI=true`` a missing dependency fails instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline import export
from pipeline.records import LEGEND

HERE = Path(__file__).parent
FIXTURE = HERE / "data" / "geocoded_tiny.csv"
SYSTEM_PYTHON = "/usr/bin/python3"


def missing(reason: str) -> None:
    """Skip for a developer without the package; fail in CI, where it must be installed."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def qgis_importable() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"],
        capture_output=True,
        env=os.environ | {"QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("qgis")
    export.run(FIXTURE, folder, export.ExportParams(preview=False))
    return folder / "camps.gpkg"


@pytest.mark.qgis
def test_qgis_loads_default_style_and_renders(gpkg: Path, tmp_path: Path) -> None:
    if not qgis_importable():
        missing(f"{SYSTEM_PYTHON} cannot import qgis: apt-get install python3-qgis qgis-providers")
    png = tmp_path / "qgis.png"
    done = subprocess.run(
        [SYSTEM_PYTHON, str(HERE / "qgis_check.py"), str(gpkg), str(png)],
        capture_output=True,
        text=True,
        env=os.environ | {"QT_QPA_PLATFORM": "offscreen"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    print("QGIS reported:", json.dumps(report, ensure_ascii=False, indent=1))
    assert report["camps_valid"] and report["unresolved_valid"]
    assert report["camps_features"] == 9 and report["unresolved_features"] == 2
    assert report["camps_crs"] == "EPSG:4326"
    assert report["renderer"] == "categorizedSymbol"
    assert report["class_attribute"] == "symbol_class"
    # the map tip (QGIS's popup) shows the class's basis and the families' figures
    assert "class_basis" in report["map_tip"] and "attribute('deaths')" in report["map_tip"]
    categories = report["categories"]
    assert [c["value"] for c in categories] == [k.value for k in LEGEND]
    assert [c["label"] for c in categories] == [text for text, _ in LEGEND.values()]
    assert [c["shape"] for c in categories] == ["circle", "circle", "circle", "triangle", "circle"]
    sizes = [c["size"] for c in categories]
    assert sizes[0] > sizes[1] > sizes[2]  # large circle > black circle > small circle
    assert all(c["data_defined"] == ["outlineColor", "outlineStyle"] for c in categories)
    assert report["labels_enabled"] is True and report["labeling"] == "simple"
    assert report["label_colour_data_defined"] is True
    assert report["metadata_title"] == export.ExportParams().title
    assert "principal area" in report["metadata_abstract"]
    assert any("CC BY 4.0" in r for r in report["metadata_rights"])
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert report["non_background_pixels"] > 500, "QGIS rendered a blank map"
    # Issue 19: QGIS's own metadata validator passes on every layer.
    for name in ("camps", "unresolved", "uncertainty"):
        meta = report["metadata"][name]
        assert meta["valid"] and meta["problems"] == [], (name, meta["problems"])
        assert meta["crs"] == "EPSG:4326" and meta["contacts"]
        assert meta["temporal"] == [["1945-01-01", "1956-12-31"]]
        assert "gmd:topicCategory" not in meta["keywords"] and meta["keywords"]
        assert all(link.startswith("https://") for link in meta["links"])  # URLs only
        assert any("Engo gojûnenshi" in h for h in meta["history"])  # books as lineage
        assert meta["licenses"] and meta["rights"]
    (spatial,) = report["metadata"]["camps"]["spatial"]
    lon_min, lat_min, lon_max, lat_max = spatial["bounds"]
    assert spatial["crs"] == "EPSG:4326" and lon_min < lon_max and lat_min < lat_max
    # styleSLD: QGIS reads it back as one rule per class and review state.
    sld = report["sld"]["camps"]
    assert sld["loaded"] and sld["renderer"] == "RuleRenderer"
    assert len(sld["rules"]) == 2 * len(LEGEND)
    assert report["sld"]["uncertainty"]["loaded"]
    # The uncertainty layer: one polygon per point, faint.
    assert report["uncertainty_valid"] and report["uncertainty_features"] == 9
    assert report["uncertainty_geometry"] == 2  # QgsWkbTypes.PolygonGeometry
    assert report["uncertainty_renderer"] == "singleSymbol"
    assert 0 < report["uncertainty_fill_alpha"] < 64
    # Issue 14: each name's candidates in their own attribute table, joined on name_key.
    table = report["candidates"]
    assert table["valid"] and table["features"] >= 9 and table["geometry"] == 4  # NullGeometry
    assert {"name_key", "rank", "place_id", "name", "score", "match"} <= set(table["fields"])
    joined = table["joined"]
    assert len(joined) == 9 and all(j["first"] is not None for j in joined)
    auto = [j for j in joined if j["decision"] == "auto"]
    assert auto and all(j["first"] == [j["place_id"], 1] for j in auto)


@pytest.mark.gdal
@pytest.mark.parametrize("name", ["camps.gpkg", "camps.geojson"])
def test_ogrinfo_reads_every_layer_without_warning(gpkg: Path, name: str) -> None:
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        missing("ogrinfo not found: apt-get install gdal-bin")
    done = subprocess.run(
        [ogrinfo, "-al", "-so", str(gpkg.parent / name)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    print(done.stdout[:2000])
    assert done.returncode == 0
    assert done.stderr == "", done.stderr
    layers = re.findall(r"^Layer name: (\S+)", done.stdout, flags=re.MULTILINE)
    gpkg_layers = ["uncertainty", "camps", "places", "unresolved", "candidates", "layer_styles"]
    expected = gpkg_layers if name.endswith("gpkg") else ["camps"]
    assert layers == expected


def test_missing_dependency_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but"):
        missing("ogrinfo not found: apt-get install gdal-bin")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="gdal-bin"):
        missing("ogrinfo not found: apt-get install gdal-bin")
