"""`camps review`: the queue of a reconciled CSV and decisions recorded into overrides.csv."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from pipeline import reconcile as rc
from pipeline import review
from pipeline import transliterate as tr
from pipeline.cli import cli
from pipeline.errors import InputDataError, ParamsError
from pipeline.io import read_csv, read_xlsx_sheet, write_csv
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


def test_a_decision_by_name_survives_new_columns_reordered_rows_and_new_ids(
    tmp_path: Path, raw: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 16: one empty column added to the sheet silently dropped every decision."""
    out, overrides = tmp_path / "out.csv", tmp_path / "overrides.csv"
    _reconcile(raw, out, overrides)
    review.record(out, TINY, overrides, ("スパスク=spassk-dalny",), ("ロンドン",))
    # The register edited as users do: a new column, rows reordered, its ids left to us,
    # one more row of a decided name, and ロンドン gone.
    edited = [
        {"katakana": r["katakana"], "added": "", "notes": r["notes"]}
        for r in reversed(RAW)
        if r["katakana"] != "ロンドン"
    ] + [{"katakana": "スパスク", "added": "x", "notes": "a new row"}]
    write_csv(tmp_path / "raw.csv", ["added", "katakana", "notes"], edited)
    with caplog.at_level("WARNING"):
        transliterated = tmp_path / "transliterated.csv"
        tr.run(raw, transliterated, tr.TransliterateParams())
        report = rc.run(transliterated, out, TINY, overrides, rc.ReconcileParams())
    rows = _read(out)
    assert [r["decision"] for r in rows if r["katakana"] == "スパスク"] == ["override"] * 2
    assert {r["place_id"] for r in rows if r["katakana"] == "スパスク"} == {"spassk-dalny"}
    # The decision whose name is gone is counted and named, and stays in the file.
    assert report["stale_decisions"] == 1
    assert "1 decision(s)" in caplog.text and "ロンドン" in caplog.text
    assert [r["katakana"] for r in _read(overrides)] == ["スパスク", "ロンドン"]


def test_one_record_reject_and_accept_above(tmp_path: Path, raw: Path) -> None:
    out, overrides = tmp_path / "out.csv", tmp_path / "overrides.csv"
    _reconcile(raw, out, overrides)
    new = review.record(out, TINY, overrides, (), ("r2",), one_record=True)
    assert [(o.scope, o.record_id, o.accept) for o in new] == [("record", "r2", False)]
    new = review.record(out, TINY, overrides, (), (), accept_above=0.0)
    best = review.queue(out)[0].candidates[0].place_id
    assert [(o.scope, o.katakana, o.place_id) for o in new] == [("name", "スパスク", best)]
    _reconcile(raw, out, overrides)
    decided = {r["record_id"]: (r["decision"], r["place_id"]) for r in _read(out)}
    assert decided["r1"] == ("override", best) and decided["r2"] == ("unresolved", "")
    assert decided["r3"][0] == "auto"  # the same name, another record: not decided
    with pytest.raises(ParamsError, match="decided twice in one call"):
        review.record(out, TINY, overrides, ("スパスク=spassk-dalny",), ("スパスク",))


def _filled(path: Path, decisions: dict[int, dict[str, str]]) -> None:
    """Fill rows of an exported review sheet as a person would in Excel (openpyxl)."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book[review.SHEET]
    header = [c.value for c in sheet[1]]
    for number, cells in decisions.items():
        for name, value in cells.items():
            # None clears the cell (openpyxl's sheet.cell(value=None) would keep it).
            sheet.cell(row=number, column=header.index(name) + 1).value = value
    book.save(path)


def test_export_import_sheet_checks_every_row_and_writes_all_or_nothing(
    runner, tmp_path: Path, raw: Path
) -> None:  # type: ignore[no-untyped-def]
    out, overrides = tmp_path / "out.csv", tmp_path / "overrides.csv"
    _reconcile(raw, out, overrides)
    sheet = tmp_path / "queue.xlsx"
    args = ["review", "--input", str(out), "--gazetteer", str(TINY), "--overrides", str(overrides)]
    result = runner.invoke(cli, [*args, "--export", str(sheet)])
    assert result.exit_code == 0, result.stderr
    assert "wrote 1 name(s)" in result.stdout
    _, rows = read_xlsx_sheet(sheet, review.SHEET, review.SHEET_COLUMNS)
    assert [(r["katakana"], r["rows"], r["scope"]) for r in rows] == [("スパスク", "1", "name")]
    assert "spassk-karaganda" in rows[0]["candidates"] and rows[0]["reason"]
    # Bad rows: an unknown place id, a decision word that is neither, and a contradiction.
    _filled(
        sheet,
        {
            2: {"decision": "accept", "place_id": "gn:0"},
            3: {"katakana": "スパスク", "decision": "maybe"},
            4: {"katakana": "スパスク", "decision": "reject"},
        },
    )
    result = runner.invoke(cli, [*args, "--import", str(sheet)])
    assert result.exit_code == 1
    assert "sheet review, row 2, column place_id: 'gn:0' is not a place" in result.stderr
    assert "sheet review, row 3, column decision: 'maybe' must be accept" in result.stderr
    assert not overrides.exists()  # nothing written half
    best = rows[0]["best_place_id"]
    other = "spassk-dalny" if best != "spassk-dalny" else "spassk-karaganda"
    _filled(
        sheet,
        {
            2: {"decision": "accept", "place_id": None},
            3: {"decision": "accept", "place_id": other},
            4: {"katakana": None, "decision": None},
        },
    )
    result = runner.invoke(cli, [*args, "--import", str(sheet)])
    assert result.exit_code == 1 and "row 3, column decision: contradicts row 2" in result.stderr
    assert not overrides.exists()
    _filled(sheet, {3: {"katakana": None, "decision": None, "place_id": None}})
    result = runner.invoke(cli, [*args, "--import", str(sheet)])
    assert result.exit_code == 0, result.stderr
    assert "recorded 1 accept(s), 0 reject(s) for 1 name(s)" in result.stdout
    assert [(r["katakana"], r["scope"], r["place_id"]) for r in _read(overrides)] == [
        ("スパスク", "name", best)
    ]


def test_twenty_pairs_of_concurrent_reviews_lose_no_decision(tmp_path: Path, raw: Path) -> None:
    """One lock per overrides file: 40 `camps review` processes at once, 40 decisions kept."""
    import subprocess
    import sys

    out, overrides = tmp_path / "out.csv", tmp_path / "overrides.csv"
    _reconcile(raw, out, overrides)
    columns, rows = read_csv(out)
    many = [rows[0] | {"record_id": f"c{n:02d}"} for n in range(40)]
    write_csv(out, columns, many)
    base = [sys.executable, "-m", "pipeline", "review", "--input", str(out)]
    base += ["--gazetteer", str(TINY), "--overrides", str(overrides), "--one-record"]
    procs = [
        subprocess.Popen(
            [*base, "--accept", f"c{n:02d}=spassk-dalny"]
            if n % 2
            else [*base, "--reject", f"c{n:02d}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(40)
    ]
    codes = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    assert [c for c, _ in codes] == [0] * 40, codes
    written = _read(overrides)
    assert sorted(r["record_id"] for r in written) == [f"c{n:02d}" for n in range(40)]
    assert sum(r["decision"] == "accept" for r in written) == 20


def test_a_register_run_keeps_its_decisions_in_its_output_folder(
    runner, repo: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: decisions went into the project's tracked gazetteer/overrides.csv."""
    tracked = (repo / "gazetteer/overrides.csv").read_bytes()
    results = tmp_path / "results"
    run = ["run", "--input", str(repo / "tests/data/raw_tiny.csv"), "--output-dir", str(results)]
    result = runner.invoke(cli, [*run, "--gazetteer", str(TINY)])
    assert result.exit_code == 0, result.stderr
    reconciled = results / "stages" / "reconciled.csv"
    name = next(r["katakana"] for r in _read(reconciled))
    result = runner.invoke(
        cli,
        ["review", "--input", str(reconciled), "--gazetteer", str(TINY), "--reject", name],
    )
    assert result.exit_code == 0, result.stderr
    assert str(results / "overrides.csv") in result.stdout
    assert [r["katakana"] for r in _read(results / "overrides.csv")] == [name]
    result = runner.invoke(cli, [*run, "--gazetteer", str(TINY)])
    assert result.exit_code == 0, result.stderr
    rows = [r for r in _read(reconciled) if r["katakana"] == name]
    assert rows and {r["decision"] for r in rows} == {"unresolved"}
    assert (repo / "gazetteer/overrides.csv").read_bytes() == tracked


def test_import_refuses_a_file_that_is_no_workbook_and_a_missing_sheet(
    tmp_path: Path, raw: Path
) -> None:
    out, overrides = tmp_path / "out.csv", tmp_path / "overrides.csv"
    _reconcile(raw, out, overrides)
    # An encrypted (password-protected) .xlsx is an OLE file, not a zip: the same refusal.
    fake = tmp_path / "locked.xlsx"
    fake.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    with pytest.raises(InputDataError, match="password-protected file cannot be read"):
        review.import_sheet(fake, out, TINY, overrides)
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Sheet1"  # type: ignore[union-attr]
    book.save(tmp_path / "other.xlsx")
    with pytest.raises(InputDataError, match=r"no sheet 'review' \(sheets: Sheet1\)"):
        review.import_sheet(tmp_path / "other.xlsx", out, TINY, overrides)
    assert not overrides.exists()


def test_review_writes_beside_the_register_never_into_the_tracked_file(repo: Path) -> None:
    from pipeline.cli.options import DEFAULT_OVERRIDES, review_overrides

    committed = repo / "output" / "stages" / "reconciled.csv"
    assert review_overrides(committed) == DEFAULT_OVERRIDES()
    assert review_overrides(Path("/w/results/stages/reconciled.csv")) == Path(
        "/w/results/overrides.csv"
    )
    assert review_overrides(Path("/w/mine.csv")) == Path("/w/overrides.csv")
