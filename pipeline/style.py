"""QGIS style (QML) and layer metadata (QMD) for the ``camps`` layer, built as XML text.

The export stage stores both inside the GeoPackage, so a QGIS user who opens
``camps.gpkg`` sees the ministry map's legend at once instead of grey dots. The XML
is written by hand (no QGIS import: the pipeline must run without QGIS) in the
format that QGIS 3.22 itself writes with *Save Style → QML*; ``tests/test_qgis.py``
loads it in real QGIS to prove it is read as meant.

Symbols follow NOTE 1 of the seed (DESIGN.md's table); label colours come from
:data:`pipeline.records.LEGEND`. Rows whose place is still under review
(``decision = 'review'``) keep their class symbol but get a dashed orange outline,
through a data-defined stroke colour and stroke style on every symbol.
"""

from __future__ import annotations

import dataclasses
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.records import LEGEND, SymbolClass

QGIS_VERSION = "3.22.16-Białowieża"
DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
#: Outline of a row under review: orange and dashed, so it reads as "not settled yet".
REVIEW_COLOUR = "#ff7f00"
REVIEW_STYLE = "dash"
#: QgsProperty type 3 is an expression-based property.
_EXPRESSION_PROPERTY = "3"


@dataclasses.dataclass(frozen=True)
class Marker:
    """One marker symbol of the legend: a QGIS SimpleMarker's shape, size and colours."""

    shape: str
    size_mm: float
    fill: str
    outline: str
    outline_mm: float


#: NOTE 1: large circle with heavy outline; black circle; small white circle; triangle.
MARKERS: dict[SymbolClass, Marker] = {
    SymbolClass.OVER_20000: Marker("circle", 5.2, "#ffffff", "#000000", 1.0),
    SymbolClass.OVER_10000: Marker("circle", 3.6, "#000000", "#000000", 0.3),
    SymbolClass.UNDER_10000: Marker("circle", 2.6, "#ffffff", "#000000", 0.4),
    SymbolClass.SMALL: Marker("triangle", 3.0, "#ffffff", "#000000", 0.4),
    SymbolClass.UNKNOWN: Marker("circle", 2.4, "#bdbdbd", "#808080", 0.3),
}


def rgba(hex_colour: str) -> str:
    """QGIS colour text ``r,g,b,a`` for ``#rrggbb``.

    >>> rgba("#ff7f00")
    '255,127,0,255'
    """
    value = hex_colour.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{red},{green},{blue},255"


def quote_sql(text: str) -> str:
    """A QGIS expression string literal.

    >>> quote_sql("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"


def label_colour_expression(field: str = "symbol_class") -> str:
    """The QGIS expression giving each class its legend colour (red, blue, black, green, grey).

    >>> label_colour_expression().startswith('CASE WHEN "symbol_class" = ')
    True
    """
    whens = " ".join(
        f'WHEN "{field}" = {quote_sql(cls.value)} THEN {quote_sql(colour)}'
        for cls, (_, colour) in LEGEND.items()
    )
    return f"CASE {whens} ELSE {quote_sql(LEGEND[SymbolClass.UNKNOWN][1])} END"


def review_expression(review: str, otherwise: str) -> str:
    """A QGIS expression: ``review`` for rows under review, else ``otherwise``.

    >>> review_expression("dash", "solid")
    'CASE WHEN "decision" = \\'review\\' THEN \\'dash\\' ELSE \\'solid\\' END'
    """
    then, other = quote_sql(review), quote_sql(otherwise)
    return f"CASE WHEN \"decision\" = 'review' THEN {then} ELSE {other} END"


def _option(parent: ET.Element, name: str, value: str, kind: str = "QString") -> None:
    ET.SubElement(parent, "Option", {"name": name, "value": value, "type": kind})


def _properties(parent: ET.Element, tag: str, expressions: dict[str, str]) -> None:
    """A QgsPropertyCollection: each named property driven by an expression."""
    holder = ET.SubElement(parent, tag)
    collection = ET.SubElement(holder, "Option", {"type": "Map"})
    _option(collection, "name", "")
    properties = ET.SubElement(collection, "Option", {"name": "properties"})
    if expressions:
        properties.set("type", "Map")
    for key, expression in expressions.items():
        prop = ET.SubElement(properties, "Option", {"name": key, "type": "Map"})
        _option(prop, "active", "true", "bool")
        _option(prop, "expression", expression)
        _option(prop, "type", _EXPRESSION_PROPERTY, "int")
    _option(collection, "type", "collection")


def _symbol(parent: ET.Element, name: str, marker: Marker) -> None:
    """A marker symbol with one SimpleMarker layer and the review outline override."""
    attrs = {"type": "marker", "name": name, "alpha": "1", "clip_to_extent": "1"}
    symbol = ET.SubElement(parent, "symbol", attrs | {"force_rhr": "0"})
    _properties(symbol, "data_defined_properties", {})
    layer = ET.SubElement(
        symbol, "layer", {"class": "SimpleMarker", "enabled": "1", "locked": "0", "pass": "0"}
    )
    options = ET.SubElement(layer, "Option", {"type": "Map"})
    settings = {
        "angle": "0",
        "color": rgba(marker.fill),
        "horizontal_anchor_point": "1",
        "joinstyle": "miter",
        "name": marker.shape,
        "offset": "0,0",
        "offset_unit": "MM",
        "outline_color": rgba(marker.outline),
        "outline_style": "solid",
        "outline_width": f"{marker.outline_mm:g}",
        "outline_width_unit": "MM",
        "scale_method": "diameter",
        "size": f"{marker.size_mm:g}",
        "size_unit": "MM",
        "vertical_anchor_point": "1",
    }
    for key, value in settings.items():
        _option(options, key, value)
    _properties(
        layer,
        "data_defined_properties",
        {
            "outlineColor": review_expression(REVIEW_COLOUR, marker.outline),
            "outlineStyle": review_expression(REVIEW_STYLE, "solid"),
        },
    )


def _renderer(root: ET.Element, field: str) -> None:
    """The categorized renderer: one category and one symbol per legend class."""
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        {
            "type": "categorizedSymbol",
            "attr": field,
            "symbollevels": "0",
            "forceraster": "0",
            "enableorderby": "0",
            "referencescale": "-1",
        },
    )
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for index, (cls, (legend, _)) in enumerate(LEGEND.items()):
        attrs = {"symbol": str(index), "value": cls.value, "label": legend, "render": "true"}
        ET.SubElement(categories, "category", attrs)
        _symbol(symbols, str(index), MARKERS[cls])
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")


def _labeling(root: ET.Element, label_expression: str, font: str) -> None:
    """Simple labelling: the label text in the class's legend colour, with a white halo."""
    labeling = ET.SubElement(root, "labeling", {"type": "simple"})
    settings = ET.SubElement(labeling, "settings", {"calloutType": "simple"})
    text_style = ET.SubElement(
        settings,
        "text-style",
        {
            "fieldName": label_expression,
            "isExpression": "1",
            "fontFamily": font,
            "fontSize": "8",
            "fontSizeUnit": "Point",
            "fontWeight": "50",
            "textColor": "0,0,0,255",
            "textOpacity": "1",
            "namedStyle": "Regular",
            "multilineHeight": "1",
            "allowHtml": "0",
            "blendMode": "0",
        },
    )
    ET.SubElement(
        text_style,
        "text-buffer",
        {
            "bufferDraw": "1",
            "bufferSize": "0.5",
            "bufferSizeUnits": "MM",
            "bufferColor": "255,255,255,255",
            "bufferOpacity": "1",
            "bufferNoFill": "1",
            "bufferJoinStyle": "128",
            "bufferBlendMode": "0",
        },
    )
    ET.SubElement(
        settings,
        "placement",
        {"placement": "6", "dist": "1.8", "distUnits": "MM", "priority": "5", "quadOffset": "4"},
    )
    ET.SubElement(
        settings,
        "rendering",
        {"drawLabels": "1", "obstacle": "1", "displayAll": "0", "upsidedownLabels": "0"},
    )
    _properties(settings, "dd_properties", {"Color": label_colour_expression()})


def build_qml(label_expression: str, class_field: str = "symbol_class", font: str = "") -> str:
    """The QGIS 3 style document (QML) for the ``camps`` layer.

    Parameters
    ----------
    label_expression
        QGIS expression for the label text (a field name in double quotes works).
    class_field
        Field holding the :class:`~pipeline.records.SymbolClass` value.
    font
        Label font family; empty lets QGIS pick its default. A CJK-capable font
        (IPAGothic) keeps katakana labels readable.

    >>> qml = build_qml('"label"')
    >>> qml.startswith("<!DOCTYPE qgis"), qml.count("<category "), 'labelsEnabled="1"' in qml
    (True, 5, True)
    >>> "<mapTip>" in qml and "attribute('burials')" in qml
    True
    """
    root = ET.Element(
        "qgis",
        {
            "version": QGIS_VERSION,
            "styleCategories": "Symbology|Labeling|Rendering|MapTips",
            "labelsEnabled": "1",
            "hasScaleBasedVisibilityFlag": "0",
            "minScale": "100000000",
            "maxScale": "0",
        },
    )
    _renderer(root, class_field)
    _labeling(root, label_expression, font)
    for tag, text in (("blendMode", "0"), ("featureBlendMode", "0"), ("layerOpacity", "1")):
        ET.SubElement(root, tag).text = text
    ET.SubElement(root, "layerGeometryType").text = "0"
    ET.SubElement(root, "mapTip").text = MAP_TIP
    return _serialise(root)


#: The layer's map tip (QGIS: View > Show Map Tips): the place, its class and why, and
#: the figures families ask for. Fields a register lacks show as a dash.
MAP_TIP = (
    '<b>[% "label" %]</b> [% "katakana" %]<br>'
    'Class: [% "symbol_class" %] ([% "class_basis" %])<br>'
    "Detained: [% coalesce(\"detainees_figure\", '-') %]<br>"
    "Deaths: [% coalesce(to_string(attribute('deaths')), '-') %] &middot; "
    "Buried: [% coalesce(to_string(attribute('burials')), '-') %] &middot; "
    "Remains recovered: [% coalesce(to_string(attribute('remains_recovered')), '-') %]"
)
#: The CRS element QGIS reads (``QgsCoordinateReferenceSystem::readXml``) for EPSG:4326.
WGS84_SRS = {
    "proj4": "+proj=longlat +datum=WGS84 +no_defs",
    "srid": "4326",
    "authid": "EPSG:4326",
    "description": "WGS 84",
    "projectionacronym": "longlat",
    "ellipsoidacronym": "EPSG:7030",
    "geographicflag": "true",
}


@dataclasses.dataclass(frozen=True)
class LayerMetadata:
    """What the layer says about itself in QGIS's *Layer Properties → Metadata*.

    ``sources`` are web links (name, URL); ``citations`` printed works, which QGIS
    keeps in the layer's history (lineage), not among its links. ``keywords`` sit
    in a free vocabulary named ``keyword_vocabulary`` (not ISO's topic categories).
    ``extent`` is (min lon, min lat, max lon, max lat) in WGS84, ``period`` the
    first and last year.
    """

    identifier: str
    title: str
    abstract: str
    rights: Sequence[str]
    licenses: Sequence[str]
    sources: Sequence[tuple[str, str]]  # (name, URL)
    keywords: Sequence[str] = ()
    language: str = "en"
    citations: Sequence[str] = ()
    contact: str = ""
    contact_role: str = "pointOfContact"
    keyword_vocabulary: str = "project keywords"
    extent: tuple[float, float, float, float] | None = None
    period: tuple[int, int] | None = None


def build_qmd(meta: LayerMetadata) -> str:
    """QGIS layer metadata (the ``.qmd`` format QGIS stores in ``gpkg_metadata``).

    >>> qmd = build_qmd(LayerMetadata("camps", "T", "A", ["R"], ["CC BY 4.0"], [("S", "u")]))
    >>> "<title>T</title>" in qmd and "<license>CC BY 4.0</license>" in qmd
    True
    """
    root = ET.Element("qgis", {"version": QGIS_VERSION})
    for tag, text in (
        ("identifier", meta.identifier),
        ("parentidentifier", ""),
        ("language", meta.language),
        ("type", "dataset"),
        ("title", meta.title),
        ("abstract", meta.abstract),
    ):
        ET.SubElement(root, tag).text = text
    for text in meta.citations:
        ET.SubElement(root, "history").text = text
    if meta.keywords:
        keywords = ET.SubElement(root, "keywords", {"vocabulary": meta.keyword_vocabulary})
        for word in meta.keywords:
            ET.SubElement(keywords, "keyword").text = word
    if meta.contact:
        contact = ET.SubElement(root, "contact")
        for tag, text in (("name", meta.contact), ("role", meta.contact_role)):
            ET.SubElement(contact, tag).text = text
    links = ET.SubElement(root, "links")
    for name, url in meta.sources:
        ET.SubElement(links, "link", {"name": name, "type": "WWW:LINK", "url": url})
    ET.SubElement(root, "fees").text = ""
    for text in meta.licenses:
        ET.SubElement(root, "license").text = text
    for text in meta.rights:
        ET.SubElement(root, "rights").text = text
    ET.SubElement(root, "encoding").text = "UTF-8"
    srs = ET.SubElement(ET.SubElement(root, "crs"), "spatialrefsys")
    for tag, text in WGS84_SRS.items():
        ET.SubElement(srs, tag).text = text
    extent = ET.SubElement(root, "extent")
    if meta.extent is not None:
        minx, miny, maxx, maxy = (f"{v:.6f}" for v in meta.extent)
        attributes = {"crs": "EPSG:4326", "dimensions": "2", "minz": "0", "maxz": "0"}
        attributes |= {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}
        ET.SubElement(extent, "spatial", attributes)
    if meta.period is not None:
        period = ET.SubElement(ET.SubElement(extent, "temporal"), "period")
        ET.SubElement(period, "start").text = f"{meta.period[0]:04d}-01-01T00:00:00"
        ET.SubElement(period, "end").text = f"{meta.period[1]:04d}-12-31T23:59:59"
    return _serialise(root)


def _serialise(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"


# --- Static preview (map.png): the same legend drawn with matplotlib ---------------------

#: Extent shown when there is no point: the USSR and Mongolia (lon min, lon max, lat min, lat max).
DEFAULT_EXTENT = (20.0, 180.0, 35.0, 75.0)
_MPL_SHAPES = {"circle": "o", "triangle": "^"}


@dataclasses.dataclass(frozen=True)
class PreviewPoint:
    """What the preview needs of one camp: where, its class, label and review state."""

    lon: float
    lat: float
    symbol_class: SymbolClass
    label: str
    review: bool


def preview_extent(points: Sequence[PreviewPoint], pad: float = 4.0) -> tuple[float, ...]:
    """The lon/lat box around the points, padded, kept on the globe.

    >>> preview_extent([PreviewPoint(130.0, 45.0, SymbolClass.SMALL, "", False)])
    (126.0, 134.0, 41.0, 49.0)
    >>> preview_extent([]) == DEFAULT_EXTENT
    True
    """
    if not points:
        return DEFAULT_EXTENT
    lons = [p.lon for p in points]
    lats = [p.lat for p in points]
    return (
        max(-180.0, min(lons) - pad),
        min(180.0, max(lons) + pad),
        max(-90.0, min(lats) - pad),
        min(90.0, max(lats) + pad),
    )


#: More labels than this turn a register's preview into ink; the biggest classes win.
MAX_LABELS = 250


def labelled(points: Sequence[PreviewPoint], limit: int = MAX_LABELS) -> list[PreviewPoint]:
    """The points that get a label: one per distinct point, larger classes first.

    >>> a = PreviewPoint(130.0, 45.0, SymbolClass.SMALL, "A", False)
    >>> b = PreviewPoint(98.0, 56.0, SymbolClass.OVER_20000, "B", False)
    >>> [p.label for p in labelled([a, a, b], limit=1)]
    ['B']
    """
    order = {klass: rank for rank, klass in enumerate(MARKERS)}
    distinct = sorted(dict.fromkeys(points), key=lambda p: (order[p.symbol_class], p.label))
    return distinct[:limit]


def _points_size(marker: Marker) -> float:
    """matplotlib scatter size (points²) for a marker ``size_mm`` across."""
    return (marker.size_mm / 25.4 * 72) ** 2


def _latin_only(label: str) -> str:
    """A label without its kana, for a machine with no katakana font.

    >>> _latin_only("チタ Chita")
    'Chita'
    """
    return " ".join(w for w in label.split() if not any("\u3040" <= c <= "\u30ff" for c in w))


def conic_crs(extent: Sequence[float]) -> str:
    """A Lambert conformal conic fitted to a lon/lat box (west, east, south, north).

    Central meridian in the middle of the box; standard parallels at one sixth and
    five sixths of its latitudes (the usual rule for a conic), so scale errors stay
    small across the USSR's 40 degrees of latitude and angles stay true.

    >>> conic_crs((20.0, 180.0, 35.0, 75.0))
    '+proj=lcc +lat_1=41.667 +lat_2=68.333 +lat_0=55 +lon_0=100 +datum=WGS84 +units=m +no_defs'
    """
    west, east, south, north = extent
    span = north - south
    return (
        f"+proj=lcc +lat_1={south + span / 6:.3f} +lat_2={north - span / 6:.3f} "
        f"+lat_0={(south + north) / 2:g} +lon_0={(west + east) / 2:g} "
        "+datum=WGS84 +units=m +no_defs"
    ).replace(".000 ", " ")


def _graticule(axes: Any, project: Any, extent: Sequence[float]) -> None:
    """Meridians and parallels every 10 degrees, projected, with their degrees at the edge."""
    west, east, south, north = extent
    steps = 60
    for lon in range(int(math.floor(west / 10) * 10), int(east) + 11, 10):
        lats = [south - 10 + (north - south + 20) * i / steps for i in range(steps + 1)]
        xs, ys = project([lon] * len(lats), lats)
        axes.plot(xs, ys, color="#b8c4cc", linewidth=0.3, linestyle=":", zorder=1)
    for lat in range(int(math.floor(south / 10) * 10), int(north) + 11, 10):
        lons = [west - 20 + (east - west + 40) * i / steps for i in range(steps + 1)]
        xs, ys = project(lons, [lat] * len(lons))
        axes.plot(xs, ys, color="#b8c4cc", linewidth=0.3, linestyle=":", zorder=1)


#: Debian's fonts-ipafont-gothic, which draws katakana (matplotlib's own fonts do not).
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)


def cjk_font() -> str | None:
    """The family name of a katakana-capable font, registered with matplotlib, or ``None``.

    Registered from its file, so a font cache built before the font was installed
    does not hide it.
    """
    from matplotlib import font_manager

    for path in CJK_FONT_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
    return None


#: Where a label may sit beside its symbol (offset in points, alignment), in order of preference.
LABEL_SPOTS = ((4, 3, "left"), (-4, 3, "right"), (4, -9, "left"), (-4, -9, "right"))


def declutter(texts: Sequence[Any], renderer: Any, frame: Any, pad: float = 1.5) -> int:
    """Place each label where it overlaps no label placed before it, or hide it.

    ``texts`` are matplotlib annotations in priority order (larger classes first);
    each tries the :data:`LABEL_SPOTS` in turn and must stay inside ``frame`` (the
    axes' box in display units). Returns how many labels are drawn.
    """
    kept: list[Any] = []
    for text in texts:
        for dx, dy, align in LABEL_SPOTS:
            text.set_position((dx, dy))
            text.set_horizontalalignment(align)
            box = text.get_window_extent(renderer).padded(pad)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            if inside and not any(box.overlaps(other) for other in kept):
                kept.append(box)
                break
        else:
            text.set_visible(False)
    return len(kept)


def draw_preview(points: Sequence[PreviewPoint], boundaries: Any, title: str, credit: str) -> Any:
    """A matplotlib figure in a conformal conic: outlines, graticule, symbols, labels, legend.

    ``boundaries`` is a GeoDataFrame of country polygons or ``None`` (then only the
    graticule is drawn). The map is a Lambert conformal conic fitted to the points
    (:func:`conic_crs`, through pyproj), cropped to the points' projected box, so
    Siberia keeps its shape and no third of the sheet is blank. Labels are drawn in
    the legend's colours, larger classes first, and a label that would overlap one
    already drawn is left out (:func:`declutter`).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.lines import Line2D
    from pyproj import Transformer

    extent = preview_extent(points, pad=2.0)
    crs = conic_crs(extent)
    project = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform
    if points:
        xs, ys = project([p.lon for p in points], [p.lat for p in points])
    else:
        west, east, south, north = extent
        xs, ys = project(
            [west, east, west, east, (west + east) / 2], [south, south, north, north, north]
        )
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    margin = 0.04 * max(x1 - x0, y1 - y0, 200_000.0)
    x0, x1, y0, y1 = x0 - margin, x1 + margin, y0 - margin, y1 + margin
    # the legend takes about 3.6 of the 11 inches; the map gets the rest at its own aspect
    height = min(9.0, max(3.0, 7.4 * (y1 - y0) / (x1 - x0)))
    figure, axes = pyplot.subplots(figsize=(11, height + 0.9), layout="constrained")
    axes.set_xlim(x0, x1)
    axes.set_ylim(y0, y1)
    axes.set_aspect("equal")
    axes.set_facecolor("#dfeaf2")
    if boundaries is not None:
        from shapely import box

        west, east, south, north = extent
        near = box(
            max(-180, west - 40), max(-90, south - 25), min(180, east + 40), min(90, north + 15)
        )
        clipped = boundaries.clip(near)
        clipped = clipped[~clipped.geometry.is_empty]
        clipped.to_crs(crs).plot(ax=axes, facecolor="#f6f3ea", edgecolor="#8c8c8c", linewidth=0.5)
    _graticule(axes, project, extent)
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_ylabel("")
    for klass, marker in MARKERS.items():
        for review in (False, True):
            chosen = [
                i for i, p in enumerate(points) if p.symbol_class is klass and p.review is review
            ]
            if not chosen:
                continue
            axes.scatter(
                [xs[i] for i in chosen],
                [ys[i] for i in chosen],
                s=_points_size(marker),
                marker=_MPL_SHAPES[marker.shape],
                facecolors=marker.fill,
                edgecolors=REVIEW_COLOUR if review else marker.outline,
                linewidths=marker.outline_mm / 25.4 * 72 * (1.6 if review else 1),
                linestyles="--" if review else "-",
                zorder=3,
            )
    font = cjk_font()
    texts = []
    for point in labelled(points):
        x, y = project(point.lon, point.lat)
        text = point.label if font else _latin_only(point.label)
        texts.append(
            axes.annotate(
                text,
                (x, y),
                xytext=(4, 3),
                textcoords="offset points",
                fontsize=5.5,
                fontfamily=[font or "DejaVu Sans", "DejaVu Sans"],
                color=LEGEND[point.symbol_class][1],
                zorder=4,
            )
        )
    figure.canvas.draw()  # lay the labels out, so their boxes can be measured
    declutter(texts, figure.canvas.get_renderer(), axes.get_window_extent())  # type: ignore[attr-defined]
    handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker=_MPL_SHAPES[m.shape],
            markersize=m.size_mm / 25.4 * 72,
            markerfacecolor=m.fill,
            markeredgecolor=m.outline,
            markeredgewidth=m.outline_mm / 25.4 * 72,
            label=LEGEND[k][0],
        )
        for k, m in MARKERS.items()
    ]
    handles.append(
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=8,
            markerfacecolor="#ffffff",
            markeredgecolor=REVIEW_COLOUR,
            markeredgewidth=1.5,
            label="Place under review (dashed orange outline)",
        )
    )
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
    axes.set_title(title, fontsize=10)
    axes.set_xlabel("Lambert conformal conic; graticule every 10°", fontsize=7)
    figure.text(0.005, 0.005, credit, fontsize=5.5, color="#555555")
    return figure
