"""Tests of `camps validate`: each rule on a small bad file, and the repo's own files pass."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline import validate
from pipeline.cli import cli

DATA = Path(__file__).parent / "data" / "validate"

PLACE = {
    "place_id": "taishet",
    "name": "Tayshet",
    "feature_type": "town",
    "admin_1945": "Irkutsk Oblast",
    "region_id": "irkutsk",
    "country": "RU",
    "lat": "55.94043",
    "lon": "98.00350",
    "point_source": "geonames:1489870",
    "geonames_id": "1489870",
    "maps": "",
    "sources": "https://bystrov.ustrcr.cz/tabory/6037",
    "note": "",
}
NAME = {
    "place_id": "taishet",
    "name": "タイシェト",
    "lang": "ja-Kana",
    "period": "",
    "source": "https://bystrov.ustrcr.cz/tabory/6037",
}
REGION = {
    "region_id": "irkutsk",
    "name_1945": "Irkutsk Oblast",
    "name_modern": "Irkutsk Oblast",
    "country": "RU",
    "admin1_codes": "20",
    "kana": "イルクーツク州",
    "latin": "Irkutsk Oblast",
    "source": "dossier",
}
MAP = {
    "id": "A",
    "title": "Union of Soviet Socialist Republic",
    "publisher": "National Geographic Society",
    "year": "1944",
    "series_scale": "",
    "place": "Washington",
    "note": "",
}
RAW = {
    "record_id": "taishet",
    "katakana": "タイシェト",
    "symbol_class": "",
    "detainees": "40000",
    "detainees_source": "https://bystrov.ustrcr.cz/tabory/6037",
    "detainees_excerpt": "40,000 POWs finishing the Taishet-Bratsk railway",
    "map_no": "",
    "place_id": "taishet",
    "source": "https://bystrov.ustrcr.cz/tabory/6037",
}


def write(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    """Write rows as a UTF-8 CSV (columns from the first row unless given)."""
    columns = columns or list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    """A minimal valid set of raw and gazetteer files in tmp_path."""
    gaz = tmp_path / "gazetteer"
    gaz.mkdir()
    return {
        "places": write(gaz / "places.csv", [PLACE]),
        "names": write(gaz / "place_names.csv", [NAME]),
        "regions": write(gaz / "regions.csv", [REGION]),
        "maps": write(gaz / "maps.csv", [MAP]),
        "raw": write(tmp_path / "raw.csv", [RAW]),
        "build": tmp_path / "build",
        "overrides": gaz / "overrides.csv",
    }


def check(files: dict[str, Path]) -> list[str]:
    """Run the validator on the fixture set."""
    return validate.run(
        [files["raw"]], files["places"], files["maps"], files["build"], files["overrides"]
    )


def test_minimal_set_is_valid(files: dict[str, Path]) -> None:
    assert check(files) == []


@pytest.mark.parametrize(
    ("change", "column", "expected"),
    [
        ({"katakana": ""}, "katakana", "empty"),
        ({"source": ""}, "source", "empty"),
        ({"symbol_class": "huge"}, "symbol_class", "'huge'"),
        ({"detainees": "many"}, "detainees", "not a count"),
        ({"detainees_source": ""}, "detainees_source", "empty for a figure"),
        ({"detainees_excerpt": ""}, "detainees_excerpt", "empty for a figure"),
        ({"detainees": "over 16,000 or so"}, "detainees", "not a count"),
        ({"deaths": "865"}, "deaths_source", "empty for a figure"),
        ({"burials": "a few", "burials_source": "x"}, "burials", "not a count"),
        ({"deaths": "over 1,000", "deaths_source": "x"}, "deaths", "not an exact count"),
        ({"symbol_class": "over_10000"}, "symbol_class", "by hand (the count gives 'over_20000')"),
        ({"symbol_class": "over_20000"}, "symbol_class", "by hand (the count gives 'over_20000')"),
        (
            {"detainees": "", "detainees_source": "", "symbol_class": "under_10000"},
            "symbol_class",
            "'under_10000' without a count of the detained",
        ),
        ({"source": "/work/shared/seed/map.txt"}, "source", "cites a local file"),
        ({"detainees_source": "C:\\Users\\me\\map.pdf"}, "detainees_source", "local file"),
        ({"place_id": "atlantis"}, "place_id", "'atlantis' is not a gazetteer place"),
    ],
)
def test_raw_rules(files: dict[str, Path], change: dict[str, str], column: str, expected: str):
    write(files["raw"], [{**RAW, **change}])
    problems = check(files)
    assert len(problems) == 1, problems
    assert f"raw.csv: row 2, column {column}: " in problems[0]
    assert expected in problems[0]


def test_printed_class_with_map_number_stands(files: dict[str, Path]) -> None:
    write(files["raw"], [{**RAW, "symbol_class": "small", "map_no": "17"}])
    assert check(files) == []


def test_raw_missing_katakana_column_and_duplicate_ids(files: dict[str, Path]) -> None:
    write(files["raw"], [{"record_id": "a", "source": "x"}])
    assert "missing column(s) katakana" in check(files)[0]
    write(files["raw"], [RAW, RAW])
    assert check(files) == [
        f"{files['raw']}: row 3, column record_id: 'taishet' repeats row 2: "
        "give each row its own id"
    ]


def test_raw_not_utf8_names_the_encoding(files: dict[str, Path]) -> None:
    files["raw"].write_bytes("katakana,source\nタイシェト,x\n".encode("cp932"))
    problems = check(files)
    assert len(problems) == 1 and "not UTF-8" in problems[0] and "cp932" in problems[0]


@pytest.mark.parametrize(
    ("change", "column", "expected"),
    [
        ({"place_id": "Tai shet"}, "place_id", "not a slug"),
        ({"feature_type": "village"}, "feature_type", "'village'"),
        ({"country": "CN"}, "country", "'CN'"),
        ({"lat": "98.00350", "lon": "55.94043"}, "lat", "outside the former USSR"),
        ({"lat": "39.9", "lon": "116.4"}, "lat", "outside the former USSR"),
        ({"lat": "55,9"}, "lat", "is not a point"),
        ({"lat": "", "lon": ""}, "lat", "no point and no note"),
        ({"point_source": "", "geonames_id": ""}, "point_source", "empty for a point"),
        ({"geonames_id": "1489871"}, "point_source", "vs id '1489871'"),
        ({"geonames_id": "x1", "point_source": "dossier"}, "geonames_id", "'x1'"),
        ({"region_id": "siberia"}, "region_id", "not in regions.csv"),
        ({"maps": "A|Z"}, "maps", "map 'Z' is not in maps.csv"),
        ({"sources": ""}, "sources", "no source and no note"),
    ],
)
def test_place_rules(files: dict[str, Path], change: dict[str, str], column: str, expected: str):
    write(files["places"], [{**PLACE, **change}])
    problems = [p for p in check(files) if "places.csv" in p.split(":")[0]]
    assert len(problems) == 1, problems
    assert f"row 2, column {column}: " in problems[0]
    assert expected in problems[0]


def test_place_without_point_but_with_note_passes(files: dict[str, Path]) -> None:
    row = {**PLACE, "lat": "", "lon": "", "point_source": "", "geonames_id": "", "note": "lost"}
    write(files["places"], [row])
    assert check(files) == []


def test_place_ids_and_geonames_ids_unique(files: dict[str, Path]) -> None:
    write(files["places"], [PLACE, {**PLACE, "place_id": "tayshet-2"}, PLACE])
    problems = check(files)
    assert any("row 4, column place_id: 'taishet' repeats row 2" in p for p in problems)
    assert any("row 3, column geonames_id: '1489870' repeats row 2" in p for p in problems)


@pytest.mark.parametrize(
    ("change", "column", "expected"),
    [
        ({"place_id": "nowhere"}, "place_id", "not in places.csv"),
        ({"lang": "Japanese"}, "lang", "not a language tag"),
        ({"lang": "ru"}, "lang", "is Kana script, not Cyrl"),
        ({"name": "Тайшет", "lang": "ja-Kana"}, "lang", "is Cyrl script, not Kana"),
        ({"period": "1957-1935"}, "period", "'1957-1935'"),
        ({"period": "1930s"}, "period", "'1930s'"),
        ({"source": ""}, "source", "empty"),
    ],
)
def test_name_rules(files: dict[str, Path], change: dict[str, str], column: str, expected: str):
    write(files["names"], [{**NAME, **change}])
    problems = check(files)
    assert len(problems) == 1, problems
    assert "place_names.csv: row 2, column " + column in problems[0]
    assert expected in problems[0]


def test_a_period_needs_a_source_that_is_not_general_knowledge(files: dict[str, Path]) -> None:
    row = {**NAME, "name": "Тайшет", "lang": "ru", "period": "1938-1957"}
    write(files["names"], [{**row, "source": "dossier (general knowledge)"}])
    (problem,) = check(files)
    assert "place_names.csv: row 2, column source: the period '1938-1957' has no source" in problem
    write(files["names"], [{**row, "source": "https://example.org/a-page-giving-the-years"}])
    assert check(files) == []
    write(files["names"], [{**row, "period": "", "source": "general knowledge"}])
    assert check(files) == []  # a name without a period may rest on general knowledge


SOURCE = "https://en.wikipedia.org/wiki/Ussuriysk"


@pytest.mark.parametrize(
    ("first", "second", "overlaps"),
    [
        ("-1935", "1935-1957", False),  # the rename year is shared
        ("1935-1957", "1935-1957", False),  # two spellings of one name
        ("-1940", "1935-1957", True),
        ("1935", "1930-1957", True),
        ("1958-", "1935-1957", False),
        ("1950-", "1935-1957", True),
    ],
)
def test_a_period_overlapping_a_rival_name_is_refused(
    files: dict[str, Path], first: str, second: str, overlaps: bool
) -> None:
    rows = [
        {**NAME, "name": "Никольск-Уссурийский", "lang": "ru", "period": first, "source": SOURCE},
        {**NAME, "name": "Ворошилов", "lang": "ru", "period": second, "source": SOURCE},
        # another language's name never is a rival
        {
            **NAME,
            "name": "ウォロシロフ",
            "lang": "ja-Kana",
            "period": "1900-2000",
            "source": SOURCE,
        },
    ]
    write(files["names"], rows)
    problems = check(files)
    if overlaps:
        (problem,) = problems
        assert "place_names.csv: row 3, column period: " in problem
        assert f"'{second}' overlaps '{first}' of row 2, a rival name" in problem
    else:
        assert problems == []


def test_local_paths_are_refused_in_every_citing_column(files: dict[str, Path]) -> None:
    write(files["maps"], [{**MAP, "note": "verbatim from /work/shared/seed/x.txt (NOTE 2)"}])
    write(files["places"], [{**PLACE, "sources": "/home/me/notes.txt"}])
    write(files["names"], [{**NAME, "source": "see ~/x and /tmp/a/b.csv"}])
    problems = check(files)
    assert [p.split(": ")[1] for p in problems] == [
        "row 2, column note",
        "row 2, column sources",
        "row 2, column source",
    ]
    assert all("cites a local file" in p and "cite the publication" in p for p in problems)


def test_repo_maps_cite_note_2_of_the_ministry_map(repo: Path) -> None:
    with (repo / "gazetteer" / "maps.csv").open(encoding="utf-8") as handle:
        notes = [row["note"] for row in csv.DictReader(handle)]
    assert notes and all("NOTE 2" in n and "1977" in n and "1997" in n for n in notes)
    assert not any(validate.LOCAL_PATH.search(n) for n in notes)


def test_region_and_map_rules(files: dict[str, Path]) -> None:
    write(files["regions"], [{**REGION, "country": "CN"}])
    write(files["maps"], [MAP, MAP])
    problems = check(files)
    assert any("regions.csv: row 2, column country: CN" in p for p in problems)
    assert any("maps.csv: row 3, column id: 'A' repeats row 2" in p for p in problems)


def test_overrides_name_known_places(files: dict[str, Path]) -> None:
    rows = [
        {"record_id": "r1", "place_id": "taishet", "decision": "accept"},
        {"record_id": "r2", "place_id": "gn:1", "decision": "accept"},
        {"record_id": "r3", "place_id": "", "decision": "reject"},
        {"record_id": "r4", "place_id": "atlantis", "decision": "accept"},
    ]
    write(files["overrides"], rows)
    problems = check(files)
    assert len(problems) == 1 and "overrides.csv: row 5, column place_id: 'atlantis'" in problems[0]


def test_built_gazetteer_is_checked_when_present(files: dict[str, Path]) -> None:
    files["build"].mkdir()
    write(files["build"] / "places.csv", [{"place_id": "gn:1"}])
    write(files["overrides"], [{"record_id": "r1", "place_id": "gn:2", "decision": "accept"}])
    problems = check(files)
    assert len(problems) == 2, problems
    assert "is curated but missing from" in problems[0]
    assert "overrides.csv: row 2, column place_id: 'gn:2'" in problems[1]


def test_overrides_follow_the_stages_rules(files: dict[str, Path]) -> None:
    # The rules of pipeline.overrides, which reconcile and geocode apply: every problem listed.
    rows = [
        {"record_id": "r1", "place_id": "taishet", "decision": "maybe", "lat": ""},
        {"record_id": "", "place_id": "", "decision": "accept", "lat": "52.1"},
    ]
    write(files["overrides"], rows)
    problems = check(files)
    assert any("row 2, column decision: 'maybe' must be accept or reject" in p for p in problems)
    assert any("row 3, column record_id: give a record_id or a katakana" in p for p in problems)
    assert any("row 3, column lon: give both lat and lon" in p for p in problems)


def test_bad_fixture_file_lists_every_problem(files: dict[str, Path]) -> None:
    problems = validate.run(
        [DATA / "raw_bad.csv"], files["places"], files["maps"], files["build"], files["overrides"]
    )
    columns = sorted(p.split(", column ")[1].split(":")[0] for p in problems)
    assert columns == [
        "detainees",
        "detainees_excerpt",
        "detainees_source",
        "record_id",
        "source",
        "symbol_class",
    ]


def test_cli_passes_on_the_repo(repo: Path, runner, tmp_path: Path) -> None:
    args = ["validate", "--raw", str(repo / "raw" / "camps.csv")]
    args += ["--curated", str(repo / "gazetteer" / "places.csv")]
    args += ["--maps", str(repo / "gazetteer" / "maps.csv")]
    args += ["--gazetteer", str(tmp_path / "none"), "--overrides", str(tmp_path / "none.csv")]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert "validate: no problems found" in result.stderr


def test_cli_exits_1_and_lists_problems(files: dict[str, Path], runner) -> None:
    write(files["raw"], [{**RAW, "source": ""}])
    args = ["validate", "--raw", str(files["raw"]), "--curated", str(files["places"])]
    args += ["--maps", str(files["maps"]), "--gazetteer", str(files["build"])]
    args += ["--overrides", str(files["overrides"])]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert "raw.csv: row 2, column source: empty: cite where the row comes from" in result.stderr
    assert "Error: 1 problem(s) found" in result.stderr
