"""CSV in and out: reading (in chunks), checking, writing, merging columns."""

from __future__ import annotations

import contextlib
import csv
import functools
import itertools
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from pipeline.errors import InputDataError
from pipeline.io.cells import guard, unguard
from pipeline.io.encoding import (
    _HEAD_BYTES,
    _open_text,
    decode,
)
from pipeline.io.files import atomic_path
from pipeline.io.kinds import file_kind, refuse_special_file
from pipeline.io.repeats import LineMaker, Records

logger = logging.getLogger("pipeline.io")

# A register transcribed by hand may carry whole pages of notes in one cell.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

Row = dict[str, str]


def detect_delimiter(head: str) -> str:
    r"""The separator of a CSV file, from its first lines: comma, semicolon or tab.

    Excel saves "CSV" with ``;`` where the decimal mark is a comma, and "Unicode
    text" with tabs. A separator counts when it splits the header into more than
    one cell and every following line of ``head`` into as many; of those, the one
    that makes the most cells wins, a comma on a tie. When none is consistent the
    header decides (the reader then names the ragged line).

    >>> detect_delimiter("katakana;notes;region\nチタ;a;b\n"), detect_delimiter("a\tb\n1\t2\n")
    (';', '\t')
    >>> detect_delimiter("katakana,notes;x;y\nチタ,a\n"), detect_delimiter("a")
    (',', ',')
    >>> detect_delimiter('"a;b",c')
    ','
    """
    lines = head.splitlines(keepends=True)
    complete = lines[:-1] if len(lines) > 1 and not lines[-1].endswith(("\n", "\r")) else lines
    sample = "".join(complete[:20])
    scores: dict[str, tuple[bool, int]] = {}
    for delimiter in (",", ";", "\t"):
        try:
            records = list(csv.reader(sample.splitlines(keepends=True), delimiter=delimiter))
        except csv.Error:
            records = []
        if not records:
            scores[delimiter] = (False, 1)
            continue
        width = len(records[0])
        body = (
            [r for r in records[1:-1] if any(c.strip() for c in r)]
            if len(records) > 2
            else [r for r in records[1:] if any(c.strip() for c in r)]
        )
        scores[delimiter] = (width > 1 and all(len(r) == width for r in body), width)
    best = max(scores, key=lambda d: scores[d])  # consistent first, then most cells
    return best if scores[best][1] > scores[","][1] or scores[best][0] > scores[","][0] else ","


def _header_lines(path: Path, encoding: str | None) -> str:
    """The first lines of a CSV file as text ('' when they cannot be decoded)."""
    try:
        with _open_text(path, encoding, say=False) as handle:  # said when opened to read
            return handle.read(_HEAD_BYTES)
    except UnicodeDecodeError:
        return ""


def read_csv(
    path: Path,
    required: Sequence[str] = (),
    encoding: str | None = None,
    min_rows: int = 0,
) -> tuple[list[str], list[Row]]:
    """Read a CSV file into its column names and rows (all values ``str``).

    Handles a BOM (even twice), CRLF line ends, UTF-16 with or without BOM,
    ISO-2022-JP, and ``;`` or tab separators; raises :class:`InputDataError`
    naming the file, and the row, for an empty file, a missing required column,
    a duplicate column, a row with more cells than the header, or fewer than
    ``min_rows`` rows (stage inputs pass 1: a header alone is a mistake). The
    file is parsed as it is read, so a register of 100,000 rows never sits in
    memory as one string beside its rows.
    """
    header, chunks = read_csv_chunks(path, required, encoding, min_rows, chunk_rows=sys.maxsize)
    return header, [row for chunk in chunks for row in chunk]


#: Rows per chunk of :func:`read_csv_chunks` (a stage that streams holds about this many).
CHUNK_ROWS = 5_000


def read_csv_chunks(
    path: Path,
    required: Sequence[str] = (),
    encoding: str | None = None,
    min_rows: int = 0,
    chunk_rows: int = CHUNK_ROWS,
    say: bool = True,
) -> tuple[list[str], Iterator[list[Row]]]:
    """:func:`read_csv` as the column names and the rows in lists of ``chunk_rows``.

    The header and the first chunk are read and checked at once; the other rows as
    the chunks are taken, so a stage that writes each chunk out before it takes the
    next holds one chunk, not the file. A bad row in a later chunk raises when its
    chunk is read (a stage writing through :func:`write_csv` then leaves no output);
    fewer than ``min_rows`` rows, at the end (at once when the first chunk is all).
    ``say``: log how the file is read (its encoding, separator, unnamed columns);
    a stage that reads a file again passes False.
    """
    path = Path(path)
    refuse_special_file(path)
    kind = file_kind(path)
    if kind != "text":
        raise InputDataError(
            f"{path}: is a spreadsheet ({kind}), not a CSV file: this command reads the CSV "
            "files the stages write; a register in a spreadsheet goes to `camps transliterate` "
            "or `camps run`"
        )
    try:
        delimiter = detect_delimiter(_header_lines(path, encoding))
        handle = _open_text(path, encoding, say)
    except PermissionError:
        raise InputDataError(f"{path}: permission denied: make it readable") from None
    if delimiter != "," and say:
        logger.info("%s: cells are separated by %r, not commas; reading it so", path, delimiter)
    try:
        with _decoding(path, encoding):
            # strict: a quote that never closes is an error at the end of the file, not
            # one cell that silently swallows every later row (the csv module's default).
            records = Records(handle, delimiter)
            with _parse_errors(path, records):
                header = clean_header(records.next() or [])
            check_header(str(path), header, required)
    except BaseException:
        handle.close()
        raise

    def chunks() -> Iterator[list[Row]]:
        count = 0
        with handle, _decoding(path, encoding), _parse_errors(path, records):
            kept: list[tuple[int, list[str]]] = []
            check = functools.partial(_row_cells, path, header, delimiter=delimiter)
            at = header.index("record_id") if "record_id" in header else 0
            for line_no, checked in records.rows(at, check):
                kept.append((line_no, checked))
                if len(kept) >= chunk_rows:
                    yield _rows_of(path, header, kept, first=say and count == 0)
                    count += len(kept)
                    kept = []
            if kept:
                yield _rows_of(path, header, kept, first=say and count == 0)
                count += len(kept)
        if count < min_rows:
            raise InputDataError(
                f"{path}: has a header but no rows: add at least one row under the header"
            )

    # The first chunk now: a bad first row, or a header alone, fails the call itself.
    rest = chunks()
    first = next(rest, None)
    return [name for name in header if name], itertools.chain([first] if first else [], rest)


@contextlib.contextmanager
def _decoding(path: Path, encoding: str | None) -> Iterator[None]:
    """Turn a decoding error while parsing into one that names the likely encoding."""
    try:
        yield
    except UnicodeDecodeError as exc:
        decode(path.read_bytes(), path, encoding)  # raises, naming the likely encoding
        raise InputDataError(f"{path}: cannot be decoded ({exc})") from None


def clean_header(cells: Sequence[str]) -> list[str]:
    """Column names as read: spaces around them dropped, and any byte-order marks that
    a file saved twice with one carries at its start (the first is the decoder's).

    >>> clean_header(["\ufeff\ufeffrecord_id", " katakana "])
    ['record_id', 'katakana']
    """
    names = [str(name).strip() for name in cells]
    if names:
        names[0] = names[0].lstrip("\ufeff").strip()
    return names


def check_header(where: str, header: Sequence[str], required: Sequence[str]) -> None:
    """Refuse an empty header, a repeated column or a missing required one, row 1 named."""
    if not any(header):
        raise InputDataError(
            f"{where}: the file is empty: it needs a header row with at least "
            f"{', '.join(required) or 'one column'}"
        )
    duplicates = sorted({name for name in header if header.count(name) > 1 and name})
    if duplicates:
        raise InputDataError(f"{where}: row 1: column(s) {', '.join(duplicates)} appear twice")
    missing = [name for name in required if name not in header]
    if missing:
        raise InputDataError(
            f"{where}: row 1: missing column(s) {', '.join(missing)}; "
            f"columns found: {', '.join(name for name in header if name) or '(none)'}"
        )


def drop_unnamed_columns(
    where: str,
    header: list[str],
    records: list[tuple[int, list[str]]],
    label: str = "line",
    column_name: Callable[[int], str] = lambda i: str(i + 1),
    say: bool = True,
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Drop columns with an empty name and no cells (``katakana,,`` from a spreadsheet).

    An unnamed column that holds data is refused with the row and the fix: its
    cells would have no name in any output. ``say``: log the columns left out
    (a file read in chunks says it once, at its first).

    >>> drop_unnamed_columns("a.csv", ["katakana", "", ""], [(2, ["チタ", "", ""])])
    (['katakana'], [(2, ['チタ'])])
    """
    unnamed = [i for i, name in enumerate(header) if not name]
    if not unnamed:
        return header, records
    for number, cells in records:
        for i in unnamed:
            if i < len(cells) and cells[i].strip():
                raise InputDataError(
                    f"{where}: {label} {number}, column {column_name(i)}: the header gives "
                    f"this column no name but it holds {cells[i][:40]!r}: name it in row 1"
                )
    keep = [i for i, name in enumerate(header) if name]
    if say:
        logger.info("%s: %d unnamed empty column(s) left out", where, len(unnamed))
    return [header[i] for i in keep], [
        (number, [cells[i] for i in keep if i < len(cells)]) for number, cells in records
    ]


def _row_cells(
    path: Path, header: Sequence[str], line_no: int, cells: list[str], delimiter: str
) -> list[str] | None:
    """One record's cells, checked and padded to the header; None for a blank line."""
    # Each check looks at the row's text once, in C, and cell by cell only when the
    # text has what it looks for (a quote, a line break): most rows have neither, and
    # a million-row register is read twice by a stage that streams.
    text = "".join(cells)
    if "'" in text:
        cells = [unguard(cell) for cell in cells]
        text = "".join(cells)
    if not text.strip():
        return None  # a blank line (or one of quoted spaces), not a record
    width = len(header)
    if len(cells) != width:
        if any(c.strip() for c in cells[width:]):
            what = {",": "commas", ";": "semicolons", "\t": "tabs"}[delimiter]
            raise InputDataError(
                f"{path}: line {line_no}: {len(cells)} cells but {width} columns: "
                f"quote cells that contain {what}"
            )
        cells = (cells + [""] * width)[:width]
    if "\n" in text or "\r" in text:
        _refuse_swallowed_rows(path, line_no, header, cells, delimiter)
    return cells


def _rows_of(
    path: Path, header: list[str], kept: list[tuple[int, list[str]]], first: bool
) -> list[Row]:
    """Checked records as rows, unnamed empty columns left out (said at the ``first`` chunk)."""
    names, kept = drop_unnamed_columns(str(path), header, kept, say=first)
    return [dict(zip(names, cells, strict=True)) for _, cells in kept]


@contextlib.contextmanager
def _parse_errors(path: Path, records: Records) -> Iterator[None]:
    """Turn the csv module's error on a broken quote into one that names its lines."""
    try:
        yield
    except csv.Error as exc:
        start, end = records.start, records.lines.count
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


def _refuse_swallowed_rows(
    path: Path, line_no: int, header: Sequence[str], cells: list[str], delimiter: str = ","
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
            parts = next(csv.reader([line], delimiter=delimiter), [])
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


def write_csv(target: Path, columns: Sequence[str], rows: Iterable[Row]) -> None:
    """Write rows atomically as UTF-8 CSV with LF line ends, columns in the given order.

    Every cell goes through :func:`guard`, so none opens as a formula in a spreadsheet.
    The lines are the csv module's, made here (:class:`~pipeline.io.repeats.LineMaker`):
    its writer reads a cell a character at a time, 6 s for the 100,000 rows of a
    reconciled register whose 2 KB candidates cells are nearly all its bytes, and the
    line of a row alike an earlier one but for its ``record_id`` is made from that one's.
    """
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
        names = list(columns)
        writer = csv.writer(handle, lineterminator="\n")
        # With LF line ends the csv module does not quote a cell holding a bare CR,
        # which a reader then loses; quote such rows in full.
        quoted = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(names)
        if len(names) == 1:  # a record of one empty cell is written "" by the writer
            for row in rows:
                cell = guard(row.get(names[0], ""))
                (quoted if "\r" in cell else writer).writerow([cell])
            return
        # rows alike but for their id: none in a table without ids (the memo held
        # every line of a million-row register's candidates table, 0.45 GB at its peak)
        line_of = (
            LineMaker(names.index("record_id")) if "record_id" in names else LineMaker(0, room=0)
        )
        for row in rows:
            cells = [row.get(name, "") for name in names]
            line = line_of(cells)
            if line is None:
                quoted.writerow(map(guard, cells))
            else:
                handle.write(line)


def merge_columns(existing: Sequence[str], added: Sequence[str]) -> list[str]:
    """Keep every column a stage was given, then append the ones it adds.

    >>> merge_columns(["katakana", "notes"], ["romaji", "notes"])
    ['katakana', 'notes', 'romaji']
    """
    return list(existing) + [name for name in added if name not in existing]
