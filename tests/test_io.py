"""CSV reading and writing: encodings, BOM, CRLF, bad files, atomic writes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pipeline.errors import InputDataError, OutputError
from pipeline.io import atomic_path, read_csv, read_csv_chunks, write_csv

HEADER = "katakana,notes\n"


def test_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("katakana,notes\r\nチタ,x\r\n".encode("utf-8-sig"))
    columns, rows = read_csv(path, required=("katakana",))
    assert columns == ["katakana", "notes"]
    assert rows == [{"katakana": "チタ", "notes": "x"}]


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes((HEADER + "カンスク,\n").encode("utf-16"))
    assert read_csv(path)[1][0]["katakana"] == "カンスク"


def test_a_utf16_mark_on_bytes_that_are_not_utf16_is_a_message(tmp_path: Path) -> None:
    # FF FE then an odd number of bytes (a UTF-32 mark, a truncated file): every
    # command says so and exits 1; it was a UnicodeDecodeError traceback.
    from click.testing import CliRunner

    from pipeline.cli import cli

    path = tmp_path / "odd.csv"
    path.write_bytes(b"\xff\xfe\x00\x00" + "katakana\nチタ".encode("utf-16-le")[:-1])
    with pytest.raises(InputDataError, match=r"begins as UTF-16 text but is not"):
        read_csv(path)
    for command in (
        ["transliterate", "--input", str(path), "--output", str(tmp_path / "t.csv")],
        ["geocode", "--input", str(path), "--output", str(tmp_path / "g.csv")],
        ["export", "--input", str(path), "--output-dir", str(tmp_path / "out")],
    ):
        done = CliRunner().invoke(cli, command)
        # the decode error, or the header the decoder got that far with: a message
        assert done.exit_code == 1, (command, done.output)
        assert f"Error: {path}" in done.stderr, (command, done.stderr)
        assert done.exception is None or isinstance(done.exception, SystemExit)


def test_shift_jis_is_named_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "sjis.csv"
    path.write_bytes((HEADER + "ハバロフスク,メモ\n").encode("cp932"))
    with pytest.raises(
        InputDataError, match=r"not UTF-8 \(looks like Shift-JIS\).*--encoding cp932"
    ):
        read_csv(path)
    assert read_csv(path, encoding="cp932")[1][0]["katakana"] == "ハバロフスク"


def test_missing_column_lists_columns_found(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("name,notes\nチタ,\n", encoding="utf-8")
    with pytest.raises(
        InputDataError, match=r"missing column\(s\) katakana; columns found: name, notes"
    ):
        read_csv(path, required=("katakana",))


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputDataError, match="the file is empty"):
        read_csv(empty, required=("katakana",))
    header_only = tmp_path / "header.csv"
    header_only.write_text(HEADER, encoding="utf-8")
    assert read_csv(header_only, required=("katakana",))[1] == []


def test_too_many_cells_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "チタ,a\nカンスク,b,c\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="line 3: 3 cells but 2 columns"):
        read_csv(path)


def test_five_megabyte_cell(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    big = "ア" * (5 * 1024 * 1024 // 3)
    write_csv(path, ["katakana", "notes"], [{"katakana": "チタ", "notes": big}])
    assert read_csv(path)[1][0]["notes"] == big


def test_atomic_write_keeps_previous_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial", encoding="utf-8")
        raise RuntimeError("killed mid-write")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_unwritable_folder_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="cannot write here"):
        write_csv(blocker / "sub" / "out.csv", ["a"], [])


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


def _looks_like_a_swallowed_row(cell: str) -> bool:
    # What read_csv refuses on purpose: a later line of a cell with a row's commas.
    return any(line.count(",") and len(line.strip(", ")) > 0 for line in cell.splitlines()[1:])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(cells, cells), max_size=8))
def test_round_trip_keeps_every_row_and_column(
    tmp_path_factory: pytest.TempPathFactory, pairs: list[tuple[str, str]]
) -> None:
    assume(not any(_looks_like_a_swallowed_row(a + b) for a, b in pairs))
    path = tmp_path_factory.mktemp("rt") / "rt.csv"
    rows = [{"katakana": a, "notes": b} for a, b in pairs]
    write_csv(path, ["katakana", "notes"], rows)
    _, back = read_csv(path)
    assert back == [r for r in rows if any(v.strip() for v in r.values())]


#: What the reader looks for in a record: quotes of a guarded formula, blanks, line
#: breaks of both kinds, and what looks like a row swallowed by an open quote.
PIECES = ["'", "'=", "-1", " ", "\t", "\r", "\n", "\r\n", "a", "チ", ",", "a,a,a"]


def _cells_one_by_one(header: list[str], cells: list[str]) -> list[str] | None:
    """What the reader makes of a record, each check made cell by cell (the plain way)."""
    from pipeline.io.cells import unguard
    from pipeline.io.csvfile import _refuse_swallowed_rows

    cells = [unguard(cell) for cell in cells]
    if not any(cell.strip() for cell in cells):
        return None
    if len(cells) != len(header):
        if any(c.strip() for c in cells[len(header) :]):
            raise InputDataError("ragged")
        cells = (cells + [""] * len(header))[: len(header)]
    _refuse_swallowed_rows(Path("a.csv"), 2, header, cells)
    return cells


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=4).map("".join), min_size=1, max_size=4))
def test_a_record_is_checked_as_cell_by_cell(cells: list[str]) -> None:
    # The reader looks at a record's text at once and cell by cell only when needed.
    from pipeline.io.csvfile import _row_cells

    header = ["katakana", "notes", "region"]

    def outcome(read: Callable[[], list[str] | None]) -> list[str] | str | None:
        try:
            return read()
        except InputDataError:
            return "refused"

    expected = outcome(lambda: _cells_one_by_one(header, cells))
    assert outcome(lambda: _row_cells(Path("a.csv"), header, 2, list(cells), ",")) == expected


def test_a_quote_left_open_is_refused_in_every_stage_file(tmp_path: Path) -> None:
    # Every stage reads its input through read_csv: the later stages' files too.
    columns = (Path(__file__).parent / "data" / "geocoded_tiny.csv").read_text(encoding="utf-8")
    header, first, *_ = columns.splitlines()
    path = tmp_path / "geocoded.csv"
    commas = "," * header.count(",")
    path.write_text(f'{header}\n{first}\n"left open{commas}\n{first}\n', encoding="utf-8")
    with pytest.raises(InputDataError, match="lines 3-4: a quoted cell is followed by more text"):
        read_csv(path)


def test_sigterm_as_the_temporary_file_is_made_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI turns SIGTERM into SystemExit (pipeline.cli); one that arrived the
    # moment the temporary file existed, before the write's clean-up was armed, left
    # the file behind (seen in tests/test_reliability.py on a fresh clone).
    import os
    import signal

    from pipeline.io import files

    made = files._create

    def made_then_signalled(path: Path) -> None:
        made(path)
        os.kill(os.getpid(), signal.SIGTERM)

    def exit_on_sigterm(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_on_sigterm)
    monkeypatch.setattr(files, "_create", made_then_signalled)
    try:
        with pytest.raises(SystemExit), atomic_path(tmp_path / "out.csv") as tmp:
            tmp.write_text("never", encoding="utf-8")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert list(tmp_path.iterdir()) == []


def test_workbook_keeps_headers_types_widths_and_text(tmp_path: Path) -> None:
    """results.xlsx's writer: bold frozen header (also on a sheet with no rows), numbers
    as numbers, formula-like text kept text, over-long text cut to Excel's limit, the same
    bytes twice."""
    from openpyxl import load_workbook

    from pipeline.io import write_xlsx
    from pipeline.io.workbook import EXCEL_CELL_LIMIT

    rows = [["=HYPERLINK(1)", 0.93, 3], ["", None, "ハバロフスク"], ["x" * 40_000, -1.5, "@a"]]
    sheets = [("results", ["text", "score", "名前"], rows), ("about", ["about", "value"], [])]
    target = tmp_path / "book.xlsx"
    write_xlsx(target, sheets, {"名前": 20})
    first = target.read_bytes()
    write_xlsx(target, sheets, {"名前": 20})
    assert target.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]  # the writer's own file gone

    def failing() -> Iterator[list[object]]:
        yield rows[0]
        raise InputDataError("a bad row")

    with pytest.raises(InputDataError, match="a bad row"):
        write_xlsx(tmp_path / "other.xlsx", [("results", ["text", "score", "名前"], failing())])
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]
    book = load_workbook(target)
    assert book.sheetnames == ["results", "about"]
    results, about = book["results"], book["about"]
    assert results.freeze_panes == about.freeze_panes == "A2"
    assert [c.value for c in about[1]] == ["about", "value"] and about.max_row == 1
    assert all(c.font.b for c in results[1])
    values = list(results.iter_rows(min_row=2, values_only=True))
    assert values[0] == ("'=HYPERLINK(1)", 0.93, 3)
    assert values[1] == (None, None, "ハバロフスク")
    assert len(values[2][0]) == EXCEL_CELL_LIMIT and values[2][1:] == (-1.5, "@a")
    assert results["A2"].data_type == "s"
    assert results.column_dimensions["C"].width > results.column_dimensions["B"].width


def test_read_csv_chunks_give_the_rows_of_read_csv(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Blank lines, an unnamed empty column, CRLF, a BOM and a quoted multi-line note.
    text = '\ufeffkatakana,notes,\r\nチタ,a,\r\n\r\nチタ,"two\nlines",\r\n,b,\r\nカンスク,,\r\n'
    path = tmp_path / "register.csv"
    path.write_bytes(text.encode("utf-8"))
    header, rows = read_csv(path)
    for size in (1, 2, 3, 100):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="pipeline.io"):
            names, chunks = read_csv_chunks(path, chunk_rows=size)
            got = list(chunks)
        assert names == header == ["katakana", "notes"]
        assert [row for chunk in got for row in chunk] == rows and len(rows) == 4
        assert all(0 < len(chunk) <= size for chunk in got)
        assert caplog.text.count("unnamed empty column(s) left out") == 1, size  # once a file
    _, chunks = read_csv_chunks(tmp_path / "register.csv", min_rows=5, chunk_rows=2)
    with pytest.raises(InputDataError, match="no rows"):
        list(chunks)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([*PIECES, '"', "=1", "@"]), max_size=4).map("".join),
        min_size=1,
        max_size=4,
    )
)
def test_excel_csv_lines_are_the_csv_modules(cells: list[str]) -> None:
    """results.csv's lines, made cell by cell (and the cells of alike rows once), are
    the bytes the csv module writes for the guarded cells with CRLF line ends."""
    import csv
    import io as text_io

    from pipeline.io import excel_csv_around, excel_csv_cell, excel_csv_line
    from pipeline.io.cells import guard

    expected = text_io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerow([guard(c) for c in cells])
    assert excel_csv_line(cells) == expected.getvalue()
    if len(cells) > 1:
        assert ",".join(map(excel_csv_cell, cells)) + "\r\n" == expected.getvalue()
        for at, cell in enumerate(cells):  # the line of alike rows, made around a cell
            before, after = excel_csv_around(cells, at)
            assert before + excel_csv_cell(cell) + after == expected.getvalue()
