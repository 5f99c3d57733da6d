"""A layer's rows as its distinct rows and, per row, which one it is: fed to GDAL in
Arrow batches, so a million-row layer is never held whole.

A register repeats a few thousand bodies (rows alike but for their record id) many
times. The layer's typed values are made once per body, as one Arrow table, the way
pyogrio's ``write_dataframe`` makes its table (``pyarrow.Table.from_pandas``, the
geometry as WKB). Each batch is Arrow's ``take`` of :data:`BATCH_ROWS` rows from it,
with the rows' own record ids put in: the bytes GDAL writes are those of the whole
frame written at once. Only a GeoPackage's SQLite header differs beyond one batch:
GDAL commits each batch, and the header counts the commits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

#: Rows per Arrow batch: a layer of up to this many rows is written in one batch.
BATCH_ROWS = 65_536


@dataclasses.dataclass(frozen=True)
class TakenRows:
    """``distinct`` (a pyarrow Table) taken row by row as ``taken`` says.

    ``ids`` replaces the column ``id_column`` row by row (a row's own record id);
    ``geometry`` is the name of the WKB column (None for an attributes table),
    ``crs`` its CRS as GDAL takes it and ``bounds`` the geometries' (minx, miny,
    maxx, maxy).
    """

    distinct: Any
    taken: Any  # numpy integer array: per row, its row of ``distinct``
    ids: Sequence[str] | None = None
    id_column: str = "record_id"
    geometry: str | None = None
    crs: str | None = None
    bounds: Any = None

    def __len__(self) -> int:
        return len(self.taken)

    @property
    def schema(self) -> Any:
        return self.distinct.schema

    def column(self, name: str) -> list[Any]:
        """One column's values, a row at a time (in the rows' order)."""
        values = self.distinct[name].to_pylist()
        return [values[at] for at in self.taken.tolist()]

    def where(self, name: str, value: Any) -> TakenRows:
        """The rows whose ``name`` is ``value``, in order."""
        import numpy as np

        keep = np.array([v == value for v in self.column(name)], dtype=bool)
        ids = None if self.ids is None else [i for i, k in zip(self.ids, keep, strict=True) if k]
        return dataclasses.replace(self, taken=self.taken[keep], ids=ids)

    def batches(self) -> Iterator[Any]:
        """The rows as Arrow record batches of at most :data:`BATCH_ROWS` rows."""
        import pyarrow as pa

        at = self.schema.get_field_index(self.id_column) if self.ids is not None else -1
        for start in range(0, len(self.taken), BATCH_ROWS):
            part = self.distinct.take(pa.array(self.taken[start : start + BATCH_ROWS]))
            if at >= 0:
                ids = pa.array(self.ids[start : start + BATCH_ROWS], type=pa.string())  # type: ignore[index]
                part = part.set_column(at, self.schema.field(at), ids)
            yield from part.combine_chunks().to_batches()

    def reader(self) -> Any:
        """A ``pyarrow.RecordBatchReader`` over :meth:`batches` (what GDAL reads)."""
        import pyarrow as pa

        return pa.RecordBatchReader.from_batches(self.schema, self.batches())


def arrow_table(frame: Any) -> tuple[Any, str | None, str | None]:
    """``frame`` as the Arrow table pyogrio's ``write_dataframe`` gives GDAL, with the
    name and CRS of its geometry column (None, None for a plain DataFrame).

    The geometry becomes WKB and the frame a plain one; Arrow's null type (an
    empty frame's text column), which GDAL refuses, becomes text.
    """
    import pandas as pd
    import pyarrow as pa

    geometry = crs = None
    if hasattr(frame, "geometry") and hasattr(frame, "crs"):
        from geopandas.array import to_wkb

        geometry = frame.geometry.name
        if frame.crs is not None:
            epsg = frame.crs.to_epsg()
            crs = f"EPSG:{epsg}" if epsg else frame.crs.to_wkt("WKT1_GDAL")
        wkb = to_wkb(frame.geometry.values)
        frame = pd.DataFrame(frame, copy=False)
        frame[geometry] = wkb
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for number, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(
                number, field.with_type(pa.string()), table[number].cast(pa.string())
            )
    if geometry is not None:
        field = table.schema.field(geometry)
        if not pa.types.is_binary(field.type):
            table = table.set_column(
                table.schema.get_field_index(geometry),
                field.with_type(pa.binary()),
                table[geometry].cast(pa.binary()),
            )
    return table, geometry, crs
