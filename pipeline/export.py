"""Export stage: the geocoded rows as the layers a QGIS user or a gazetteer opens.

Writes into one folder (DESIGN.md): ``camps.gpkg`` (layer ``camps`` with the
ministry map's legend as QGIS default style, layer ``unresolved`` without
geometry), ``camps.geojson`` (RFC 7946), ``by_class/<class>.geojson`` (all five
classes, an empty FeatureCollection for a class with no row, so a web map can load
a fixed set of files), ``camps.lpf.json`` (Linked Places Format for the World
Historical Gazetteer), ``unresolved.csv`` and a static preview ``map.png``.

Every input row lands exactly once: in ``camps`` when its decision is auto,
override or review and it has a point, else in ``unresolved`` with the reason.
All rows are checked before the first file is written, so bad input leaves the
previous outputs as they were; each file is then replaced atomically.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline import area, geonames, io, style
from pipeline.errors import InputDataError
from pipeline.records import EXPORT_COLUMNS, LEGEND, Certainty, Decision, SymbolClass, classify

logger = logging.getLogger(__name__)

REQUIRED = ("record_id", "katakana", "decision", "lat", "lon")
INTEGER_COLUMNS = ("detainees",)
REAL_COLUMNS = ("score", "lat", "lon", "uncertainty_km")
#: Columns the export adds: why the row has its class, and the text of its map label.
REASON_COLUMN = "unresolved_reason"
PLACED = (Decision.AUTO, Decision.OVERRIDE, Decision.REVIEW)
LPF_CONTEXT = (
    "https://raw.githubusercontent.com/LinkedPasts/linked-places/master/"
    "linkedplaces-context-v1.1.jsonld"
)
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


@dataclasses.dataclass(frozen=True)
class ExportParams:
    """The ``export`` section of params.yaml.

    Attributes
    ----------
    title
        Layer title shown in QGIS and on the preview map.
    lpf_base_uri
        Prefix of each Linked Places feature's ``@id`` (record id appended). A URN
        by default because the project publishes no web address of its own yet.
    label_font
        Font of the QGIS labels; IPAGothic draws katakana (Debian fonts-ipafont-gothic).
    preview
        Whether to draw ``map.png``.
    """

    title: str = "Japanese POW camps in the USSR and Mongolia, 1945-1956 (principal camp areas)"
    lpf_base_uri: str = "urn:camps-map:record:"
    label_font: str = "IPAGothic"
    preview: bool = True


@dataclasses.dataclass(frozen=True)
class Placed:
    """One input row, checked, with its class, label and (maybe) its point."""

    row: dict[str, str]
    symbol_class: SymbolClass
    class_basis: str
    label: str
    point: tuple[float, float] | None  # (lon, lat)
    reason: str  # why it is unresolved; empty for a row drawn on the map

    @property
    def record_id(self) -> str:
        return self.row["record_id"]


def run(
    input_path: Path, output_dir: Path, params: ExportParams, encoding: str | None = None
) -> dict[str, int]:
    """Write every export file into ``output_dir``; return counts for the log line.

    Raises
    ------
    InputDataError
        A row breaks the geocode stage's contract (the message names file, row,
        column and fix); nothing has been written then.
    """
    columns, rows = io.read_csv(Path(input_path), required=REQUIRED, encoding=encoding, min_rows=1)
    placed = prepare(rows, Path(input_path))
    camps = [p for p in placed if p.point is not None]
    unresolved = [p for p in placed if p.point is None]
    check_partition(rows, camps, unresolved)
    out = Path(output_dir)
    with io.output_set(out) as outputs:
        by_class = write_layers(outputs, columns, camps, unresolved, params)
        outputs.rows.update(input=len(rows), camps=len(camps), unresolved=len(unresolved))
    report = {"rows": len(rows), "camps": len(camps), "unresolved": len(unresolved)}
    report |= {f"class_{name}": count for name, count in by_class.items()}
    return report


def write_layers(
    outputs: io.OutputSet,
    columns: Sequence[str],
    camps: Sequence[Placed],
    unresolved: Sequence[Placed],
    params: ExportParams,
) -> dict[str, int]:
    """Write every export file into the set's folder; return the rows of each class."""
    out = outputs.folder
    out_columns = io.merge_columns(columns, EXPORT_COLUMNS)
    camps_frame = points_frame(camps, out_columns)
    table = attributes_frame(unresolved, [*out_columns, REASON_COLUMN])
    write_geopackage(out / "camps.gpkg", camps_frame, table, params)
    io.write_geojson(out / "camps.geojson", camps_frame, geometry_type="Point")
    by_class = write_by_class(out / "by_class", camps_frame)
    del camps_frame, table  # a register's frames are large; what follows needs neither
    io.write_feature_collection(out / "camps.lpf.json", linked_places(camps, params))
    io.write_csv(
        out / "unresolved.csv",
        [*out_columns, REASON_COLUMN],
        [p.row | _added(p) | {REASON_COLUMN: p.reason} for p in unresolved],
    )
    outputs.add(out / "camps.gpkg", out / "camps.geojson", out / "camps.lpf.json")
    outputs.add(out / "unresolved.csv", *(out / "by_class" / f"{k}.geojson" for k in by_class))
    if params.preview:
        io.write_figure(out / "map.png", preview(camps, io.read_boundaries(), params.title))
        outputs.add(out / "map.png")
    return by_class


def prepare(rows: Sequence[dict[str, str]], source: Path) -> list[Placed]:
    """Check every row and place it; sorted by record id so reruns give the same files."""
    seen: dict[str, int] = {}
    placed: list[Placed] = []
    for number, row in enumerate(rows, start=2):
        record_id = row["record_id"].strip()
        if not record_id:
            raise InputDataError(
                f"{source}: row {number}, column record_id: empty: "
                "run the transliterate stage, which gives every row an id"
            )
        if record_id in seen:
            raise InputDataError(
                f"{source}: row {number}, column record_id: '{record_id}' repeats row "
                f"{seen[record_id]}: each row needs its own id"
            )
        seen[record_id] = number
        placed.append(_place(row, f"{source}: row {number}"))
    return sorted(placed, key=lambda p: p.record_id)


def _place(row: dict[str, str], where: str) -> Placed:
    """Check one row's values and decide where it goes."""
    decision = _decision(row["decision"], where)
    for column in ("score", "uncertainty_km"):
        _real(row.get(column, ""), where, column)
    _integer(row.get("detainees", ""), where, "detainees")
    klass, basis = _symbol_class(row, where)
    point = _point(row, where)
    reason = ""
    if decision not in PLACED:
        reason = "decision is unresolved: no place matched the name"
    elif point is None:
        reason = f"decision is {decision.value} but the geocode stage gave no point"
    certainty = row.get("certainty", "").strip()
    if certainty and certainty not in {c.value for c in Certainty}:
        raise InputDataError(
            f"{where}, column certainty: '{certainty}' is not one of "
            f"{', '.join(c.value for c in Certainty)}"
        )
    return Placed(row, klass, basis, label_for(row), point if not reason else None, reason)


def _decision(value: str, where: str) -> Decision:
    try:
        return Decision(value.strip())
    except ValueError:
        raise InputDataError(
            f"{where}, column decision: '{value}' is not one of "
            f"{', '.join(d.value for d in Decision)}: rerun the reconcile stage"
        ) from None


def _real(value: str, where: str, column: str) -> float | None:
    """A finite float, or ``None`` for an empty cell."""
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InputDataError(f"{where}, column {column}: '{value}' is not a number")
    return number


def _integer(value: str, where: str, column: str) -> int | None:
    from pipeline.records import parse_detainees

    try:
        return parse_detainees(value)
    except ValueError:
        raise InputDataError(
            f"{where}, column {column}: '{value}' is not a count: write digits such as 12,000"
        ) from None


def _symbol_class(row: dict[str, str], where: str) -> tuple[SymbolClass, str]:
    """The row's class (DESIGN.md: printed class, else the sourced count's) and its basis."""
    printed = row.get("symbol_class", "").strip()
    count = row.get("detainees", "")
    try:
        klass = classify(printed, count)
    except ValueError:
        raise InputDataError(
            f"{where}, column symbol_class: '{printed}' is not one of "
            f"{', '.join(c.value for c in SymbolClass)}"
        ) from None
    if printed and printed != SymbolClass.UNKNOWN:
        return klass, "printed on the map"
    if klass is not SymbolClass.UNKNOWN:
        return klass, "detainee count"
    return klass, "none"


def _point(row: dict[str, str], where: str) -> tuple[float, float] | None:
    lat = _real(row["lat"], where, "lat")
    lon = _real(row["lon"], where, "lon")
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise InputDataError(f"{where}: lat and lon must both be given or both be empty")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputDataError(
            f"{where}: lat {lat}, lon {lon} is off the globe: are lat and lon swapped?"
        )
    return lon, lat


def label_for(row: dict[str, str]) -> str:
    """The map label: the ministry map's number, else the place name, else the katakana.

    >>> label_for({"map_no": "", "place_name": "Chita", "katakana": "チタ"})
    'Chita'
    >>> label_for({"map_no": "12", "place_name": "Chita", "katakana": "チタ"})
    '12'
    """
    for column in ("map_no", "place_name", "katakana"):
        value = row.get(column, "").strip()
        if value:
            return value
    return ""


def check_partition(
    rows: Sequence[dict[str, str]], camps: Sequence[Placed], unresolved: Sequence[Placed]
) -> None:
    """Every input row exactly once across camps and unresolved (DESIGN.md's promise)."""
    ids = [p.record_id for p in (*camps, *unresolved)]
    given = sorted(row["record_id"].strip() for row in rows)
    if sorted(ids) != given or len(set(ids)) != len(ids):
        raise AssertionError("export lost or repeated a row: camps + unresolved != input")


def _added(placed: Placed) -> dict[str, str]:
    return {
        "symbol_class": placed.symbol_class.value,
        "class_basis": placed.class_basis,
        "label": placed.label,
    }


def _typed(placed: Sequence[Placed], columns: Sequence[str]) -> Any:
    """A DataFrame with a field type per column: Int64 integers, float64 reals, text."""
    import pandas as pd

    records = [{name: (p.row | _added(p)).get(name, "") for name in columns} for p in placed]
    for record, p in zip(records, placed, strict=True):
        if REASON_COLUMN in columns:
            record[REASON_COLUMN] = p.reason
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    for name in columns:
        if name in INTEGER_COLUMNS:
            values = [_integer(v, "", name) for v in frame[name]]
            frame[name] = pd.array(values, dtype="Int64")
        elif name in REAL_COLUMNS:
            frame[name] = [_real(v, "", name) for v in frame[name]]
            frame[name] = frame[name].astype("float64")
        else:
            frame[name] = frame[name].astype(object)
    return frame


def points_frame(camps: Sequence[Placed], columns: Sequence[str]) -> Any:
    """The ``camps`` layer: attributes with their types and a WGS84 point per row."""
    import geopandas
    from shapely.geometry import Point

    points = [Point(p.point) for p in camps if p.point is not None]
    return geopandas.GeoDataFrame(_typed(camps, columns), geometry=points, crs="EPSG:4326")


def attributes_frame(unresolved: Sequence[Placed], columns: Sequence[str]) -> Any:
    """The ``unresolved`` layer: attributes only, no geometry."""
    return _typed(unresolved, columns)


def metadata(params: ExportParams, count: int) -> style.LayerMetadata:
    """The ``camps`` layer's metadata: title, abstract (NOTE 2), sources, GeoNames credit."""
    abstract = (
        f"{count} places where Japanese prisoners of war and internees were held in the "
        "USSR and Mongolia after 1945, from the katakana names of the Japanese Ministry "
        "of Health and Welfare's internment map. As NOTE 2 of that map says, the symbols "
        "show the principal area of a labour camp location, not the exact site of a camp. "
        "Symbols follow the map's legend (NOTE 1) by number detained; grey means no class "
        "is attested. Rows with a dashed orange outline are still under review. " + geonames.CREDIT
    )
    return style.LayerMetadata(
        identifier="camps",
        title=params.title,
        abstract=abstract,
        rights=[geonames.CREDIT],
        licenses=["GeoNames data: CC BY 4.0"],
        sources=MAP_SOURCES,
        keywords=["Siberian internment", "prisoners of war", "Japan", "USSR", "Mongolia"],
    )


def write_geopackage(target: Path, camps: Any, table: Any, params: ExportParams) -> None:
    """camps.gpkg: the styled point layer and the attributes-only unresolved layer."""
    meta = metadata(params, len(camps))
    qml = style.build_qml('"label"', font=params.label_font)
    layers = [
        io.GpkgLayer(
            name="camps",
            frame=camps,
            identifier=params.title,
            description=meta.abstract,
            style_qml=qml,
            style_name="ministry map legend",
            metadata_xml=style.build_qmd(meta),
            geometry_type="Point",
        ),
        io.GpkgLayer(
            name="unresolved",
            frame=table,
            identifier="Camp names not placed on the map",
            description="Rows with no place or no point; see the unresolved_reason column.",
        ),
    ]
    io.write_gpkg(target, layers)


def write_by_class(folder: Path, camps: Any) -> dict[str, int]:
    """One GeoJSON per legend class, all five, empty ones as empty FeatureCollections."""
    counts: dict[str, int] = {}
    for klass in LEGEND:
        subset = camps[camps["symbol_class"] == klass.value]
        io.write_geojson(folder / f"{klass.value}.geojson", subset, geometry_type="Point")
        counts[klass.value] = len(subset)
    return counts


def preview(camps: Sequence[Placed], boundaries: Any, title: str) -> Any:
    """The static preview figure (``map.png``) of the placed rows."""
    points = [
        style.PreviewPoint(
            p.point[0],
            p.point[1],
            p.symbol_class,
            p.row.get("map_no", "").strip()
            or p.row.get("place_name", "").strip()
            or p.row.get("romaji", "").strip()
            or p.label,
            p.row["decision"].strip() == Decision.REVIEW,
        )
        for p in camps
        if p.point is not None
    ]
    points = list(dict.fromkeys(points))  # a register repeats its places: draw each once
    credit = (
        "Outlines: Natural Earth 1:110m, present-day borders (public domain). "
        + geonames.CREDIT
        + " Symbols show the principal area of a camp (NOTE 2 of the ministry map)."
    )
    return style.draw_preview(points, boundaries, title, credit)


# --- Linked Places Format ---------------------------------------------------------------

_URL = re.compile(r"https?://\S+")


def citations(text: str) -> list[dict[str, str]]:
    """LPF citations from a source cell: each URL becomes ``@id``, other text a label.

    >>> citations("https://a.org/1 ; Kuznetsov 1997")
    [{'label': 'https://a.org/1', '@id': 'https://a.org/1'}, {'label': 'Kuznetsov 1997'}]
    """
    found: list[dict[str, str]] = []
    for part in re.split(r"\s;\s|\s\|\s|\n", text):
        part = part.strip()
        if not part:
            continue
        match = _URL.fullmatch(part)
        found.append({"label": part, "@id": part} if match else {"label": part})
    return found


def geonames_id(place_id: str) -> str | None:
    """The GeoNames id of a ``gn:`` place id.

    >>> geonames_id("gn:2025339"), geonames_id("chita-1945")
    ('2025339', None)
    """
    return place_id[3:] if place_id.startswith("gn:") and place_id[3:].isdigit() else None


def _geonames_citation(place_id: str) -> list[dict[str, str]]:
    gid = geonames_id(place_id)
    if gid is None:
        return []
    return [{"label": f"GeoNames {gid} (CC BY 4.0)", "@id": geonames.URI.format(gid)}]


def _names(row: dict[str, str]) -> list[dict[str, Any]]:
    """Names with language tags: the map's katakana and variants, romaji, the place name."""
    cited = citations(row.get("source", ""))
    names: list[dict[str, Any]] = [
        {"toponym": row["katakana"].strip(), "lang": "ja", "citations": cited}
    ]
    variants = re.split(r"\s*/\s*|\s*\|\s*", row.get("katakana_variants", ""))
    for variant in (v.strip() for v in variants):
        if variant and variant != names[0]["toponym"]:
            names.append({"toponym": variant, "lang": "ja", "citations": cited})
    if row.get("romaji", "").strip():
        names.append({"toponym": row["romaji"].strip(), "lang": "ja-Latn", "citations": cited})
    place_name = row.get("place_name", "").strip()
    if place_name:
        geo = _geonames_citation(row.get("place_id", "")) or citations(
            row.get("geocode_source", "")
        )
        names.append({"toponym": place_name, "lang": "en", "citations": geo})
    return names


def country_codes(row: dict[str, str], point: tuple[float, float]) -> list[str]:
    """ISO alpha-2 code of the place: the reconciled candidate's, else the point's.

    The point's country is the one every stage uses (:func:`pipeline.area.country_of`,
    the nearest GeoNames place), so a coastal point that a coarse coastline misses
    still has one (WHG refuses a feature with empty ``ccodes``).

    >>> country_codes({"candidates": '[{"id": "gn:1", "country": "RU"}]', "place_id": "gn:1"},
    ...               (113.5, 52.0))
    ['RU']
    >>> country_codes({}, (140.28, 48.97))  # Sovetskaya Gavan, on the coast
    ['RU']
    """
    code = _candidate_country(row.get("candidates", ""), row.get("place_id", ""))
    return [code or area.country_of(point[1], point[0])]


@functools.lru_cache(maxsize=65_536)
def _candidate_country(candidates_json: str, place_id: str) -> str:
    # A register repeats its places many times: parse each distinct cell once.
    try:
        candidates = json.loads(candidates_json or "[]")
    except json.JSONDecodeError:
        candidates = []
    for candidate in candidates if isinstance(candidates, list) else []:
        if isinstance(candidate, dict) and candidate.get("id") == place_id:
            for key in ("country", "country_code", "countrycode", "ccode"):
                code = str(candidate.get(key, "")).strip().upper()
                if len(code) == 2 and code.isalpha():
                    return code
    return ""


def lpf_feature(placed: Placed, params: ExportParams) -> dict[str, Any]:
    """One Linked Places feature. No ``when``: the input has no dated span per camp."""
    row, point = placed.row, placed.point
    assert point is not None
    title = row.get("place_name", "").strip() or row.get("romaji", "").strip() or row["katakana"]
    certainty = row.get("certainty", "").strip() or Certainty.UNCERTAIN.value
    geometry_citations = _geonames_citation(row.get("place_id", "")) or citations(
        row.get("geocode_source", "")
    )
    feature: dict[str, Any] = {
        "@id": params.lpf_base_uri + placed.record_id,
        "type": "Feature",
        "properties": {
            "title": title,
            "ccodes": country_codes(row, point),
            "symbol_class": placed.symbol_class.value,
            "decision": row["decision"].strip(),
        },
        "names": _names(row),
        "types": [{"label": "labour camp for Japanese prisoners of war (principal area)"}],
        "geometry": {
            "type": "GeometryCollection",
            "geometries": [
                {
                    "type": "Point",
                    "coordinates": [round(point[0], 6), round(point[1], 6)],
                    "certainty": certainty,
                    "citations": geometry_citations,
                }
            ],
        },
    }
    gid = geonames_id(row.get("place_id", ""))
    if gid is not None:
        feature["links"] = [{"type": "closeMatch", "identifier": f"gn:{gid}"}]
    return feature


def linked_places(camps: Sequence[Placed], params: ExportParams) -> dict[str, Any]:
    """The Linked Places FeatureCollection of every placed row (for the World Historical
    Gazetteer)."""
    return {
        "type": "FeatureCollection",
        "@context": LPF_CONTEXT,
        "title": params.title,
        "attribution": geonames.CREDIT,
        "features": (lpf_feature(p, params) for p in camps),
    }
