"""The ``styleSLD`` of the GeoPackage's layer_styles rows: OGC SLD 1.1 / SE 1.1.

Built from the same legend as the QGIS style (:data:`pipeline.style.MARKERS` and
:data:`pipeline.records.LEGEND`), so a client that reads SLD (GeoServer, older
QGIS, MapServer) draws the ministry map's classes the same way: one rule per class,
filtered on ``symbol_class``, a mark of the class's shape, size and colours
(millimetres turned into pixels at 90.7 dpi, QGIS's SLD export factor), a label
in the class colour, and rows under review outlined in dashed orange. Sizes of
the uncertainty circles' style are in the same units.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pipeline import style
from pipeline.records import LEGEND

NS = {
    "": "http://www.opengis.net/sld",
    "ogc": "http://www.opengis.net/ogc",
    "se": "http://www.opengis.net/se",
    "xlink": "http://www.w3.org/1999/xlink",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
SCHEMA = "http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd"
#: QGIS writes SLD sizes in pixels: 1 mm = 3.571 px (90.7 dpi).
PX_PER_MM = 3.571428571


def _se(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS['se']}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _param(parent: ET.Element, tag: str, name: str, value: str) -> None:
    _se(parent, tag, value, name=name)


def _filter(rule: ET.Element, class_field: str, value: str, review: bool) -> None:
    """``class_field = value`` and (``decision = 'review'`` or ``<> 'review'``): SE
    has no ELSE, so the plain rule excludes the review rows explicitly."""
    ogc = NS["ogc"]
    both = ET.SubElement(ET.SubElement(rule, f"{{{ogc}}}Filter"), f"{{{ogc}}}And")
    for tag, name, literal in (
        ("PropertyIsEqualTo", class_field, value),
        ("PropertyIsEqualTo" if review else "PropertyIsNotEqualTo", "decision", "review"),
    ):
        test = ET.SubElement(both, f"{{{ogc}}}{tag}")
        ET.SubElement(test, f"{{{ogc}}}PropertyName").text = name
        ET.SubElement(test, f"{{{ogc}}}Literal").text = literal


def _point(rule: ET.Element, marker: style.Marker, outline: str, dashed: bool) -> None:
    graphic = _se(_se(rule, "PointSymbolizer"), "Graphic")
    mark = _se(graphic, "Mark")
    _se(mark, "WellKnownName", marker.shape)
    _param(_se(mark, "Fill"), "SvgParameter", "fill", marker.fill)
    stroke = _se(mark, "Stroke")
    _param(stroke, "SvgParameter", "stroke", outline)
    _param(stroke, "SvgParameter", "stroke-width", f"{marker.outline_mm * PX_PER_MM:.2f}")
    if dashed:
        _param(stroke, "SvgParameter", "stroke-dasharray", "4 2")
    _se(graphic, "Size", f"{marker.size_mm * PX_PER_MM:.2f}")


def _label(rule: ET.Element, field: str, colour: str, font: str) -> None:
    text = _se(rule, "TextSymbolizer")
    label = _se(text, "Label")
    ET.SubElement(label, f"{{{NS['ogc']}}}PropertyName").text = field
    font_element = _se(text, "Font")
    if font:
        _param(font_element, "SvgParameter", "font-family", font)
    _param(font_element, "SvgParameter", "font-size", "10")
    _param(_se(text, "Fill"), "SvgParameter", "fill", colour)


def build_sld(
    layer: str, label_field: str = "label", class_field: str = "symbol_class", font: str = ""
) -> str:
    """The SLD of the ``camps`` layer: one rule per legend class and decision kind.

    >>> sld = build_sld("camps")
    >>> sld.count("<se:Rule>"), "over_20000" in sld, "stroke-dasharray" in sld
    (10, True, True)
    """
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    root = ET.Element(
        f"{{{NS['']}}}StyledLayerDescriptor",
        {"version": "1.1.0", f"{{{NS['xsi']}}}schemaLocation": SCHEMA},
    )
    named = ET.SubElement(root, f"{{{NS['']}}}NamedLayer")
    _se(named, "Name", layer)
    user = ET.SubElement(named, f"{{{NS['']}}}UserStyle")
    _se(user, "Name", layer)
    feature_style = _se(user, "FeatureTypeStyle")
    for klass in LEGEND:
        marker = style.MARKERS[klass]
        text, colour = LEGEND[klass]
        for review in (False, True):
            rule = _se(feature_style, "Rule")
            _se(rule, "Name", f"{klass.value}{' (under review)' if review else ''}")
            _se(_se(rule, "Description"), "Title", text + (", under review" if review else ""))
            _filter(rule, class_field, klass.value, review)
            outline = style.REVIEW_COLOUR if review else marker.outline
            _point(rule, marker, outline, dashed=review)
            _label(rule, label_field, colour, font)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
