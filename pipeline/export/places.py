"""The ``places`` layer: one point per place, with how many rows name it and how.

A register of deaths or of prisoners names the same camp hundreds of times: the
``camps`` layer then draws hundreds of symbols on one spot. ``places`` draws one,
labelled with its count: the place's id and name, ``rows`` (how many rows), the
``record_ids`` and the ``names_seen`` (every spelling the rows gave), the class
its rows agree on (``unknown`` when they do not agree or give none: a place is
never given a class its rows do not carry) and ``decision`` ``review`` when any
of its rows still waits for a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.export.rows import Placed
from pipeline.records import Decision, SymbolClass

#: The places layer's fields, in order.
PLACE_COLUMNS = (
    "place_id",
    "place_name",
    "rows",
    "record_ids",
    "names_seen",
    "symbol_class",
    "decision",
    "label",
)


def place_key(placed: Placed) -> str:
    """Which place a row is drawn at: its place id, else its own point (an override's)."""
    place_id = placed.row.get("place_id", "").strip()
    if place_id:
        return place_id
    lon, lat = placed.point or (0.0, 0.0)
    return f"point:{lat:.5f},{lon:.5f}"


def group(camps: Sequence[Placed]) -> dict[str, list[Placed]]:
    """The placed rows by place, in the order of each place's first row."""
    out: dict[str, list[Placed]] = {}
    for p in camps:
        if p.point is not None:
            out.setdefault(place_key(p), []).append(p)
    return out


def place_records(camps: Sequence[Placed]) -> list[tuple[dict[str, Any], tuple[float, float]]]:
    """One record (fields of :data:`PLACE_COLUMNS`) and point (lon, lat) per place."""
    out = []
    for key, members in group(camps).items():
        first = members[0]
        name = first.row.get("place_name", "").strip() or first.row.get("katakana", "").strip()
        classes = {m.symbol_class for m in members}
        klass = classes.pop() if len(classes) == 1 else SymbolClass.UNKNOWN
        waiting = any(m.row.get("decision", "").strip() == Decision.REVIEW for m in members)
        record = {
            "place_id": key if not key.startswith("point:") else "",
            "place_name": name,
            "rows": len(members),
            "record_ids": "|".join(m.record_id for m in members),
            "names_seen": "|".join(dict.fromkeys(m.row.get("katakana", "") for m in members)),
            "symbol_class": klass.value,
            "decision": Decision.REVIEW.value if waiting else first.row.get("decision", ""),
            "label": f"{name} ({len(members)})",
        }
        assert first.point is not None
        out.append((record, first.point))
    return out


def places_frame(camps: Sequence[Placed]) -> Any:
    """The ``places`` layer as a GeoDataFrame (EPSG:4326), ``rows`` an integer field."""
    import geopandas
    import pandas as pd
    from shapely.geometry import Point

    found = place_records(camps)
    frame = pd.DataFrame.from_records([r for r, _ in found], columns=list(PLACE_COLUMNS))
    frame["rows"] = pd.array(list(frame["rows"]), dtype="Int64")
    for name in PLACE_COLUMNS:
        if name != "rows":
            frame[name] = frame[name].astype(object)
    points = [Point(p) for _, p in found]
    return geopandas.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")
