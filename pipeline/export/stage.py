"""``run``: check every row, then write the whole output set."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline import io
from pipeline.export.layers import (
    attributes_frame,
    metadata,
    points_frame,
    preview,
    register_title,
    write_by_class,
    write_geopackage,
)
from pipeline.export.lpf import linked_places
from pipeline.export.params import ExportParams
from pipeline.export.places import places_frame
from pipeline.export.results import write_results
from pipeline.export.rows import REASON_COLUMN, REQUIRED, Placed, added, check_partition, prepare
from pipeline.records import EXPORT_COLUMNS


def run(
    input_path: Path,
    output_dir: Path,
    params: ExportParams,
    encoding: str | None = None,
    register: str = "",
) -> dict[str, int]:
    """Write every export file into ``output_dir``; return counts for the log line.

    ``register`` is the file name of a user's register (``camps run``): the layers
    are then titled as that register, not as the ministry's map.

    Raises
    ------
    InputDataError
        A row breaks the geocode stage's contract (the message names file, row,
        column and fix); nothing has been written then.
    """
    columns, rows = io.read_csv(Path(input_path), required=REQUIRED, encoding=encoding, min_rows=1)
    placed = prepare(rows, Path(input_path))
    camps = [p for p in placed if p.point is not None]
    unresolved = [p for p in placed if p.point is None]
    check_partition(rows, camps, unresolved)
    out = Path(output_dir)
    with io.output_set(out) as outputs:
        order = [row["record_id"].strip() for row in rows]
        by_class = write_layers(outputs, columns, camps, unresolved, params, order, register)
        outputs.rows.update(input=len(rows), camps=len(camps), unresolved=len(unresolved))
    report = {"rows": len(rows), "camps": len(camps), "unresolved": len(unresolved)}
    report |= {f"class_{name}": count for name, count in by_class.items()}
    return report


def write_layers(
    outputs: io.OutputSet,
    columns: Sequence[str],
    camps: Sequence[Placed],
    unresolved: Sequence[Placed],
    params: ExportParams,
    order: Sequence[str] | None = None,
    register: str = "",
) -> dict[str, int]:
    """Write every export file into the set's folder; return the rows of each class.

    ``order`` is the record ids in the register's order (``results.*`` keep it).
    """
    out = outputs.folder
    out_columns = io.merge_columns(columns, EXPORT_COLUMNS)
    camps_frame = points_frame(camps, out_columns)
    table = attributes_frame(unresolved, [*out_columns, REASON_COLUMN])
    places = places_frame(camps)
    write_geopackage(out / "camps.gpkg", camps_frame, table, params, places, register)
    io.write_geojson(out / "camps.geojson", camps_frame, geometry_type="Point")
    by_class = write_by_class(out / "by_class", camps_frame)
    del camps_frame, table  # a register's frames are large; what follows needs neither
    io.write_feature_collection(out / "camps.lpf.json", linked_places(camps, params))
    io.write_csv(
        out / "unresolved.csv",
        [*out_columns, REASON_COLUMN],
        [p.row | added(p) | {REASON_COLUMN: p.reason} for p in unresolved],
    )
    write_results(
        outputs, columns, [*camps, *unresolved], order, metadata(params, len(camps), register)
    )
    outputs.add(out / "camps.gpkg", out / "camps.geojson", out / "camps.lpf.json")
    outputs.add(out / "unresolved.csv", *(out / "by_class" / f"{k}.geojson" for k in by_class))
    if params.preview:
        io.write_figure(
            out / "map.png",
            preview(
                camps, io.read_boundaries(), register_title(register) if register else params.title
            ),
        )
        outputs.add(out / "map.png")
    return by_class
