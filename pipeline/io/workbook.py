"""Spreadsheets a person opens in Excel: ``.xlsx`` out and back, and CSV with a BOM.

The results of a register (``results.xlsx``, ``results.csv``) and the review
sheet (``camps review --export``/``--import``) go through here. rustpy-xlsxwriter
writes the workbooks (fast, streamed) and openpyxl (PyPI, maintained, pure Python)
reads the review sheet back; the CSV copy is UTF-8
with a byte-order mark, without which Japanese Excel decodes UTF-8 as Shift-JIS
and shows mojibake. Every write is atomic (:func:`~pipeline.io.files.atomic_path`).
"""

from __future__ import annotations

import itertools
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from pipeline.errors import InputDataError
from pipeline.io.cells import _csv_cell, around, guard
from pipeline.io.csvfile import Row
from pipeline.io.files import atomic_path

#: A cell longer than this is refused by Excel (32,767 characters); cut, never lost silently.
EXCEL_CELL_LIMIT = 32_767
#: The most rows an Excel sheet holds (the header included).
EXCEL_ROW_LIMIT = 1_048_576


def write_excel_csv(target: Path, columns: Sequence[str], rows: Iterable[Row]) -> None:
    """Write rows as UTF-8 CSV with a BOM and CRLF line ends, as Excel writes them.

    Cells go through :func:`~pipeline.io.csvfile.guard`, so none opens as a formula.
    """
    lines = (excel_csv_line([row.get(name, "") for name in columns]) for row in rows)
    write_excel_csv_lines(target, columns, lines)


def write_excel_csv_lines(target: Path, columns: Sequence[str], lines: Iterable[str]) -> None:
    """:func:`write_excel_csv` of rows already made into lines (:func:`excel_csv_line`),
    for a writer that makes the lines of alike rows from one made once."""
    with (
        atomic_path(target) as tmp,
        tmp.open("w", encoding="utf-8-sig", newline="") as handle,
    ):
        handle.write(_csv_line(columns))
        handle.writelines(lines)


def excel_csv_line(cells: Sequence[str]) -> str:
    """One row of :func:`write_excel_csv`: the cells guarded and quoted as the csv
    module quotes them with CRLF line ends, and the CRLF.

    >>> excel_csv_line(["チタ", "=1+2", 'a "b" c', ""]).split(",")[:3]
    ['チタ', "'=1+2", '"a ""b"" c"']
    """
    return _csv_line([guard(cell) for cell in cells])


def excel_csv_cell(cell: str) -> str:
    """One cell of :func:`excel_csv_line` (guarded, quoted where it must be), in a row
    of more than one cell.

    >>> excel_csv_cell("x,y"), excel_csv_cell("@SUM(A1)")
    ('"x,y"', "'@SUM(A1)")
    """
    return _quoted(guard(cell))


def excel_csv_around(cells: Sequence[str], at: int) -> tuple[str, str]:
    """:func:`excel_csv_line` of a row of more than one cell, before and after its cell
    ``at`` (a writer puts in :func:`excel_csv_cell` of each row's own there).

    >>> before, after = excel_csv_around(["1", "チタ", "=x"], 1)
    >>> before + excel_csv_cell("ウ") + after == excel_csv_line(["1", "ウ", "=x"])
    True
    """
    return around([excel_csv_cell(c) for c in cells], at, "\r\n")


def _csv_line(cells: Sequence[str]) -> str:
    if len(cells) == 1 and not cells[0]:
        return '""\r\n'  # the csv module's record of one empty cell
    return ",".join(map(_quoted, cells)) + "\r\n"


def _quoted(cell: str) -> str:
    # the csv module's minimal quoting (csvfile's rule) with CRLF line ends, which
    # makes it quote a bare CR too
    return '"' + cell.replace('"', '""') + '"' if "\r" in cell else _csv_cell(cell)


def write_xlsx(
    target: Path,
    sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any] | dict[str, Any]]]],
    widths: dict[str, int] | None = None,
) -> None:
    """Write a workbook atomically: one sheet per (title, header, rows), header frozen.

    Values are written as given (numbers stay numbers); text is always a text
    cell, never a formula, and text that starts like one keeps a leading ``'``
    (a row may come as :func:`xlsx_record` made it). ``widths`` sets column widths
    by header name. rustpy-xlsxwriter (Rust's rust_xlsxwriter under Python) streams
    the rows in constant memory, about ten times as fast as openpyxl's write-only
    mode (1.0 s against 11.4 s for 100,000 rows of 16 cells), which was most of a
    large register's export.

    Raises
    ------
    InputDataError
        A sheet has more rows than Excel opens (1,048,576 with the header).
    """
    with (
        atomic_path(target) as tmp,
        tempfile.TemporaryDirectory(dir=tmp.parent, prefix=f".{target.name}.") as scratch,
    ):
        # the writer's own file, beside the target: given a buffer it builds the whole
        # workbook in memory (some 100 MB for a million rows) and hands it over at once
        made = Path(scratch) / "book.xlsx"
        _write_book(made, target, sheets, widths)
        with made.open("rb") as source, tmp.open("wb") as handle:
            _fixed_times(source, handle)


def _write_book(
    made: Path,
    target: Path,
    sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any] | dict[str, Any]]]],
    widths: dict[str, int] | None,
) -> None:
    import pandas as pd
    from rustpy_xlsxwriter import FastExcel

    book = FastExcel(str(made)).format(bold_headers=True)
    for title, header, rows in sheets:
        name = title[:31]
        names = [str(h) for h in header]
        records = _records(target, name, names, rows)
        first = next(records, None)
        # An empty sheet still has its header: the library takes it from the rows.
        data: Any = itertools.chain([first], records)
        if first is None:
            data = pd.DataFrame(columns=names)
        sized = {h: float((widths or {}).get(h, min(40, max(10, len(h) + 2)))) for h in names}
        book = book.freeze(row=1, col=0, sheet=name).sheet(name, data, column_widths=sized)
    book.save()


def _records(
    target: Path, title: str, header: Sequence[str], rows: Iterable[Sequence[Any] | dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    for count, values in enumerate(rows, start=2):
        if count > EXCEL_ROW_LIMIT:
            raise InputDataError(
                f"{target}: sheet {title} has more than {EXCEL_ROW_LIMIT - 1:,} rows, more "
                "than Excel opens: use the CSV beside it (or split the register)"
            )
        yield values if isinstance(values, dict) else xlsx_record(header, values)


#: The time written into a workbook: fixed, so two runs give the same bytes (DVC, manifest).
FIXED_TIME = "2000-01-01T00:00:00Z"
#: Bytes copied at a time from one zip entry to the other.
_COPY_BYTES = 1 << 22


def _fixed_times(source: BinaryIO, out: BinaryIO) -> None:
    """Copy the workbook ``source`` to ``out`` with fixed zip entry times and
    created/modified properties.

    The writer stamps the save time into ``docProps/core.xml`` and every zip entry;
    a stage's outputs must be the same bytes on every run. Entries are copied a
    piece at a time: a million-row sheet is some 800 MB of XML unpacked.
    """
    with zipfile.ZipFile(source) as book, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in book.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            if info.filename == "docProps/core.xml":
                text = re.sub(
                    r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rf"\g<1>{FIXED_TIME}\g<3>",
                    book.read(info.filename).decode("utf-8"),
                )
                copy.writestr(entry, text.encode("utf-8"))
                continue
            # the size up front, as writestr gives it (it decides the zip64 fields)
            entry.file_size = info.file_size
            with book.open(info) as piece, copy.open(entry, "w") as target:
                shutil.copyfileobj(piece, target, _COPY_BYTES)


def xlsx_record(header: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    """A row as :func:`write_xlsx` writes it, header to cell (:func:`xlsx_cell`); a row
    given to it so is taken as it is (a writer that makes the rows of alike rows
    from one made once).

    >>> xlsx_record(["a", "b"], ["=1", 2.5])
    {'a': "'=1", 'b': 2.5}
    """
    return dict(zip(header, map(xlsx_cell, values), strict=True))


def xlsx_cell(value: Any) -> Any:
    if isinstance(value, str):
        text = value[:EXCEL_CELL_LIMIT]
        # Kept text when the cell is edited in Excel (as openpyxl's file had it).
        return "'" + text[: EXCEL_CELL_LIMIT - 1] if text.startswith("=") else text
    return value


def read_xlsx_sheet(path: Path, sheet: str, required: Sequence[str]) -> tuple[list[str], list[Row]]:
    """Read one sheet of a workbook as text rows keyed by its header (row 1).

    Each row gets ``_row``, its row number in the sheet, for messages. Empty rows
    are skipped.

    Raises
    ------
    InputDataError
        The file is not a workbook (or is password-protected), lacks the sheet or
        a required column; the message names the file, sheet and the fix.
    """
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise InputDataError(f"{path}: no such file") from None
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InputDataError(
            f"{path}: not an .xlsx workbook openpyxl can read ({exc.__class__.__name__}); "
            "a password-protected file cannot be read: save it without a password as .xlsx"
        ) from None
    try:
        if sheet not in book.sheetnames:
            raise InputDataError(
                f"{path}: no sheet '{sheet}' (sheets: {', '.join(book.sheetnames)}): "
                "import the workbook that `camps review --export` wrote"
            )
        values = list(book[sheet].iter_rows(values_only=True))
    finally:
        book.close()
    if not values:
        raise InputDataError(f"{path}, sheet {sheet}: the sheet is empty")
    header = [_text(v) for v in values[0]]
    missing = [name for name in required if name not in header]
    if missing:
        raise InputDataError(
            f"{path}, sheet {sheet}: missing column(s) {', '.join(missing)} "
            f"(columns found: {', '.join(h for h in header if h)}): keep the exported header"
        )
    rows: list[Row] = []
    for number, cells in enumerate(values[1:], start=2):
        texts = [_text(v) for v in cells]
        if not any(texts):
            continue
        row = {name: (texts[i] if i < len(texts) else "") for i, name in enumerate(header) if name}
        row["_row"] = str(number)
        rows.append(row)
    return header, rows


def _text(value: Any) -> str:
    """A cell as text: None is empty, a whole float is an integer (Excel stores 5 as 5.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
