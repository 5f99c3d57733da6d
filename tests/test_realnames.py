"""Tests of the real-spellings score (pipeline.realnames) and of ``camps evaluate --realnames``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import realnames as rn
from pipeline import reconcile as rc
from pipeline.cli import cli
from pipeline.errors import InputDataError
from pipeline.params import load_section
from pipeline.transliterate import TransliterateParams, default_model

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
TINY = DATA / "gazetteer_reconcile"
HEADER = "katakana,region_given,cyrillic,latin,lat,lon,coord_source,ambiguous,not_ussr,source\n"


def test_kinds_of_the_dev_set() -> None:
    rows = rn.read_realnames(REPO / "raw" / "realnames_dev.csv")
    kinds = [r.kind for r in rows]
    assert (len(rows), kinds.count("identifiable"), kinds.count("not_ussr")) == (76, 64, 1)
    karymskaya = next(r for r in rows if r.katakana == "カリムスカヤ駅")
    assert karymskaya.names == ("Карымская", "Karymskaya") and karymskaya.lat is None


def test_scores_by_point_by_name_and_never_auto_on_a_guess(tmp_path: Path) -> None:
    # By hand on the tiny gazetteer: ハバロフスク is auto and at the point; スーチャン with a
    # point 300 km off is wrong; ロンドン (no Russian name) must not be auto.
    path = tmp_path / "real.csv"
    path.write_text(
        HEADER + "ハバロフスク,ハバロフスク州,Хабаровск,Khabarovsk,48.48,135.08,x,no,no,s\n"
        "スーチャン,沿海州,Сучан,Suchan,48.48,135.08,x,no,no,s\n"
        "ロンドン,,,,,,x,unknown,no,s\n",
        encoding="utf-8",
    )
    got = rn.score_realnames(
        rn.read_realnames(path),
        rc.load_index(TINY),
        [],
        default_model(),
        TransliterateParams(),
        rc.ReconcileParams(),
    )
    assert (got["identifiable"], got["unidentified"], got["right"]) == (2, 1, 1)
    assert got["unidentified_auto"] == 0
    assert got["misses"] == [m for m in got["misses"] if m.startswith("スーチャン")]


def test_a_bad_point_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "real.csv"
    path.write_text(HEADER + "チタ,,Чита,Chita,north,113,x,no,no,s\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"real\.csv: row 2, column lat/lon"):
        rn.read_realnames(path)


def test_cli_evaluate_prints_and_writes_realnames(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    real = tmp_path / "real.csv"
    real.write_text(HEADER + "ハバロフスク,,Хабаровск,Khabarovsk,48.48,135.08,x,no,no,s\n", "utf-8")
    out = tmp_path / "m.json"
    args = ["evaluate", "--gazetteer", str(TINY), "--overrides", str(tmp_path / "none.csv")]
    result = runner.invoke(
        cli,
        [
            *args,
            "--gold",
            str(DATA / "gold_tiny.csv"),
            "--realnames",
            str(real),
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "real.csv: 1 rows (1 identifiable" in result.stdout
    assert json.loads(out.read_text("utf-8"))["realnames"]["right"] == 1


def test_by_ear_truncated_and_district_spellings_are_placed(tmp_path: Path) -> None:
    # Kinds the issue names, as the sources wrote them: two sound changes (ペガワト,
    # Беговат), a district (トウングコチエンスキー地区) and a compound decided by the
    # source's district or camp seat (ベルシーナ・ダランスン, ダラスンスク).
    wanted = (
        "ペガワト地区",
        "トウングコチエンスキー地区",
        "ベルシーナ・ダランスン",
        "ダラスンスク",
    )
    lines = (REPO / "raw" / "realnames_dev.csv").read_text("utf-8").splitlines()
    path = tmp_path / "real.csv"
    path.write_text(
        "\n".join([lines[0], *(ln for ln in lines[1:] if ln.split(",")[0] in wanted)]) + "\n",
        encoding="utf-8",
    )
    got = rn.score_realnames(
        rn.read_realnames(path),
        rc.load_index(REPO / "gazetteer" / "build"),
        [],
        default_model(),
        TransliterateParams(),
        # The thresholds the pipeline runs with (calibrated on the learned score).
        load_section(REPO / "params.yaml", "reconcile", rc.ReconcileParams),
    )
    assert (got["identifiable"], got["right"]) == (4, 4), got["misses"]
    assert got["auto_precision"] in (None, 1.0)
