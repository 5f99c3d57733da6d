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
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from pipeline.records import LEGEND, GeocodeMethod, SymbolClass

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


def region_centroid_expression(then: str, otherwise: str) -> str:
    """A QGIS expression: ``then`` for a point on a 1945 region's centre, else ``otherwise``.

    >>> region_centroid_expression("dash", "solid")
    'CASE WHEN "geocode_method" = \\'region_centroid\\' THEN \\'dash\\' ELSE \\'solid\\' END'
    """
    method = quote_sql(GeocodeMethod.REGION_CENTROID.value)
    return (
        f'CASE WHEN "geocode_method" = {method} '
        f"THEN {quote_sql(then)} ELSE {quote_sql(otherwise)} END"
    )


def _option(parent: ET.Element, name: str, value: str, kind: str = "QString") -> None:
    ET.SubElement(parent, "Option", {"name": name, "value": value, "type": kind})


def data_defined(parent: ET.Element, expressions: dict[str, str]) -> None:
    """A symbol layer's ``data_defined_properties``: each property driven by an expression."""
    _properties(parent, "data_defined_properties", expressions)


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
