"""Registers in a workbook: ``.xlsx``, ``.ods`` and ``.xls`` read as text rows.

python-calamine (Rust's calamine) reads all three, fast and without a
spreadsheet program; :func:`open_table` sends CSV files to :mod:`pipeline.io.csvfile`
and workbooks here. A cell becomes the text the user sees in it (a record id
12 stays ``"12"``, a date ``1946-03-01``), a formula its saved value, a cell
merged down a column its value in every row it covers. What cannot be read
right is refused naming the sheet, row and column: a formula with no saved
value, cells merged across columns, an empty sheet, an unnamed column that
holds data.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from pipeline.errors import InputDataError
from pipeline.io.csvfile import (
    CHUNK_ROWS,
    Row,
    check_header,
    clean_header,
    drop_unnamed_columns,
    read_csv_chunks,
)
from pipeline.io.kinds import file_kind, refuse_special_file

logger = logging.getLogger("pipeline.io")

#: A merged range of cells: (first row, first column), (last row, last column), from 0.
Span = tuple[tuple[int, int], tuple[int, int]]


class Table:
    """A register opened to be read in chunks of rows, as many times as a stage needs.

    A CSV file is read again at each :meth:`chunks` (:func:`read_csv_chunks`: a
    stage holds one chunk, not the file); a workbook is read whole once (calamine
    reads a sheet at once) and its rows handed out again in chunks.
    """

    def __init__(
        self,
        columns: list[str],
        first: Iterator[list[Row]],
        again: Callable[[], Iterator[list[Row]]],
    ) -> None:
        self.columns = columns
        self._first: Iterator[list[Row]] | None = first
        self._again = again

    def chunks(self) -> Iterator[list[Row]]:
        """The rows in lists of at most the chunk size, in the file's order."""
        first, self._first = self._first, None
        return first if first is not None else self._again()


def open_table(
    path: Path,
    required: Sequence[str] = (),
    encoding: str | None = None,
    min_rows: int = 0,
    sheet: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Table:
    """Open a register, CSV or workbook, to read its column names and rows of text.

    ``sheet`` names the workbook's sheet (or its number, from 1); by default the
    first sheet with cells is read, and the others are named in the log.
    ``encoding`` applies to CSV files only. A CSV file's header and first chunk
    are read and checked at once, a bad row in a later chunk when its chunk is
    read (:func:`read_csv_chunks`).
    """
    path = Path(path)
    refuse_special_file(path)
    kind = file_kind(path)
    if kind == "text":
        if sheet is not None:
            raise InputDataError(
                f"{path}: --sheet {sheet}: this is a CSV file, which has no sheets: "
                "leave out --sheet"
            )

        def again() -> Iterator[list[Row]]:  # read as before: said once
            return read_csv_chunks(path, required, encoding, min_rows, chunk_rows, say=False)[1]

        columns, first = read_csv_chunks(path, required, encoding, min_rows, chunk_rows)
        return Table(columns, first, again)
    if encoding:
        logger.warning(
            "%s: a workbook (%s) carries its own encoding: --encoding ignored", path, kind
        )
    columns, rows = read_sheet(path, kind, required, min_rows, sheet)

    def held() -> Iterator[list[Row]]:
        return (rows[i : i + chunk_rows] for i in range(0, len(rows), chunk_rows))

    return Table(columns, held(), held)


def read_sheet(
    path: Path, kind: str, required: Sequence[str] = (), min_rows: int = 0, sheet: str | None = None
) -> tuple[list[str], list[Row]]:
    """Read one sheet of a workbook (``kind`` ``xlsx``, ``ods`` or ``xls``)."""
    import python_calamine as calamine

    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise InputDataError(
            f"{path}: is password-protected, which cannot be read without its password: "
            "remove the password in the program that made it, save, and pass that file"
        ) from None
    except (calamine.CalamineError, OSError, ValueError) as exc:
        raise InputDataError(f"{path}: cannot be read as {kind} ({exc}): save it again") from None
    name, grid = _pick_sheet(path, book, sheet)
    where = f"{path}, sheet {name!r}"
    formulas = _xlsx_formula_cells(path, name) if kind == "xlsx" else _FormulaCells()
    if formulas.unsaved:
        shown = ", ".join(formulas.unsaved[:5])
        more = f" and {len(formulas.unsaved) - 5} more" if len(formulas.unsaved) > 5 else ""
        raise InputDataError(
            f"{where}: cell(s) {shown}{more} hold a formula with no saved value (the file was "
            "written by a program that does not calculate): open it in Excel or LibreOffice, "
            "save it, and pass it again"
        )
    rows_text = [[cell_text(value) for value in row] for row in grid]
    for ref, text in formulas.errors.items():
        r, c = _cell_index(ref)
        if r < len(rows_text) and c < len(rows_text[r]):
            rows_text[r][c] = text  # Excel's "#DIV/0!", which calamine reads as empty
    first = next((i for i, row in enumerate(rows_text) if any(c.strip() for c in row)), None)
    if first is None:  # _pick_sheet returns only sheets with cells; formulas may be empty
        raise InputDataError(f"{where}: has no cells with text: pick another with --sheet")
    spans = getattr(book.get_sheet_by_name(name), "merged_cell_ranges", None) or []
    if kind == "ods":  # calamine reports no merged cells of an ods file
        spans = _ods_merged_cells(path, name)
    filled = _fill_merged(where, rows_text, spans, first)
    header = clean_header(rows_text[first])
    width = max(len(row) for row in rows_text)
    header += [""] * (width - len(header))
    records: list[tuple[int, list[str]]] = []
    for index in range(first + 1, len(rows_text)):
        cells = rows_text[index] + [""] * (width - len(rows_text[index]))
        if not any(c.strip() for j, c in enumerate(cells) if (index, j) not in filled):
            continue  # a blank row (at most the rest of a merged cell)
        records.append((index + 1, cells))
    header, records = drop_unnamed_columns(where, header, records, "row", column_letter)
    check_header(where, header, required)
    if len(records) < min_rows:
        raise InputDataError(
            f"{where}: has a header (row {first + 1}) but no rows: add rows under it "
            "or pick another sheet with --sheet"
        )
    return header, [dict(zip(header, cells, strict=True)) for _, cells in records]


def _pick_sheet(path: Path, book: Any, sheet: str | None) -> tuple[str, list[list[Any]]]:
    """The sheet asked for, else the first visible worksheet with cells; others logged."""
    names: list[str] = list(book.sheet_names)
    grids: dict[str, list[list[Any]]] = {}

    def grid(name: str) -> list[list[Any]]:
        if name not in grids:
            try:
                grids[name] = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except Exception as exc:  # calamine raises its own types per format
                raise InputDataError(f"{path}, sheet {name!r}: cannot be read ({exc})") from None
        return grids[name]

    def has_cells(name: str) -> bool:
        return any(str(v).strip() for row in grid(name) for v in row if v is not None)

    listed = ", ".join(repr(n) for n in names) or "none"
    if sheet is not None:
        chosen = sheet if sheet in names else None
        if chosen is None and sheet.strip().isdigit() and 1 <= int(sheet) <= len(names):
            chosen = names[int(sheet) - 1]
        if chosen is None:
            near = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise InputDataError(
                f"{path}: no sheet {sheet!r}{hint}; its sheets are {listed}: pass --sheet "
                "with one of them (or its number, from 1)"
            )
        if not has_cells(chosen):
            others = [repr(n) for n in names if n != chosen and has_cells(n)]
            raise InputDataError(
                f"{path}, sheet {chosen!r}: is empty; sheets with cells: "
                f"{', '.join(others) or 'none'}: pass --sheet with one of them"
            )
        return chosen, grid(chosen)
    # A hidden sheet (Excel's scratch data, a lookup list) is not what the user sees first.
    worksheets = [
        m.name
        for m in book.sheets_metadata
        if str(m.typ).endswith("WorkSheet") and str(m.visible).endswith(".Visible")
    ]
    for name in worksheets or names:
        if has_cells(name):
            break
    else:
        raise InputDataError(f"{path}: every sheet is empty ({listed}): fill one in and save")
    skipped = names[: names.index(name)]
    rest = [n for n in names if n != name and n not in skipped]
    if skipped or rest:
        logger.info(
            "%s: reading sheet %r%s%s: pass --sheet NAME for another",
            path,
            name,
            f" (sheets {', '.join(map(repr, skipped))} before it are empty, hidden or charts)"
            if skipped
            else "",
            f"; the file also has {', '.join(map(repr, rest))}" if rest else "",
        )
    return name, grid(name)


def _fill_merged(
    where: str, rows: list[list[str]], spans: Sequence[Span], header: int
) -> set[tuple[int, int]]:
    """Write a cell merged down one column into every row it covers; return those cells.

    Cells merged across columns (a title over the table, two columns made one)
    have no one column to go to: refused, with the cells and the fix.
    """
    filled: set[tuple[int, int]] = set()
    for (r0, c0), (r1, c1) in spans:
        span = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
        if c0 != c1:
            raise InputDataError(
                f"{where}, rows {r0 + 1}-{r1 + 1}, columns {column_letter(c0)}-"
                f"{column_letter(c1)}: cells {span} are merged across columns: unmerge them "
                "(Excel: Home > Merge & Center > Unmerge Cells) so that each column has its "
                "own cell, and delete any title rows above the column names"
            )
        if r0 <= header <= r1 and r1 > r0:
            raise InputDataError(
                f"{where}, row {header + 1}, column {column_letter(c0)}: the column name is "
                f"merged with the cells below it ({span}): unmerge them"
            )
        while len(rows) <= r1:
            rows.append([])
        value = rows[r0][c0] if c0 < len(rows[r0]) else ""
        for r in range(r0 + 1, r1 + 1):
            rows[r] += [""] * (c0 + 1 - len(rows[r]))
            rows[r][c0] = value
            filled.add((r, c0))
        logger.info("%s: merged cells %s read as %r in each of their rows", where, span, value)
    return filled


_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


def _ods_merged_cells(path: Path, sheet: str) -> list[Span]:
    """The merged cells of one ods sheet, from ``content.xml``, as calamine gives xlsx's.

    A merged cell is a ``table-cell`` with ``number-rows-spanned`` or
    ``number-columns-spanned``; rows and cells may stand for many with
    ``number-*-repeated`` (a sheet's empty tail is one row repeated a million times).
    """
    spans: list[Span] = []
    inside, row, column = False, 0, 0
    try:
        with zipfile.ZipFile(path) as archive, archive.open("content.xml") as stream:
            for event, element in ElementTree.iterparse(stream, events=("start", "end")):
                tag = element.tag
                if tag == f"{_TABLE}table":
                    if event == "start":
                        inside = element.get(f"{_TABLE}name") == sheet
                    elif inside:
                        break
                    continue
                if not inside:
                    continue
                if tag == f"{_TABLE}table-row":
                    if event == "start":
                        column = 0
                    else:
                        row += int(element.get(f"{_TABLE}number-rows-repeated", "1"))
                        element.clear()
                elif event == "start" and tag in (
                    f"{_TABLE}table-cell",
                    f"{_TABLE}covered-table-cell",
                ):
                    down = int(element.get(f"{_TABLE}number-rows-spanned", "1"))
                    across = int(element.get(f"{_TABLE}number-columns-spanned", "1"))
                    if down > 1 or across > 1:
                        spans.append(((row, column), (row + down - 1, column + across - 1)))
                    column += int(element.get(f"{_TABLE}number-columns-repeated", "1"))
    except (KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError, OSError):
        return spans
    return spans


def cell_text(value: Any) -> str:
    """The text a spreadsheet shows for a cell's value (without its number format).

    Whole numbers lose the ``.0`` every xlsx number is stored with; other
    numbers keep the 15 significant digits Excel shows; dates are ISO 8601.

    >>> [cell_text(v) for v in (12.0, 0.1 + 0.2, True, None, dt.date(1946, 3, 1), "007")]
    ['12', '0.3', 'TRUE', '', '1946-03-01', '007']
    >>> cell_text(dt.datetime(1946, 3, 1, 12, 30)), cell_text(dt.datetime(1946, 3, 1))
    ('1946-03-01 12:30:00', '1946-03-01')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return str(value)


def column_letter(index: int) -> str:
    """A spreadsheet's column name of a 0-based column number.

    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(702)
    ('A', 'Z', 'AA', 'AAA')
    """
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell_index(ref: str) -> tuple[int, int]:
    """0-based (row, column) of a cell reference such as ``E2``."""
    match = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", ref)
    if not match:
        return (-1, -1)
    column = 0
    for letter in match.group(1):
        column = column * 26 + ord(letter) - 64
    return int(match.group(2)) - 1, column - 1


class _FormulaCells:
    """Formula cells of an xlsx sheet that calamine alone would read as empty."""

    def __init__(self) -> None:
        self.unsaved: list[str] = []  # a formula with no cached value
        self.errors: dict[str, str] = {}  # a cached error such as #DIV/0!


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _xlsx_formula_cells(path: Path, sheet: str) -> _FormulaCells:
    """Scan one xlsx sheet's XML for formulas without a saved value and error values.

    calamine returns a formula's cached value, and an empty cell both for a
    formula never calculated (files written by openpyxl, xlsxwriter or a
    script) and for an error value: the first would silently empty a name,
    the second hides what the user sees.
    """
    found = _FormulaCells()
    try:
        with zipfile.ZipFile(path) as archive:
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            rel_id = next(
                (s.get(f"{_REL}id") for s in book.iter(f"{_MAIN}sheet") if s.get("name") == sheet),
                None,
            )
            target = next(
                (
                    r.get("Target", "")
                    for r in rels.iter(f"{_PKG_REL}Relationship")
                    if r.get("Id") == rel_id
                ),
                "",
            )
            if not target:
                return found
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            with archive.open(part) as stream:
                for _, element in ElementTree.iterparse(stream):
                    if element.tag != f"{_MAIN}c":
                        continue
                    formula = element.find(f"{_MAIN}f")
                    value = element.find(f"{_MAIN}v")
                    ref = element.get("r", "")
                    if formula is not None and (value is None or not (value.text or "")):
                        found.unsaved.append(ref)
                    elif element.get("t") == "e" and value is not None and value.text:
                        found.errors[ref] = value.text
                    element.clear()
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, OSError):
        return found  # calamine read the file; without its XML the check has nothing to add
    return found
