"""Geocode stage: the offline geocoder, certainty by evidence, and the online path
end to end against a local Nominatim-like server (tests/fake_geocoder.py)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_geocoder import FakeNominatim, serve
from geopy.geocoders import Nominatim
from geopy.location import Location
from read_spy import ReadSpy

from pipeline import geocode
from pipeline import overrides as ov
from pipeline.area import country_of, haversine_km
from pipeline.cli import cli
from pipeline.errors import GazetteerError, GeocoderError, ParamsError
from pipeline.geocode import GazetteerGeocoder, GeocodeParams, run
from pipeline.geocode.points import (
    CAMP_AREA_COLUMN,
    ROW_POINT_COLUMNS,
    OfflinePlaces,
    PlaceRows,
    row_point,
)
from pipeline.io import merge_columns, read_csv, write_csv
from pipeline.places import Gazetteer, Name, load
from pipeline.records import GEOCODE_COLUMNS

TINY = Path(__file__).parent / "data" / "gazetteer_tiny"
RECONCILED_COLUMNS = [
    "record_id",
    "katakana",
    "katakana_normalized",
    "region_hint",
    "cyrillic_candidates",
    "place_id",
    "place_name",
    "score",
    "decision",
    "candidates",
]


def _row(rid: str, katakana: str, place_id: str, decision: str, **extra: str) -> dict[str, str]:
    row = dict.fromkeys(RECONCILED_COLUMNS, "")
    row.update(record_id=rid, katakana=katakana, place_id=place_id, decision=decision, **extra)
    return row


def _write(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    write_csv(path, columns or RECONCILED_COLUMNS, rows)
    return path


def _read(path: Path) -> list[dict[str, str]]:
    return read_csv(path)[1]


# --------------------------------------------------------------- offline geocoder


def test_offline_geocoder_returns_locations_with_the_record() -> None:
    offline = GazetteerGeocoder(load(TINY))
    for query in ("Хабаровск", "ハバロフスク", "khabarovsk"):
        location = offline.geocode(query)
        assert isinstance(location, Location)
        assert location.raw["place_id"] == "gn:2022890"
        assert (location.latitude, location.longitude) == (48.46204, 135.0971)
    many = offline.geocode("Ulan-Bator", exactly_one=False)
    assert isinstance(many, list) and many[0].raw["geonames_id"] == "2028462"
    assert offline.geocode("London") is None
    looked_up = offline.lookup("khurmuli")
    assert looked_up is not None and looked_up.raw["point_source"].startswith("dossier")
    assert offline.lookup("gn:0") is None
    region = offline.region("chita")
    assert region is not None and region.raw["radius_km"] == 436.6


def test_missing_gazetteer_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(GazetteerError, match="camps gazetteer"):
        GazetteerGeocoder(load(tmp_path))


def test_country_of_tells_the_border_apart() -> None:
    # Blagoveshchensk (RU, geonames:2026609) and Heihe (CN, geonames:2036973) face each
    # other across the Amur, 4 km apart; Ulan Bator is geonames:2028462.
    assert country_of(50.27593, 127.52637) == "RU"
    assert country_of(50.24413, 127.49016) == "CN"
    assert country_of(47.90771, 106.88324) == "MN"


# ----------------------------------------------------------------- the offline run


@pytest.fixture()
def reconciled(tmp_path: Path) -> Path:
    candidates = json.dumps([{"id": "gn:547831", "name": "Kizner", "score": 0.6}])
    rows = [
        _row("r1", "ハバロフスク", "gn:2022890", "auto", place_name="Khabarovsk"),
        _row("r2", "キスネル", "", "review", candidates=candidates),
        _row("r3", "ホルモリン", "khurmuli", "auto", place_name="Khurmuli"),
        _row("r4", "チタ州", "", "auto"),
        _row("r5", "第24地区", "gn:2025339", "auto", place_name="Chita"),
        _row("r6", "ロンドン", "", "unresolved"),
        _row("r7", "ライチハ", "gn:2017487", "override", place_name="Raychikhinsk"),
        _row("r8", "チタ", "gn:2025339", "auto", place_name="Chita"),
        _row("r9", "クラスナヤ・ザリャー", "krasnaya-zarya-chita", "auto"),
    ]
    return _write(tmp_path / "reconciled.csv", rows)


def _overrides(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    columns = ["record_id", "katakana", "place_id", "lat", "lon", "decision", "note", "source"]
    return _write(tmp_path / "overrides.csv", rows, columns)


def test_run_offline_certainty_by_evidence(tmp_path: Path, reconciled: Path) -> None:
    override = {
        "record_id": "r7",
        "katakana": "ライチハ",
        "place_id": "gn:2017487",
        "lat": "49.79573",
        "lon": "129.40346",
        "decision": "accept",
        "note": "station of the town",
        "source": "https://www.geonames.org/2017487",
    }
    out = tmp_path / "geocoded.csv"
    report = run(reconciled, out, TINY, _overrides(tmp_path, [override]), GeocodeParams())
    rows = {r["record_id"]: r for r in _read(out)}
    assert list(rows) == ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"]
    got = {
        rid: (r["geocode_method"], r["geocode_source"], r["certainty"], r["uncertainty_km"])
        for rid, r in rows.items()
    }
    assert got == {
        "r1": ("place", "geonames:2022890", "certain", "10.1"),
        "r2": ("place", "geonames:547831", "less-certain", "3.0"),  # review: capped
        "r3": ("place", "khurmuli", "less-certain", "15.0"),  # dossier point
        "r4": ("region_centroid", "region:chita", "uncertain", "436.6"),  # region only
        "r5": ("region_centroid", "region:chita", "uncertain", "436.6"),  # camp number only
        "r6": ("", "", "", ""),  # unresolved passes through
        "r7": ("override", "https://www.geonames.org/2017487", "certain", "5.0"),
        "r8": ("place", "geonames:2025339", "certain", "8.1"),  # the town, not the oblast
        "r9": ("region_centroid", "region:chita", "uncertain", "436.6"),  # a place without a point
    }
    assert (rows["r1"]["lat"], rows["r1"]["lon"]) == ("48.462040", "135.097100")
    assert (rows["r4"]["lat"], rows["r4"]["lon"]) == ("51.678360", "115.468620")
    assert rows["r6"]["lat"] == "" and rows["r6"]["katakana"] == "ロンドン"
    assert report["rows"] == 9 and report["problems"] == 0 and "requests" not in report


def test_override_point_outside_the_area_is_reported(tmp_path: Path, reconciled: Path) -> None:
    harbin = {  # geonames:2037013, in China
        "record_id": "r1",
        "katakana": "ハバロフスク",
        "lat": "45.75",
        "lon": "126.65",
        "decision": "accept",
    }
    overrides = _overrides(tmp_path, [harbin])
    out = tmp_path / "geocoded.csv"
    with pytest.raises(GeocoderError, match=r"row 2 \(record_id r1.*lies in CN"):
        run(reconciled, out, TINY, overrides, GeocodeParams())
    assert not out.exists()
    params = GeocodeParams(fail_on_error=False)
    report = run(reconciled, out, TINY, overrides, params)
    rows = _read(out)
    assert len(rows) == 9 and report["problems"] == 1
    assert rows[0]["record_id"] == "r1" and rows[0]["lat"] == ""


@pytest.fixture(scope="module")
def built_gazetteer(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repo's built gazetteer; built from the curated files when not built yet."""
    from pipeline import gazetteer
    from pipeline.params import load_section

    built = repo / "gazetteer" / "build"
    if (built / "places.csv").is_file():
        return built
    out = tmp_path_factory.mktemp("gazetteer")
    params = load_section(repo / "params.yaml", "gazetteer", gazetteer.GazetteerParams)
    gazetteer.run(repo / "gazetteer/places.csv", repo / "gazetteer/regions.csv", out, params)
    return out


def test_every_place_of_the_repo_data_gets_a_point_inside_the_area(
    repo: Path, built_gazetteer: Path, tmp_path: Path
) -> None:
    """raw/camps.csv rows tied to a place (its place_id column) all get a checked point."""
    raw = _read(repo / "raw" / "camps.csv")
    rows = [{**r, "decision": "auto" if r["place_id"] else "unresolved"} for r in raw]
    assert sum(r["decision"] == "auto" for r in rows) >= 90
    src = _write(tmp_path / "in.csv", rows, [*raw[0], "decision"])
    out = tmp_path / "out.csv"
    report = run(src, out, built_gazetteer, repo / "gazetteer" / "overrides.csv", GeocodeParams())
    result = _read(out)
    assert [r["record_id"] for r in result] == [r["record_id"] for r in raw]
    placed = [r for r in result if r["decision"] == "auto"]
    assert all(r["lat"] and r["certainty"] and r["geocode_source"] for r in placed)
    assert report["problems"] == 0 and "unplaced" not in report
    certain = [r for r in placed if r["certainty"] == "certain"]
    assert all(r["geocode_source"].startswith("geonames:") for r in certain)
    assert len(certain) > len(placed) / 2


# ------------------------------------------------------------------ the online path


@pytest.fixture()
def server() -> Iterator[FakeNominatim]:
    yield from serve(FakeNominatim(slow_seconds=1.0))


def _online_params(server: FakeNominatim, tmp_path: Path, **changes: object) -> GeocodeParams:
    params = GeocodeParams(
        provider="nominatim",
        user_agent="camp-map-tests",
        domain=server.domain,
        scheme="http",
        timeout=2.0,
        min_delay_seconds=0.2,
        max_retries=2,
        backoff_seconds=0.05,
        cache_path=str(tmp_path / "cache.json"),
    )
    return dataclasses.replace(params, **changes)


@pytest.fixture()
def unplaced(tmp_path: Path) -> Path:
    """Rows whose places the tiny gazetteer lacks, so only the provider can place them."""
    rows = [
        _row("o1", "タイシェト", "gn:1489870", "auto", place_name="Тайшет"),
        _row("o2", "キヴダ", "kivda", "review", place_name="Кивда"),
        _row("o3", "ハバロフスク", "gn:2022890", "auto", place_name="Khabarovsk"),
        _row("o4", "ロンドン", "", "unresolved", cyrillic_candidates="Лондон"),
    ]
    return _write(tmp_path / "reconciled.csv", rows)


def test_online_first_run_fetches_second_run_uses_the_cache(
    server: FakeNominatim, tmp_path: Path, unplaced: Path
) -> None:
    params = _online_params(server, tmp_path)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    report = run(unplaced, first, TINY, tmp_path / "none.csv", params)
    # only the rows the gazetteer cannot place are asked: o1 and o2 by their place's
    # name, unresolved o4 by its Cyrillic candidate (issue 15's fallback); not o3
    assert server.count() == 3 and report["requests"] == 3
    assert {q for _, q in server.requests} == {"Тайшет", "Кивда", "Лондон"}
    rows = {r["record_id"]: r for r in _read(first)}
    taishet = rows["o1"]
    assert (taishet["lat"], taishet["lon"]) == ("55.932760", "97.989640")
    assert taishet["geocode_method"] == "nominatim"
    assert taishet["geocode_source"].startswith(f"http://{server.domain}/search?q=")
    assert taishet["certainty"] == "less-certain"
    assert rows["o2"]["lat"] == "" and report["online_no_result"] == 2
    assert rows["o4"]["decision"] == "unresolved" and rows["o4"]["lat"] == ""
    assert rows["o3"]["geocode_method"] == "place"
    report = run(unplaced, second, TINY, tmp_path / "none.csv", params)
    assert server.count() == 3 and report["requests"] == 0
    assert first.read_bytes() == second.read_bytes()


def test_online_rate_limit_holds(server: FakeNominatim, tmp_path: Path) -> None:
    rows = [_row(f"q{i}", "ナニカ", f"x{i}", "auto", place_name=f"Место {i}") for i in range(4)]
    params = _online_params(server, tmp_path, min_delay_seconds=0.2)
    run(_write(tmp_path / "in.csv", rows), tmp_path / "out.csv", TINY, tmp_path / "no", params)
    times = [t for t, _ in server.requests]
    assert len(times) == 4
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # The pace holds between the client's request starts; the server's arrival clock
    # adds scheduling jitter to each end of a gap (seen: 0.179 s for 0.2 s on a busy
    # machine), which cancels in the total. Without the pace the gaps are ~1 ms.
    assert min(gaps) >= 0.15 and times[-1] - times[0] >= 3 * 0.2 - 0.03, gaps


def test_online_429_is_retried_then_answered(
    server: FakeNominatim, tmp_path: Path, unplaced: Path
) -> None:
    server.behaviours["Тайшет"] = ["429", "ok"]
    report = run(
        unplaced, tmp_path / "out.csv", TINY, tmp_path / "no", _online_params(server, tmp_path)
    )
    assert server.count("Тайшет") == 2 and report["problems"] == 0
    assert _read(tmp_path / "out.csv")[0]["lat"] == "55.932760"


@pytest.mark.parametrize(
    ("behaviour", "message", "requests"),
    [
        ("500", r"failed for 'Тайшет' after 3 request\(s\): GeocoderServiceError", 3),
        ("429", r"answered 429 .* 3 times in a row.*stopped querying.*3 row\(s\) left", 3),
        ("malformed", r"malformed answer for 'Тайшет'", 1),
    ],
)
def test_online_errors_are_reported_with_the_row(
    server: FakeNominatim,
    tmp_path: Path,
    unplaced: Path,
    behaviour: str,
    message: str,
    requests: int,
) -> None:
    server.behaviours["Тайшет"] = [behaviour]
    params = _online_params(server, tmp_path)
    out = tmp_path / "out.csv"
    with pytest.raises(GeocoderError, match=r"row 2 \(record_id o1, タイシェト\).*" + message):
        run(unplaced, out, TINY, tmp_path / "no", params)
    assert server.count("Тайшет") == requests and not out.exists()
    # the other row's answer was cached: a rerun does not ask for it again
    if behaviour == "429":  # the provider stopped: nothing else was asked, nothing cached
        assert not Path(params.cache_path).exists() and server.count() == 3
        return
    cached = json.loads(Path(params.cache_path).read_text(encoding="utf-8"))
    assert f"nominatim|http://{server.domain}|Кивда" in cached
    # with fail_on_error off, nothing is dropped: every row is written
    report = run(
        unplaced, out, TINY, tmp_path / "no", dataclasses.replace(params, fail_on_error=False)
    )
    assert [r["record_id"] for r in _read(out)] == ["o1", "o2", "o3", "o4"]
    assert report["problems"] == 1 and server.count("Кивда") == 1


def test_online_timeout_is_reported(server: FakeNominatim, tmp_path: Path, unplaced: Path) -> None:
    server.behaviours["Тайшет"] = ["slow"]
    params = _online_params(server, tmp_path, timeout=0.3, max_retries=0)
    with pytest.raises(GeocoderError, match=r"record_id o1.*GeocoderTimedOut"):
        run(unplaced, tmp_path / "out.csv", TINY, tmp_path / "no", params)


def test_online_point_outside_the_area_is_reported(server: FakeNominatim, tmp_path: Path) -> None:
    rows = [_row("h1", "ハルビン", "harbin", "auto", place_name="Харбин")]
    params = _online_params(server, tmp_path)
    with pytest.raises(GeocoderError, match=r"record_id h1.*nominatim point .* lies in CN"):
        run(_write(tmp_path / "in.csv", rows), tmp_path / "o.csv", TINY, tmp_path / "no", params)


def test_injected_geocoder_is_used(server: FakeNominatim, tmp_path: Path, unplaced: Path) -> None:
    injected = Nominatim(user_agent="injected", domain=server.domain, scheme="http", timeout=2)
    params = _online_params(server, tmp_path, provider="offline")
    run(unplaced, tmp_path / "out.csv", TINY, tmp_path / "no", params, geocoder=injected)
    assert server.count("Тайшет") == 1


# ------------------------------------------------------------------------- params


def test_online_provider_needs_a_user_agent() -> None:
    with pytest.raises(ParamsError, match=r"params.yaml geocode.user_agent is empty"):
        GeocodeParams(provider="nominatim").check()
    with pytest.raises(ParamsError, match=r"min_delay_seconds must be at least 1"):
        GeocodeParams(provider="nominatim", user_agent="x", min_delay_seconds=0.5).check()
    with pytest.raises(ParamsError, match=r"geocode.provider: 'google'"):
        GeocodeParams(provider="google").check()
    with pytest.raises(ParamsError, match=r"geocode.username is empty"):
        GeocodeParams(provider="geonames", user_agent="x").check()


def test_principal_area_note_cites_note_2() -> None:
    assert (
        "principal area" in geocode.PRINCIPAL_AREA_NOTE and "NOTE 2" in geocode.PRINCIPAL_AREA_NOTE
    )


# ---------------------------------------------------------------------------- CLI


def test_cli_geocode_bad_input(tmp_path: Path, runner: CliRunner) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("katakana,romaji\nチタ,chita\n", encoding="utf-8")
    args = ["geocode", "--input", str(bad), "--output", str(tmp_path / "out.csv")]
    result = runner.invoke(cli, [*args, "--gazetteer", str(TINY)])
    assert result.exit_code == 1
    assert "missing column(s) decision" in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_cli_geocode_writes_the_columns(
    tmp_path: Path, runner: CliRunner, reconciled: Path
) -> None:
    out = tmp_path / "out.csv"
    args = ["geocode", "--input", str(reconciled), "--output", str(out), "--gazetteer", str(TINY)]
    result = runner.invoke(cli, [*args, "--overrides", str(tmp_path / "none.csv")])
    assert result.exit_code == 0, result.stderr
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[-6:] == list(GEOCODE_COLUMNS)


def test_cli_run_places_a_katakana_override_at_its_own_point(
    repo: Path, tmp_path: Path, runner: CliRunner
) -> None:
    """An override keyed by katakana (no record_id, no place_id) with its own point.

    Issue 13: the row was `override` after reconcile but geocode looked overrides up
    by record_id only, so it ended in unresolved.csv with "no point for place ''".
    ハダブラク is Khadabulak, the memorial of Sherlovaya Gora's camp (raw/camps.csv,
    row sherlovaya-gora; its point is the dossier's), added to the tiny real register.
    """
    _, raw = read_csv(repo / "tests/data/raw_tiny.csv")
    row = dict.fromkeys(raw[0], "") | {"record_id": "t-khadabulak", "katakana": "ハダブラク"}
    register = _write(tmp_path / "register.csv", [*raw, row], list(raw[0]))
    override = {
        "katakana": "ハダブラク",
        "lat": "50.56",
        "lon": "116.3",
        "decision": "accept",
        "note": "memorial of the Sherlovaya Gora camp",
        "source": "http://www3.plala.or.jp/naga0607/r16.htm",
    }
    overrides = _overrides(tmp_path, [override])
    out = tmp_path / "layers"
    args = ["run", "--input", str(register), "--output-dir", str(out)]
    args += ["--gazetteer", str(TINY), "--overrides", str(overrides)]
    params = tmp_path / "params.yaml"
    params.write_text("export:\n  preview: false\n", encoding="utf-8")
    result = runner.invoke(cli, [*args, "--params", str(params)])
    assert result.exit_code == 0, result.stderr
    assert "no point for place" not in result.stderr
    placed = json.loads((out / "camps.geojson").read_text(encoding="utf-8"))
    by_id = {f["properties"]["record_id"]: f for f in placed["features"]}
    assert by_id["t-khadabulak"]["geometry"]["coordinates"] == [116.3, 50.56]
    assert by_id["t-khadabulak"]["properties"]["geocode_method"] == "override"
    _, unresolved = read_csv(out / "unresolved.csv")
    assert "t-khadabulak" not in {r["record_id"] for r in unresolved}


# ------------------------------------------------ geopy's interface (issue 19)

BUILD = Path(__file__).resolve().parents[1] / "gazetteer" / "build"


@pytest.fixture(scope="module")
def built() -> Gazetteer:
    return load(BUILD)


def test_geopandas_geocode_and_reverse_geocode_take_the_offline_geocoder(
    built: Gazetteer,
) -> None:
    import geopandas.tools
    from shapely.geometry import Point as ShapelyPoint

    found = geopandas.tools.geocode(
        ["ハバロフスク", "Alma-Ata", "Чита", "no such place"],
        provider=GazetteerGeocoder,
        gazetteer=built,
    )
    assert list(found["address"][:3]) == ["Khabarovsk, RU", "Almaty, KZ", "Chita, RU"]
    assert found.geometry.iloc[3] is None or found.geometry.iloc[3].is_empty
    khabarovsk = built.places["khabarovsk"]
    assert found.geometry.iloc[0].equals(ShapelyPoint(khabarovsk.lon, khabarovsk.lat))
    near = geopandas.tools.reverse_geocode(
        [ShapelyPoint(135.07, 48.48), ShapelyPoint(76.9, 43.25)],
        provider=GazetteerGeocoder,
        gazetteer=built,
    )
    assert list(near["address"]) == ["Khabarovsk, RU", "Almaty, KZ"]


def test_geopy_keywords_filter_and_name(built: Gazetteer) -> None:
    coder = GazetteerGeocoder(built)
    almaty = coder.geocode("Almaty", exactly_one=True, timeout=5, country_codes=["kz"])
    assert almaty is not None and almaty.address == "Almaty, KZ"
    assert coder.geocode("Almaty", country_codes="RU") is None
    in_ja = coder.geocode("Khabarovsk", language="ja")
    assert in_ja is not None and in_ja.address == "ハバロフスク, RU"
    ranked = coder.reverse("48.48, 135.07", exactly_one=False, limit=3, timeout=1)
    assert isinstance(ranked, list) and len(ranked) == 3
    assert ranked[0].raw["place_id"] == "khabarovsk"
    distances = [haversine_km(48.48, 135.07, loc.latitude, loc.longitude) for loc in ranked]
    assert distances == sorted(distances)


# ------------------------------------------- radii that say what is known (issue 20)


def _facts(built: Path) -> tuple[dict[str, dict[str, str]], dict[str, float]]:
    """The built gazetteer's places and the radii of its 1945 regions, read as files."""
    places = {r["place_id"]: r for r in _read(built / "places.csv")}
    regions = {r["region_id"]: float(r["radius_km"]) for r in _read(built / "regions.csv")}
    return places, regions


def _town_km(population: str, station: bool = False) -> float:
    """README's extent of a settlement: 2 km + built-up radius at 3,000/km², <= 25 km."""
    people = int(population or 0)
    if people <= 0:
        return 2.0 if station else 5.0
    return round(min(2.0 + (people / (3000.0 * 3.141592653589793)) ** 0.5, 25.0), 1)


def _widened(r: float, big_r: float, q: float) -> str:
    """README's ``uncertainty_km = r + (1 - q) * (R - r)``, R never below r."""
    return f"{round(r + (1 - q) * (max(big_r, r) - r), 1):.1f}"


def test_radius_rule_per_method(
    built_gazetteer: Path, server: FakeNominatim, tmp_path: Path, runner: CliRunner
) -> None:
    """Each geocode_method has its radius rule, widened by the reading's doubt.

    Through `camps geocode` on the repo's built gazetteer, with an override that
    gives its own radius and the fake Nominatim for a place without a point.
    """
    places, regions = _facts(built_gazetteer)
    khab, izv = places["khabarovsk"], places["izvestkovy"]
    r_town = _town_km(khab["population"])
    big_r = regions[khab["region_id"]]
    doubt = GeocodeParams()  # the defaults: the params file below does not set them
    rows = [
        _row("p1", "ハバロフスク", "khabarovsk", "auto", score="1.0000"),
        _row("p2", "ハバロフスク", "khabarovsk", "auto", score="0.9000"),
        _row("p3", "ハバロフスク", "khabarovsk", "review", score="0.9000"),
        # the place's name is the second reading: rank 1
        _row("p4", "ハバロフスク", "khabarovsk", "auto", score="1.0000")
        | {"cyrillic_candidates": "Хабаровка|Хабаровск"},
        _row("p5", "ハバロフスク", "khabarovsk", "auto"),  # no score: the extent alone
        _row("s1", "イズヴェストコーヴィ", "izvestkovy", "auto", score="0.8000"),
        _row("c1", "チタ州", "chita", "review", score="0.9700"),
        _row("o1", "ライチハ", "khabarovsk", "auto", score="0.5000"),
        _row("n1", "タイシェト", "gn:1489870", "auto", score="0.8000", place_name="Тайшет"),
    ]
    reconciled = _write(tmp_path / "reconciled.csv", rows)
    override = {
        "record_id": "o1",
        "katakana": "ライチハ",
        "place_id": "",
        "lat": "49.79573",
        "lon": "129.40346",
        "decision": "accept",
        "note": "station of the town",
        "source": "https://www.geonames.org/2017487",
        "uncertainty_km": "3.5",
    }
    columns = [*override]
    overrides = _write(tmp_path / "overrides.csv", [override], columns)
    params = tmp_path / "params.yaml"
    params.write_text(
        "geocode:\n  provider: nominatim\n  user_agent: camp-map-tests\n"
        f"  domain: {server.domain}\n  scheme: http\n  min_delay_seconds: 0.2\n"
        f"  cache_path: {tmp_path / 'cache.json'}\n",
        encoding="utf-8",
    )
    out = tmp_path / "geocoded.csv"
    args = ["geocode", "--input", str(reconciled), "--output", str(out)]
    args += ["--gazetteer", str(built_gazetteer), "--overrides", str(overrides)]
    result = runner.invoke(cli, [*args, "--params", str(params)])
    assert result.exit_code == 0, result.stderr
    got = {
        r["record_id"]: (r["geocode_method"], r["certainty"], r["uncertainty_km"])
        for r in _read(out)
    }
    # Тайшет is no gazetteer place: R is the median radius of the 1945 regions; its
    # bounding box in fake_geocoder.py is 5.4 km from centre to corner
    online_r = round(statistics.median(regions.values()), 1)
    assert got == {
        "p1": ("place", "certain", f"{r_town:.1f}"),
        "p2": ("place", "certain", _widened(r_town, big_r, 0.9)),
        "p3": ("place", "less-certain", _widened(r_town, big_r, 0.9 * (1 - doubt.review_doubt))),
        "p4": ("place", "certain", _widened(r_town, big_r, 1 - doubt.rank_doubt)),
        "p5": ("place", "certain", f"{r_town:.1f}"),
        "s1": (
            "station",
            "certain",
            _widened(_town_km(izv["population"], True), regions[izv["region_id"]], 0.8),
        ),
        "c1": ("region_centroid", "uncertain", f"{regions['chita']:.1f}"),
        "o1": ("override", "certain", "3.5"),
        "n1": ("nominatim", "less-certain", _widened(5.4, round(online_r, 1), 0.8)),
    }
    # the doubt only widens: no row is drawn tighter than its place's own extent
    assert float(got["p2"][2]) > r_town and float(got["p3"][2]) > float(got["p2"][2])


def test_camp_number_rows_through_the_stage_commands(
    built_gazetteer: Path, repo: Path, tmp_path: Path, runner: CliRunner
) -> None:
    """A camp district is the region or the town it was named after, never `certain`.

    ハバロフスク地方第十六地区 was Khabarovsk city, "certain, 10 km" (issue 20); with
    no camp area it is the krai's centroid with the krai's radius. チタ第24地区 is
    the town of Chita, less-certain and at least 15 km. With the camp areas of
    raw/camps.csv (camp 16's seat is Khabarovsk), the district is its seat.
    """
    places, regions = _facts(built_gazetteer)
    register = tmp_path / "register.csv"
    register.write_text(
        "record_id,katakana\nk16,ハバロフスク地方第十六地区\nc24,チタ第24地区\n"
        "p24,チタ州第24地区\nn7,第7地区\nkh,ハバロフスク\n",
        encoding="utf-8",
    )
    common = ["--params", str(repo / "params.yaml")]
    where = ["--gazetteer", str(built_gazetteer), "--overrides", str(tmp_path / "none.csv")]

    def stages(name: str, *extra: str) -> dict[str, dict[str, str]]:
        t, r, g = (tmp_path / f"{name}-{s}.csv" for s in ("t", "r", "g"))
        steps = [
            ["transliterate", "--input", str(register), "--output", str(t)],
            ["reconcile", "--input", str(t), "--output", str(r), *where, *extra],
            ["geocode", "--input", str(r), "--output", str(g), *where],
        ]
        for step in steps:
            result = runner.invoke(cli, [*step, *common])
            assert result.exit_code == 0, result.stderr
        return {row["record_id"]: row for row in _read(g)}

    rows = stages("alone")
    k16, c24, p24, kh = rows["k16"], rows["c24"], rows["p24"], rows["kh"]
    assert (k16["geocode_method"], k16["geocode_source"]) == (
        "region_centroid",
        "region:khabarovsk",
    )
    assert (k16["certainty"], k16["uncertainty_km"]) == (
        "uncertain",
        f"{regions['khabarovsk']:.1f}",
    )
    assert (p24["geocode_source"], p24["certainty"]) == ("region:chita", "uncertain")
    chita = places["chita"]
    assert (c24["geocode_method"], c24["geocode_source"]) == (
        "place",
        f"geonames:{chita['geonames_id']}",
    )
    assert (c24["lat"], c24["lon"]) == (f"{float(chita['lat']):.6f}", f"{float(chita['lon']):.6f}")
    assert c24["certainty"] == "less-certain" and float(c24["uncertainty_km"]) >= 15.0
    assert rows["n7"]["decision"] == "unresolved" and rows["n7"]["lat"] == ""
    # the city itself, named without a camp number, stays a certain town
    assert (kh["geocode_method"], kh["certainty"]) == ("place", "certain")

    tied = stages("tied", "--camp-areas", str(repo / "raw" / "camps.csv"))
    assert tied["k16"]["camp_area_hint"] == "khabarovsk"
    assert (tied["k16"]["geocode_method"], tied["k16"]["certainty"]) == ("place", "less-certain")
    assert float(tied["k16"]["uncertainty_km"]) >= 15.0
    assert tied["n7"]["place_id"] == "tayshet" and tied["n7"]["certainty"] == "less-certain"
    for row in [*rows.values(), *tied.values()]:
        if row["geocode_method"] == "region_centroid" or "地区" in row["katakana"]:
            assert row["certainty"] in ("less-certain", "uncertain", ""), row["record_id"]


def _repeated(reconciled: Path) -> list[dict[str, str]]:
    """The fixture's rows, each name in a run of three (a run crosses every chunk
    boundary of sizes 1-4), one copy with another score, and odd cells."""
    rows = []
    for n, row in enumerate(_read(reconciled)):
        for copy in range(3):
            rows.append(row | {"record_id": f"{row['record_id']}-{copy}"})
        rows.append(row | {"record_id": f"{row['record_id']}-s", "score": f"0.{n + 5}"})
    rows.append(_row("odd1", "", "", "unresolved"))
    rows.append(_row("odd2", '=チタ,"駅"', "gn:2025339", "auto", place_name="Chita"))
    return rows


def test_streaming_run_equals_geocoding_the_rows_in_memory(
    tmp_path: Path, reconciled: Path
) -> None:
    source = _write(tmp_path / "repeated.csv", _repeated(reconciled))
    accept = {"record_id": "r1-1", "katakana": "ハバロフスク", "decision": "accept"}
    overrides = _overrides(tmp_path, [accept | {"lat": "48.4", "lon": "135.1"}])
    # In memory: every row read, placed and written at once.
    header, rows = read_csv(source)
    offline = OfflinePlaces(load(TINY), GeocodeParams().doubt())
    tally = geocode.geocode_rows(rows, offline, ov.read(overrides, offline.gazetteer.places))
    write_csv(tmp_path / "memory.csv", merge_columns(header, GEOCODE_COLUMNS), rows)
    expected = (tmp_path / "memory.csv").read_bytes()
    assert [r["geocode_method"] for r in rows[:4]] == ["place", "override", "place", "place"]
    for chunk_rows in (1, 2, 4, 10_000):
        out = tmp_path / f"chunks-{chunk_rows}.csv"
        report = run(source, out, TINY, overrides, GeocodeParams(), chunk_rows=chunk_rows)
        assert out.read_bytes() == expected, chunk_rows
        assert report == {"rows": len(rows), **dict(sorted(tally.counts.items())), "problems": 0}
    # A bad point in the last chunk: the row is named and nothing is written.
    harbin = {"record_id": "odd2", "lat": "45.75", "lon": "126.65", "decision": "accept"}
    out = tmp_path / "failed.csv"
    with pytest.raises(GeocoderError, match=rf"row {len(rows) + 1} \(record_id odd2.*lies in CN"):
        run(source, out, TINY, _overrides(tmp_path, [harbin]), GeocodeParams(), chunk_rows=2)
    assert not out.exists()


def test_row_point_reads_only_row_point_columns(reconciled: Path) -> None:
    # Rows equal in ROW_POINT_COLUMNS share one point: row_point must read nothing else.
    ReadSpy.read.clear()
    offline = OfflinePlaces(load(TINY), GeocodeParams().doubt())
    extra = [
        _row("c1", "第7地区", "", "review", camp_area_hint="gn:2025339", region_hint="チタ州"),
        _row("c2", "チタ第24地区", "gn:2025339", "auto", camp_no_hint="24"),
        _row("c3", "ハバロフスク地方第十六地区", "", "review"),
    ]
    points = [row_point(ReadSpy(row), None, offline) for row in _repeated(reconciled) + extra]
    assert ReadSpy.read <= set(ROW_POINT_COLUMNS) and "candidates" in ReadSpy.read
    assert CAMP_AREA_COLUMN in ReadSpy.read and "camp_no_hint" in ReadSpy.read
    assert sum(p is not None for p in points) > 30


def _walked(names: list[Name] | tuple[Name, ...]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each place's names and first Cyrillic name by walking every name (the old way)."""
    every: dict[str, list[str]] = {}
    cyrillic: dict[str, str] = {}
    for name in names:
        every.setdefault(name.place_id, []).append(name.name)
        if name.script == "Cyrl":
            cyrillic.setdefault(name.place_id, name.name)
    return every, cyrillic


def test_place_rows_give_what_walking_all_names_gives(built_gazetteer: Path) -> None:
    """Each place's names are found from its first and last row: the same lists as a
    walk over every name, on the repo's gazetteer (a place's names kept together) and
    on the same names shuffled (a place's rows apart), unknown places absent."""
    gazetteer = load(built_gazetteer)
    names = tuple(gazetteer.names)
    shuffled = list(names[:5000])
    random.Random(7).shuffle(shuffled)
    for order in (names, tuple(shuffled)):
        rows = PlaceRows(order)
        every, cyrillic = _walked(order)
        assert len(every) > 300 and len(cyrillic) > 300
        assert {p: rows.names[p] for p in every} == every
        assert {p: rows.cyrillic[p] for p in cyrillic} == cyrillic
        assert dict(rows.cyrillic) == cyrillic  # a place with no Cyrillic name is absent
        assert rows.names.get("no such place") is None and "no such place" not in rows.cyrillic
    offline = OfflinePlaces(gazetteer)
    every, cyrillic = _walked(names)
    some = sorted(every)[::97]
    assert [offline.all_names_of.get(p) for p in some] == [every[p] for p in some]
    assert [offline.cyrillic_names.get(p, "") for p in some] == [cyrillic.get(p, "") for p in some]
