"""Linked Places Format (camps.lpf.json) for the World Historical Gazetteer."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from pipeline import area, geonames
from pipeline.export.params import ExportParams
from pipeline.export.rows import Placed
from pipeline.records import Certainty, parse_candidates

LPF_CONTEXT = (
    "https://raw.githubusercontent.com/LinkedPasts/linked-places/master/"
    "linkedplaces-context-v1.1.jsonld"
)

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
        candidates = parse_candidates(candidates_json)
    except ValueError:
        candidates = []  # checked with the row's number in rows.prepare
    for candidate in candidates:
        if candidate.get("id") == place_id:
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
