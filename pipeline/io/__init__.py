"""All file I/O of the pipeline: CSV in and out, JSON, atomic writes.

Stage modules never open files themselves; they go through here, so encodings,
atomic renames and (in the export stage) GeoPackage and GeoJSON options are
decided in one place. The package owns every file the pipeline reads or writes:

- :mod:`pipeline.io.files`: atomic writes (and the sweep of stale temporary
  files), text and JSON files, whole output sets sealed by a manifest;
- :mod:`pipeline.io.encoding`: a file's encoding, told from its bytes or checked;
- :mod:`pipeline.io.csvfile`: reading (in chunks) and
  writing CSV, merging a stage's columns;
- :mod:`pipeline.io.kinds`: what an input file is from its bytes (text, a
  workbook, or a gzip, zip, PDF, encrypted workbook or pipe to refuse);
- :mod:`pipeline.io.sheets`: registers in a workbook (xlsx, ods, xls, through
  python-calamine) and :func:`open_table`, the one reader of a user's register;
- :mod:`pipeline.io.workbook`: ``.xlsx`` workbooks out and back (openpyxl) and
  CSV with a BOM, for what a person opens in Excel;
- :mod:`pipeline.io.gis`: GeoPackage, GeoJSON (and Linked Places
  FeatureCollections), Natural Earth boundaries, the PNG figure, GDAL's
  timestamp;
- :mod:`pipeline.io.batches`: a layer's rows as its distinct rows, given to GDAL
  in Arrow batches.

It imports only :mod:`pipeline.errors` (and python-calamine, lazily).
Everything is re-exported here, so
``from pipeline.io import X`` and ``from pipeline import io; io.X`` work as
they did when this was one module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline import lazy
from pipeline.io.batches import BATCH_ROWS, TakenRows, arrow_table
from pipeline.io.csvfile import (
    CHUNK_ROWS,
    Row,
    _refuse_swallowed_rows,
    merge_columns,
    read_csv,
    read_csv_chunks,
    write_csv,
)
from pipeline.io.encoding import _ENCODING_NAMES, _open_text, _sniff_encoding, decode
from pipeline.io.files import (
    _HELD,
    MANIFEST,
    OutputSet,
    _alive,
    _remove_stale,
    _still_sealed,
    atomic_path,
    copy_file,
    file_digest,
    output_set,
    read_json,
    unsealed_files,
    write_json,
    write_manifest,
    write_text,
)

if TYPE_CHECKING:
    from pipeline.io.gis import (
        FIXED_TIMESTAMP,
        GPKG_METADATA_DDL,
        GPKG_METADATA_EXTENSION,
        GPKG_VERSION,
        LAYER_STYLES_DDL,
        QGIS_METADATA_URI,
        GpkgLayer,
        _add_qgis_tables,
        _geometry_column,
        _insert_metadata,
        _insert_styles,
        feature_json,
        gdal_timestamp,
        gpkg_datetime,
        natural_earth_path,
        read_boundaries,
        write_feature_collection,
        write_figure,
        write_geojson,
        write_geojson_split,
        write_gpkg,
    )
    from pipeline.io.sheets import Table, cell_text, column_letter, open_table, read_sheet
    from pipeline.io.workbook import (
        excel_csv_around,
        excel_csv_cell,
        excel_csv_line,
        read_xlsx_sheet,
        write_excel_csv,
        write_excel_csv_lines,
        write_xlsx,
        xlsx_cell,
        xlsx_record,
    )

#: Imported when first used (:mod:`pipeline.lazy`): not every command needs them.
__getattr__ = lazy.exports(
    __name__,
    {
        "FIXED_TIMESTAMP": ".gis",
        "GPKG_METADATA_DDL": ".gis",
        "GPKG_METADATA_EXTENSION": ".gis",
        "GPKG_VERSION": ".gis",
        "LAYER_STYLES_DDL": ".gis",
        "QGIS_METADATA_URI": ".gis",
        "GpkgLayer": ".gis",
        "_add_qgis_tables": ".gis",
        "_geometry_column": ".gis",
        "_insert_metadata": ".gis",
        "_insert_styles": ".gis",
        "feature_json": ".gis",
        "gdal_timestamp": ".gis",
        "gpkg_datetime": ".gis",
        "natural_earth_path": ".gis",
        "read_boundaries": ".gis",
        "write_feature_collection": ".gis",
        "write_figure": ".gis",
        "write_geojson": ".gis",
        "write_geojson_split": ".gis",
        "write_gpkg": ".gis",
        "Table": ".sheets",
        "cell_text": ".sheets",
        "column_letter": ".sheets",
        "open_table": ".sheets",
        "read_sheet": ".sheets",
        "read_xlsx_sheet": ".workbook",
        "write_excel_csv": ".workbook",
        "write_excel_csv_lines": ".workbook",
        "excel_csv_around": ".workbook",
        "excel_csv_cell": ".workbook",
        "excel_csv_line": ".workbook",
        "write_xlsx": ".workbook",
        "xlsx_cell": ".workbook",
        "xlsx_record": ".workbook",
    },
)

__all__ = [
    "BATCH_ROWS",
    "CHUNK_ROWS",
    "FIXED_TIMESTAMP",
    "GPKG_METADATA_DDL",
    "GPKG_METADATA_EXTENSION",
    "GPKG_VERSION",
    "LAYER_STYLES_DDL",
    "MANIFEST",
    "QGIS_METADATA_URI",
    "_ENCODING_NAMES",
    "_HELD",
    "GpkgLayer",
    "OutputSet",
    "Row",
    "Table",
    "TakenRows",
    "_add_qgis_tables",
    "_alive",
    "_geometry_column",
    "_insert_metadata",
    "_insert_styles",
    "_open_text",
    "_refuse_swallowed_rows",
    "_remove_stale",
    "_sniff_encoding",
    "_still_sealed",
    "arrow_table",
    "atomic_path",
    "cell_text",
    "column_letter",
    "copy_file",
    "decode",
    "excel_csv_around",
    "excel_csv_cell",
    "excel_csv_line",
    "feature_json",
    "file_digest",
    "gdal_timestamp",
    "gpkg_datetime",
    "merge_columns",
    "natural_earth_path",
    "open_table",
    "output_set",
    "read_boundaries",
    "read_csv",
    "read_csv_chunks",
    "read_json",
    "read_sheet",
    "read_xlsx_sheet",
    "unsealed_files",
    "write_csv",
    "write_excel_csv",
    "write_excel_csv_lines",
    "write_feature_collection",
    "write_figure",
    "write_geojson",
    "write_geojson_split",
    "write_gpkg",
    "write_json",
    "write_manifest",
    "write_text",
    "write_xlsx",
    "xlsx_cell",
    "xlsx_record",
]
