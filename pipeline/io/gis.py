"""GIS outputs of the export stage: GeoPackage, GeoJSON, boundaries, figure."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.io.batches import TakenRows, arrow_table
from pipeline.io.files import atomic_path

logger = logging.getLogger("pipeline.io")


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
    REAL, ``object`` → TEXT). A large layer is :class:`~pipeline.io.batches.TakenRows`
    (such a frame's distinct rows, written batch by batch).
    """

    name: str
    frame: Any
    identifier: str
    description: str
    style_qml: str | None = None
    style_name: str = ""
    style_sld: str = ""  # the same style as OGC SLD, for clients that do not read QML
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
            options = {
                "layer": layer.name,
                "driver": "GPKG",
                "dataset_options": {"VERSION": GPKG_VERSION} if number == 0 else None,
                "layer_options": {"IDENTIFIER": layer.identifier, "DESCRIPTION": layer.description},
                "geometry_type": layer.geometry_type,
            }
            if isinstance(layer.frame, TakenRows):  # batch by batch, as pyogrio would at once
                rows = layer.frame
                pyogrio.write_arrow(
                    rows.reader(), tmp, geometry_name=rows.geometry, crs=rows.crs, **options
                )
            else:  # GDAL reads the columns as Arrow arrays, not row by row
                pyogrio.write_dataframe(layer.frame, tmp, use_arrow=True, **options)
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
            "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', NULL, ?)",
            (
                layer.name,
                _geometry_column(connection, layer.name),
                layer.style_name or layer.name,
                layer.style_qml,
                layer.style_sld,
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


#: GDAL's GeoJSON options: RFC 7946 (no crs member, lon/lat, cut at the antimeridian,
#: 7 decimals); JSON-looking text stays a string, as in the GeoPackage (parsing it
#: made GeoJSON writing 5x slower).
GEOJSON_OPTIONS = {"RFC7946": "YES", "COORDINATE_PRECISION": "7", "AUTODETECT_JSON_STRINGS": "NO"}


def write_geojson(target: Path, frame: Any, geometry_type: str | None = None) -> None:
    """Write a GeoDataFrame as RFC 7946 GeoJSON atomically (WGS84 lon/lat, no crs member).

    GDAL's ``RFC7946=YES`` drops the crs member, writes lon/lat in that order,
    rounds to 7 decimals and cuts geometries at the antimeridian; the text is UTF-8.
    """
    write_geojson_split(target, frame, geometry_type=geometry_type)


def write_geojson_split(
    target: Path,
    frame: Any,
    column: str = "",
    parts: dict[str, Path] | None = None,
    geometry_type: str | None = None,
) -> dict[str, int]:
    """Write ``frame`` as GeoJSON, and each value's rows of ``column`` to ``parts[value]``.

    ``frame`` is a GeoDataFrame or :class:`~pipeline.io.batches.TakenRows` (a
    layer's distinct rows, given to GDAL batch by batch). The frame becomes one
    Arrow table once; GDAL then reads the whole file's rows from Arrow batches
    (``pyogrio.write_arrow``), and each part is cut from that file's lines.
    Returns the rows written per part; a part with no rows is an empty
    FeatureCollection.
    """
    if not isinstance(frame, TakenRows):
        import numpy as np

        table, geometry, crs = arrow_table(frame)
        frame = TakenRows(table, np.arange(len(table)), None, "", geometry, crs)
    _write_arrow_geojson(target, frame, geometry_type)
    if parts and len(frame):
        split = _split_geojson(target, frame.column(column), parts)
        if split is not None:
            return split
    counts: dict[str, int] = {}
    for value, path in (parts or {}).items():
        part = frame.where(column, value) if len(frame) else frame
        _write_arrow_geojson(path, part, geometry_type)
        counts[value] = len(part)
    return counts


class _NotGdalsLayout(Exception):
    """A GeoJSON file GDAL wrote is not laid out as :func:`_split_geojson` expects."""


#: How GDAL's GeoJSON writer lays out a collection: a header of one member a line up
#: to the features' bracket, one feature a line (",\n" between), then the closing.
_FEATURES_OPEN = '"features": [\n'
_FEATURE_START = '{ "type": "Feature", '
_CLOSING = "\n]\n}\n"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")


def _split_geojson(
    target: Path, values: Sequence[Any], parts: dict[str, Path]
) -> dict[str, int] | None:
    """Each part's GeoJSON cut from the file GDAL just wrote, one line per feature.

    ``values`` is each feature's value of the split column, in the file's order. A
    part is GDAL's header with the part's name, its features' lines and GDAL's
    closing: the bytes GDAL writes for those rows (the test suite compares them),
    without encoding the rows a second time. ``None`` (nothing written) when the
    file is not laid out so, or a name is not plain: the caller lets GDAL write.
    """
    names = {value: Path(path).stem for value, path in parts.items()}
    if not all(_PLAIN_NAME.fullmatch(n) for n in [*names.values(), Path(target).stem]):
        return None
    counts = dict.fromkeys(parts, 0)
    try:
        with contextlib.ExitStack() as stack, Path(target).open(encoding="utf-8") as source:
            header = ""
            for line in source:
                header += line
                if line.endswith(_FEATURES_OPEN):
                    break
            own = f'"name": "{Path(target).stem}",\n'
            if not header.endswith(_FEATURES_OPEN) or header.count(own) != 1:
                raise _NotGdalsLayout
            handles = {}
            for value, path in parts.items():
                tmp = stack.enter_context(atomic_path(path, suffix=".geojson"))
                handle = stack.enter_context(tmp.open("w", encoding="utf-8", newline="\n"))
                handle.write(header.replace(own, f'"name": "{names[value]}",\n'))
                handles[value] = handle
            read = 0
            for line in source:
                if read == len(values) or not line.startswith(_FEATURE_START):
                    break
                feature = line.removesuffix("\n").removesuffix(",")
                value = values[read]
                read += 1
                if value in handles:
                    handles[value].write(",\n" + feature if counts[value] else feature)
                    counts[value] += 1
            else:
                line = ""
            if read != len(values) or line + source.read() != _CLOSING.removeprefix("\n"):
                raise _NotGdalsLayout
            for handle in handles.values():
                handle.write(_CLOSING)
    except _NotGdalsLayout:
        logger.debug("%s: not GDAL's one-feature-a-line layout; writing the parts anew", target)
        return None
    return counts


def _write_arrow_geojson(target: Path, rows: TakenRows, geometry_type: str | None) -> None:
    import pyogrio

    gdal_timestamp()
    with atomic_path(target, suffix=".geojson") as tmp:
        tmp.unlink()
        pyogrio.write_arrow(
            rows.reader(),
            tmp,
            layer=Path(target).stem,  # else GDAL names the collection after the temp file
            driver="GeoJSON",
            geometry_name=rows.geometry,
            geometry_type=geometry_type or "Unknown",
            crs=rows.crs,
            layer_options=GEOJSON_OPTIONS,
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


def feature_json(value: Any) -> str:
    """``value`` as one compact line of JSON, as :func:`write_feature_collection` writes
    each feature (UTF-8 text kept, no spaces).

    >>> feature_json({"type": "Feature", "properties": {"title": "Чита"}})
    '{"type":"Feature","properties":{"title":"Чита"}}'
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_feature_collection(target: Path, data: dict[str, Any]) -> None:
    """Write a FeatureCollection atomically with one compact feature per line.

    A line per feature keeps diffs readable and lets the C encoder do the work:
    pretty-printing 100,000 features takes Python's pure-Python encoder ~20 s.
    A feature given as ``str`` (or UTF-8 ``bytes``) is taken as its text already
    (:func:`feature_json`).
    """
    head = {key: value for key, value in data.items() if key != "features"}
    # the head's members, pretty, without its closing brace
    opening = json.dumps(head, ensure_ascii=False, indent=2)[:-2] + ",\n" if head else "{\n"
    with atomic_path(target) as tmp, tmp.open("wb") as handle:
        handle.write((opening + '  "features": [').encode("utf-8"))
        # Features may be a generator: each is encoded and written as it comes.
        for number, feature in enumerate(data["features"]):
            handle.write(b",\n    " if number else b"\n    ")
            if isinstance(feature, bytes):
                handle.write(feature)
            else:
                text = feature if isinstance(feature, str) else feature_json(feature)
                handle.write(text.encode("utf-8"))
        handle.write(b"\n  ]\n}\n")
