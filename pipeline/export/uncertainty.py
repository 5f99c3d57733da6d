"""The ``uncertainty`` layer: one geodesic circle per point, of radius ``uncertainty_km``.

A point placed on a 1945 region's centre stands for a doubt of some 400 km, a
town's for a few kilometres; the circle shows which. Circles are geodesic
(:class:`pyproj.Geod` on WGS84, ``fwd`` from the point at evenly spaced
azimuths), so a 400 km circle at 65° N is as wide on the ground as one at 43° N.
Longitudes are kept continuous around the centre, so a circle that reaches past
the antimeridian stays one ring. The layer is drawn faintly (a light translucent
fill, a thin outline) and is written first into the GeoPackage, so QGIS adds it
below the points.

Rows that name one place with the same doubt share one circle (the first row's
``record_id``): a register that names a camp a thousand times would otherwise
stack a thousand identical translucent rings, 1.2 KB each, into one dark disc.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from pipeline import style
from pipeline.export.rows import Placed, one_per_body, real
from pipeline.export.sld import NS, SCHEMA

#: Vertices of each circle's ring (every 5 degrees of azimuth).
VERTICES = 72
FILL = "#7f7f7f"
FILL_ALPHA = 0.12
OUTLINE_ALPHA = 0.35
COLUMNS = ("record_id", "label", "place_name", "certainty", "geocode_method", "uncertainty_km")


def circle(lon: float, lat: float, radius_km: float, vertices: int = VERTICES) -> Any:
    """A geodesic circle (shapely Polygon, lon/lat) of ``radius_km`` around a point.

    >>> ring = circle(131.87, 43.11, 10.0)
    >>> len(ring.exterior.coords), round(ring.centroid.x, 2), round(ring.centroid.y, 2)
    (73, 131.87, 43.11)
    """
    return circles([(lon, lat, radius_km)], vertices)[0]


def circles(centres: Sequence[tuple[float, float, float]], vertices: int = VERTICES) -> list[Any]:
    """:func:`circle` of each (lon, lat, radius_km), with one :class:`pyproj.Geod` call
    for all of them (the same points as one call per circle, made thousands of times
    faster than a Geod each), on numpy arrays: a million-row register's circles are
    seven million vertices, which as Python floats took half a gigabyte."""
    import numpy as np
    import shapely
    from pyproj import Geod

    if not centres:
        return []
    geod = Geod(ellps="WGS84")
    azimuths = np.array([360.0 * i / vertices for i in range(vertices)])
    at = np.array(centres, dtype=np.float64)
    lon = np.repeat(at[:, 0], vertices)
    lons, lats, _ = geod.fwd(
        lon,
        np.repeat(at[:, 1], vertices),
        np.tile(azimuths, len(centres)),
        np.repeat(at[:, 2] * 1000.0, vertices),
    )
    # Keep longitudes within 180 degrees of the centre: one ring across the antimeridian.
    unwrapped = np.where(
        lons - lon < -180, lons + 360.0, np.where(lons - lon > 180, lons - 360.0, lons)
    )
    rings = np.stack([unwrapped, lats], axis=-1).reshape(len(centres), vertices, 2)
    return list(shapely.polygons(rings))


def circles_frame(camps: Sequence[Placed]) -> Any:
    """The layer: a circle for each distinct placed point with an ``uncertainty_km``.

    Rows alike in point, radius and every other column of the layer but
    ``record_id`` share the first one's circle (rows alike in every cell but the
    id, :attr:`~pipeline.export.rows.Placed.body`, are looked at once).
    """
    import geopandas

    records, centres = [], []
    seen: set[tuple[object, ...]] = set()
    for placed in one_per_body(camps):  # an alike row's circle is the first's, or none
        radius = real(placed.row.get("uncertainty_km", ""), "", "uncertainty_km")
        if placed.point is None or radius is None or radius <= 0:
            continue
        row = placed.cells() | {"label": placed.label}
        record = {c: row.get(c, "") for c in COLUMNS} | {"uncertainty_km": radius}
        alike = (placed.point, *(v for k, v in record.items() if k != "record_id"))
        if alike in seen:
            continue
        seen.add(alike)
        records.append(record)
        centres.append((placed.point[0], placed.point[1], radius))
    frame = geopandas.GeoDataFrame(
        records, columns=list(COLUMNS), geometry=circles(centres), crs="EPSG:4326"
    )
    frame["uncertainty_km"] = frame["uncertainty_km"].astype("float64")
    return frame


def uncertainty_qml() -> str:
    """QGIS style: one faint translucent fill with a thin outline, dashed for a region's centre.

    >>> "SimpleFill" in uncertainty_qml()
    True
    """
    root = ET.Element("qgis", {"version": style.QGIS_VERSION, "styleCategories": "Symbology"})
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        {"type": "singleSymbol", "symbollevels": "0", "enableorderby": "0", "forceraster": "0"},
    )
    symbols = ET.SubElement(renderer, "symbols")
    symbol = ET.SubElement(
        symbols,
        "symbol",
        {"type": "fill", "name": "0", "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    layer = ET.SubElement(
        symbol, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"}
    )
    options = ET.SubElement(layer, "Option", {"type": "Map"})
    red, green, blue, _ = style.rgba(FILL).split(",")
    for name, value in (
        ("color", f"{red},{green},{blue},{round(FILL_ALPHA * 255)}"),
        ("style", "solid"),
        ("outline_color", f"{red},{green},{blue},{round(OUTLINE_ALPHA * 255)}"),
        ("outline_style", "solid"),
        ("outline_width", "0.2"),
        ("outline_width_unit", "MM"),
        ("joinstyle", "bevel"),
        ("offset", "0,0"),
        ("offset_unit", "MM"),
    ):
        ET.SubElement(options, "Option", {"name": name, "value": value, "type": "QString"})
    # a circle around a 1945 region's centre is dashed, as on the web map: the point
    # stands for the whole region, not a place in it
    style.data_defined(layer, {"outlineStyle": style.region_centroid_expression("dash", "solid")})
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.SubElement(root, "layerGeometryType").text = "2"
    ET.indent(root, space="  ")
    return style.DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"


def uncertainty_sld() -> str:
    """The same style as SLD 1.1 (``styleSLD``).

    >>> "fill-opacity" in uncertainty_sld()
    True
    """
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    se = NS["se"]
    root = ET.Element(
        f"{{{NS['']}}}StyledLayerDescriptor",
        {"version": "1.1.0", f"{{{NS['xsi']}}}schemaLocation": SCHEMA},
    )
    named = ET.SubElement(root, f"{{{NS['']}}}NamedLayer")
    ET.SubElement(named, f"{{{se}}}Name").text = "uncertainty"
    user = ET.SubElement(named, f"{{{NS['']}}}UserStyle")
    ET.SubElement(user, f"{{{se}}}Name").text = "uncertainty"
    rule = ET.SubElement(ET.SubElement(user, f"{{{se}}}FeatureTypeStyle"), f"{{{se}}}Rule")
    ET.SubElement(rule, f"{{{se}}}Name").text = "uncertainty (km)"
    polygon = ET.SubElement(rule, f"{{{se}}}PolygonSymbolizer")
    for parent_tag, params in (
        ("Fill", {"fill": FILL, "fill-opacity": f"{FILL_ALPHA:g}"}),
        ("Stroke", {"stroke": FILL, "stroke-opacity": f"{OUTLINE_ALPHA:g}", "stroke-width": "1"}),
    ):
        parent = ET.SubElement(polygon, f"{{{se}}}{parent_tag}")
        for name, value in params.items():
            ET.SubElement(parent, f"{{{se}}}SvgParameter", {"name": name}).text = value
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
