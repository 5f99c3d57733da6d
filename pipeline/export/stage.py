"""``run``: check every row, then write the whole output set."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline import io, places
from pipeline.artifacts import paused_gc
from pipeline.export import candidates as ranked
from pipeline.export.datapackage import (
    candidates_schema,
    describe,
    lptsv_schema,
    unresolved_schema,
)
from pipeline.export.layers import (
    MAP_SOURCES,
    attributes_rows,
    metadata,
    points_rows,
    preview,
    register_title,
    write_geojsons,
    write_geopackage,
)
from pipeline.export.lpf import Features, GazetteerFacts, PlaceFacts
from pipeline.export.lptsv import COLUMNS as LPTSV_COLUMNS
from pipeline.export.lptsv import lptsv_of
from pipeline.export.params import ExportParams
from pipeline.export.places import places_frame
from pipeline.export.results import write_results
from pipeline.export.rows import (
    REASON_COLUMN,
    REQUIRED,
    Countries,
    Placed,
    added,
    check_partition,
    prepare,
    without_controls,
)
from pipeline.export.site import write_site
from pipeline.export.uncertainty import circles_frame
from pipeline.records import EXPORT_COLUMNS, GeocodeMethod


def run(
    input_path: Path,
    output_dir: Path,
    params: ExportParams,
    encoding: str | None = None,
    gazetteer_dir: Path | None = None,
    register: str = "",
) -> dict[str, int]:
    """Write every export file into ``output_dir``; return counts for the log line.

    ``gazetteer_dir`` (the built gazetteer) adds each place's type, GeoNames id and
    curated names (Cyrillic, period names) to the Linked Places features.
    ``register`` is the file name of a user's register (``camps run``): the layers
    are then titled as that register, not as the ministry's map.

    Raises
    ------
    InputDataError
        A row breaks the geocode stage's contract (the message names file, row,
        column and fix); nothing has been written then.
    """
    columns, chunks = io.read_csv_chunks(
        Path(input_path), required=REQUIRED, encoding=encoding, min_rows=1
    )
    # chunk by chunk: rows alike but for their id keep one copy of their cells
    rows_read = (row for chunk in chunks for row in chunk)
    columns, rows = without_controls(columns, rows_read, Path(input_path))
    order: list[str] = []  # the record ids in the register's order (results.* keep it)
    # a million rows are a million small objects that live to the end and hold no
    # cycles: no collector pass walks them as they are made, nor after (14 s of 53)
    with paused_gc(freeze=True):
        placed = prepare(rows, Path(input_path), order)
    camps = [p for p in placed if p.point is not None]
    unresolved = [p for p in placed if p.point is None]
    check_partition(order, camps, unresolved)
    del placed
    facts = GazetteerFacts(places.load(gazetteer_dir)) if gazetteer_dir is not None else {}
    out = Path(output_dir)
    with io.output_set(out) as outputs:
        by_class = write_layers(outputs, columns, camps, unresolved, params, facts, order, register)
        outputs.rows.update(input=len(order), camps=len(camps), unresolved=len(unresolved))
    report = {"rows": len(order), "camps": len(camps), "unresolved": len(unresolved)}
    report |= {f"class_{name}": count for name, count in by_class.items()}
    return report


def write_layers(
    outputs: io.OutputSet,
    columns: Sequence[str],
    camps: Sequence[Placed],
    unresolved: Sequence[Placed],
    params: ExportParams,
    facts: Mapping[str, PlaceFacts] | None = None,
    order: Sequence[str] | None = None,
    register: str = "",
) -> dict[str, int]:
    """Write every export file into the set's folder; return the rows of each class.

    ``order`` is the record ids in the register's order (``results.*`` keep it);
    a ``register``'s run is titled as that register in every file.
    """
    if register:
        params = dataclasses.replace(params, title=register_title(register))
    out = outputs.folder
    out_columns = io.merge_columns(columns, EXPORT_COLUMNS)
    # each name's candidates once, in their own table; the rows keep a key and the rival
    found = ranked.collect(sorted([*camps, *unresolved], key=lambda p: p.record_id))
    layer_columns = ranked.layer_columns(out_columns)
    camps_frame = points_rows(camps, layer_columns, found.per_row)
    table = attributes_rows(unresolved, [*layer_columns, REASON_COLUMN], found.per_row)
    per_place = places_frame(camps)
    write_geopackage(
        out / "camps.gpkg",
        camps_frame,
        table,
        params,
        circles_frame(camps),
        per_place,
        register,
        ranked.table_frame(found),
    )
    io.write_csv(out / "candidates.csv", found.columns, ranked.csv_rows(found))
    candidates_fields = candidates_schema(found)
    rivals = {record_id: cells["best_rival"] for record_id, cells in found.per_row.items()}
    del found  # its table is written (a million-row register's: 346,000 rows)
    by_class = write_geojsons(out / "camps.geojson", out / "by_class", camps_frame)
    del camps_frame, table  # a register's frames are large; what follows needs neither
    countries = Countries()  # each point's country, for the LPF features and the results
    features = Features(params, facts, countries)  # each body's feature made once
    io.write_feature_collection(out / "camps.lpf.json", features.collection(camps))
    io.write_text(out / "camps.lp.tsv", lptsv_of(camps, features))
    del features
    io.write_csv(
        out / "unresolved.csv",
        [*out_columns, REASON_COLUMN],
        (p.cells() | added(p) | {REASON_COLUMN: p.reason} for p in unresolved),
    )
    write_results(
        outputs,
        columns,
        [*camps, *unresolved],
        rivals,
        order,
        metadata(params, len(camps), register=register),
        countries,
    )
    outputs.add(out / "camps.gpkg", out / "camps.geojson", out / "camps.lpf.json")
    outputs.add(out / "camps.lp.tsv", out / "candidates.csv")
    outputs.add(out / "unresolved.csv", *(out / "by_class" / f"{k}.geojson" for k in by_class))
    if params.preview:
        io.write_figure(
            out / "map.png",
            preview(camps, io.read_boundaries(), params.title),
        )
        outputs.add(out / "map.png")
    if params.site:
        outputs.add(*write_site(out / "site", camps, io.read_boundaries(), params.title))
    schemas = {
        "unresolved.csv": unresolved_schema([*out_columns, REASON_COLUMN]),
        "camps.lp.tsv": lptsv_schema(LPTSV_COLUMNS),
        "candidates.csv": candidates_fields,
    }
    nominatim = GeocodeMethod.NOMINATIM
    used_osm = any(p.row.get("geocode_method", "").strip() == nominatim for p in camps)
    package = describe(out, outputs.files, schemas, params.title, MAP_SOURCES, used_osm)
    io.write_json(out / "datapackage.json", package)
    outputs.add(out / "datapackage.json")
    return by_class
