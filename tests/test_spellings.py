"""Real register spellings through the commands a user runs: by ear, OCR, kanji, feature words.

``tests/data/spellings_cases.csv`` holds 139 cases: the 76 spellings of
``raw/realnames_dev.csv`` (with their source) and constructed ones (a typesetting
slip, a feature or region word added to a known spelling, a sound change of spoken
Russian or a dropped -ск applied to a dictionary spelling, a district (地区) or a
camp's seat (第N地区X) as the name or the hint, the kanji exonyms of
``gazetteer/place_names.csv`` with their sources, and bad input). Each gives the
normalised form, ``name_flag``, hints, and the place expected, or that the row must
never be ``auto``; ``known_miss`` says why a case the pipeline does not yet place
fails. They run through ``camps transliterate``, ``reconcile`` and ``geocode`` on the
built gazetteer, as a user's register would.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli

REPO = Path(__file__).resolve().parent.parent
CASES = Path(__file__).parent / "data" / "spellings_cases.csv"


def _cases() -> list[dict[str, str]]:
    with CASES.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    folder = tmp_path_factory.mktemp("spellings")
    raw = folder / "raw.csv"
    with raw.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["katakana", "region"])
        writer.writerows([c["katakana"], c["region"]] for c in _cases())
    runner = CliRunner()
    common = [
        "--gazetteer",
        str(REPO / "gazetteer" / "build"),
        "--params",
        str(REPO / "params.yaml"),
    ]
    steps = [
        ["transliterate", "--input", str(raw), "--output", str(folder / "t.csv")],
        ["reconcile", "--input", str(folder / "t.csv"), "--output", str(folder / "r.csv")],
        ["geocode", "--input", str(folder / "r.csv"), "--output", str(folder / "g.csv")],
    ]
    for step in steps:
        extra = common[2:] if step[0] == "transliterate" else common
        if step[0] != "transliterate":
            extra = [*extra, "--overrides", str(folder / "none.csv")]
        result = runner.invoke(cli, [*step, *extra])
        assert result.exit_code == 0, result.stderr
    with (folder / "g.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_at_least_a_hundred_cases_every_row_kept(results: list[dict[str, str]]) -> None:
    cases = _cases()
    assert len(cases) >= 100
    assert [r["katakana"] for r in results] == [c["katakana"] for c in cases]
    kinds = {c["kind"].split(":")[0] for c in cases}
    assert {"real", "ocr", "kanji", "feature", "region", "bad", "manchuria"} <= kinds


def _numbers() -> list[object]:
    """Each case's number; a known miss (its reason in ``known_miss``) must still fail.

    strict: the day a change places it, the test says so and the mark must go.
    """
    return [
        pytest.param(n, marks=pytest.mark.xfail(reason=c["known_miss"], strict=True))
        if c["known_miss"]
        else n
        for n, c in enumerate(_cases())
    ]


@pytest.mark.parametrize("number", _numbers())
def test_case(results: list[dict[str, str]], number: int) -> None:
    case, row = _cases()[number], results[number]
    label = f"{case['katakana']} ({case['kind']})"
    assert row["katakana_normalized"] == case["expect_normalized"], label
    assert row["name_flag"] == case["expect_flag"], label
    assert row["region_hint"] == case["expect_region_hint"], label
    assert row["feature_hint"] == case["expect_feature"], label
    assert row["camp_no_hint"] == case["expect_camp_no"], label
    if case["expect_place"]:
        assert row["place_id"] == case["expect_place"], label
        assert row["decision"] in ("auto", "review"), label
    if case["never_auto"]:
        assert row["decision"] != "auto", label
    if case["expect_flag"] == "region_only" and case["kind"] == "region":
        # a name that is itself a region gets the region's centroid and radius
        assert row["geocode_source"].startswith("region:"), label


def test_a_district_is_placed_at_its_centre_with_the_district_radius(
    results: list[dict[str, str]],
) -> None:
    # トウングコチエンスキー地区 is Тунгокоченский район, not a town: its centre, at least
    # 130 km (geocode widens it further by the doubt of the reading)
    rows = [r for r in results if r["place_id"] == "tungokochensky-district"]
    assert rows and all(float(r["uncertainty_km"]) >= 130.0 for r in rows)
    assert all(r["certainty"] != "certain" for r in rows)
