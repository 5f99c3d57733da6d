"""CSV in and out: decoding, encoding sniffing, reading, writing, merging columns."""

from __future__ import annotations

import codecs
import csv
import logging
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from pipeline.errors import InputDataError
from pipeline.io.files import atomic_path

logger = logging.getLogger("pipeline.io")

# A register transcribed by hand may carry whole pages of notes in one cell.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

Row = dict[str, str]


def _sniff_encoding(data: bytes) -> str | None:
    """Name the likely encoding of bytes that are not UTF-8, for the error message."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for candidate in ("cp932", "euc_jp", "cp1251"):
        try:
            data.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    return None


_ENCODING_NAMES = {"cp932": "Shift-JIS", "euc_jp": "EUC-JP", "cp1251": "Windows-1251"}


def check_encoding(encoding: str) -> str:
    """The codec's name, or :class:`InputDataError` for an unknown or non-text codec.

    ``rot13``, ``base64``, ``zlib`` and the like are codecs but not text encodings:
    Python refuses to open a file with them (a ``LookupError`` deep in ``open``).

    >>> check_encoding("Shift_JIS")
    'shift_jis'
    >>> check_encoding("rot13")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pipeline.errors.InputDataError: --encoding rot13: not a text encoding ...
    """
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError, TypeError):
        raise InputDataError(f"--encoding {encoding}: unknown encoding name") from None
    if not getattr(info, "_is_text_encoding", True):
        raise InputDataError(
            f"--encoding {encoding}: not a text encoding (a codec that turns text into text "
            "or bytes into bytes): name the encoding the file was saved in, such as utf-8, "
            "cp932 or euc_jp"
        )
    return info.name


def decode(data: bytes, path: Path, encoding: str | None = None) -> str:
    """Decode a file's bytes: UTF-8 (with or without BOM), BOM'd UTF-16, or ``encoding``.

    >>> decode("カンスク".encode("utf-8-sig"), Path("x.csv"))
    'カンスク'
    """
    if encoding:
        try:
            return data.decode(check_encoding(encoding))
        except UnicodeDecodeError as exc:
            raise InputDataError(
                f"{path}: cannot be read as {encoding} (byte {exc.start}): "
                "check the encoding the file was saved in"
            ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        logger.info("%s: UTF-16 with a byte-order mark; reading it as UTF-16", path)
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        guess = _sniff_encoding(data)
        hint = f" (looks like {_ENCODING_NAMES.get(guess, guess)})" if guess else ""
        fix = f" or pass --encoding {guess}" if guess else " or pass --encoding NAME"
        raise InputDataError(
            f"{path} is not UTF-8{hint}, first bad byte at offset {exc.start}: "
            f"re-save it as UTF-8{fix}"
        ) from None


def _open_text(path: Path, encoding: str | None) -> TextIO:
    """Open a CSV file as text: ``encoding``, BOM'd UTF-16, or UTF-8 with or without BOM.

    A FIFO, socket or device is refused, not read: it could wait for ever (issue 21).
    """
    mode = path.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise InputDataError(
            f"{path}: not a regular file (a pipe, socket or device): save the data to a "
            "file and pass that"
        )
    if encoding:
        return path.open(encoding=check_encoding(encoding), newline="")
    with path.open("rb") as raw:
        start = raw.read(2)
    if start in (b"\xff\xfe", b"\xfe\xff"):
        logger.info("%s: UTF-16 with a byte-order mark; reading it as UTF-16", path)
        return path.open(encoding="utf-16", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def read_csv(
    path: Path,
    required: Sequence[str] = (),
    encoding: str | None = None,
    min_rows: int = 0,
) -> tuple[list[str], list[Row]]:
    """Read a CSV file into its column names and rows (all values ``str``).

    Handles a BOM, CRLF line ends and UTF-16; raises :class:`InputDataError`
    naming the file, and the row, for an empty file, a missing required column,
    a duplicate column, a row with more cells than the header, or fewer than
    ``min_rows`` rows (stage inputs pass 1: a header alone is a mistake). The
    file is parsed as it is read, so a register of 100,000 rows never sits in
    memory as one string beside its rows.
    """
    path = Path(path)
    try:
        handle = _open_text(path, encoding)
    except FileNotFoundError:
        raise InputDataError(f"{path}: no such file: check the path") from None
    except IsADirectoryError:
        raise InputDataError(f"{path}: is a folder, not a CSV file") from None
    except PermissionError:
        raise InputDataError(f"{path}: permission denied: make it readable") from None
    with handle:
        try:
            header, rows = _parse_csv(handle, path, required)
        except UnicodeDecodeError as exc:
            decode(path.read_bytes(), path, encoding)  # raises, naming the likely encoding
            raise InputDataError(f"{path}: cannot be decoded ({exc})") from None
    if len(rows) < min_rows:
        raise InputDataError(
            f"{path}: has a header but no rows: add at least one row under the header"
        )
    return header, rows


def _parse_csv(handle: TextIO, path: Path, required: Sequence[str]) -> tuple[list[str], list[Row]]:
    # strict: a quote that never closes is an error at the end of the file, not one
    # cell that silently swallows every later row (the csv module's default).
    records = _records(csv.reader(handle, strict=True), path)
    header = [name.strip() for name in next(records, (1, []))[1]]
    if not any(header):
        raise InputDataError(
            f"{path}: the file is empty: it needs a header row with at least "
            f"{', '.join(required) or 'one column'}"
        )
    duplicates = sorted({name for name in header if header.count(name) > 1 and name})
    if duplicates:
        raise InputDataError(f"{path}: row 1: column(s) {', '.join(duplicates)} appear twice")
    missing = [name for name in required if name not in header]
    if missing:
        raise InputDataError(
            f"{path}: row 1: missing column(s) {', '.join(missing)}; "
            f"columns found: {', '.join(header) or '(none)'}"
        )
    rows: list[Row] = []
    width = len(header)
    for line_no, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, not a record
        if len(cells) != width:
            if any(c.strip() for c in cells[width:]):
                raise InputDataError(
                    f"{path}: line {line_no}: {len(cells)} cells but {width} columns: "
                    "quote cells that contain commas"
                )
            cells = (cells + [""] * width)[:width]
        _refuse_swallowed_rows(path, line_no, header, cells)
        rows.append(dict(zip(header, map(unguard, cells), strict=True)))
    return header, rows


def _records(reader: Any, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each record with the file line it starts on; a broken quote names its lines."""
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = reader.line_num
            lines = f"line {start}" if end == start else f"lines {start}-{end}"
            if "end of data" in str(exc):
                raise InputDataError(
                    f"{path}: line {start}: a quote opens a cell that never closes, so "
                    f"lines {start}-{end} would be read as one row: close the quote, or "
                    'double it ("") where it is part of the text'
                ) from None
            raise InputDataError(
                f"{path}: {lines}: a quoted cell is followed by more text "
                f"({exc}): a quote that opens a cell must close it just before the comma; "
                'double a quote that is part of the text ("")'
            ) from None
        yield start, cells
        start = reader.line_num + 1


def _refuse_swallowed_rows(
    path: Path, line_no: int, header: Sequence[str], cells: list[str]
) -> None:
    """Refuse a quoted cell whose later lines look like rows of their own.

    A quote left open in one cell runs on, with the csv module, until the next
    quote, swallowing the rows between into that cell: the file then reads without
    error but with rows missing. A real multi-line note rarely holds a line with a
    full row's worth of commas and two filled cells, so such a line is taken for a
    swallowed row (the same bytes could be a note: the file is refused with the fix
    rather than read with rows that may be lost).
    """
    for column, cell in zip(header, cells, strict=True):
        if "\n" not in cell and "\r" not in cell:
            continue
        for line in cell.splitlines()[1:]:
            parts = next(csv.reader([line]), [])
            filled = sum(1 for part in parts if part.strip())
            if len(header) > 1 and (len(parts) < len(header) or filled < 2):
                continue
            if not line.strip():
                continue
            raise InputDataError(
                f"{path}: line {line_no}, column {column}: a quoted cell runs over "
                f"several lines and holds what looks like a row of its own ({line[:60]!r}): "
                'a quote was left open; close it, or double it ("") where it is part '
                "of the text"
            )


#: What a spreadsheet takes for the start of a formula (OWASP's CSV-injection list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def guard(cell: str) -> str:
    """A cell that Excel or LibreOffice would run as a formula, made inert with a ``'``.

    Numbers stay numbers (a longitude of -168.5 is not a formula). :func:`unguard`
    undoes it when the pipeline reads its own file back, so the stages see the
    user's text unchanged and only a spreadsheet sees the quote.

    >>> guard("=1+2"), guard("-168.5"), guard("@SUM(A1)"), guard("チタ")
    ("'=1+2", '-168.5', "'@SUM(A1)", 'チタ')
    """
    if cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def unguard(cell: str) -> str:
    """The text :func:`guard` was given.

    >>> unguard("'=1+2"), unguard("'quoted"), unguard("-3")
    ('=1+2', "'quoted", '-3')
    """
    if cell.startswith("'") and cell[1:].startswith(_FORMULA_START):
        return cell[1:]
    return cell


def write_csv(target: Path, columns: Sequence[str], rows: Iterable[Row]) -> None:
    """Write rows atomically as UTF-8 CSV with LF line ends, columns in the given order.

    Every cell goes through :func:`guard`, so none opens as a formula in a spreadsheet.
    """
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        # With LF line ends the csv module does not quote a cell holding a bare CR,
        # which a reader then loses; quote such rows in full.
        quoted = csv.DictWriter(
            handle, fieldnames=list(columns), lineterminator="\n", quoting=csv.QUOTE_ALL
        )
        writer.writeheader()
        for row in rows:
            cells = {name: guard(row.get(name, "")) for name in columns}
            has_cr = any("\r" in value for value in cells.values())
            (quoted if has_cr else writer).writerow(cells)


def merge_columns(existing: Sequence[str], added: Sequence[str]) -> list[str]:
    """Keep every column a stage was given, then append the ones it adds.

    >>> merge_columns(["katakana", "notes"], ["romaji", "notes"])
    ['katakana', 'notes', 'romaji']
    """
    return list(existing) + [name for name in added if name not in existing]
