"""The static web map, ``site/``: the page, vendored Leaflet, the layers and a background.

The page works from ``file://`` and from any static host: no CDN, no tile server, no
request to anywhere. Browsers refuse ``fetch`` on ``file://``, so the layers and the
background are written as GeoJSON wrapped in one assignment each
(``data/camps.js``: ``window.CAMPS_DATA = {...}``), which a ``<script>`` tag loads
from disk; ``data/camps.geojson`` is the same collection as plain GeoJSON for anyone
who wants the file.

The page's script, style and Leaflet 1.9.4 (from the npm registry, pinned in
``pipeline/data/site/package-lock.json``, licence kept) are copied from
``pipeline/data/site``. The legend's colours, shapes and sizes come from
:data:`pipeline.style.MARKERS` and :data:`pipeline.records.LEGEND`, the same source as
the QGIS style, and travel in the data file, so the page never repeats them.
The background is Natural Earth 1:110m (public domain, read by
:func:`pipeline.io.read_boundaries`), clipped to the area and simplified: land,
coastlines and present-day borders.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline import geonames, io, style
from pipeline.export.rows import Placed, one_per_body, real
from pipeline.records import LEGEND, Decision, GeocodeMethod

logger = logging.getLogger(__name__)

#: Where the page's own files and the vendored library live in the package.
ASSETS = Path(__file__).resolve().parent.parent / "data" / "site"
#: Copied as they are: the page, its script and style, Leaflet with its licence.
STATIC = (
    "index.html",
    "app.js",
    "review.js",
    "site.css",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/LICENSE",
    "vendor/leaflet/images/layers.png",
    "vendor/leaflet/images/layers-2x.png",
    "vendor/leaflet/images/marker-icon.png",
    "vendor/leaflet/images/marker-icon-2x.png",
    "vendor/leaflet/images/marker-shadow.png",
)
#: The background's box (west, south, east, north): the USSR and Mongolia with their
#: neighbours, so the coast of Japan and China frame the Far East.
BACKGROUND_BOX = (15.0, 25.0, 180.0, 82.0)
#: Douglas-Peucker tolerance in degrees: about 2 km, below what 1:110m outlines resolve.
SIMPLIFY_DEGREES = 0.02
#: CSS pixels per millimetre (CSS fixes 96 px to the inch).
PX_PER_MM = 96 / 25.4
#: Where a row's point came from when only its 1945 region is known (geocode stage).
REGION_METHOD = GeocodeMethod.REGION_CENTROID
CREDIT = (
    "Outlines: Natural Earth 1:110m, present-day borders (public domain). "
    + geonames.CREDIT
    + " Map library: Leaflet 1.9.4 (BSD-2-Clause)."
)


def legend() -> list[dict[str, Any]]:
    """The legend as the page draws it: class id, English label, colours, shape, size.

    >>> [item["id"] for item in legend()]
    ['over_20000', 'over_10000', 'under_10000', 'small', 'unknown']
    >>> legend()[3]["shape"]
    'triangle'
    """
    return [
        {
            "id": klass.value,
            "label": LEGEND[klass][0],
            "label_colour": LEGEND[klass][1],
            "shape": marker.shape,
            "size_px": round(marker.size_mm * PX_PER_MM, 1),
            "fill": marker.fill,
            "outline": marker.outline,
            "outline_px": round(max(marker.outline_mm * PX_PER_MM, 1.0), 1),
        }
        for klass, marker in style.MARKERS.items()
    ]


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()]


def source_links(row: dict[str, str]) -> list[dict[str, str]]:
    """Every source of a row, each with a URL where it is one (GeoNames ids become pages).

    >>> source_links({"source": "https://a.example/1|Bystrov 2005", "geocode_source": "geonames:1"})
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'text': 'https://a.example/1', 'url': 'https://a.example/1'},
     {'text': 'Bystrov 2005', 'url': ''},
     {'text': 'GeoNames 1', 'url': 'https://www.geonames.org/1'}]
    """
    links: dict[str, dict[str, str]] = {}
    for text in _split(row.get("source", "")) + _split(row.get("detainees_source", "")):
        url = text if text.startswith(("https://", "http://")) else ""
        links.setdefault(text, {"text": text, "url": url})
    where = row.get("geocode_source", "").strip()
    if where.startswith("geonames:") and where[9:].isdigit():
        links.setdefault(
            where, {"text": f"GeoNames {where[9:]}", "url": f"https://www.geonames.org/{where[9:]}"}
        )
    elif where:
        links.setdefault(where, {"text": where, "url": ""})
    return list(links.values())


def _candidates(row: dict[str, str]) -> list[dict[str, Any]]:
    """The candidates the reconcile stage considered: id, name, score, what matched."""
    try:
        found = json.loads(row.get("candidates", "") or "[]")
    except json.JSONDecodeError:
        return []
    if not isinstance(found, list):
        return []
    return [
        {
            "id": str(c.get("id", "")),
            "name": str(c.get("name", "")),
            "score": c.get("score") if isinstance(c.get("score"), int | float) else None,
            "description": str(c.get("description", "")),
        }
        for c in found
        if isinstance(c, dict)
    ]


def _matched_cyrillic(row: dict[str, str], candidates: Sequence[dict[str, Any]]) -> str:
    """The Cyrillic name the chosen place matched on, else the best reconstruction."""
    place = row.get("place_id", "").strip()
    for candidate in candidates:
        text = candidate["description"]
        if candidate["id"] == place and text.startswith("matched ") and text.endswith("(Cyrl)"):
            return str(text[len("matched ") : -len("(Cyrl)")].strip())
    readings = _split(row.get("cyrillic_candidates", ""))
    return readings[0] if readings else ""


def _names(row: dict[str, str], cyrillic: str) -> list[str]:
    """Every name of one row the search box should know: spellings, readings, place."""
    return [
        row.get("katakana", ""),
        row.get("katakana_normalized", ""),
        # `|`-separated (raw/README.md); older files wrote " / "
        *re.split(r"\s*/\s*|\s*\|\s*", row.get("katakana_variants", "")),
        row.get("romaji", ""),
        row.get("place_name", ""),
        cyrillic,
        *_split(row.get("latin_candidates", "")),
        *_split(row.get("cyrillic_candidates", "")),
    ]


def _key(placed: Placed) -> tuple[str, ...]:
    """Rows that say the same about the same point share one marker (a register repeats)."""
    row = placed.row
    place = row.get("place_id", "").strip() or placed.record_id
    return (
        place,
        repr(placed.point),
        placed.symbol_class.value,
        row.get("decision", "").strip(),
        row.get("geocode_method", "").strip(),
        row.get("uncertainty_km", "").strip(),
    )


def group(camps: Sequence[Placed]) -> list[list[Placed]]:
    """The placed rows, one group per marker, in the rows' (record id) order.

    >>> from pipeline.records import SymbolClass
    >>> rows = [{"record_id": i, "place_id": "chita"} for i in ("a", "b")]
    >>> placed = [Placed(r, SymbolClass.UNKNOWN, "none", "", "", (113.5, 52.0), "") for r in rows]
    >>> [len(g) for g in group(placed)]
    [2]
    """
    groups: dict[tuple[str, ...], list[Placed]] = {}
    for placed in camps:
        if placed.point is not None:
            groups.setdefault(_key(placed), []).append(placed)
    return list(groups.values())


def feature(rows: Sequence[Placed]) -> dict[str, Any]:
    """One marker as the page needs it: the popup's fields and every name to search by.

    ``rows`` say the same about one point (:func:`group`); the first gives the
    fields, all give the spellings, names and sources.
    """
    placed = rows[0]
    row = placed.row
    assert placed.point is not None
    candidates = _candidates(row)
    cyrillic = _matched_cyrillic(row, candidates)
    distinct = one_per_body(rows)  # alike rows add no name and no source
    names = [name for p in distinct for name in _names(p.row, cyrillic)]
    spellings = Counter(p.row.get("katakana", "").strip() for p in rows)
    sources = {link["text"]: link for p in distinct for link in source_links(p.row)}
    detainees = row.get("detainees", "").strip()
    properties = {
        "id": placed.record_id,
        "katakana": row.get("katakana", "").strip(),
        "romaji": row.get("romaji", "").strip(),
        "latin": row.get("place_name", "").strip()
        or next(iter(_split(row.get("latin_candidates", ""))), ""),
        "cyrillic": cyrillic,
        "region": row.get("region", "").strip(),
        "map_no": row.get("map_no", "").strip(),
        "camp_no": row.get("gupvi_camp_no", "").strip(),
        "class": placed.symbol_class.value,
        "class_basis": placed.class_basis,
        "detainees": detainees,
        "detainees_source": row.get("detainees_source", "").strip(),
        "certainty": row.get("certainty", "").strip() or "unknown",
        "uncertainty_km": real(row.get("uncertainty_km", ""), "", "uncertainty_km"),
        "method": row.get("geocode_method", "").strip(),
        "region_point": row.get("geocode_method", "").strip() == REGION_METHOD,
        # a camp district named by its number: the point is what it was named after
        "district": row.get("camp_no_hint", "").strip(),
        "review": row.get("decision", "").strip() == Decision.REVIEW,
        "sources": list(sources.values()),
        "rows": len(rows),
        "spellings": [text for text, _ in spellings.most_common() if text],
        "candidates": [{k: c[k] for k in ("id", "name", "score")} for c in candidates],
        "names": list(dict.fromkeys(n.strip() for n in names if n.strip())),
    }
    lon, lat = placed.point
    return {
        "type": "Feature",
        "id": placed.record_id,
        "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
        "properties": properties,
    }


def site_data(camps: Sequence[Placed], title: str) -> dict[str, Any]:
    """The FeatureCollection the page draws, with the legend and the credit as members."""
    return {
        "type": "FeatureCollection",
        "title": title,
        "credit": CREDIT,
        "legend": legend(),
        "features": [feature(rows) for rows in group(camps)],
    }


def background(boundaries: Any) -> dict[str, Any]:
    """Natural Earth land and borders clipped to :data:`BACKGROUND_BOX`, simplified, 3 decimals.

    ``boundaries`` is :func:`pipeline.io.read_boundaries`'s GeoDataFrame or ``None``
    (then the background is an empty collection and the page shows only the sea).
    """
    if boundaries is None or len(boundaries) == 0:
        return {"type": "FeatureCollection", "features": []}
    from shapely import box, set_precision
    from shapely.geometry import mapping

    area = box(*BACKGROUND_BOX)
    features = []
    names = boundaries["name"] if "name" in boundaries else [""] * len(boundaries)
    for name, shape in zip(names, boundaries.geometry, strict=True):
        if shape is None or not shape.intersects(area):
            continue
        clipped = shape.intersection(area).simplify(SIMPLIFY_DEGREES, preserve_topology=True)
        clipped = set_precision(clipped, 0.001)
        if clipped.is_empty or clipped.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        features.append(
            {"type": "Feature", "properties": {"name": str(name)}, "geometry": mapping(clipped)}
        )
    return {"type": "FeatureCollection", "features": features}


def _script(variable: str, data: dict[str, Any]) -> str:
    """``window.VARIABLE = {...};`` with every ``<`` escaped, so no text can close a tag.

    >>> _script("X", {"a": "</script>"})
    'window.X = {"a":"\\\\u003c/script>"};\\n'
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f"window.{variable} = {text};\n"


def write_site(folder: Path, camps: Sequence[Placed], boundaries: Any, title: str) -> list[Path]:
    """Write the whole site into ``folder``; return every file written (for the manifest)."""
    folder = Path(folder)
    written = []
    for name in STATIC:
        io.copy_file(ASSETS / name, folder / name)
        written.append(folder / name)
    data = site_data(camps, title)
    io.write_text(folder / "data" / "camps.js", _script("CAMPS_DATA", data))
    io.write_text(
        folder / "data" / "camps.geojson",
        json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n",
    )
    io.write_text(
        folder / "data" / "background.js", _script("CAMPS_BACKGROUND", background(boundaries))
    )
    written += [folder / "data" / n for n in ("camps.js", "camps.geojson", "background.js")]
    logger.info("site: %d features written to %s", len(data["features"]), folder)
    return written
