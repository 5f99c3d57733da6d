"""Open camps.gpkg in real QGIS (headless), report its default style and render a PNG.

Run by tests/test_qgis.py with Debian's ``/usr/bin/python3`` (QGIS 3.22 bindings,
package python3-qgis) and ``QT_QPA_PLATFORM=offscreen``:

    /usr/bin/python3 tests/qgis_check.py output/camps.gpkg /tmp/camps.png

Prints one JSON object on stdout: what QGIS read (validity, feature counts,
renderer type, categories, label state and expression, layer metadata) and how
many pixels of the rendered image differ from the background. Exit 0 when QGIS
could open the file at all; the test judges the report. Not part of the pipeline
(which never imports QGIS) and not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsNativeMetadataValidator,
    QgsSimpleMarkerSymbolLayerBase,
    QgsSymbolLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

BACKGROUND = QColor(255, 255, 255)


def _dd_keys(symbol_layer: QgsSymbolLayer) -> list[int]:
    return list(symbol_layer.dataDefinedProperties().propertyKeys())


def style_report(layer: QgsVectorLayer) -> dict[str, object]:
    """What QGIS made of the default style stored in the GeoPackage."""
    renderer = layer.renderer()
    report: dict[str, object] = {"renderer": renderer.type() if renderer else None}
    names = {key: d.name() for key, d in QgsSymbolLayer.propertyDefinitions().items()}
    if renderer is not None and renderer.type() == "categorizedSymbol":
        report["class_attribute"] = renderer.classAttribute()
        report["categories"] = [
            {
                "value": category.value(),
                "label": category.label(),
                "shape": QgsSimpleMarkerSymbolLayerBase.encodeShape(
                    category.symbol().symbolLayer(0).shape()
                ),
                "size": category.symbol().size(),
                "data_defined": sorted(
                    names.get(key, str(key)) for key in _dd_keys(category.symbol().symbolLayer(0))
                ),
            }
            for category in renderer.categories()
        ]
    report["labels_enabled"] = layer.labelsEnabled()
    labeling = layer.labeling()
    report["labeling"] = labeling.type() if labeling else None
    if labeling is not None and labeling.type() == "simple":
        settings = labeling.settings()
        report["label_expression"] = settings.fieldName
        report["label_is_expression"] = settings.isExpression
        report["label_colour_data_defined"] = settings.dataDefinedProperties().isActive(
            settings.Color
        )
    metadata = layer.metadata()
    report["map_tip"] = layer.mapTipTemplate()
    report["metadata_title"] = metadata.title()
    report["metadata_abstract"] = metadata.abstract()
    report["metadata_rights"] = list(metadata.rights())
    return report


def render(layer: QgsVectorLayer, png: str) -> int:
    """Render the layer to ``png`` and count the pixels that are not background."""
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    extent = layer.extent()
    extent.scale(1.3)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(800, 500))
    settings.setBackgroundColor(BACKGROUND)
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(png, "PNG")
    background = BACKGROUND.rgb()
    return sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if image.pixel(x, y) != background
    )


def metadata_report(layer: QgsVectorLayer) -> dict[str, object]:
    """QGIS's own metadata validator on a layer, and what it read of the metadata."""
    metadata = layer.metadata()
    ok, results = QgsNativeMetadataValidator().validate(metadata)
    extent = metadata.extent()
    spatial = [
        {
            "crs": e.extentCrs.authid(),
            "bounds": [
                e.bounds.xMinimum(),
                e.bounds.yMinimum(),
                e.bounds.xMaximum(),
                e.bounds.yMaximum(),
            ],
        }
        for e in extent.spatialExtents()
    ]
    temporal = [
        [t.begin().toString("yyyy-MM-dd"), t.end().toString("yyyy-MM-dd")]
        for t in extent.temporalExtents()
    ]
    return {
        "valid": ok,
        "problems": [f"{r.section}: {r.note}" for r in results],
        "crs": metadata.crs().authid(),
        "contacts": [c.name for c in metadata.contacts()],
        "keywords": {k: list(v) for k, v in metadata.keywords().items()},
        "history": list(metadata.history()),
        "links": [link.url for link in metadata.links()],
        "licenses": list(metadata.licenses()),
        "rights": list(metadata.rights()),
        "spatial": spatial,
        "temporal": temporal,
    }


def sld_report(gpkg: str, name: str) -> dict[str, object]:
    """Load the layer's ``styleSLD`` (from layer_styles) into a fresh copy of the layer."""
    import sqlite3
    import tempfile

    connection = sqlite3.connect(gpkg)
    try:
        (sld,) = connection.execute(
            "SELECT styleSLD FROM layer_styles WHERE f_table_name = ?", (name,)
        ).fetchone()
    finally:
        connection.close()
    layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
    with tempfile.NamedTemporaryFile("w", suffix=".sld", delete=False, encoding="utf-8") as f:
        f.write(sld)
    message, ok = layer.loadSldStyle(f.name)
    os.unlink(f.name)
    renderer = layer.renderer()
    rules = []
    if renderer is not None and renderer.type() == "RuleRenderer":
        rules = [rule.label() for rule in renderer.rootRule().children()]
    return {"loaded": bool(ok), "message": message, "renderer": renderer.type(), "rules": rules}


def candidates_report(gpkg: str) -> dict[str, object]:
    """The ``candidates`` table as QGIS reads it, joined by hand to the camps on name_key.

    Per camp row: its place, its decision, and the place and rank of the first
    candidate of its ``name_key`` (QGIS's own join keeps one row per key, not
    the lowest rank, so the join is done here).
    """
    table = QgsVectorLayer(f"{gpkg}|layername=candidates", "candidates", "ogr")
    report: dict[str, object] = {"valid": table.isValid()}
    if not table.isValid():
        return report
    report["features"] = table.featureCount()
    report["geometry"] = table.geometryType()
    report["fields"] = [field.name() for field in table.fields()]
    first: dict[str, tuple[str, int]] = {}
    for feature in table.getFeatures():
        key, rank = feature["name_key"], int(feature["rank"])
        if key not in first or rank < first[key][1]:
            first[key] = (feature["place_id"], rank)
    camps = QgsVectorLayer(f"{gpkg}|layername=camps", "camps", "ogr")
    report["joined"] = [
        {
            "place_id": feature["place_id"],
            "decision": feature["decision"],
            "name_key": feature["name_key"],
            "first": first.get(feature["name_key"]),
        }
        for feature in camps.getFeatures()
    ]
    return report


def check(gpkg: str, png: str) -> dict[str, object]:
    """Load both layers and report on them; the layers die with this frame."""
    camps = QgsVectorLayer(f"{gpkg}|layername=camps", "camps", "ogr")
    unresolved = QgsVectorLayer(f"{gpkg}|layername=unresolved", "unresolved", "ogr")
    uncertainty = QgsVectorLayer(f"{gpkg}|layername=uncertainty", "uncertainty", "ogr")
    report: dict[str, object] = {
        "uncertainty_valid": uncertainty.isValid(),
        "metadata": {
            name: metadata_report(layer)
            for name, layer in (
                ("camps", camps),
                ("unresolved", unresolved),
                ("uncertainty", uncertainty),
            )
            if layer.isValid()
        },
        "qgis_version": Qgis.QGIS_VERSION,
        "camps_valid": camps.isValid(),
        "unresolved_valid": unresolved.isValid(),
        "candidates": candidates_report(gpkg),
    }
    if camps.isValid():
        report["camps_features"] = camps.featureCount()
        report["camps_crs"] = camps.crs().authid()
        report["unresolved_features"] = unresolved.featureCount()
        report.update(style_report(camps))
        report["non_background_pixels"] = render(camps, png)
        report["sld"] = {n: sld_report(gpkg, n) for n in ("camps", "uncertainty")}
    if uncertainty.isValid():
        report["uncertainty_features"] = uncertainty.featureCount()
        report["uncertainty_geometry"] = uncertainty.geometryType()
        renderer = uncertainty.renderer()
        report["uncertainty_renderer"] = renderer.type() if renderer else None
        symbol = renderer.symbol() if renderer and renderer.type() == "singleSymbol" else None
        report["uncertainty_fill_alpha"] = symbol.color().alpha() if symbol else None
    return report


def main(gpkg: str, png: str) -> int:
    app = QgsApplication([], False)
    app.initQgis()
    report = check(gpkg, png)  # layers are freed before exitQgis, else QGIS crashes on exit
    print(json.dumps(report, ensure_ascii=False), flush=True)
    app.exitQgis()
    return 0 if report["camps_valid"] else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.stderr.write("usage: qgis_check.py CAMPS.gpkg OUT.png\n")
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
