"""All file I/O of the pipeline: CSV in and out, JSON, atomic writes.

Stage modules never open files themselves; they go through here, so encodings,
atomic renames and (in the export stage) GeoPackage and GeoJSON options are
decided in one place.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import InputDataError, OutputError

logger = logging.getLogger(__name__)

# A register transcribed by hand may carry whole pages of notes in one cell.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

Row = dict[str, str]


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    A stage that fails (or is killed) mid-write leaves the previous ``target``
    intact and no partial file behind.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=suffix or ".tmp", dir=target.parent
        )
    except OSError as exc:
        raise OutputError(
            f"{target}: cannot write here ({exc.strerror}): choose a writable output folder"
        ) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(target: Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_json(target: Path, data: Any) -> None:
    """Write JSON atomically: UTF-8, keys in the order given, a final newline."""
    write_text(target, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON file, with a message naming the file on failure."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputDataError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputDataError(f"{path}: not valid UTF-8 JSON ({exc})") from None


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


def decode(data: bytes, path: Path, encoding: str | None = None) -> str:
    """Decode a file's bytes: UTF-8 (with or without BOM), BOM'd UTF-16, or ``encoding``.

    >>> decode("カンスク".encode("utf-8-sig"), Path("x.csv"))
    'カンスク'
    """
    if encoding:
        try:
            return data.decode(encoding)
        except LookupError:
            raise InputDataError(f"--encoding {encoding}: unknown encoding name") from None
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


def read_csv(
    path: Path,
    required: Sequence[str] = (),
    encoding: str | None = None,
) -> tuple[list[str], list[Row]]:
    """Read a CSV file into its column names and rows (all values ``str``).

    Handles a BOM, CRLF line ends and UTF-16; raises :class:`InputDataError`
    naming the file, and the row, for an empty file, a missing required column,
    a duplicate column or a row with more cells than the header.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputDataError(f"{path}: no such file: check the path") from None
    except IsADirectoryError:
        raise InputDataError(f"{path}: is a folder, not a CSV file") from None
    except PermissionError:
        raise InputDataError(f"{path}: permission denied: make it readable") from None
    text = decode(data, path, encoding)
    if not text.strip():
        raise InputDataError(
            f"{path}: the file is empty: it needs a header row with at least "
            f"{', '.join(required) or 'one column'}"
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader)]
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
    for line_no, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, not a record
        if len(cells) > len(header):
            extra = [c for c in cells[len(header) :] if c.strip()]
            if extra:
                raise InputDataError(
                    f"{path}: row {line_no}: {len(cells)} cells but {len(header)} columns: "
                    "quote cells that contain commas"
                )
        cells = cells + [""] * (len(header) - len(cells))
        rows.append(dict(zip(header, cells, strict=False)))
    return header, rows


def write_csv(target: Path, columns: Sequence[str], rows: Iterable[Row]) -> None:
    """Write rows atomically as UTF-8 CSV with LF line ends, columns in the given order."""
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        # With LF line ends the csv module does not quote a cell holding a bare CR,
        # which a reader then loses; quote such rows in full.
        quoted = csv.DictWriter(
            handle, fieldnames=list(columns), lineterminator="\n", quoting=csv.QUOTE_ALL
        )
        writer.writeheader()
        for row in rows:
            cells = {name: row.get(name, "") for name in columns}
            has_cr = any("\r" in value for value in cells.values())
            (quoted if has_cr else writer).writerow(cells)


def merge_columns(existing: Sequence[str], added: Sequence[str]) -> list[str]:
    """Keep every column a stage was given, then append the ones it adds.

    >>> merge_columns(["katakana", "notes"], ["romaji", "notes"])
    ['katakana', 'notes', 'romaji']
    """
    return list(existing) + [name for name in added if name not in existing]
