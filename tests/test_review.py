"""`camps review`: the queue of a reconciled CSV and decisions recorded into overrides.csv."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from pipeline import reconcile as rc
from pipeline import review
from pipeline import transliterate as tr
from pipeline.cli import cli
from pipeline.errors import ParamsError
from pipeline.io import read_csv, write_csv
from pipeline.records import OVERRIDE_COLUMNS

TINY = Path(__file__).parent / "data" / "gazetteer_reconcile"

RAW = [
    {"record_id": "r1", "katakana": "スパスク", "notes": "keep me"},
    {"record_id": "r2", "katakana": "ハバロフスク", "notes": ""},
    {"record_id": "r3", "katakana": "ハバロフスク", "notes": "same name twice"},
    {"record_id": "r4", "katakana": "ロンドン", "notes": ""},
]


def _read(path: Path) -> list[dict[str, str]]:
    return read_csv(path)[1]


def _reconcile(raw: Path, out: Path, overrides: Path) -> Path:
    """Transliterate and reconcile a raw register, as `camps run` does."""
    transliterated = out.with_name("transliterated.csv")
    tr.run(raw, transliterated, tr.TransliterateParams())
    rc.run(transliterated, out, TINY, overrides, rc.ReconcileParams())
    return out


@pytest.fixture()
def raw(tmp_path: Path) -> Path:
    write_csv(tmp_path / "raw.csv", list(RAW[0]), RAW)
    return tmp_path / "raw.csv"


def test_review_writes_a_valid_override(tmp_path: Path, raw: Path) -> None:
    out, overrides = tmp_path / "out.csv", tmp_path / "overrides.csv"
    _reconcile(raw, out, overrides)
    listing = review.queue(out)
    assert [item.record_id for item in listing] == ["r1"]
    assert "spassk-karaganda" in [c.place_id for c in listing[0].candidates]
    day = datetime.date(2025, 1, 2)
    new = review.record(out, TINY, overrides, ("r1=spassk-dalny",), (), "n", "s", day)
    # A decision is for the name (issue 16), so it survives a new record id.
    assert [(o.scope, o.katakana, o.place_id, o.accept) for o in new] == [
        ("name", "スパスク", "spassk-dalny", True)
    ]
    written = _read(overrides)
    assert written == [
        {
            "record_id": "",
            "katakana": "スパスク",
            "scope": "name",
            "region": "",
            "place_id": "spassk-dalny",
            "lat": "",
            "lon": "",
            "decision": "accept",
            "note": "n",
            "source": "s",
            "created": "2025-01-02",
        }
    ]
    _reconcile(raw, out, overrides)
    assert _read(out)[0]["decision"] == "override"
    assert review.queue(out) == []


@pytest.mark.parametrize(
    ("accepts", "message"),
    [
        (("r1",), "RECORD_ID=PLACE_ID"),
        (("nope=spassk-dalny",), "no row of .* has this name or record_id"),
        (("r1=gn:0",), "not a place id"),
    ],
)
def test_review_bad_usage(
    tmp_path: Path, raw: Path, accepts: tuple[str, ...], message: str
) -> None:
    _reconcile(raw, tmp_path / "out.csv", tmp_path / "o.csv")
    with pytest.raises(ParamsError, match=message):
        review.record(tmp_path / "out.csv", TINY, tmp_path / "o.csv", accepts, ())
    assert not (tmp_path / "o.csv").exists()


def test_cli_review(runner, tmp_path: Path, raw: Path) -> None:  # type: ignore[no-untyped-def]
    _reconcile(raw, tmp_path / "out.csv", tmp_path / "o.csv")
    args = ["review", "--input", str(tmp_path / "out.csv"), "--gazetteer", str(TINY)]
    args += ["--overrides", str(tmp_path / "o.csv")]
    result = runner.invoke(cli, [*args, "--list"])
    assert result.exit_code == 0 and "1 name(s) to review, 1 row(s)" in result.stdout
    assert "spassk-karaganda" in result.stdout and "r2" not in result.stdout
    assert "why: rival" in result.stdout or "why: best" in result.stdout
    result = runner.invoke(cli, [*args, "--list", "--accept", "r1=spassk-dalny"])
    assert result.exit_code == 2 and "choose one of them" in result.stderr
    result = runner.invoke(cli, [*args, "--accept", "r1=gn:0"])
    assert result.exit_code == 2 and "not a place id" in result.stderr
    result = runner.invoke(cli, [*args, "--accept", "r1=spassk-dalny"])
    assert result.exit_code == 0, result.stderr
    assert "recorded 1 accept(s), 0 reject(s)" in result.stdout
    assert _read(tmp_path / "o.csv")[0]["place_id"] == "spassk-dalny"


def test_cli_review_accept_keeps_every_column_of_overrides(  # type: ignore[no-untyped-def]
    runner, repo: Path, tmp_path: Path
) -> None:
    """Issue 13: `camps review --accept` rewrote overrides.csv without uncertainty_km.

    The register is the tiny real one (tests/data/raw_tiny.csv); the existing
    override is the Khadabulak memorial of raw/camps.csv's sherlovaya-gora row.
    """
    out, overrides = tmp_path / "out.csv", tmp_path / "overrides.csv"
    args = ["--gazetteer", str(TINY), "--overrides", str(overrides)]
    transliterated = str(tmp_path / "transliterated.csv")
    raw = str(repo / "tests/data/raw_tiny.csv")
    result = runner.invoke(cli, ["transliterate", "--input", raw, "--output", transliterated])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(
        cli, ["reconcile", "--input", transliterated, "--output", str(out), *args]
    )
    assert result.exit_code == 0, result.stderr
    columns = [*OVERRIDE_COLUMNS, "uncertainty_km", "reviewer"]
    kept = dict.fromkeys(columns, "") | {
        "katakana": "ハダブラク",
        "lat": "50.56",
        "lon": "116.30",
        "decision": "accept",
        "source": "http://www3.plala.or.jp/naga0607/r16.htm",
        "uncertainty_km": "2.5",
        "reviewer": "kept as written",
    }
    write_csv(overrides, columns, [kept])
    result = runner.invoke(
        cli, ["review", "--input", str(out), *args, "--accept", "t-kadala=kadala"]
    )
    assert result.exit_code == 0, result.stderr
    header, rows = read_csv(overrides)
    assert header == columns
    assert rows[0] == kept
    assert (rows[1]["scope"], rows[1]["place_id"], rows[1]["uncertainty_km"]) == (
        "name",
        "kadala",
        "",
    )
