"""All file I/O of the pipeline: CSV in and out, JSON, atomic writes.

Stage modules never open files themselves; they go through here, so encodings,
atomic renames and (in the export stage) GeoPackage and GeoJSON options are
decided in one place.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import glob
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

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
    suffix = suffix or ".tmp"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(target, suffix)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=suffix, dir=target.parent
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


def _remove_stale(target: Path, suffix: str) -> None:
    """Delete temporary files that a killed earlier write of ``target`` left behind.

    SIGTERM and Ctrl-C unwind through :func:`atomic_path` and clean up; only a
    SIGKILL (or a power cut) can leave one, and the next write of the same target
    sweeps it away. A temporary file names the process that writes it: one whose
    process still runs belongs to a live write (a second ``camps review`` at the
    same moment) and is left alone.
    """
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*{suffix}"):
        owner = stale.name[len(target.name) + 2 :].split(".", 1)[0]
        if owner.isdigit() and _alive(int(owner)):
            continue
        with contextlib.suppress(OSError):
            stale.unlink()


def _alive(pid: int) -> bool:
    """Whether a process of this machine still runs (zombies count as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


MANIFEST = "manifest.json"


@dataclasses.dataclass
class OutputSet:
    """The files one run writes into an output folder, to be sealed by a manifest."""

    folder: Path
    files: list[Path] = dataclasses.field(default_factory=list)
    rows: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, *paths: Path) -> None:
        """Count files written by this run as members of the set."""
        self.files.extend(Path(p) for p in paths)


_HELD: dict[Path, OutputSet] = {}  # folders this process holds, for nested stages


@contextlib.contextmanager
def output_set(folder: Path) -> Iterator[OutputSet]:
    """Write a folder's files as one set: locked, marked incomplete, sealed last.

    Each file is already written atomically; this makes the *set* whole. The
    folder is locked (a second run into it stops at once with a message, instead
    of both writing), its ``manifest.json`` is removed before the first file
    changes, and written again, last, with the hash of every file and the row
    counts, only when every file is in place. A run killed half-way therefore
    leaves a folder with no manifest, which ``camps validate --output DIR``
    reports as incomplete, never a set of two generations passed off as one.
    A stage called inside another's set (``camps run`` calling export) joins it.
    """
    folder = Path(folder)
    key = folder.resolve()
    if key in _HELD:
        yield _HELD[key]
        return
    import fcntl

    try:
        folder.mkdir(parents=True, exist_ok=True)
        # The folder itself is locked (flock works on a directory's descriptor on
        # Linux): no lock file to leave behind, and the lock dies with its process.
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot write here ({exc.strerror}): choose a writable output folder"
        ) from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(
                f"{folder}: another camps run is writing this folder: wait for it to "
                "finish, or choose another --output-dir"
            ) from None
        sealed = folder / MANIFEST
        previous = sealed.read_bytes() if sealed.is_file() else None
        sealed.unlink(missing_ok=True)
        outputs = _HELD[key] = OutputSet(folder)
        try:
            yield outputs
            write_manifest(outputs)
        except BaseException:
            # A run that failed before it changed a file (bad input) keeps the seal.
            if previous is not None and _untouched(folder, previous):
                write_text(sealed, previous.decode("utf-8"))
            raise
        finally:
            del _HELD[key]
    finally:
        os.close(descriptor)


def _untouched(folder: Path, manifest: bytes) -> bool:
    """Whether every file a manifest lists is still there with its hash."""
    try:
        files = json.loads(manifest).get("files", {})
        return all(file_digest(folder / name) == digest for name, digest in files.items())
    except (OSError, ValueError, AttributeError):
        return False


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    import hashlib

    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(outputs: OutputSet) -> None:
    """Seal a folder: every file's hash and the row counts, written last.

    The generation id is a hash of the file hashes, not a time: the same inputs
    give a byte-identical manifest.
    """
    files = {
        p.relative_to(outputs.folder).as_posix(): file_digest(p) for p in sorted(set(outputs.files))
    }
    generation = hashlib_of("\n".join(f"{k} {v}" for k, v in files.items()))
    manifest = {"generation": generation, "rows": outputs.rows, "files": files}
    write_json(outputs.folder / MANIFEST, manifest)


def hashlib_of(text: str) -> str:
    """SHA-256 of a text, short enough to read (16 hex digits)."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_text(target: Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_json(target: Path, data: Any) -> None:
    """Write JSON atomically: UTF-8, keys in the order given, a final newline."""
    write_text(target, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def write_feature_collection(target: Path, data: dict[str, Any]) -> None:
    """Write a FeatureCollection atomically with one compact feature per line.

    A line per feature keeps diffs readable and lets the C encoder do the work:
    pretty-printing 100,000 features takes Python's pure-Python encoder ~20 s.
    """
    head = {key: value for key, value in data.items() if key != "features"}
    # the head's members, pretty, without its closing brace
    opening = json.dumps(head, ensure_ascii=False, indent=2)[:-2] + ",\n" if head else "{\n"
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(opening + '  "features": [')
        # Features may be a generator: each is encoded and written as it comes.
        for number, feature in enumerate(data["features"]):
            handle.write(",\n    " if number else "\n    ")
            handle.write(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
        handle.write("\n  ]\n}\n")


def read_json(path: Path, object_hook: Callable[[dict[str, Any]], Any] | None = None) -> Any:
    """Read a JSON file, with a message naming the file on failure.

    ``object_hook`` may shrink each object as it is parsed, so a large file's
    unused fields never pile up in memory.
    """
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"), object_hook=object_hook)
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


def _open_text(path: Path, encoding: str | None) -> TextIO:
    """Open a CSV file as text: ``encoding``, BOM'd UTF-16, or UTF-8 with or without BOM."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputDataError(f"--encoding {encoding}: unknown encoding name") from None
        return path.open(encoding=encoding, newline="")
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
        rows.append(dict(zip(header, cells, strict=True)))
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


# --- GIS outputs of the export stage: GeoPackage, GeoJSON, boundaries, PNG -------------

#: QGIS 3.22 (Debian 12) warns on GeoPackage 1.4, pyogrio's default: write 1.2.
GPKG_VERSION = "1.2"
#: GDAL stamps files with the time of writing unless OGR_CURRENT_DATE is set; a fixed
#: stamp makes two runs byte-identical (DVC sees no change when nothing changed).
FIXED_TIMESTAMP = "2000-01-01T00:00:00.000Z"
#: QGIS's own layer_styles table, as GDAL creates it when QGIS saves a style.
LAYER_STYLES_DDL = """CREATE TABLE "layer_styles" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  "f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256),
  "f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT,
  "useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30),
  "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""
#: The GeoPackage metadata extension's tables (GeoPackage 1.2, clause F.8).
GPKG_METADATA_DDL = (
    """CREATE TABLE gpkg_metadata (id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
  md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL,
  mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE gpkg_metadata_reference (reference_scope TEXT NOT NULL,
  table_name TEXT, column_name TEXT, row_id_value INTEGER,
  timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  md_file_id INTEGER NOT NULL, md_parent_id INTEGER,
  CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
  CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id))""",
)
QGIS_METADATA_URI = "http://mrcc.com/qgis.dtd"
GPKG_METADATA_EXTENSION = "http://www.geopackage.org/spec120/#extension_metadata"


@dataclasses.dataclass(frozen=True)
class GpkgLayer:
    """One layer to write into a GeoPackage, with what QGIS shows about it.

    ``frame`` is a GeoDataFrame (a point layer) or a plain DataFrame (attributes
    only); its dtypes decide the field types (``Int64`` → INTEGER, ``float64`` →
    REAL, ``object`` → TEXT).
    """

    name: str
    frame: Any
    identifier: str
    description: str
    style_qml: str | None = None
    style_name: str = ""
    metadata_xml: str | None = None
    geometry_type: str | None = None  # "Point" keeps an empty layer a point layer


def gdal_timestamp() -> str:
    """The timestamp GDAL writes into files: ``OGR_CURRENT_DATE``, set to a fixed one if unset.

    Returned in the GeoPackage DATETIME form, see :func:`gpkg_datetime`.
    """
    return gpkg_datetime(os.environ.setdefault("OGR_CURRENT_DATE", FIXED_TIMESTAMP))


def gpkg_datetime(stamp: str) -> str:
    """A timestamp in GeoPackage DATETIME form (milliseconds and ``Z``).

    GDAL warns "non-conformant content" on a DATETIME cell without milliseconds.

    >>> gpkg_datetime("2001-02-03T04:05:06Z"), gpkg_datetime("2001-02-03T04:05:06.250Z")
    ('2001-02-03T04:05:06.000Z', '2001-02-03T04:05:06.250Z')
    """
    if len(stamp) == 20 and stamp.endswith("Z"):
        return stamp[:-1] + ".000Z"
    return stamp


def write_gpkg(target: Path, layers: Sequence[GpkgLayer]) -> None:
    """Write layers into one GeoPackage 1.2 atomically, with QGIS default styles and metadata.

    The styles go to QGIS's ``layer_styles`` table (row with ``useAsDefault=1``, so
    QGIS applies it on opening), registered in ``gpkg_contents`` as an attributes
    table like QGIS does, so GDAL reads the file without a warning. The metadata
    goes to ``gpkg_metadata`` in QGIS's own format, referenced to its table.
    """
    import pyogrio

    stamp = gdal_timestamp()
    with atomic_path(target, suffix=".gpkg") as tmp:
        tmp.unlink()  # GDAL creates the file; an empty one is not a GeoPackage
        for number, layer in enumerate(layers):
            pyogrio.write_dataframe(
                layer.frame,
                tmp,
                layer=layer.name,
                driver="GPKG",
                dataset_options={"VERSION": GPKG_VERSION} if number == 0 else None,
                layer_options={"IDENTIFIER": layer.identifier, "DESCRIPTION": layer.description},
                geometry_type=layer.geometry_type,
            )
        _add_qgis_tables(tmp, layers, stamp)


def _add_qgis_tables(path: Path, layers: Sequence[GpkgLayer], stamp: str) -> None:
    """Add QGIS's layer_styles rows and QGIS metadata to a GeoPackage GDAL has written."""
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        with connection:
            styled = [layer for layer in layers if layer.style_qml]
            if styled:
                _insert_styles(connection, styled, stamp)
            described = [layer for layer in layers if layer.metadata_xml]
            if described:
                _insert_metadata(connection, described, stamp)
    finally:
        connection.close()


def _geometry_column(connection: Any, table: str) -> str:
    found = connection.execute(
        "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (table,)
    ).fetchone()
    return found[0] if found else ""


def _insert_styles(connection: Any, layers: Sequence[GpkgLayer], stamp: str) -> None:
    connection.execute(LAYER_STYLES_DDL)
    connection.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
        "last_change, srs_id) VALUES ('layer_styles', 'attributes', 'layer_styles', '', ?, 0)",
        (stamp,),
    )
    for layer in layers:
        connection.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL, ?)",
            (
                layer.name,
                _geometry_column(connection, layer.name),
                layer.style_name or layer.name,
                layer.style_qml,
                layer.description,
                stamp,
            ),
        )


def _insert_metadata(connection: Any, layers: Sequence[GpkgLayer], stamp: str) -> None:
    for statement in GPKG_METADATA_DDL:
        connection.execute(statement)
    connection.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, "
        "extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, "
        "CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"
    )
    for table in ("gpkg_metadata", "gpkg_metadata_reference"):
        connection.execute(
            "INSERT INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata', ?, 'read-write')",
            (table, GPKG_METADATA_EXTENSION),
        )
    for layer in layers:
        cursor = connection.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
            "VALUES ('dataset', ?, 'text/xml', ?)",
            (QGIS_METADATA_URI, layer.metadata_xml),
        )
        connection.execute(
            "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, timestamp, "
            "md_file_id) VALUES ('table', ?, ?, ?)",
            (layer.name, stamp, cursor.lastrowid),
        )


def write_geojson(target: Path, frame: Any, geometry_type: str | None = None) -> None:
    """Write a GeoDataFrame as RFC 7946 GeoJSON atomically (WGS84 lon/lat, no crs member).

    GDAL's ``RFC7946=YES`` drops the crs member, writes lon/lat in that order,
    rounds to 7 decimals and cuts geometries at the antimeridian; the text is UTF-8.
    """
    import pyogrio

    gdal_timestamp()
    with atomic_path(target, suffix=".geojson") as tmp:
        tmp.unlink()
        pyogrio.write_dataframe(
            frame,
            tmp,
            layer=Path(target).stem,  # else GDAL names the collection after the temp file
            driver="GeoJSON",
            layer_options={
                "RFC7946": "YES",
                "COORDINATE_PRECISION": "7",
                # keep JSON-looking text (the candidates) a string, as in the GeoPackage;
                # parsing it made GeoJSON writing 5x slower
                "AUTODETECT_JSON_STRINGS": "NO",
            },
            geometry_type=geometry_type,
        )


def natural_earth_path() -> Path | None:
    """Natural Earth 1:110m country polygons shipped inside the pyogrio wheel, if present.

    pyogrio ships them as a test fixture; they are public domain and need no
    download, which is why the preview map uses them. ``None`` when a pyogrio
    build leaves its fixtures out.
    """
    import pyogrio

    path = (
        Path(pyogrio.__file__).parent
        / "tests"
        / "fixtures"
        / "naturalearth_lowres"
        / "naturalearth_lowres.shp"
    )
    return path if path.exists() else None


def read_boundaries() -> Any:
    """Present-day country outlines (Natural Earth 1:110m) as a GeoDataFrame, or ``None``."""
    import pyogrio

    path = natural_earth_path()
    if path is None:
        logger.warning("Natural Earth outlines not found in pyogrio: map without boundaries")
        return None
    return pyogrio.read_dataframe(path)


def write_figure(target: Path, figure: Any, dpi: int = 150) -> None:
    """Save a matplotlib figure as PNG atomically, without the version stamp in its metadata."""
    with atomic_path(target, suffix=".png") as tmp:
        figure.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
