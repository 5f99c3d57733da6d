"""``datapackage.json``: a Frictionless Data Package of every file the export writes.

Each resource gives its path, media type, size and SHA-256, so
``frictionless validate output/datapackage.json`` checks every file is the one
described; the two tables (``unresolved.csv``, ``camps.lp.tsv``) carry a Table
Schema with a type per field, so the validator also reads each row. Licences are
those of the data the files hold: GeoNames (CC BY 4.0) for names and points,
Natural Earth (public domain) for the preview's outlines, OpenStreetMap (ODbL)
only when a point came from Nominatim. The manifest is not listed: it seals this
file and so is written after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pipeline import geonames, io
from pipeline.export.candidates import TABLE_INTEGERS, TABLE_REALS, Candidates
from pipeline.export.rows import REAL_COLUMNS

GEONAMES_LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "GeoNames place names and points: Creative Commons Attribution 4.0",
}
NATURAL_EARTH_LICENSE = {
    "name": "public-domain",
    "path": "https://www.naturalearthdata.com/about/terms-of-use/",
    "title": "Natural Earth outlines in map.png: public domain",
}
OSM_LICENSE = {
    "name": "ODbL-1.0",
    "path": "https://opendatacommons.org/licenses/odbl/1-0/",
    "title": "OpenStreetMap data (Nominatim points): Open Database License",
}
#: (suffix) -> (Frictionless type, format, media type).
KINDS = {
    ".gpkg": ("file", "gpkg", "application/geopackage+sqlite3"),
    ".geojson": ("json", "geojson", "application/geo+json"),
    ".json": ("json", "json", "application/ld+json"),
    ".csv": ("table", "csv", "text/csv"),
    ".tsv": ("table", "tsv", "text/tab-separated-values"),
    ".png": ("file", "png", "image/png"),
    ".xlsx": (
        "file",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ".html": ("file", "html", "text/html"),
    ".js": ("file", "js", "text/javascript"),
    ".css": ("file", "css", "text/css"),
    ".txt": ("file", "txt", "text/plain"),
    ".md": ("file", "md", "text/markdown"),
}
DESCRIPTIONS = {
    "camps.gpkg": "GeoPackage 1.2: layers uncertainty (geodesic circles), camps (points, "
    "QGIS default style of the ministry map's legend), places (one point per place), "
    "unresolved (no geometry) and candidates (each name's ranked candidates, no geometry)",
    "candidates.csv": "Each name's ranked candidates (place, score, features), once per "
    "name: the rows of camps.geojson and unresolved join to it on name_key",
    "camps.geojson": "The camps layer as RFC 7946 GeoJSON",
    "camps.lpf.json": "Linked Places Format (JSON-LD) for the World Historical Gazetteer",
    "camps.lp.tsv": "LP-TSV v0.5, the World Historical Gazetteer's delimited upload format",
    "unresolved.csv": "Camp names with no place or no point, and the reason",
    "map.png": "Static preview map of the camps",
    "results.csv": "Every input row in its order: the register's columns, then the "
    "readable results (place, Cyrillic, Latin, point, region, country, decision, score, "
    "certainty, radius, best rival); UTF-8 with a BOM for Excel",
    "results.xlsx": "The same results as an Excel workbook (sheets results and about)",
}
TSV_INTEGERS = ("start", "end")
TSV_NUMBERS = ("lon", "lat", "approximation")


def _field(name: str, integers: Sequence[str], numbers: Sequence[str]) -> dict[str, str]:
    kind = "integer" if name in integers else "number" if name in numbers else "string"
    return {"name": name, "type": kind}


def table_schema(
    columns: Sequence[str], integers: Sequence[str] = (), numbers: Sequence[str] = ()
) -> dict[str, Any]:
    """A Table Schema: a type per column, empty cells missing.

    >>> table_schema(["id", "lat"], numbers=["lat"])["fields"]
    [{'name': 'id', 'type': 'string'}, {'name': 'lat', 'type': 'number'}]
    """
    return {
        "fields": [_field(c, integers, numbers) for c in columns],
        "missingValues": [""],
    }


def description(relative: str) -> str:
    """What a published file is.

    >>> description("by_class/small.geojson")
    "The camps of legend class 'small' as RFC 7946 GeoJSON"
    """
    if relative.startswith("site/"):
        return f"The static web map (open site/index.html): {relative.removeprefix('site/')}"
    if relative.startswith("by_class/"):
        klass = relative.removeprefix("by_class/").removesuffix(".geojson")
        return f"The camps of legend class '{klass}' as RFC 7946 GeoJSON"
    return DESCRIPTIONS[relative]


def resource(
    folder: Path, path: Path, description: str, schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One resource: name, path, type, media type, bytes, SHA-256 (and a schema)."""
    relative = path.relative_to(folder).as_posix()
    kind, fmt, media = KINDS.get(path.suffix, ("file", "", "application/octet-stream"))
    if relative.endswith(".lpf.json"):
        fmt = "jsonld"
    item: dict[str, Any] = {
        "name": relative.lower().replace("/", "-").replace("_", "-"),
        "path": relative,
        "type": kind,
        "format": fmt,
        "mediatype": media,
        "encoding": "utf-8",
        "description": description,
        "bytes": path.stat().st_size,
        "hash": f"sha256:{io.file_digest(path)}",
    }
    if kind == "file":
        del item["encoding"]
    elif _starts_with_bom(path):
        item["encoding"] = "utf-8-sig"  # results.csv: Excel needs the BOM to read UTF-8
    if schema is not None:
        item["schema"] = schema
    if fmt == "tsv":
        item["dialect"] = {"delimiter": "\t"}
    return item


def _starts_with_bom(path: Path) -> bool:
    with path.open("rb") as handle:  # the first bytes only: a register's files are large
        return handle.read(3) == b"\xef\xbb\xbf"


def describe(
    folder: Path,
    files: Iterable[Path],
    schemas: dict[str, dict[str, Any]],
    title: str,
    sources: Sequence[tuple[str, str]],
    used_osm: bool,
) -> dict[str, Any]:
    """The Data Package descriptor of ``files`` in ``folder``, in path order."""
    licenses = [GEONAMES_LICENSE, NATURAL_EARTH_LICENSE] + ([OSM_LICENSE] if used_osm else [])
    return {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "japanese-pow-camps-ussr-mongolia",
        "title": title,
        "description": (
            "Camps where Japanese prisoners of war were held in the USSR and Mongolia "
            "after 1945, placed from the katakana names of the Japanese Ministry of "
            "Health and Welfare's map. " + geonames.CREDIT
        ),
        "licenses": licenses,
        "sources": [
            {"title": name, **({"path": ref} if ref.startswith("http") else {})}
            for name, ref in sources
        ],
        "keywords": ["Siberian internment", "prisoners of war", "Japan", "USSR", "Mongolia"],
        "resources": [
            resource(
                folder,
                path,
                description(path.relative_to(folder).as_posix()),
                schemas.get(path.name),
            )
            for path in sorted(files, key=lambda p: p.relative_to(folder).as_posix())
        ],
    }


def unresolved_schema(columns: Sequence[str]) -> dict[str, Any]:
    """unresolved.csv: the geocode stage's columns; ``detainees`` stays text as the
    source wrote it (``12,000``), the reals are numbers."""
    return table_schema(columns, (), REAL_COLUMNS)


def lptsv_schema(columns: Sequence[str]) -> dict[str, Any]:
    return table_schema(columns, TSV_INTEGERS, TSV_NUMBERS)


def candidates_schema(table: Candidates) -> dict[str, Any]:
    """candidates.csv: rank and match are integers, the score and the features numbers;
    each feature column is described in the reconcile stage's words."""
    schema = table_schema(table.columns, TABLE_INTEGERS, [*TABLE_REALS, *table.features])
    for field in schema["fields"]:
        if field["name"] in table.features:
            field["description"] = table.features[field["name"]]
    return schema
