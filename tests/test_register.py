"""A user's register in (issue 16 part 1, issue 21's hints): workbooks, encodings,
separators, the name and region columns, record ids; all through the CLI.

Every file is made in the test: openpyxl writes the xlsx files, odfpy the ods
file, msoffcrypto-tool encrypts an xlsx with a password as Excel does. The
place names are real spellings of camp places from raw/camps.csv.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import cli


def transliterate(runner: CliRunner, source: Path, out: Path, *extra: str) -> Result:
    return runner.invoke(
        cli, ["transliterate", "--input", str(source), "--output", str(out), *extra]
    )


def read_out(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def refused(result: Result, out: Path, *fragments: str) -> None:
    """Exit 1, a message with every fragment, no traceback, no output written."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}*")), "a temporary file was left"


def xlsx(
    path: Path, sheets: dict[str, list[list[Any]]], merged: dict[str, list[str]] | None = None
) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for span in (merged or {}).get(name, []):
            sheet.merge_cells(span)
    book.save(path)
    return path


def with_cached_values(path: Path, values: dict[str, str], errors: dict[str, str]) -> Path:
    """Give openpyxl's formulas the saved values Excel writes beside them (``<v>``)."""
    data = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(data, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = content.decode("utf-8")
                cached = [(ref, "n", value) for ref, value in values.items()]
                cached += [(ref, "e", value) for ref, value in errors.items()]
                for ref, kind, value in cached:
                    head, _, tail = text.partition(f'<c r="{ref}"><f>')
                    formula, _, rest = tail.partition("</f><v />")
                    text = f'{head}<c r="{ref}" t="{kind}"><f>{formula}</f><v>{value}</v>{rest}'
                content = text.encode("utf-8")
            target.writestr(item, content)
    path.write_bytes(data.getvalue())
    return path


REGISTER = [
    ["番号", "氏名", "死亡場所", "死亡年月日"],
    [12, "山田太郎", "ライチハ", dt.date(1946, 3, 1)],
    [13, "佐藤次郎", "チタ", dt.date(1946, 1, 20)],
    [14, "鈴木三郎", "カラガンダ", dt.datetime(1947, 2, 5, 0, 0)],
]


# --- workbooks ---------------------------------------------------------------------------


def test_xlsx_with_a_death_place_column(tmp_path: Path, runner: CliRunner) -> None:
    rows = [["record_id", *REGISTER[0][1:]], *[[r[0], *r[1:]] for r in REGISTER[1:]]]
    source = xlsx(tmp_path / "名簿.xlsx", {"名簿": rows})
    out = tmp_path / "t.csv"
    result = transliterate(runner, source, out)
    assert result.exit_code == 0, result.output
    assert "reading names from column '死亡場所'" in result.stderr
    got = read_out(out)
    assert [r["record_id"] for r in got] == ["12", "13", "14"]  # not 12.0
    assert [r["死亡年月日"] for r in got] == ["1946-03-01", "1946-01-20", "1947-02-05"]
    assert [r["katakana"] for r in got] == ["ライチハ", "チタ", "カラガンダ"]
    assert got[1]["cyrillic_candidates"].split("|")[0] == "Чита"
    header = list(got[0])
    assert header[:5] == ["record_id", "氏名", "死亡場所", "死亡年月日", "katakana"]


def test_ods_is_read_with_its_merged_cells(tmp_path: Path, runner: CliRunner) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    def cell(value: int | str, **span: str) -> TableCell:
        if isinstance(value, int):
            made = TableCell(valuetype="float", value=value, **span)
        else:
            made = TableCell(valuetype="string", **span)
        made.addElement(P(text=str(value)))
        return made

    doc = OpenDocumentSpreadsheet()
    table = Table(name="死亡者")
    rows = [
        [cell("record_id"), cell("katakana")],
        [cell(7), cell("ハバロフスク")],
        [cell(8), cell("タイシェト", numberrowsspanned="2")],  # merged down two rows
        [cell(9), CoveredTableCell()],
    ]
    for cells in rows:
        row = TableRow()
        for made in cells:
            row.addElement(made)
        table.addElement(row)
    doc.spreadsheet.addElement(table)
    source = tmp_path / "register.ods"
    doc.save(str(source))
    out = tmp_path / "t.csv"
    result = transliterate(runner, source, out)
    assert result.exit_code == 0, result.output
    assert "merged cells B3:B4" in result.stderr
    got = read_out(out)
    assert [(r["record_id"], r["katakana"]) for r in got] == [
        ("7", "ハバロフスク"),
        ("8", "タイシェト"),
        ("9", "タイシェト"),
    ]
    assert got[0]["latin_candidates"].split("|")[0] == "Khabarovsk"


def test_first_sheet_with_cells_and_sheet_option(tmp_path: Path, runner: CliRunner) -> None:
    source = xlsx(
        tmp_path / "book.xlsx",
        {
            "表紙": [],
            "名簿": [["katakana"], ["チタ"]],
            "予備": [["katakana"], ["カラガンダ"]],
        },
    )
    out = tmp_path / "t.csv"
    result = transliterate(runner, source, out)
    assert result.exit_code == 0, result.output
    assert "reading sheet '名簿'" in result.stderr and "'表紙'" in result.stderr
    assert "'予備'" in result.stderr and "--sheet" in result.stderr
    assert [r["katakana"] for r in read_out(out)] == ["チタ"]
    import openpyxl

    book = openpyxl.load_workbook(source)
    book.move_sheet("予備", offset=-2)  # first, but hidden: not what the user sees first
    book["予備"].sheet_state = "hidden"
    book.save(source)
    result = transliterate(runner, source, out)
    assert result.exit_code == 0, result.output
    assert [r["katakana"] for r in read_out(out)] == ["チタ"]
    assert "empty, hidden or charts" in result.stderr
    book["予備"].sheet_state = "visible"
    book.move_sheet("予備", offset=2)
    book.save(source)
    for chosen in ("予備", "3"):
        result = transliterate(runner, source, out, "--sheet", chosen)
        assert result.exit_code == 0, result.output
        assert [r["katakana"] for r in read_out(out)] == ["カラガンダ"]
    out.unlink()
    refused(
        transliterate(runner, source, out, "--sheet", "Sheet9"),
        out,
        "no sheet 'Sheet9'",
        "'表紙', '名簿', '予備'",
        "--sheet",
    )
    refused(
        transliterate(runner, source, out, "--sheet", "表紙"),
        out,
        "sheet '表紙': is empty",
        "'名簿'",
    )


def test_a_workbook_of_empty_sheets(tmp_path: Path, runner: CliRunner) -> None:
    source = xlsx(tmp_path / "empty.xlsx", {"Sheet1": [], "Sheet2": []})
    out = tmp_path / "t.csv"
    refused(transliterate(runner, source, out), out, "every sheet is empty", "'Sheet1', 'Sheet2'")
    header_only = xlsx(tmp_path / "header.xlsx", {"名簿": [["katakana", "notes"]]})
    refused(transliterate(runner, header_only, out), out, "sheet '名簿'", "no rows")


def test_merged_cells(tmp_path: Path, runner: CliRunner) -> None:
    rows = [
        ["record_id", "katakana", "notes"],
        ["a1", "チタ", "x"],
        ["a2", None, "y"],
        ["a3", "カンスク", "z"],
    ]
    source = xlsx(tmp_path / "merged.xlsx", {"名簿": rows}, {"名簿": ["B2:B3"]})
    out = tmp_path / "t.csv"
    result = transliterate(runner, source, out)
    assert result.exit_code == 0, result.output
    assert "merged cells B2:B3" in result.stderr
    assert [r["katakana"] for r in read_out(out)] == ["チタ", "チタ", "カンスク"]
    out.unlink()
    across = xlsx(tmp_path / "across.xlsx", {"名簿": rows}, {"名簿": ["B3:C3"]})
    refused(
        transliterate(runner, across, out),
        out,
        "sheet '名簿', rows 3-3, columns B-C",
        "merged across columns",
        "Unmerge",
    )
    title = xlsx(
        tmp_path / "title.xlsx", {"名簿": [["死亡者名簿", None, None], *rows]}, {"名簿": ["A1:C1"]}
    )
    refused(transliterate(runner, title, out), out, "rows 1-1, columns A-C", "title rows")


def test_formulas_give_their_saved_values(tmp_path: Path, runner: CliRunner) -> None:
    rows = [["record_id", "katakana", "count", "ratio"], ["b1", "チタ", "=2*6", "=1/0"]]
    source = xlsx(tmp_path / "formulas.xlsx", {"名簿": rows})
    out = tmp_path / "t.csv"
    # As openpyxl wrote it: formulas never calculated, so no value to read.
    refused(
        transliterate(runner, source, out),
        out,
        "sheet '名簿': cell(s) C2, D2 hold a formula with no saved value",
        "save it",
    )
    with_cached_values(source, {"C2": "12"}, {"D2": "#DIV/0!"})  # as Excel saves it
    result = transliterate(runner, source, out)
    assert result.exit_code == 0, result.output
    [row] = read_out(out)
    assert (row["count"], row["ratio"]) == ("12", "#DIV/0!")


def test_a_password_protected_workbook(tmp_path: Path, runner: CliRunner) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = xlsx(tmp_path / "plain.xlsx", {"名簿": [["katakana"], ["チタ"]]})
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as source, locked.open("wb") as target:
        OOXMLFile(source).encrypt("secret", target)
    out = tmp_path / "t.csv"
    refused(
        transliterate(runner, locked, out),
        out,
        "locked.xlsx: is a password-protected",
        "remove the password",
    )


def test_a_protected_sheet_is_read(tmp_path: Path, runner: CliRunner) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["katakana"])
    sheet.append(["チタ"])
    sheet.protection.sheet = True  # protection against edits, not encryption
    sheet.protection.password = "secret"
    book.save(tmp_path / "protected.xlsx")
    result = transliterate(runner, tmp_path / "protected.xlsx", tmp_path / "t.csv")
    assert result.exit_code == 0, result.output


# --- CSV encodings, separators, and files that are not CSV --------------------------------

CSV_TEXT = "record_id,katakana,notes\nr1,ライチハ,収容所\nr2,チタ,病院\n"


def test_euc_jp_is_named_right(tmp_path: Path, runner: CliRunner) -> None:
    source = tmp_path / "euc.csv"
    source.write_bytes(CSV_TEXT.encode("euc_jp"))
    out = tmp_path / "t.csv"
    refused(
        transliterate(runner, source, out),
        out,
        "not UTF-8 (looks like EUC-JP)",
        "--encoding euc_jp",
    )
    result = transliterate(runner, source, out, "--encoding", "euc_jp")  # the advice works
    assert result.exit_code == 0, result.output
    assert [r["katakana"] for r in read_out(out)] == ["ライチハ", "チタ"]


def test_a_bad_byte_in_the_last_line_of_a_long_file(tmp_path: Path, runner: CliRunner) -> None:
    # The last line is read in a later chunk than the first (the stage streams): it
    # still fails the run with one line naming the file and the byte, and no output.
    good = "record_id,katakana\n" + "".join(f"r{i},チタ\n" for i in range(12_000))
    source = tmp_path / "long.csv"
    source.write_bytes(good.encode("utf-8") + "r-last,カンスク\n".encode("cp932"))
    out = tmp_path / "t.csv"
    result = transliterate(runner, source, out)
    offset = len(good.encode("utf-8")) + len("r-last,")
    refused(result, out, "long.csv is not UTF-8", f"first bad byte at offset {offset}: re-save")
    assert result.stderr.strip().count("\n") == 0, result.stderr


@pytest.mark.parametrize("encoding", ["iso2022_jp", "utf-16-le", "utf-16-be"])
def test_unmistakable_encodings_are_read(encoding: str, tmp_path: Path, runner: CliRunner) -> None:
    source = tmp_path / "enc.csv"
    source.write_bytes(CSV_TEXT.encode(encoding))  # no byte-order mark
    out = tmp_path / "t.csv"
    result = transliterate(runner, source, out)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("; reading it as") == 1, result.stderr  # once, read twice
    assert [(r["record_id"], r["katakana"], r["notes"]) for r in read_out(out)] == [
        ("r1", "ライチハ", "収容所"),
        ("r2", "チタ", "病院"),
    ]


@pytest.mark.parametrize("separator", [";", "\t"])
def test_semicolon_and_tab_separated(separator: str, tmp_path: Path, runner: CliRunner) -> None:
    source = tmp_path / "excel.csv"
    text = CSV_TEXT.replace(",", separator).replace("収容所", "収容所, 第7")
    source.write_bytes(text.encode("utf-8-sig"))
    out = tmp_path / "t.csv"
    result = transliterate(runner, source, out)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("separated by") == 1, result.stderr  # once, read twice
    got = read_out(out)
    assert [(r["record_id"], r["notes"]) for r in got] == [("r1", "収容所, 第7"), ("r2", "病院")]


def test_a_double_bom_keeps_the_record_ids(tmp_path: Path, runner: CliRunner) -> None:
    source = tmp_path / "bom2.csv"
    source.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf" + CSV_TEXT.encode("utf-8"))
    out = tmp_path / "t.csv"
    result = transliterate(runner, source, out)
    assert result.exit_code == 0, result.output
    assert [r["record_id"] for r in read_out(out)] == ["r1", "r2"]


def test_files_that_are_not_csv_are_named(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "t.csv"
    packed = tmp_path / "register.csv.gz"
    packed.write_bytes(gzip.compress(CSV_TEXT.encode("utf-8")))
    refused(transliterate(runner, packed, out), out, "is gzip-compressed", "gunzip -k")
    archive = tmp_path / "register.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("register.csv", CSV_TEXT)
    refused(
        transliterate(runner, archive, out), out, "is a zip archive", "register.csv", "unzip it"
    )
    renamed = tmp_path / "register.xlsx"  # a zip named .xlsx is still no workbook
    renamed.write_bytes(archive.read_bytes())
    refused(transliterate(runner, renamed, out), out, "is a zip archive")
    pdf = tmp_path / "register.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    refused(transliterate(runner, pdf, out), out, "is a PDF, not a table", "as CSV or xlsx")
    # An xlsx under a .csv name is read as the workbook it is.
    disguised = xlsx(tmp_path / "really.csv", {"名簿": [["katakana"], ["チタ"]]})
    assert transliterate(runner, disguised, out).exit_code == 0


def test_a_pipe_is_refused_with_the_fix(tmp_path: Path, runner: CliRunner) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    out = tmp_path / "t.csv"
    refused(
        transliterate(runner, fifo, out), out, "is a pipe", "--input <(...)", "save it to a file"
    )


def test_a_bytes_codec_is_not_an_encoding(tmp_path: Path, runner: CliRunner) -> None:
    source = tmp_path / "a.csv"
    source.write_text(CSV_TEXT, encoding="utf-8")
    out = tmp_path / "t.csv"
    refused(transliterate(runner, source, out, "--encoding", "rot13"), out, "not a text encoding")


# --- the name and region columns -----------------------------------------------------------


def write_csv_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_name_and_region_columns(tmp_path: Path, runner: CliRunner) -> None:
    source = write_csv_text(
        tmp_path / "r.csv",
        "番号,フリガナ,死亡場所,死亡地域\n"
        "1,ヤマダ タロウ,ライチハ,アムール州\n"
        "2,サトウ ジロウ,チタ,チタ州\n",
    )
    out = tmp_path / "t.csv"
    # Two columns of katakana: the file does not say which holds the places.
    refused(
        transliterate(runner, source, out),
        out,
        "several columns hold katakana",
        "フリガナ (100%), 死亡場所 (100%)",
        "--name-column",
    )
    args = ("--name-column", "死亡場所", "--region-column", "死亡地域")
    result = transliterate(runner, source, out, *args)
    assert result.exit_code == 0, result.output
    got = read_out(out)
    assert [(r["katakana"], r["region"]) for r in got] == [
        ("ライチハ", "アムール州"),
        ("チタ", "チタ州"),
    ]
    assert list(got[0])[1:7] == ["番号", "フリガナ", "死亡場所", "死亡地域", "katakana", "region"]
    out.unlink()
    refused(
        transliterate(runner, source, out, "--name-column", "場所"),
        out,
        "--name-column 場所: no such column",
        "columns found: 番号, フリガナ, 死亡場所, 死亡地域",
    )
    refused(
        transliterate(runner, source, out, "--name-column", "死亡場所", "--region-column", "地域"),
        out,
        "--region-column 地域: no such column",
    )


def test_a_katakana_column_beside_the_chosen_one_is_refused(
    tmp_path: Path, runner: CliRunner
) -> None:
    source = write_csv_text(tmp_path / "r.csv", "katakana,死亡場所\nチタ,ライチハ\n")
    out = tmp_path / "t.csv"
    refused(
        transliterate(runner, source, out, "--name-column", "死亡場所"),
        out,
        "row 1, column katakana",
        "rename that column",
        "--name-column katakana",
    )


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("Katakana", "it has upper-case letters"),
        ("ｋａｔａｋａｎａ", "full-width letters"),
        ("kata\u200bkana", "U+200B ZERO WIDTH SPACE"),
    ],
)
def test_header_near_misses_are_explained(
    header: str, why: str, tmp_path: Path, runner: CliRunner
) -> None:
    # Romanised cells, so that no column is taken for the katakana by its cells.
    source = write_csv_text(tmp_path / "r.csv", f"record_id,{header}\nr1,Chita\n")
    out = tmp_path / "t.csv"
    refused(
        transliterate(runner, source, out),
        out,
        "missing column(s) katakana",
        "is not 'katakana' (",
        why,
        "--name-column",
    )


def test_header_near_miss_with_kana_cells_is_read(tmp_path: Path, runner: CliRunner) -> None:
    source = write_csv_text(tmp_path / "r.csv", "record_id,Katakana\nr1,チタ\n")
    result = transliterate(runner, source, tmp_path / "t.csv")
    assert result.exit_code == 0, result.output
    assert "reading names from column 'Katakana'" in result.stderr
    assert "column 'Katakana' is read as katakana" in result.stderr
    assert list(read_out(tmp_path / "t.csv")[0])[:2] == ["record_id", "katakana"]


def test_empty_trailing_columns_and_unnamed_data(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "t.csv"
    trailing = write_csv_text(tmp_path / "t1.csv", "katakana,,\nチタ,,\nライチハ,,\n")
    result = transliterate(runner, trailing, out)
    assert result.exit_code == 0, result.output
    assert [r["katakana"] for r in read_out(out)] == ["チタ", "ライチハ"]
    out.unlink()
    unnamed = write_csv_text(tmp_path / "t2.csv", "katakana,,\nチタ,,\nライチハ,,第7\n")
    refused(transliterate(runner, unnamed, out), out, "line 3, column 3", "no name", "'第7'")
    sheet = xlsx(tmp_path / "u.xlsx", {"名簿": [["katakana", None], ["チタ", "x"]]})
    refused(transliterate(runner, sheet, out), out, "sheet '名簿': row 2, column B", "no name")


def test_columns_differing_in_case_are_refused(tmp_path: Path, runner: CliRunner) -> None:
    source = write_csv_text(tmp_path / "r.csv", "katakana,Notes,notes\nチタ,a,b\n")
    out = tmp_path / "t.csv"
    refused(transliterate(runner, source, out), out, "columns Notes and notes differ only in case")


# --- record ids ----------------------------------------------------------------------------


def made_id(name: str) -> str:
    return "r-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]


def test_given_ids_are_kept_and_trimmed(tmp_path: Path, runner: CliRunner) -> None:
    source = xlsx(
        tmp_path / "ids.xlsx",
        {"名簿": [["record_id", "katakana"], [" 12 ", "チタ"], ["007", "ライチハ"]]},
    )
    out = tmp_path / "t.csv"
    result = transliterate(runner, source, out)
    assert result.exit_code == 0, result.output
    assert "spaces around 1 id(s) dropped (rows 2)" in result.stderr
    assert [r["record_id"] for r in read_out(out)] == ["12", "007"]


def test_made_ids_survive_added_and_reordered_columns(tmp_path: Path, runner: CliRunner) -> None:
    first = write_csv_text(tmp_path / "a.csv", "katakana,notes\nチタ,x\nライチハ,y\nチタ,z\n")
    second = write_csv_text(
        tmp_path / "b.csv", "notes,added,katakana\nx edited,1,チタ\ny,2,ライチハ\nz,3,チタ\n"
    )
    ids = []
    for source in (first, second):
        out = tmp_path / f"{source.stem}.out.csv"
        result = transliterate(runner, source, out)
        assert result.exit_code == 0, result.output
        ids.append([(r["katakana"], r["record_id"]) for r in read_out(out)])
    assert ids[0] == ids[1]
    assert ids[0] == [
        ("チタ", made_id("チタ")),
        ("ライチハ", made_id("ライチハ")),
        ("チタ", made_id("チタ") + "-2"),
    ]


def test_a_made_id_never_equals_a_given_one(tmp_path: Path, runner: CliRunner) -> None:
    taken = made_id("チタ")
    source = write_csv_text(
        tmp_path / "a.csv",
        f"record_id,katakana\n{taken},カラガンダ\n,チタ\n{taken}-2,カンスク\n,チタ\n",
    )
    out = tmp_path / "t.csv"
    result = transliterate(runner, source, out)
    assert result.exit_code == 0, result.output
    got = [r["record_id"] for r in read_out(out)]
    assert got[0] == taken and got[2] == f"{taken}-2"
    assert len(set(got)) == 4
    assert got[1] == f"{taken}-3" and got[3] == f"{taken}-4"


# --- camps run on a workbook ----------------------------------------------------------------


@pytest.mark.slow
def test_run_reads_a_workbook_register(tmp_path: Path, runner: CliRunner) -> None:
    source = xlsx(tmp_path / "名簿.xlsx", {"空": [], "名簿": REGISTER})
    result = runner.invoke(
        cli,
        ["run", "--input", str(source), "--output-dir", str(tmp_path / "out"), "--sheet", "名簿"],
    )
    assert result.exit_code == 0, result.output
    geojson = (tmp_path / "out" / "camps.geojson").read_text(encoding="utf-8")
    for name in ("ライチハ", "チタ", "カラガンダ"):
        assert name in geojson
    stage = read_out(tmp_path / "out" / "stages" / "geocoded.csv")
    assert [r["番号"] for r in stage] == ["12", "13", "14"]
    assert {r["死亡場所"]: r["place_id"] != "" for r in stage} == {
        "ライチハ": True,
        "チタ": True,
        "カラガンダ": True,
    }
