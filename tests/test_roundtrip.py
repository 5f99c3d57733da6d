"""A user's 300-row register end to end (issue 16's Measures), through the `camps` CLI.

The register is made here from the project's real spellings: every katakana name
(and variant) of raw/camps.csv, raw/gold_dev.csv and raw/camps_dossier.csv, each
also as a register writes it by hand (:func:`pipeline.synthetic.misspell`, the
generator every benchmark uses), then the first names again to 300 rows, as a
register repeats its places. It is reconciled against the project's own built
gazetteer (gazetteer/build), so its review queue is the one a user would see.

The register is a workbook as Excel saves it (openpyxl), with its names in a
column headed 死亡場所 (place of death): the name column is found by its kana.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline import review, synthetic
from pipeline.cli import cli
from pipeline.io import read_csv, read_xlsx_sheet

ROWS = 300


def _names(repo: Path) -> list[str]:
    names: list[str] = []
    for name in ("camps.csv", "gold_dev.csv", "camps_dossier.csv"):
        with (repo / "raw" / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                names.append(row["katakana"])
                names += [v for v in row.get("katakana_variants", "").split("|") if v]
    names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    rng = random.Random(16)
    spelled = list(dict.fromkeys([*names, *(synthetic.misspell(n, rng) for n in names)]))
    return (spelled * 2)[:ROWS]


def _run(runner: CliRunner, register: Path, out: Path, *extra: str) -> None:
    result = runner.invoke(cli, ["run", "--input", str(register), "--output-dir", str(out), *extra])
    assert result.exit_code == 0, result.stderr


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory, repo: Path) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("register")
    register = folder / "register.xlsx"
    rows = [{"番号": str(n), "死亡場所": k, "memo": ""} for n, k in enumerate(_names(repo), 1)]
    _write_xlsx(register, ["番号", "死亡場所", "memo"], rows)
    runner = CliRunner()
    _run(runner, register, folder / "results")
    return {"folder": folder, "register": register, "rows": rows, "runner": runner}


def _write_xlsx(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    """A register as Excel saves it: one sheet, a header row, numbers as numbers."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "名簿"
    sheet.append(columns)
    for row in rows:
        sheet.append([int(row[c]) if c == "番号" else row[c] for c in columns])
    book.save(path)


def _fill(sheet: Path, count: int) -> list[tuple[str, str]]:
    """Accept the best candidate of the first ``count`` names, as a person would in Excel."""
    from openpyxl import load_workbook

    book = load_workbook(sheet)
    page = book[review.SHEET]
    header = [c.value for c in page[1]]
    chosen = []
    for number in range(2, count + 2):
        page.cell(row=number, column=header.index("decision") + 1).value = "accept"
        name = page.cell(row=number, column=header.index("katakana") + 1).value
        best = page.cell(row=number, column=header.index("best_place_id") + 1).value
        chosen.append((str(name), str(best)))
    book.save(sheet)
    return chosen


def _export(runner: CliRunner, reconciled: Path, sheet: Path, *extra: str) -> int:
    result = runner.invoke(
        cli, ["review", "--input", str(reconciled), "--export", str(sheet), *extra]
    )
    assert result.exit_code == 0, result.stderr
    return len(read_xlsx_sheet(sheet, review.SHEET, review.SHEET_COLUMNS)[1])


def test_fifty_names_by_one_export_and_one_import(first_run: dict[str, Any]) -> None:
    runner, folder = first_run["runner"], first_run["folder"]
    stages = folder / "results" / "stages"
    overrides = folder / "fifty.csv"
    sheet = folder / "fifty.xlsx"
    queued = _export(runner, stages / "reconciled.csv", sheet)
    assert queued >= 50
    chosen = dict(_fill(sheet, 50))
    result = runner.invoke(
        cli,
        [
            "review",
            "--input",
            str(stages / "reconciled.csv"),
            "--import",
            str(sheet),
            "--overrides",
            str(overrides),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "for 50 name(s)" in result.stdout
    again = folder / "again.csv"
    result = runner.invoke(
        cli,
        [
            "reconcile",
            "--input",
            str(stages / "transliterated.csv"),
            "--output",
            str(again),
            "--overrides",
            str(overrides),
        ],
    )
    assert result.exit_code == 0, result.stderr
    rows = read_csv(again)[1]
    decided = [r for r in rows if r["katakana"] in chosen]
    assert {r["katakana"] for r in decided} == set(chosen)
    assert all(r["decision"] == "override" for r in decided)
    assert all(r["place_id"] == chosen[r["katakana"]] for r in decided)
    # Every decided name leaves the queue (with each region it came with); the rest stay.
    before = {q.key for q in review.queue(stages / "reconciled.csv")}
    decided_keys = {q.key for q in review.queue(stages / "reconciled.csv") if q.katakana in chosen}
    assert {q.key for q in review.queue(again)} == before - decided_keys


def test_round_trip_ten_decisions_survive_a_new_column_and_reordered_rows(
    first_run: dict[str, Any],
) -> None:
    runner, folder, register = first_run["runner"], first_run["folder"], first_run["register"]
    results = folder / "results"
    sheet = folder / "ten.xlsx"
    _export(runner, results / "stages" / "reconciled.csv", sheet)
    chosen = dict(_fill(sheet, 10))
    result = runner.invoke(
        cli,
        ["review", "--input", str(results / "stages" / "reconciled.csv"), "--import", str(sheet)],
    )
    assert result.exit_code == 0, result.stderr
    assert (results / "overrides.csv").exists()  # the register's own folder, not gazetteer/
    # The user adds a column and sorts the sheet another way, then runs again.
    edited = [r | {"追加": "x"} for r in reversed(first_run["rows"])]
    columns = ["追加", "番号", "死亡場所", "memo"]
    _write_xlsx(register, columns, edited)
    _run(runner, register, results)
    rows = read_csv(results / "stages" / "reconciled.csv")[1]
    kept = {
        name
        for name, place in chosen.items()
        if {(r["decision"], r["place_id"]) for r in rows if r["katakana"] == name}
        == {("override", place)}
    }
    assert len(kept) == 10, sorted(set(chosen) - kept)
    # results.xlsx opens with openpyxl with every original column, in order, then results.
    from openpyxl import load_workbook

    book = load_workbook(results / "results.xlsx", read_only=True)
    header = [c for c in next(book["results"].iter_rows(values_only=True))]
    book.close()
    # The register's own columns in their order (with the id the project made for each
    # row first, which decisions can name), then the results: no copy of 死亡場所.
    assert header[:-13] == ["record_id", *columns]
    assert header[-13:] == [
        "place",
        "cyrillic",
        "latin",
        "lat",
        "lon",
        "region",
        "country",
        "decision",
        "score",
        "certainty",
        "radius_km",
        "method",
        "best_rival",
    ]
    data = (results / "results.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    with (results / "results.csv").open(encoding="utf-8-sig") as handle:
        listed = list(csv.DictReader(handle))
    assert [r["番号"] for r in listed] == [r["番号"] for r in edited]  # the register's order
    assert not any(v.lstrip().startswith(("[", "{")) for r in listed for v in r.values())
    decided = [r for r in listed if r["死亡場所"] in chosen]
    assert decided and all(r["decision"].startswith("override") for r in decided)
