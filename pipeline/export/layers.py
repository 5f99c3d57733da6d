"""The GIS layers: camps.gpkg (styled), camps.geojson, by_class/*.geojson, map.png."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline import geonames, io, style
from pipeline import preview as drawing
from pipeline.export.params import ExportParams
from pipeline.export.rows import (
    INTEGER_COLUMNS,
    REAL_COLUMNS,
    REASON_COLUMN,
    Placed,
    added,
    integer,
    one_per_body,
    real,
)
from pipeline.export.sld import build_sld
from pipeline.export.uncertainty import uncertainty_qml, uncertainty_sld
from pipeline.records import LEGEND, Decision

MAP_SOURCES = (
    (
        "Koseisho (1977) Hikiage to engo sanjunen no ayumi, p.56",
        "Kôseishô engokyoku. Hikiage to engo sanjûnen no ayumi. Kôseishô, 1977, p.56",
    ),
    (
        "Koseisho (1997) Engo gojunenshi, pp.524-525",
        "Kôseishô shakai/engokyoku. Engo gojûnenshi. Gyôsei, 1997, pp.524-525",
    ),
    ("GeoNames", "https://www.geonames.org"),
)


def _bodies(
    placed: Sequence[Placed],
    columns: Sequence[str],
    extra: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[Any, list[int], list[Placed]]:
    """The layer's distinct rows as a DataFrame with a field type per column (Int64
    integers, float64 reals, text), each row's number in it, and the first row of each.

    Rows alike but for their id (and with the same ``extra`` cells: the candidates'
    join key and best rival, per record id) have the same typed values but the
    record id's: made once per body.
    """
    import pandas as pd

    more = extra or {}
    kinds = [
        integer if name in INTEGER_COLUMNS else real if name in REAL_COLUMNS else None
        for name in columns
    ]
    made: dict[tuple[object, ...], int] = {}
    values: list[list[Any]] = []
    firsts: list[Placed] = []
    taken: list[int] = []
    for p in placed:
        added_cells = more.get(p.record_id, {})
        key = (p.body, *added_cells.items())
        at = made.get(key)
        if at is None:
            merged = p.row | added(p) | dict(added_cells)
            if REASON_COLUMN in columns:
                merged[REASON_COLUMN] = p.reason
            texts = [merged.get(name, "") for name in columns]
            at = made[key] = len(values)
            values.append(
                [
                    kind(text, "", name) if kind else text
                    for kind, text, name in zip(kinds, texts, columns, strict=True)
                ]
            )
            firsts.append(p)
        taken.append(at)
    by_column = list(zip(*values, strict=True)) if values else [() for _ in columns]
    dtypes = {integer: "Int64", real: "float64", None: object}
    bodies = pd.DataFrame(
        {
            name: pd.array(list(cells), dtype="Int64")
            if kind is integer
            else pd.Series(list(cells), dtype=dtypes[kind])
            for name, kind, cells in zip(columns, kinds, by_column, strict=True)
        },
        columns=list(columns),
    )
    return bodies, taken, firsts


def _taken(
    placed: Sequence[Placed],
    columns: Sequence[str],
    extra: Mapping[str, Mapping[str, str]] | None,
    points: bool,
) -> io.TakenRows:
    import geopandas
    import numpy as np
    import shapely

    bodies, taken, firsts = _bodies(placed, columns, extra)
    bounds = None
    if points:
        xy = [p.point for p in firsts if p.point is not None]
        geometry = shapely.points(xy) if xy else []
        bodies = geopandas.GeoDataFrame(bodies, geometry=geometry, crs="EPSG:4326")
        bounds = bodies.total_bounds if len(bodies) else None
    table, geometry_name, crs = io.arrow_table(bodies)
    ids = [p.record_id for p in placed] if "record_id" in columns else None
    taken_rows = np.array(taken, dtype=np.int64)
    return io.TakenRows(table, taken_rows, ids, "record_id", geometry_name, crs, bounds)


def points_rows(
    camps: Sequence[Placed],
    columns: Sequence[str],
    extra: Mapping[str, Mapping[str, str]] | None = None,
) -> io.TakenRows:
    """The ``camps`` layer: attributes with their types and a WGS84 point per row."""
    return _taken(camps, columns, extra, points=True)


def attributes_rows(
    unresolved: Sequence[Placed],
    columns: Sequence[str],
    extra: Mapping[str, Mapping[str, str]] | None = None,
) -> io.TakenRows:
    """The ``unresolved`` layer: attributes only, no geometry."""
    return _taken(unresolved, columns, extra, points=False)


#: Printed works behind the layer (the ministry map's NOTE 2): lineage, not links.
MAP_CITATIONS = tuple(citation for _, citation in MAP_SOURCES if not citation.startswith("http"))
WEB_SOURCES = tuple((name, url) for name, url in MAP_SOURCES if url.startswith("http"))
#: Free keywords (not ISO 19115 topic categories, whose list these are not from).
KEYWORDS = ("Siberian internment", "prisoners of war", "Japan", "USSR", "Mongolia")
REGISTER_KEYWORDS = ("Siberian internment", "register", "USSR", "Mongolia")
CONTACT = "camps-map project (maintainers of this pipeline)"
PERIOD = (1945, 1956)


def register_title(register: str) -> str:
    """The title of a user's register run: its file's name, never the ministry's map.

    >>> register_title("deaths_1946.xlsx")
    'deaths_1946.xlsx: places named in the register'
    """
    return f"{register}: places named in the register"


def metadata(
    params: ExportParams, count: int, extent: Any = None, register: str = ""
) -> style.LayerMetadata:
    """The ``camps`` layer's metadata: title, abstract (NOTE 2), sources, GeoNames credit.

    ``register`` is the file name of a user's register (``camps run``): the layer
    is then titled and described as that register, placed by this pipeline, with
    the register as its source, not as the ministry's map.
    """
    if register:
        abstract = (
            f"{count} rows of the register {register}, each placed by the camp-map "
            "pipeline (katakana transliterated, matched against GeoNames and a curated "
            "historical gazetteer). This is the user's register, not the Ministry of "
            "Health and Welfare's internment map; a point is the place a name was "
            "matched to, within uncertainty_km. Rows with a dashed orange outline are "
            "still under review. " + geonames.CREDIT
        )
        return _described(
            "camps",
            register_title(register),
            abstract,
            extent,
            citations=(f"The register {register}",),
            keywords=REGISTER_KEYWORDS,
        )
    abstract = (
        f"{count} places where Japanese prisoners of war and internees were held in the "
        "USSR and Mongolia after 1945, from the katakana names of the Japanese Ministry "
        "of Health and Welfare's internment map. As NOTE 2 of that map says, the symbols "
        "show the principal area of a labour camp location, not the exact site of a camp. "
        "Symbols follow the map's legend (NOTE 1) by number detained; grey means no class "
        "is attested. Rows with a dashed orange outline are still under review. " + geonames.CREDIT
    )
    return _described("camps", params.title, abstract, extent)


def _described(
    identifier: str,
    title: str,
    abstract: str,
    extent: Any,
    citations: Sequence[str] = MAP_CITATIONS,
    keywords: Sequence[str] = KEYWORDS,
) -> style.LayerMetadata:
    bounds = None if extent is None else tuple(float(v) for v in extent)
    return style.LayerMetadata(
        identifier=identifier,
        title=title,
        abstract=abstract,
        rights=[geonames.CREDIT],
        licenses=["GeoNames data: CC BY 4.0"],
        sources=WEB_SOURCES,
        citations=citations,
        keywords=keywords,
        contact=CONTACT,
        extent=bounds,  # type: ignore[arg-type]
        period=PERIOD,
    )


def write_geopackage(
    target: Path,
    camps: Any,
    table: Any,
    params: ExportParams,
    circles: Any = None,
    places: Any = None,
    register: str = "",
    candidates: Any = None,
) -> None:
    """camps.gpkg: the uncertainty circles (first, so QGIS adds them below the points),
    the styled point layer, the attributes-only unresolved layer (``camps`` and
    ``table``: :func:`points_rows`, :func:`attributes_rows`) and, given ``places``
    (:func:`pipeline.export.places.places_frame`), one point per place labelled with
    its row count; given ``candidates`` (:func:`pipeline.export.candidates.table_frame`),
    the attributes-only table of each name's candidates, joined to the rows by
    ``name_key``."""
    extent = camps.bounds if len(camps) else None
    meta = metadata(params, len(camps), extent, register)
    qml = style.build_qml('"label"', font=params.label_font)
    unresolved = _described(
        "unresolved",
        "Camp names not placed on the map",
        f"{len(table)} names with no place or no point; the unresolved_reason column "
        "says why. " + geonames.CREDIT,
        None,
    )
    layers = []
    if circles is not None:
        uncertain = _described(
            "uncertainty",
            "Uncertainty of each camp point (geodesic circle of radius uncertainty_km)",
            "For each point of the camps layer, a geodesic circle of its uncertainty_km: a "
            "few km for a town, some 400 km for a point on a 1945 region's centre. "
            + geonames.CREDIT,
            circles.total_bounds if len(circles) else None,
        )
        layers.append(
            io.GpkgLayer(
                name="uncertainty",
                frame=circles,
                identifier=uncertain.title,
                description=uncertain.abstract,
                style_qml=uncertainty_qml(),
                style_name="uncertainty, faint",
                style_sld=uncertainty_sld(),
                metadata_xml=style.build_qmd(uncertain),
                geometry_type="Polygon",
            )
        )
    layers += [
        io.GpkgLayer(
            name="camps",
            frame=camps,
            identifier=meta.title,
            description=meta.abstract,
            style_qml=qml,
            style_name="ministry map legend",
            style_sld=build_sld("camps", font=params.label_font),
            metadata_xml=style.build_qmd(meta),
            geometry_type="Point",
        ),
        io.GpkgLayer(
            name="unresolved",
            frame=table,
            identifier="Camp names not placed on the map",
            description="Rows with no place or no point; see the unresolved_reason column.",
            metadata_xml=style.build_qmd(unresolved),
        ),
    ]
    if candidates is not None:
        ranked = _described(
            "candidates",
            "Candidates of each camp name, ranked (join on name_key)",
            f"{len(candidates)} candidates of the names of the camps and unresolved layers, "
            "one row per name and rank, with each candidate's score and features; the "
            "layers' rows join to it on name_key. " + geonames.CREDIT,
            None,
        )
        layers.append(
            io.GpkgLayer(
                name="candidates",
                frame=candidates,
                identifier=ranked.title,
                description="Each name's ranked candidates; join on name_key.",
                metadata_xml=style.build_qmd(ranked),
            )
        )
    if places is not None:
        per_place = _described(
            "places",
            f"{register or 'Camp map'}: one point per place, with its row count",
            "One point per place the rows are placed at: rows (how many), record_ids, "
            "names_seen (every spelling). The label is the place and its count. " + geonames.CREDIT,
            places.total_bounds if len(places) else None,
        )
        layers.append(
            io.GpkgLayer(
                name="places",
                frame=places,
                identifier=per_place.title,
                description=per_place.abstract,
                style_qml=style.build_qml('"label"', font=params.label_font),
                style_name="one symbol per place, labelled with its count",
                metadata_xml=style.build_qmd(per_place),
                geometry_type="Point",
            )
        )
    io.write_gpkg(target, layers)


def write_geojsons(target: Path, folder: Path, camps: Any) -> dict[str, int]:
    """camps.geojson and one GeoJSON per legend class (all five, empty ones as empty
    FeatureCollections) from one Arrow table of the camps."""
    parts = {klass.value: folder / f"{klass.value}.geojson" for klass in LEGEND}
    return io.write_geojson_split(target, camps, "symbol_class", parts, geometry_type="Point")


def _preview_label(placed: Placed) -> str:
    """The preview's label: the map's number if any, the katakana, then the Latin name.

    >>> row = {"map_no": "", "katakana": "チタ", "place_name": "Chita", "decision": "auto"}
    >>> from pipeline.records import SymbolClass
    >>> _preview_label(Placed(row, SymbolClass.UNKNOWN, "none", "", "Chita", (113.5, 52.0), ""))
    'チタ Chita'
    """
    row = placed.row
    latin = row.get("place_name", "").strip() or row.get("romaji", "").strip()
    parts = (row.get("map_no", "").strip(), row.get("katakana", "").strip(), latin)
    return " ".join(dict.fromkeys(part for part in parts if part)) or placed.label


def preview(camps: Sequence[Placed], boundaries: Any, title: str) -> Any:
    """The static preview figure (``map.png``) of the placed rows."""
    points = [
        drawing.PreviewPoint(
            p.point[0],
            p.point[1],
            p.symbol_class,
            _preview_label(p),
            p.row["decision"].strip() == Decision.REVIEW,
        )
        for p in one_per_body(camps)
        if p.point is not None
    ]
    points = list(dict.fromkeys(points))  # a register repeats its places: draw each once
    credit = (
        "Outlines: Natural Earth 1:110m, present-day borders (public domain). "
        + geonames.CREDIT
        + " Symbols show the principal area of a camp (NOTE 2 of the ministry map)."
    )
    return drawing.draw_preview(points, boundaries, title, credit)
