"""Export stage: layers, field types, RFC 7946, by-class split, LPF, determinism, atomicity."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import sqlite3
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner

from pipeline import export
from pipeline.cli import cli
from pipeline.errors import InputDataError
from pipeline.io import write_csv
from pipeline.records import SymbolClass

FIXTURE = Path(__file__).parent / "data" / "geocoded_tiny.csv"
PARAMS = export.ExportParams()
QUIET = dataclasses.replace(PARAMS, preview=False)
OUTPUTS = ("camps.gpkg", "camps.geojson", "camps.lpf.json", "unresolved.csv")


def fixture_rows() -> list[dict[str, str]]:
    with FIXTURE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    write_csv(path, list(rows[0]), rows)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    report = export.run(FIXTURE, folder, PARAMS)
    assert report["rows"] == 11 and report["camps"] == 9 and report["unresolved"] == 2
    return folder


def test_layers_and_field_types(out: Path) -> None:
    gpkg = out / "camps.gpkg"
    assert {name for name, _ in pyogrio.list_layers(gpkg)} == {
        "uncertainty",
        "camps",
        "unresolved",
        "places",
        "candidates",
        "layer_styles",
    }
    camps = pyogrio.read_info(gpkg, layer="camps")
    assert camps["geometry_type"] == "Point" and camps["crs"] == "EPSG:4326"
    types = dict(zip(camps["fields"], camps["ogr_types"], strict=True))
    assert types["detainees"] == "OFTInteger64"
    for name in ("score", "lat", "lon", "uncertainty_km"):
        assert types[name] == "OFTReal", name
    for name in ("record_id", "katakana", "map_no", "gupvi_camp_no", "name_key", "label"):
        assert types[name] == "OFTString", name
    assert "candidates" not in types and types["best_rival"] == "OFTString"
    unresolved = pyogrio.read_info(gpkg, layer="unresolved")
    assert unresolved["geometry_type"] is None
    assert "unresolved_reason" in list(unresolved["fields"])


def test_camps_layer_contents(out: Path) -> None:
    frame = pyogrio.read_dataframe(out / "camps.gpkg", layer="camps")
    assert list(frame["record_id"]) == sorted(frame["record_id"])  # sorted rows
    tayshet = frame[frame["katakana"] == "タイシェト"].iloc[0]
    assert tayshet["detainees"] == 40000
    assert tayshet["symbol_class"] == SymbolClass.OVER_20000
    assert tayshet["class_basis"].startswith("detainee count: ")
    assert "https://bystrov.ustrcr.cz/tabory/6037" in tayshet["class_basis"]
    assert tayshet["detainees_figure"] == "40,000"
    assert (tayshet.geometry.x, tayshet.geometry.y) == (98.0, 55.94)
    assert set(frame["decision"]) == {"auto", "override", "review"}
    vladivostok = frame[frame["record_id"] == "d-001"].iloc[0]
    assert vladivostok["symbol_class"] == "unknown" and vladivostok["label"] == "Vladivostok"


def test_figures_and_their_class_through_the_cli(tmp_path: Path) -> None:
    """A lower bound, an "about", deaths and burials reach the layers; only a count classes."""
    rows = fixture_rows()
    for row in rows:
        row.update(detainees="", detainees_source="", symbol_class="")
    changes = {
        "d-001": {"detainees": "over 16,000", "detainees_source": "S1"},
        "d-002": {"detainees": "about 10,000", "detainees_source": "S2", "deaths": "865"},
        "d-003": {"burials": "513", "symbol_class": "small", "map_no": "7"},
    }
    for row in rows:
        row.update({"deaths": "", "burials": "", **changes.get(row["record_id"], {})})
    source = write_rows(tmp_path / "g.csv", rows)
    result = CliRunner().invoke(
        cli, ["export", "--input", str(source), "--output-dir", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.stderr
    frame = pyogrio.read_dataframe(tmp_path / "o" / "camps.gpkg", layer="camps")
    by_id = {r["record_id"]: r for _, r in frame.iterrows()}
    lower = by_id["d-001"]
    assert (lower["symbol_class"], lower["class_basis"]) == ("over_10000", "detainee count: S1")
    assert (lower["detainees"], lower["detainees_figure"]) == (16000, "over 16,000")
    about = by_id["d-002"]
    assert about["symbol_class"] == "unknown" and about["deaths"] == 865
    assert about["class_basis"] == "none: the figure 'about 10,000' fits no single class"
    printed = by_id["d-003"]
    assert (printed["symbol_class"], printed["class_basis"]) == ("small", "printed on the map")
    assert printed["burials"] == 513 and not printed["detainees_figure"]
    info = pyogrio.read_info(tmp_path / "o" / "camps.gpkg", layer="camps")
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types["deaths"] == types["burials"] == "OFTInteger64"
    features = json.loads((tmp_path / "o" / "camps.geojson").read_text("utf-8"))["features"]
    props = {f["properties"]["record_id"]: f["properties"] for f in features}
    assert props["d-002"]["deaths"] == 865 and props["d-001"]["detainees_figure"] == "over 16,000"


def test_gpkg_is_version_1_2_with_default_style_and_metadata(out: Path) -> None:
    db = sqlite3.connect(out / "camps.gpkg")
    try:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10200
        contents = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents"))
        assert contents == {
            "uncertainty": "features",
            "camps": "features",
            "unresolved": "attributes",
            "places": "features",
            "candidates": "attributes",
            "layer_styles": "attributes",
        }
        styles = db.execute(
            "SELECT f_table_name, f_geometry_column, useAsDefault, styleQML FROM layer_styles "
            "WHERE f_table_name IN ('camps', 'places') ORDER BY f_table_name"
        ).fetchall()
        (metadata,) = db.execute(
            "SELECT m.metadata FROM gpkg_metadata m JOIN gpkg_metadata_reference r "
            "ON r.md_file_id = m.id WHERE r.table_name = 'camps' "
            "AND m.md_standard_uri = 'http://mrcc.com/qgis.dtd'"
        ).fetchone()
    finally:
        db.close()
    assert [s[:3] for s in styles] == [("camps", "geom", 1), ("places", "geom", 1)]
    qml = styles[0][3]
    assert 'type="categorizedSymbol"' in qml and 'attr="symbol_class"' in qml
    assert [m for m in re.findall(r'<category [^>]*value="([^"]+)"', qml)] == [
        c.value for c in SymbolClass
    ]
    assert 'labelsEnabled="1"' in qml and 'name="Color"' in qml
    for colour in ("#d7191c", "#2b5fd9", "#000000", "#1a9641", "#808080"):
        assert colour in qml
    assert "&quot;decision&quot; = 'review'" in qml and "dash" in qml  # review outline
    assert f"<title>{PARAMS.title}</title>" in metadata
    assert "principal area" in metadata and "CC BY 4.0" in metadata


def test_every_row_exactly_once(out: Path) -> None:
    given = sorted(row["record_id"] for row in fixture_rows())
    camps = list(pyogrio.read_dataframe(out / "camps.gpkg", layer="camps")["record_id"])
    layer = list(pyogrio.read_dataframe(out / "camps.gpkg", layer="unresolved")["record_id"])
    with (out / "unresolved.csv").open(encoding="utf-8") as handle:
        listed = [row["record_id"] for row in csv.DictReader(handle)]
    assert listed == layer == ["d-020", "d-054"]
    assert sorted(camps + layer) == given


def test_row_without_point_goes_to_unresolved(tmp_path: Path) -> None:
    rows = fixture_rows()
    rows[0] = rows[0] | {"lat": "", "lon": ""}  # an auto row the geocoder could not place
    report = export.run(write_rows(tmp_path / "in.csv", rows), tmp_path / "o", QUIET)
    assert report["camps"] == 8 and report["unresolved"] == 3
    with (tmp_path / "o" / "unresolved.csv").open(encoding="utf-8") as handle:
        reasons = {row["record_id"]: row["unresolved_reason"] for row in csv.DictReader(handle)}
    assert reasons["d-001"] == "decision is auto but the geocode stage gave no point"


def test_geojson_is_rfc7946(out: Path) -> None:
    text = (out / "camps.geojson").read_bytes().decode("utf-8")
    assert "ウラジオストク" in text  # UTF-8 text, not \\u escapes
    data = json.loads(text)
    assert "crs" not in data and data["type"] == "FeatureCollection"
    by_id = {row["record_id"]: row for row in fixture_rows()}
    assert len(data["features"]) == 9
    for feature in data["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        row = by_id[feature["properties"]["record_id"]]
        assert (lon, lat) == (float(row["lon"]), float(row["lat"]))  # lon/lat order
        assert -180 <= lon <= 180 and -90 <= lat <= 90
    for number in re.findall(r'"coordinates": \[ ([^\]]+) \]', text):
        for value in number.split(","):
            assert len(value.strip().partition(".")[2]) <= 7


def test_by_class_split(out: Path) -> None:
    files = sorted(p.name for p in (out / "by_class").iterdir())
    assert files == sorted(f"{c.value}.geojson" for c in SymbolClass)
    seen: list[str] = []
    for klass in SymbolClass:
        data = json.loads((out / "by_class" / f"{klass.value}.geojson").read_text("utf-8"))
        assert data["type"] == "FeatureCollection" and "crs" not in data
        assert {f["properties"]["symbol_class"] for f in data["features"]} <= {klass.value}
        seen += [f["properties"]["record_id"] for f in data["features"]]
    assert json.loads((out / "by_class" / "small.geojson").read_text())["features"] == []
    camps = json.loads((out / "camps.geojson").read_text("utf-8"))["features"]
    assert sorted(seen) == sorted(f["properties"]["record_id"] for f in camps)


def test_linked_places_format(out: Path) -> None:
    lpf = json.loads((out / "camps.lpf.json").read_text("utf-8"))
    assert lpf["type"] == "FeatureCollection" and lpf["@context"] == export.LPF_CONTEXT
    features = lpf["features"]
    assert len(features) == 9 and len({f["@id"] for f in features}) == 9
    for feature in features:
        assert feature["properties"]["title"] and isinstance(feature["properties"]["ccodes"], list)
        ja = feature["names"][0]
        assert ja["lang"] == "ja-Kana" and ja["citations"][0]["@id"].startswith("http")
        (point,) = feature["geometry"]["geometries"]
        assert feature["geometry"]["type"] == "GeometryCollection" and point["type"] == "Point"
        assert point["certainty"] in {"certain", "less-certain", "uncertain"}
        assert point["citations"]
        assert feature["links"][0]["identifier"].startswith("https://www.geonames.org/")
        assert feature["when"]["timespans"] == [{"start": {"in": "1945"}, "end": {"in": "1956"}}]
        assert feature["properties"]["fclasses"] and feature["types"][0]["identifier"]
    tayshet = next(f for f in features if f["names"][0]["toponym"] == "タイシェト")
    assert tayshet["properties"]["ccodes"] == ["RU"]  # from the point: no country given
    assert tayshet["links"] == [
        {"type": "closeMatch", "identifier": "https://www.geonames.org/1489870"}
    ]
    langs = {n["lang"] for n in tayshet["names"]}
    assert langs == {"ja-Kana", "ja-Latn", "en"}


def test_every_published_place_has_a_country() -> None:
    # WHG saves a dataset only when every feature validates; Sovetskaya Gavan's
    # coastal point had "ccodes": [] when the country came from a 1:110m outline.
    published = Path(__file__).parents[1] / "output" / "camps.lpf.json"
    features = json.loads(published.read_text("utf-8"))["features"]
    empty = [f["properties"]["title"] for f in features if not f["properties"]["ccodes"]]
    assert features and empty == []


def test_preview_png_written(out: Path) -> None:
    assert (out / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_two_runs_are_byte_identical(tmp_path: Path) -> None:
    export.run(FIXTURE, tmp_path / "a", PARAMS)
    export.run(FIXTURE, tmp_path / "b", PARAMS)
    first, second = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert sorted(first) == sorted(second) and "map.png" in first
    for name in first:
        assert first[name] == second[name], f"{name} differs between two runs"


def test_failed_export_leaves_previous_outputs(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    export.run(FIXTURE, folder, QUIET)
    before = snapshot(folder)
    rows = fixture_rows()
    rows[5]["lat"] = "north"
    with pytest.raises(InputDataError, match="row 7, column lat: 'north' is not a number"):
        export.run(write_rows(tmp_path / "bad.csv", rows), folder, QUIET)
    assert snapshot(folder) == before
    assert not [p for p in folder.rglob(".*")]  # no temporary file left behind


def test_duplicate_record_id_is_refused(tmp_path: Path) -> None:
    rows = fixture_rows()
    rows[1]["record_id"] = rows[0]["record_id"]
    with pytest.raises(InputDataError, match="'d-001' repeats row 2"):
        export.run(write_rows(tmp_path / "dup.csv", rows), tmp_path / "o", QUIET)


def test_only_unresolved_rows_still_give_every_layer(tmp_path: Path) -> None:
    rows = [r | {"decision": "unresolved"} for r in fixture_rows()]
    report = export.run(write_rows(tmp_path / "in.csv", rows), tmp_path / "o", QUIET)
    assert report["camps"] == 0 and report["unresolved"] == 11
    info = pyogrio.read_info(tmp_path / "o" / "camps.gpkg", layer="camps")
    assert info["geometry_type"] == "Point" and info["features"] == 0


def test_cli_export_bad_input(tmp_path: Path, repo: Path) -> None:
    rows = fixture_rows()
    rows[2]["decision"] = "maybe"
    bad = write_rows(tmp_path / "bad.csv", rows)
    params = str(repo / "params.yaml")
    result = CliRunner().invoke(
        cli,
        ["export", "--input", str(bad), "--output-dir", str(tmp_path / "o"), "--params", params],
    )
    assert result.exit_code == 1
    assert "row 4, column decision: 'maybe' is not one of auto, review" in result.stderr
    assert not (tmp_path / "o" / "camps.gpkg").exists()


def test_cli_export_missing_column(tmp_path: Path, repo: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("record_id,katakana\nd-1,チタ\n", encoding="utf-8")
    params = str(repo / "params.yaml")
    result = CliRunner().invoke(
        cli,
        ["export", "--input", str(bad), "--output-dir", str(tmp_path / "o"), "--params", params],
    )
    assert result.exit_code == 1
    assert "missing column(s) decision, lat, lon" in result.stderr


def test_preview_is_a_conic_with_labels_that_never_overlap(repo: Path) -> None:
    from pipeline import io
    from pipeline.export.rows import prepare

    geocoded = repo / "output" / "stages" / "geocoded.csv"
    rows = io.read_csv(geocoded, required=("record_id",))[1]
    camps = [p for p in prepare(rows, geocoded) if p.point is not None]
    figure = export.preview(camps, io.read_boundaries(), "t")
    axes = figure.axes[0]
    assert "Lambert conformal conic" in axes.get_xlabel()
    x0, x1 = axes.get_xlim()
    assert x1 - x0 > 1_000_000  # metres of the projection, not degrees
    renderer = figure.canvas.get_renderer()
    shown = [t for t in axes.texts if t.get_visible()]
    assert 20 <= len(shown) < len(axes.texts)
    assert any(t.get_text() == "ハバロフスク Khabarovsk" for t in axes.texts)
    boxes = [t.get_window_extent(renderer) for t in shown]
    frame = axes.get_window_extent()
    for i, box in enumerate(boxes):
        assert frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
        assert not any(box.overlaps(other) for other in boxes[i + 1 :])


def test_uncertainty_layer_is_geodesic_circles_under_the_points(out: Path) -> None:
    from pyproj import Geod

    gpkg = out / "camps.gpkg"
    assert [name for name, _ in pyogrio.list_layers(gpkg)][:2] == ["uncertainty", "camps"]
    circles = pyogrio.read_dataframe(gpkg, layer="uncertainty")
    camps = pyogrio.read_dataframe(gpkg, layer="camps").set_index("record_id")
    assert sorted(circles["record_id"]) == sorted(camps.index)
    geod = Geod(ellps="WGS84")
    for row in circles.itertuples():
        centre = camps.loc[row.record_id].geometry
        lons, lats = zip(*row.geometry.exterior.coords, strict=True)
        _, _, metres = geod.inv([centre.x] * len(lons), [centre.y] * len(lats), lons, lats)
        assert max(abs(m / 1000 - row.uncertainty_km) for m in metres) < 0.01 * row.uncertainty_km
    styles = sqlite3.connect(gpkg).execute(
        "SELECT f_table_name, styleSLD FROM layer_styles ORDER BY f_table_name"
    )
    sld = dict(styles.fetchall())
    assert "fill-opacity" in sld["uncertainty"] and "<se:Rule>" in sld["camps"]
    qml = dict(
        sqlite3.connect(gpkg).execute("SELECT f_table_name, styleQML FROM layer_styles").fetchall()
    )
    # a circle around a 1945 region's centre is dashed, as on the web map
    assert "&quot;geocode_method&quot; = 'region_centroid' THEN 'dash'" in qml["uncertainty"]


def test_circle_crosses_the_antimeridian_as_one_ring() -> None:
    from pipeline.export.uncertainty import circle

    ring = circle(179.5, 66.0, 100.0)
    lons = [x for x, _ in ring.exterior.coords]
    assert ring.is_valid and max(lons) > 180 and max(lons) - min(lons) < 10


def test_results_xlsx_and_csv_keep_the_register_then_readable_results(tmp_path: Path) -> None:
    """Issue 16: results in one readable sheet, every input column, no JSON, a BOM."""
    from openpyxl import load_workbook

    rows = fixture_rows()
    shuffled = rows[::-1]  # the register's own order, not the layers' (by id)
    export.run(write_rows(tmp_path / "g.csv", shuffled), tmp_path / "out", QUIET)
    out = tmp_path / "out"
    assert (out / "results.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    with (out / "results.csv").open(encoding="utf-8-sig", newline="") as handle:
        listed = list(csv.DictReader(handle))
    book = load_workbook(out / "results.xlsx", read_only=True)
    sheet = list(book["results"].iter_rows(values_only=True))
    book.close()
    header = list(sheet[0])
    own = ["record_id", "katakana", "katakana_variants", "map_no", "region", "symbol_class"]
    assert header[: len(own)] == own and "candidates" not in header and "romaji" not in header
    assert header[-13:] == [
        "place",
        "cyrillic",
        "latin",
        "lat",
        "lon",
        "result_region",
        "country",
        "decision",
        "score",
        "certainty",
        "radius_km",
        "method",
        "best_rival",
    ]
    assert [r["record_id"] for r in listed] == [r["record_id"] for r in shuffled]
    assert len(sheet) == len(rows) + 1
    vladivostok = next(r for r in listed if r["record_id"] == "d-001")
    assert (vladivostok["place"], vladivostok["cyrillic"], vladivostok["country"]) == (
        "Vladivostok",
        "Владивосток",
        "RU",
    )
    assert vladivostok["latin"] == "Vladivostok" and vladivostok["decision"] == "auto (matched)"
    row = next(r for r in sheet[1:] if r[0] == "d-001")
    assert isinstance(row[header.index("lat")], float)  # numbers stay numbers in the workbook
    assert not any(v.lstrip().startswith(("[", "{")) for r in listed for v in r.values())


def test_places_layer_is_one_labelled_point_per_place_with_its_count(tmp_path: Path) -> None:
    """Issue 16: a death register names one camp hundreds of times: draw it once, counted."""
    rows = fixture_rows()
    base = next(r for r in rows if r["record_id"] == "d-001")
    repeated = [*rows, base | {"record_id": "x-1", "katakana": "ウラジオストック"}]
    repeated.append(base | {"record_id": "x-2"})
    export.run(write_rows(tmp_path / "g.csv", repeated), tmp_path / "out", QUIET)
    gpkg = tmp_path / "out" / "camps.gpkg"
    places = pyogrio.read_dataframe(gpkg, layer="places")
    camps = pyogrio.read_dataframe(gpkg, layer="camps")
    assert len(places) == camps["place_id"].nunique() and int(places["rows"].sum()) == len(camps)
    vladivostok = places[places["place_id"] == base["place_id"]].iloc[0]
    assert vladivostok["rows"] == 3 and vladivostok["record_ids"] == "d-001|x-1|x-2"
    assert vladivostok["names_seen"] == "ウラジオストク|ウラジオストック"
    assert vladivostok["label"] == "Vladivostok (3)"
    db = sqlite3.connect(gpkg)
    try:
        (qml,) = db.execute(
            "SELECT styleQML FROM layer_styles WHERE f_table_name = 'places'"
        ).fetchone()
    finally:
        db.close()
    assert "&quot;label&quot;" in qml and 'labelsEnabled="1"' in qml


def test_a_users_register_is_titled_as_itself(tmp_path: Path, repo: Path) -> None:
    """Issue 16: a user's run was titled and described as the ministry's map."""
    runner = CliRunner()
    register = tmp_path / "my_register.csv"
    register.write_bytes((repo / "tests/data/raw_tiny.csv").read_bytes())
    out = tmp_path / "results"
    tiny = repo / "tests/data/gazetteer_reconcile"
    args = ["run", "--input", str(register), "--output-dir", str(out), "--gazetteer", str(tiny)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    db = sqlite3.connect(out / "camps.gpkg")
    try:
        (identifier, description) = db.execute(
            "SELECT identifier, description FROM gpkg_contents WHERE table_name = 'camps'"
        ).fetchone()
        (metadata,) = db.execute(
            "SELECT m.metadata FROM gpkg_metadata m JOIN gpkg_metadata_reference r "
            "ON r.md_file_id = m.id WHERE r.table_name = 'camps'"
        ).fetchone()
    finally:
        db.close()
    assert identifier == "my_register.csv: places named in the register"
    assert "my_register.csv" in description and "not the Ministry" in description
    assert "<title>my_register.csv: places named in the register</title>" in metadata
    assert PARAMS.title not in metadata and "Kôseishô" not in metadata
    from openpyxl import load_workbook

    book = load_workbook(out / "results.xlsx", read_only=True)
    about = dict(book["about"].iter_rows(min_row=2, values_only=True))
    book.close()
    assert about["title"] == "my_register.csv: places named in the register"
    assert "not the Ministry" in about["description"]


# --- issue 14: candidates once per name, Arrow writes, bytes per row ------------------

GEOCODED = Path(__file__).parent.parent / "output" / "stages" / "geocoded.csv"


def register_rows(n_rows: int, seed: int = 14) -> list[dict[str, str]]:
    """A register of ``n_rows`` rows: the committed geocoded rows repeated, new ids.

    Shaped as ``camps bench``'s register (a name and a source, then the stages'
    columns; the dossier's own notes and figures dropped). Every tenth copy of a
    name has its first candidate dropped (what a manual "not this place" does),
    so one name has two candidate lists.
    """
    import random

    with GEOCODED.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        base = list(reader)
    stages = header[header.index("katakana_normalized") :]
    keep = ["record_id", "katakana", "source", "place_id", *stages]
    rng = random.Random(seed)
    rows = []
    for number in range(n_rows):
        row = {column: rng_row[column] for rng_row in [rng.choice(base)] for column in keep}
        row["record_id"] = f"reg-{number:06d}"
        if number % 10 == 9:
            cands = json.loads(row["candidates"] or "[]")
            row["candidates"] = json.dumps(cands[1:], ensure_ascii=False)
        rows.append(row)
    return rows


def export_register(runner: CliRunner, tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    source = write_rows(tmp_path / f"register{len(rows)}.csv", rows)
    folder = tmp_path / f"out{len(rows)}"
    done = runner.invoke(cli, ["-q", "export", "--input", str(source), "--output-dir", str(folder)])
    assert done.exit_code == 0, done.stderr
    return folder


def test_candidates_table_joined_by_name_through_export(runner: CliRunner, tmp_path: Path) -> None:
    rows = register_rows(600)
    folder = export_register(runner, tmp_path, rows)
    gpkg = folder / "camps.gpkg"
    table = pyogrio.read_dataframe(gpkg, layer="candidates")
    camps = pyogrio.read_dataframe(gpkg, layer="camps")
    unresolved = pyogrio.read_dataframe(gpkg, layer="unresolved")
    assert "candidates" not in camps.columns and "candidates" not in unresolved.columns
    # one candidate list per distinct (name, list): far fewer rows than rows x candidates
    lists = {(r["katakana_normalized"], r["candidates"]) for r in rows}
    expected = sum(len(json.loads(text or "[]")) for _, text in lists)
    assert len(table) == expected < sum(len(json.loads(r["candidates"])) for r in rows) / 4
    assert list(table.columns[:4]) == ["name_key", "katakana_normalized", "rank", "place_id"]
    assert {"name", "score", "match", "description"} <= set(table.columns)
    assert "feature_name_exact" in table.columns and table["score"].dtype == "float64"
    # every row joins on name_key to its own list, in rank order, with the same scores
    by_row = {r["record_id"]: r for r in rows}
    groups = {key: group.sort_values("rank") for key, group in table.groupby("name_key")}
    for frame in (camps, unresolved):
        for record in frame.itertuples():
            given = json.loads(by_row[record.record_id]["candidates"] or "[]")
            joined = groups.get(record.name_key)
            got = (
                []
                if joined is None
                else list(zip(joined["place_id"], joined["score"], strict=True))
            )
            assert got == [(c["id"], c["score"]) for c in given], record.record_id
            assert record.name_key.split(" #")[0] == record.katakana_normalized
    # the rows keep the best place, its score and the best rival
    rivalled = [k for k, group in groups.items() if len(group) > 1]
    auto = camps[(camps["decision"] == "auto") & camps["name_key"].isin(rivalled)].iloc[0]
    first = groups[auto["name_key"]]
    assert auto["place_id"] == first["place_id"].iloc[0] and first["match"].iloc[0] == 1
    rival = first.iloc[1]
    assert auto["best_rival"] == f"{rival['name']} ({rival['place_id']}, {rival['score']:.2f})"
    # a name with two candidate lists has two keys
    assert any(" #2" in key for key in groups)
    # the sidecar holds the same table, and the data package lists it with types
    with (folder / "candidates.csv").open(encoding="utf-8", newline="") as handle:
        sidecar = list(csv.DictReader(handle))
    assert [(r["name_key"], r["rank"], r["place_id"]) for r in sidecar] == [
        (k, str(rank), p)
        for k, rank, p in zip(table["name_key"], table["rank"], table["place_id"], strict=True)
    ]
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    (resource,) = [r for r in package["resources"] if r["path"] == "candidates.csv"]
    types = {f["name"]: f["type"] for f in resource["schema"]["fields"]}
    assert types["rank"] == "integer" and types["score"] == "number"


def test_candidates_table_cells_are_each_candidates_features(
    runner: CliRunner, tmp_path: Path
) -> None:
    # A feature some candidates lack, one first met in a late list, one given twice:
    # each row of the sidecar holds its own candidate's values, empty where it has none.
    rows = register_rows(300)
    for number, row in enumerate(rows):
        cands = json.loads(row["candidates"] or "[]")
        if cands and number % 3 == 0:
            cands[0]["features"] = cands[0].get("features", [])[1:]
        if cands and number % 5 == 4 and number > 200:
            cands[-1]["features"] = [*cands[-1].get("features", []), {"id": "late", "value": 7}]
        if cands and number % 7 == 6:
            twice = [{"id": "twice", "value": 1}, {"id": "twice", "value": 0.25}]
            cands[0]["features"] = [*cands[0].get("features", []), *twice]
        row["candidates"] = json.dumps(cands, ensure_ascii=False)
    folder = export_register(runner, tmp_path, rows)
    with (folder / "candidates.csv").open(encoding="utf-8", newline="") as handle:
        sidecar = list(csv.DictReader(handle))
    columns = [c for c in sidecar[0] if c.startswith("feature_")]
    assert columns.index("feature_late") > columns.index("feature_name_exact")
    table: dict[str, list[dict[str, str]]] = {}
    for line in sidecar:
        table.setdefault(line["name_key"], []).append(line)
    keys = {}
    for layer in ("camps", "unresolved"):
        frame = pyogrio.read_dataframe(folder / "camps.gpkg", layer=layer, read_geometry=False)
        keys.update(zip(frame["record_id"], frame["name_key"], strict=True))
    lists = {keys[row["record_id"]]: json.loads(row["candidates"] or "[]") for row in rows}
    assert sorted(key for key, cands in lists.items() if cands) == sorted(table)
    for key, cands in lists.items():
        for cand, got in zip(cands, table.get(key, []), strict=True):
            own = {f"feature_{f['id']}": str(f["value"]) for f in cand.get("features", [])}
            assert {c: got[c] for c in columns} == {c: own.get(c, "") for c in columns}
    assert {r["feature_twice"] for r in sidecar} == {"", "0.25"}
    assert {r["feature_late"] for r in sidecar} == {"", "7"}


def test_layers_grow_by_at_most_a_kilobyte_per_row(runner: CliRunner, tmp_path: Path) -> None:
    small = export_register(runner, tmp_path, register_rows(500))
    large = export_register(runner, tmp_path, register_rows(2_500))
    for name in ("camps.gpkg", "camps.geojson"):
        growth = ((large / name).stat().st_size - (small / name).stat().st_size) / 2_000
        print(f"{name}: {growth:.0f} bytes per row")
        assert 0 < growth <= 1024, (name, growth)


def test_arrow_export_of_10000_rows_equals_the_in_memory_write(
    runner: CliRunner, tmp_path: Path
) -> None:
    """The Arrow-written layers hold the same features and attributes as the rows, and
    pyogrio's in-memory (non-Arrow) write of those features gives the same GeoJSON."""
    rows = register_rows(10_000)
    folder = export_register(runner, tmp_path, rows)
    camps = pyogrio.read_dataframe(folder / "camps.gpkg", layer="camps", use_arrow=False)
    unresolved = pyogrio.read_dataframe(folder / "camps.gpkg", layer="unresolved")
    assert len(camps) + len(unresolved) == 10_000
    assert list(camps["record_id"]) == sorted(camps["record_id"])
    by_row = {r["record_id"]: r for r in rows}
    for record in camps.sample(500, random_state=1).itertuples():
        row = by_row[record.record_id]
        assert (record.geometry.x, record.geometry.y) == (float(row["lon"]), float(row["lat"]))
        for column in ("katakana", "place_id", "place_name", "decision", "romaji"):
            assert getattr(record, column) == row[column], column
        assert record.score == float(row["score"])
    # the in-memory write of what the GeoPackage holds is the Arrow-written GeoJSON
    again = tmp_path / "camps.geojson"
    camps = camps.drop(columns=[c for c in camps.columns if c == "fid"])
    pyogrio.write_dataframe(
        camps,
        again,
        layer="camps",
        driver="GeoJSON",
        layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "7"},
        use_arrow=False,
    )
    written = json.loads((folder / "camps.geojson").read_text(encoding="utf-8"))
    expected = json.loads(again.read_text(encoding="utf-8"))
    assert written["features"] == expected["features"]
    # by_class, written from the same Arrow table, splits camps.geojson exactly
    parts = [
        f
        for p in sorted((folder / "by_class").glob("*.geojson"))
        for f in json.loads(p.read_text(encoding="utf-8"))["features"]
    ]
    key = lambda f: f["properties"]["record_id"]  # noqa: E731
    assert sorted(parts, key=key) == written["features"]


def test_layers_written_in_batches_equal_the_layers_written_at_once(
    runner: CliRunner, tmp_path: Path
) -> None:
    """Batches of 7 rows (boundaries inside runs of one name, and inside a name's
    repeats of one body): the same GeoJSON files, byte for byte, and the same
    GeoPackage tables; the GeoPackage's bytes differ only in SQLite's count of commits."""
    from pipeline.io import batches

    rows = register_rows(300)
    once = export_register(runner, tmp_path / "once", rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batches, "BATCH_ROWS", 7)
        batched = export_register(runner, tmp_path / "batched", rows)
    camps = pyogrio.read_dataframe(once / "camps.gpkg", layer="camps")
    assert len(camps) > 7 * 10 and camps["katakana"].duplicated().any()
    for name in ("camps.geojson", *(f"by_class/{p.name}" for p in (once / "by_class").iterdir())):
        assert (once / name).read_bytes() == (batched / name).read_bytes(), name

    def tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
        connection = sqlite3.connect(path)
        try:
            names = [
                n
                for (n,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            ]
            return {
                n: connection.execute(f'SELECT * FROM "{n}"').fetchall()
                for n in names
                if not n.startswith("sqlite_") and "rtree" not in n
            }
        finally:
            connection.close()

    assert tables(once / "camps.gpkg") == tables(batched / "camps.gpkg")
    a, b = (once / "camps.gpkg").read_bytes(), (batched / "camps.gpkg").read_bytes()
    assert len(a) == len(b)
    differ = {n for n, (x, y) in enumerate(zip(a, b, strict=True)) if x != y}
    assert differ and differ <= {*range(24, 28), *range(92, 96)}  # the file change counter


def test_shared_feature_parts_equal_each_row_made_alone() -> None:
    """Linked Places features and result cells made with the collection's shared parts
    are what each row gives alone, on a register that repeats names (some with odd spacing)."""
    from pipeline import io, places
    from pipeline.export import results
    from pipeline.export.lpf import Features, lpf_feature
    from pipeline.export.lptsv import lptsv_of, lptsv_row, lptsv_text

    rows = register_rows(600, seed=3)
    for row in rows[::7]:
        row["katakana"] = f"  {row['katakana']} "  # the same name written with spaces
    for row in rows[::11]:
        row["katakana_variants"] = "/".join(filter(None, [row.get("katakana_variants", ""), "ー"]))
    camps = [p for p in export.prepare(rows, Path("register.csv")) if p.point is not None]
    assert len({p.row["katakana"] for p in camps}) < len(camps) / 3  # names repeat
    facts = export.GazetteerFacts(places.load(Path(__file__).parent.parent / "gazetteer" / "build"))
    together = export.linked_places(camps, PARAMS, facts)["features"]
    alone = [lpf_feature(p, PARAMS, facts) for p in camps]
    assert json.dumps(together, ensure_ascii=False) == json.dumps(alone, ensure_ascii=False)
    # the stage's texts: each body encoded once, the row's @id put in; the same bytes
    features = Features(PARAMS, facts)
    assert [features.line(p) for p in camps] == [io.feature_json(f).encode() for f in alone]
    lines = (
        lptsv_row(f, p.record_id, p.row.get("uncertainty_km", ""))
        for f, p in zip(alone, camps, strict=True)
    )
    assert b"".join(lptsv_of(camps, features)).decode("utf-8") == lptsv_text(lines)
    # and the results sheet's cells (Cyrillic, Latin, country once per name and point)
    readings = results.Readings()
    shared = [results.result_of(p, "", readings) for p in camps]
    assert shared == [results.result_of(p, "") for p in camps]


def test_gazetteer_facts_are_each_places_facts_made_when_asked() -> None:
    """Each place's facts, made on demand, are those made from the whole gazetteer
    at once: its type, GeoNames id, curated names and Cyrillic names in order."""
    from pipeline import places

    gazetteer = places.load(Path(__file__).parent.parent / "gazetteer" / "build")
    by_place: dict[str, list[places.Name]] = {}
    for name in gazetteer.names:
        by_place.setdefault(name.place_id, []).append(name)
    facts = export.GazetteerFacts(gazetteer)
    assert len(facts) == len(gazetteer.places) and set(facts) == set(gazetteer.places)
    for place_id, place in gazetteer.places.items():
        names = by_place.get(place_id, [])
        curated = [n for n in names if not n.lang.startswith("und")]
        if not any(n.lang == "ru" for n in curated):
            curated += [n for n in names if n.lang == "und-Cyrl"]
        assert facts[place_id].names == tuple(curated), place_id
        assert (facts[place_id].feature_type, facts[place_id].geonames_id) == (
            place.feature_type,
            place.geonames_id,
        )
    assert sum(1 for f in facts.values() if any(n.lang == "und-Cyrl" for n in f.names)) > 0
    assert facts.get("no such place") is None


def test_rows_alike_but_for_their_id_are_placed_once_and_share_their_cells() -> None:
    """Rows equal in every cell but record_id keep one copy of their cells and one
    check, and come out as each row placed alone, each with its own id; a row that
    differs in one cell is its own."""
    from pipeline.export.rows import _place, alike_key

    rows = register_rows(300, seed=5)
    rows[7] = rows[3] | {"record_id": rows[7]["record_id"], "romaji": "other"}
    copies = [dict(row) for row in rows]  # distinct strings, as a CSV reader makes them
    _, cleaned = export.without_controls(list(rows[0]), iter(copies), Path("register.csv"))
    order: list[str] = []
    placed = export.prepare(cleaned, Path("register.csv"), order)
    assert order == [row["record_id"] for row in rows]
    alone = sorted((_place(row, "") for row in rows), key=lambda p: p.record_id)
    assert [p.cells() for p in placed] == [p.row for p in alone]
    assert [(p.record_id, p.label, p.point, p.reason) for p in placed] == [
        (p.record_id, p.label, p.point, p.reason) for p in alone
    ]
    by_body: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    for p in placed:
        assert by_body.setdefault(p.body, p.row) is p.row  # one dict per body
    assert len(by_body) < len(placed) / 2  # the register repeats its rows
    assert alike_key(rows[7]) != alike_key(rows[3])
    assert all(p.body == alike_key(p.row) for p in placed)
    assert export.prepare(rows, Path("register.csv")) == placed


def test_by_class_parts_cut_from_camps_geojson_are_the_bytes_gdal_writes(tmp_path: Path) -> None:
    """Each part cut from camps.geojson's lines is what GDAL writes for the part's rows
    (empty parts, text with quotes, newlines and kana included); a file not laid out
    one feature a line is not cut."""
    import geopandas
    import pyarrow as pa
    import pyarrow.compute as pc
    import shapely

    from pipeline.io import gis

    classes = ["small", "unknown", "small", "over_10000", "unknown", "small"]
    frame = geopandas.GeoDataFrame(
        {
            "record_id": [f"r{i}" for i in range(len(classes))],
            "note": ['a "quoted"\nline', "チタ, Чита", "", "tab\there", "}, {", "last"],
            "score": [0.5, None, 1e-6, 3.0, 2.5, 0.0],
            "symbol_class": classes,
        },
        geometry=shapely.points([(130.0 + i, 45.0 - i / 3) for i in range(len(classes))]),
        crs="EPSG:4326",
    )
    names = ("small", "unknown", "over_10000", "over_20000")
    parts = {k: tmp_path / "cut" / f"{k}.geojson" for k in names}
    counts = gis.write_geojson_split(tmp_path / "camps.geojson", frame, "symbol_class", parts)
    assert counts == {"small": 3, "unknown": 2, "over_10000": 1, "over_20000": 0}
    again = {k: tmp_path / "again" / f"{k}.geojson" for k in names}
    assert gis._split_geojson(tmp_path / "camps.geojson", classes, again) == counts  # was cut
    # each part as GDAL writes it from geopandas' own Arrow table of the part's rows
    table = pa.table(frame.to_arrow(geometry_encoding="WKB"))
    (tmp_path / "gdal").mkdir()
    for name in names:
        alone = tmp_path / "gdal" / f"{name}.geojson"
        part = table.filter(pc.equal(table["symbol_class"], name))
        options = {"geometry_name": "geometry", "geometry_type": "Unknown", "crs": "EPSG:4326"}
        pyogrio.write_arrow(
            part, alone, layer=name, driver="GeoJSON", layer_options=gis.GEOJSON_OPTIONS, **options
        )
        assert parts[name].read_bytes() == alone.read_bytes(), name
    odd = tmp_path / "odd.geojson"
    odd.write_text('{"type": "FeatureCollection", "name": "odd", "features": []}\n')
    elsewhere = {"small": tmp_path / "none" / "small.geojson"}
    assert gis._split_geojson(odd, ["small"], elsewhere) is None
    assert not elsewhere["small"].exists()


def test_parts_gdal_writes_anew_hold_their_rows_of_the_whole_file(tmp_path: Path) -> None:
    """A part's name that is not plain (a space, a non-ASCII letter) is not cut from the
    file's lines: GDAL writes the part's rows anew, and they are the file's rows of it."""
    import geopandas
    import shapely

    from pipeline.io import gis

    classes = ["small", "unknown", "small", "unknown", "small"]
    frame = geopandas.GeoDataFrame(
        {"record_id": [f"r{i}" for i in range(5)], "symbol_class": classes},
        geometry=shapely.points([(130.0 + i, 45.0) for i in range(5)]),
        crs="EPSG:4326",
    )
    parts = {"small": tmp_path / "klein ö.geojson", "unknown": tmp_path / "unknown.geojson"}
    counts = gis.write_geojson_split(tmp_path / "camps.geojson", frame, "symbol_class", parts)
    assert counts == {"small": 3, "unknown": 2}
    whole = json.loads((tmp_path / "camps.geojson").read_text(encoding="utf-8"))["features"]
    for value, path in parts.items():
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        assert features == [f for f in whole if f["properties"]["symbol_class"] == value]


@pytest.mark.parametrize("clash", [False, True])
def test_results_workbook_holds_the_csvs_cells(tmp_path: Path, clash: bool) -> None:
    """Each workbook row is its CSV row (numbers as numbers), in the register's order; with
    a register column named as a renamed result column (result_region beside region) too:
    then the result's is result_region_2, and no column is lost."""
    from openpyxl import load_workbook

    rows = fixture_rows()[::-1]
    if clash:
        rows = [
            {
                k: v
                for c, v in row.items()
                for k, v in ((c, v), ("result_region", "own"))[: 1 + (c == "region")]
            }
            for row in rows
        ]
    export.run(write_rows(tmp_path / "g.csv", rows), tmp_path / "out", QUIET)
    out = tmp_path / "out"
    with (out / "results.csv").open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header, *texts = list(reader)
    assert len(header) == len(set(header)) and ("result_region_2" in header) is clash
    if clash:  # the register's own column keeps its cells
        assert {row[header.index("result_region")] for row in texts} == {"own"}
    book = load_workbook(out / "results.xlsx", read_only=True)
    sheet = list(book["results"].iter_rows(values_only=True))
    book.close()
    assert len(sheet) == len(texts) + 1 and list(sheet[0]) == header
    numbers = {"lat", "lon", "score", "radius_km"}
    for cells, values in zip(texts, sheet[1:], strict=True):
        expected = {
            h: float(t) if h in numbers and t else (t if t else None)
            for h, t in zip(header, cells, strict=True)
        }
        assert list(values) == list(expected.values())
    assert [c[0] for c in texts] == [r["record_id"] for r in rows]
