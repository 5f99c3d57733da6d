"""The gazetteer stage on a real slice of GeoNames: merge, ids, regions, load."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import gazetteer, places
from pipeline.errors import GazetteerError, InputDataError
from pipeline.io import read_csv
from pipeline.names import script_of

PARAMS = gazetteer.GazetteerParams(countries=("RU",), postal=False)


@pytest.fixture(scope="module")
def primorye() -> dict[str, dict[str, object]]:
    """GeoNames cities of Primorsky Krai (RU admin1 59) and Mongolia's Selenge, from the package."""
    cities = gazetteer._geonames_cities()
    return {
        key: city
        for key, city in cities.items()
        if (city["countrycode"], city["admin1code"]) in {("RU", "59"), ("MN", "21")}
    }


def write_curated(folder: Path, extra_place: str = "") -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "places.csv").write_text(
        "place_id,name,feature_type,region_id,country,lat,lon,point_source,geonames_id,maps,sources\n"
        "ussuriysk,Ussuriysk,city,,RU,43.80467,131.95734,geonames:2014006,2014006,,"
        "https://bystrov.ustrcr.cz/tabory/3103\n" + extra_place,
        encoding="utf-8",
    )
    (folder / "place_names.csv").write_text(
        "place_id,name,lang,period,source\n"
        "ussuriysk,Ворошилов,ru,1935-1957,https://bystrov.ustrcr.cz/tabory/3103\n",
        encoding="utf-8",
    )
    regions = folder / "regions.csv"
    regions.write_text(
        "region_id,name_1945,name_modern,country,admin1_codes,kana,latin,source\n"
        "primorsky,Primorsky Krai,Primorsky Krai,RU,59,沿海地方|沿海州,Primorye,test\n",
        encoding="utf-8",
    )
    return folder / "places.csv", regions


def build(tmp_path: Path, cities: dict[str, dict[str, object]], extra: str = "") -> Path:
    curated, regions = write_curated(tmp_path / "src", extra)
    out = tmp_path / "build"
    gazetteer.run(curated, regions, out, PARAMS, cities=cities)
    return out


def test_curated_place_takes_over_its_geonames_record(
    tmp_path: Path, primorye: dict[str, dict[str, object]]
) -> None:
    g = places.load(build(tmp_path, primorye))
    assert "gn:2014006" not in g.places
    place = g.places["ussuriysk"]
    assert place.curated and place.geonames_id == "2014006" and place.region_id == "primorsky"
    names = {(n.name, n.lang, n.period) for n in g.names if n.place_id == "ussuriysk"}
    assert ("Ворошилов", "ru", "1935-1957") in names  # curated Soviet-era name
    assert ("Уссурийск", "und-Cyrl", "") in names  # GeoNames name, re-keyed
    assert ("ウスリースク", "und-Kana", "") in names


def test_only_selected_countries(tmp_path: Path, primorye: dict[str, dict[str, object]]) -> None:
    g = places.load(build(tmp_path, primorye))
    assert {p.country for p in g.places.values()} == {"RU"}
    assert len(g.places) > 50


def test_ids_are_stable_and_output_is_byte_identical(
    tmp_path: Path, primorye: dict[str, dict[str, object]]
) -> None:
    first = build(tmp_path / "a", primorye)
    second = build(tmp_path / "b", primorye)
    for name in ("places.csv", "names.csv", "regions.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_region_centroid_and_radius_come_from_member_places(
    tmp_path: Path, primorye: dict[str, dict[str, object]]
) -> None:
    region = places.load(build(tmp_path, primorye)).regions["primorsky"]
    assert region.n_places > 50
    assert region.lat is not None and 42 < region.lat < 47
    assert region.lon is not None and 130 < region.lon < 137
    assert region.radius_km is not None and 100 < region.radius_km < 600
    assert region.covers("RU", "59") and not region.covers("RU", "30")


def test_curated_place_without_geonames_id_is_its_own_place(
    tmp_path: Path, primorye: dict[str, dict[str, object]]
) -> None:
    extra = "krasnaya_zarya_chita,Krasnaya Zarya,settlement,,RU,,,,,,https://bystrov.ustrcr.cz/tabory/485\n"
    g = places.load(build(tmp_path, primorye, extra))
    place = g.places["krasnaya_zarya_chita"]
    assert place.lat is None and place.curated


def test_curated_id_may_not_look_like_geonames(
    tmp_path: Path, primorye: dict[str, dict[str, object]]
) -> None:
    with pytest.raises(InputDataError, match="must be a non-empty slug"):
        build(tmp_path, primorye, "gn:1,X,town,,RU,1,1,x,,,\n")


def test_load_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(GazetteerError, match="run `dvc repro gazetteer`"):
        places.load(tmp_path / "missing")


def test_repo_gazetteer_meets_the_issue_counts(repo: Path) -> None:
    build_dir = repo / "gazetteer" / "build"
    _, places = read_csv(build_dir / "places.csv")
    _, names = read_csv(build_dir / "names.csv")
    assert len(places) >= 13_000
    assert len(names) >= 50_000


def test_two_curated_rows_may_not_claim_one_geonames_place(
    tmp_path: Path, primorye: dict[str, dict[str, object]]
) -> None:
    extra = "voroshilov,Voroshilov,city,,RU,43.8,131.9,x,2014006,,\n"
    with pytest.raises(InputDataError, match="2014006 is already the place of row 2"):
        build(tmp_path, primorye, extra)


def test_most_specific_region_wins(tmp_path: Path, primorye: dict[str, dict[str, object]]) -> None:
    curated, regions = write_curated(tmp_path / "src")
    with regions.open("a", encoding="utf-8") as handle:
        handle.write("aaa_far_east,Far East,Far East,RU,59|30|5,極東,,test\n")
        handle.write("aab_russia,RSFSR,Russia,RU,*,ロシア,,test\n")
    gazetteer.run(curated, regions, tmp_path / "b", PARAMS, cities=primorye)
    g = places.load(tmp_path / "b")
    assert g.places["gn:2013348"].region_id == "primorsky"  # Vladivostok


def test_foreign_katakana_names_of_large_places_only(
    tmp_path: Path, primorye: dict[str, dict[str, object]]
) -> None:
    harbin = {
        "geonameid": 2037013,
        "name": "Harbin",
        "latitude": 45.75,
        "longitude": 126.65,
        "countrycode": "CN",
        "population": 5242897,
        "admin1code": "08",
        "alternatenames": ["Harbin", "ハルビン", "哈尔滨"],
    }
    small = dict(harbin, geonameid=1, population=5000, alternatenames=["スモール"])
    cities = {**primorye, "2037013": harbin, "1": small}
    g = places.load(build(tmp_path, cities))
    assert g.foreign == (("ハルビン", "CN", 5242897),)
    assert all(p.country == "RU" for p in g.places.values())


def test_a_latin_name_with_a_middle_dot_is_latin_not_katakana() -> None:
    # GeoNames writes romaji with ・ (ado・ekiti): the dot is no kana letter, so such a
    # name is neither a katakana name of a foreign city nor indexed as katakana.
    city = {"countrycode": "NG", "population": 435000, "geonameid": 2352379}
    cities: dict[str, dict[str, object]] = {
        "2352379": {**city, "name": "Ado-Ekiti", "alternatenames": ["ado・ekiti", "アド・エキティ"]}
    }
    rows = gazetteer.foreign_kana(cities, ["RU"], 100_000)
    assert [row["name"] for row in rows] == ["アド・エキティ"]
    assert script_of("vuita・ritofusuka de") == "Latn" and script_of("アド・エキティ") == "Kana"


POSTAL_EXTRACT = Path(__file__).parent / "data" / "postal" / "geonames_data_extract.jsonl.gz"


def test_postal_places_are_added_low_prior_and_merged_with_towns(
    tmp_path: Path, primorye: dict[str, dict[str, object]]
) -> None:
    curated, regions = write_curated(tmp_path / "src")
    out = tmp_path / "build"
    params = gazetteer.GazetteerParams(countries=("RU",), postal=True)
    counts = gazetteer.run(
        curated, regions, out, params, cities=primorye, postal_file=POSTAL_EXTRACT
    )
    _, rows = read_csv(out / "places.csv")
    postal = [r for r in rows if places.is_postal(r["place_id"])]
    names = sorted(r["name"] for r in postal)
    # Office numbers stripped: Тайшет 1..9 share Тайшет's point and are one place;
    # Тайшет 10 lies 23 km off and stays apart. Post-office services are not places.
    assert names.count("Тайшет") == 2
    assert "Тумнин" in names and not any("Гцмпп" in n or n[-1].isdigit() for n in names)
    # Three Читаs: two Transbaikal codes more than 5 km apart and a Tatarstan village,
    # all population 0 (the lowest prior; cities500's Chita is not in this slice).
    assert names.count("Чита") == 3 and all(r["population"] == "0" for r in postal)
    # Уссурийск's post offices lie at the curated Ussuriysk (Ворошилов): merged, not added.
    assert "Уссурийск" not in names and counts["postal_merged"] >= 1
    assert counts["postal_places"] == len(postal)
    # Ukrainian rows are outside the chosen countries; GeoNames is credited.
    assert all(r["country"] == "RU" and "GeoNames" in r["sources"] for r in postal)


def test_postal_office_numbers_and_services() -> None:
    from pipeline import geonames

    assert geonames.postal_place_name("Тайшет 10") == "Тайшет"
    assert geonames.postal_place_name("Уфпс Алтайского Края") == ""
    assert geonames.postal_place_name("Нагірна (Нагірнянська сільська рада)") == "Нагірна"


def test_postal_villages_sharing_a_code_get_distinct_ids(tmp_path: Path) -> None:
    # Нові and Старі Яриловичі share code 15013 in the real extract.
    curated, regions = write_curated(tmp_path / "src")
    out = tmp_path / "build"
    params = gazetteer.GazetteerParams(countries=("UA",), postal=True)
    gazetteer.run(curated, regions, out, params, cities={}, postal_file=POSTAL_EXTRACT)
    _, rows = read_csv(out / "places.csv")
    postal = [r for r in rows if places.is_postal(r["place_id"])]
    assert len(postal) == 5 == len({r["place_id"] for r in postal})
    assert {r["name"] for r in postal} >= {"Нагірна", "Нові Яриловичі", "Старі Яриловичі"}
    assert {"zip:UA:15013", "zip:UA:15013-2"} <= {r["place_id"] for r in postal}
