"""Export stage: the geocoded rows as the layers a QGIS user or a gazetteer opens.

Writes into one folder (DESIGN.md): ``camps.gpkg`` (layer ``uncertainty``, a faint
geodesic circle of each point's uncertainty; layer ``camps`` with the ministry
map's legend as QGIS default style and SLD; layer ``unresolved`` without
geometry; QGIS metadata on all three), ``camps.geojson`` (RFC 7946),
``by_class/<class>.geojson`` (all five classes, an empty FeatureCollection for a
class with no row, so a web map can load a fixed set of files), ``camps.lpf.json``
(Linked Places Format for the World Historical Gazetteer v3) and ``camps.lp.tsv``
(its LP-TSV v0.5), ``unresolved.csv``, ``results.xlsx`` and ``results.csv`` (the
register's columns then readable results, no JSON), a static preview ``map.png``,
``site/`` (a static web map) and ``datapackage.json`` (a Frictionless Data Package of
all of them); the GeoPackage also holds ``places``, one labelled point per place with
its row count.

Every input row lands exactly once: in ``camps`` when its decision is auto,
override or review and it has a point, else in ``unresolved`` with the reason.
All rows are checked before the first file is written, so bad input leaves the
previous outputs as they were; each file is then replaced atomically.

Files: ``params`` (the params.yaml section), ``rows`` (checking and placing each
row), ``layers`` (GeoPackage, GeoJSON, by-class files, preview, layer metadata),
``places`` (the per-place layer), ``results`` (the results
sheet), ``uncertainty`` (the circles and their style), ``sld`` (the legend as SLD),
``lpf`` (Linked Places), ``lptsv`` (LP-TSV), ``citations`` (sources as LPF
citations), ``site`` (the web map, with its page and Leaflet from
``pipeline/data/site``), ``datapackage`` (the Data Package), ``stage`` (``run``).
May import :mod:`pipeline.io`, :mod:`pipeline.style`, :mod:`pipeline.area`,
:mod:`pipeline.geonames`, :mod:`pipeline.places`, :mod:`pipeline.controls`, :mod:`pipeline.preview`,
:mod:`pipeline.validate` (its ``PERIOD``), :mod:`pipeline.records` and the text
library :mod:`pipeline.names`, never another stage.
"""

from pipeline.export.citations import citations
from pipeline.export.layers import MAP_SOURCES, metadata, preview
from pipeline.export.lpf import LPF_CONTEXT, GazetteerFacts, geonames_id, linked_places
from pipeline.export.params import ExportParams
from pipeline.export.rows import (
    PLACED,
    REASON_COLUMN,
    REQUIRED,
    Placed,
    check_partition,
    label_for,
    prepare,
    without_controls,
)
from pipeline.export.site import site_data
from pipeline.export.stage import run, write_layers

__all__ = [
    "LPF_CONTEXT",
    "MAP_SOURCES",
    "PLACED",
    "REASON_COLUMN",
    "REQUIRED",
    "ExportParams",
    "GazetteerFacts",
    "Placed",
    "check_partition",
    "citations",
    "geonames_id",
    "label_for",
    "linked_places",
    "metadata",
    "prepare",
    "preview",
    "run",
    "site_data",
    "without_controls",
    "write_layers",
]
