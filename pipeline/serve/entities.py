"""The places the service answers about: types, descriptions, extension values, LPF, preview.

Built once from the loaded gazetteer (:class:`Entities`) and kept by the
:class:`~pipeline.serve.service.Service`: a place's Cyrillic name, its 1945
region, its point with the certainty the geocode stage gives it, and the
symbol classes the published rows attest for it.
"""

from __future__ import annotations

import bisect
import html
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from pipeline import export, geocode, geonames
from pipeline.names import fold_cyrillic, fold_latin, normalize, romanize, script_of
from pipeline.places import Gazetteer, Place

#: The entity types (``defaultTypes`` of the manifest, ``type`` of a candidate).
TYPES = {
    "camp_place": "camp place (curated historical gazetteer)",
    "settlement": "settlement",
    "station": "railway station",
    "mine": "mine",
}

#: The data extension properties: id -> (name, description).
PROPERTIES = {
    "lat": ("latitude", "WGS84 latitude of the place's point"),
    "lon": ("longitude", "WGS84 longitude of the place's point"),
    "name_cyrillic": ("Cyrillic name", "the place's Russian name (GeoNames or curated)"),
    "name_latin": ("Latin name", "the place's name in Latin letters"),
    "region_1945": ("region in 1945", "the krai, oblast or SSR of 1945"),
    "country": ("country", "ISO 3166-1 alpha-2 code of today's country"),
    "geonames_id": ("GeoNames id", "the GeoNames id of the place, where it has one"),
    "certainty": ("certainty", "certain, less-certain or uncertain (as the geocode stage)"),
    "uncertainty_km": ("uncertainty (km)", "how far the camp may lie from the point"),
    "symbol_class": ("symbol class", "the map's detainee symbol, where a published row has one"),
}


def types_of(place: Place) -> tuple[str, ...]:
    """The entity types of a place.

    >>> from pipeline.places import Place
    >>> types_of(Place("x", "X", "station", "RU", "", "", 1.0, 2.0, 0, "", "", True, "", ""))
    ('camp_place', 'station')
    """
    kind = place.feature_type.lower()
    found = ["camp_place"] if place.curated or kind == "camp" else []
    if "station" in kind:
        found.append("station")
    elif "mine" in kind:
        found.append("mine")
    elif kind != "camp":
        found.append("settlement")
    return tuple(found)


def suggest_key(text: str) -> str:
    """The prefix-search form of a name in any script (case and diacritics folded).

    >>> suggest_key("Хабаровск") == suggest_key("хабаровск"), suggest_key("Chita")
    (True, 'chita')
    """
    script = script_of(text)
    if script == "Latn":
        return fold_latin(text)
    if script == "Cyrl":
        return fold_cyrillic(text)
    return normalize(text).replace("・", "").replace(" ", "")


class Entities:
    """The gazetteer's places as the service shows them.

    The suggest index (every name of every place, folded, sorted) takes about
    2 s to build: it is built on the first suggest request, not at start-up.
    """

    def __init__(
        self, gazetteer: Gazetteer, symbol_classes: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        self.places: Mapping[str, Place] = gazetteer.places
        self.region_names = {r.region_id: r.name_1945 for r in gazetteer.regions.values()}
        self.symbol_classes = {k: tuple(sorted(set(v))) for k, v in (symbol_classes or {}).items()}
        self._names = gazetteer.names
        self._keys: tuple[tuple[str, str], ...] | None = None
        self._lock = threading.Lock()
        cyrillic: dict[str, str] = {}
        ranked: dict[str, int] = {}
        for name in gazetteer.names:
            if name.script == "Cyrl":
                # Russian before other Cyrillic, a name of today before one of a period.
                rank = (0 if name.lang.startswith("ru") else 2) + (1 if name.period else 0)
                if rank < ranked.get(name.place_id, 9):
                    ranked[name.place_id] = rank
                    cyrillic[name.place_id] = name.name
        self.cyrillic: Mapping[str, str] = cyrillic

    def keys(self) -> tuple[tuple[str, str], ...]:
        """(suggest key, place id) of every name, sorted: a prefix is a bisect away."""
        with self._lock:
            if self._keys is None:
                keys: set[tuple[str, str]] = set()
                for name in self._names:
                    key = suggest_key(name.name)
                    if key and name.place_id in self.places:
                        keys.add((key, name.place_id))
                        if name.script == "Kana":  # romaji typed for a katakana name
                            keys.add((suggest_key(romanize(name.name)), name.place_id))
                for place in self.places.values():
                    keys.add((suggest_key(place.name), place.place_id))
                self._keys = tuple(sorted(keys))
            return self._keys

    def region_1945(self, place: Place) -> str:
        """The place's unit of 1945: the curated wording, else its region's name."""
        return place.admin_1945 or self.region_names.get(place.region_id, "")

    def description(self, place: Place) -> str:
        """Region, country and Cyrillic name, as a candidate's ``description``."""
        parts = [self.region_1945(place), place.country, self.cyrillic.get(place.place_id, "")]
        return ", ".join(p for p in parts if p)

    def type_objects(self, place: Place) -> list[dict[str, str]]:
        return [{"id": t, "name": TYPES[t]} for t in types_of(place)]

    def suggest(self, prefix: str, limit: int) -> list[Place]:
        """Places with a name that starts with ``prefix``, most populous first."""
        key = suggest_key(prefix)
        if not key:
            return []
        keys = self.keys()
        start = bisect.bisect_left(keys, (key, ""))
        found: dict[str, Place] = {}
        for at in range(start, len(keys)):
            name_key, place_id = keys[at]
            if not name_key.startswith(key):
                break
            found[place_id] = self.places[place_id]
        ranked = sorted(found.values(), key=lambda p: (not p.curated, -p.population, p.place_id))
        return ranked[:limit]

    def values(self, place: Place) -> dict[str, list[dict[str, Any]]]:
        """Every extension property's values for one place (an empty list: not known)."""
        point = geocode.place_point(place) if _placed(place) else None
        gid = place.geonames_id
        return {
            "lat": [{"float": place.lat}] if place.lat is not None else [],
            "lon": [{"float": place.lon}] if place.lon is not None else [],
            "name_cyrillic": _strs(self.cyrillic.get(place.place_id, "")),
            "name_latin": _strs(place.name),
            "region_1945": _strs(self.region_1945(place)),
            "country": _strs(place.country),
            "geonames_id": _strs(gid),
            "certainty": _strs(str(point.certainty)) if point else [],
            "uncertainty_km": [{"float": point.uncertainty_km}] if point else [],
            "symbol_class": [{"str": c} for c in self.symbol_classes.get(place.place_id, ())],
        }

    def as_json(self, place: Place, base_url: str) -> dict[str, Any]:
        """``/place/{id}``: the place, its names and its extension values, plainly."""
        flat = {
            k: (v[0].get("str", v[0].get("float")) if v else None)
            for k, v in self.values(place).items()
        }
        return {
            "id": place.place_id,
            "uri": f"{base_url}/place/{place.place_id}",
            "name": place.name,
            "type": self.type_objects(place),
            "feature_type": place.feature_type,
            "description": self.description(place),
            **{k: v for k, v in flat.items() if k != "symbol_class"},
            "symbol_classes": list(self.symbol_classes.get(place.place_id, ())),
            "population": place.population,
            "sources": place.sources,
            "attribution": geonames.CREDIT,
        }

    def as_lpf(self, place: Place, base_url: str) -> dict[str, Any]:
        """``/place/{id}?format=lpf``: one Linked Places feature (a FeatureCollection of one)."""
        # The gazetteer joins a place's sources with "|".
        cited = [c for part in place.sources.split("|") for c in export.citations(part)]
        names = [{"toponym": place.name, "lang": "en", "citations": cited}]
        if place.place_id in self.cyrillic:
            names.append(
                {"toponym": self.cyrillic[place.place_id], "lang": "ru", "citations": cited}
            )
        feature: dict[str, Any] = {
            "@id": f"{base_url}/place/{place.place_id}",
            "type": "Feature",
            "properties": {"title": place.name, "ccodes": [place.country] if place.country else []},
            "names": names,
            "types": [{"label": TYPES[t]} for t in types_of(place)],
            "geometry": None,
        }
        if place.lat is not None and place.lon is not None:
            point = geocode.place_point(place)
            feature["geometry"] = {
                "type": "GeometryCollection",
                "geometries": [
                    {
                        "type": "Point",
                        "coordinates": [round(place.lon, 6), round(place.lat, 6)],
                        "certainty": str(point.certainty),
                        "citations": cited,
                    }
                ],
            }
        if place.geonames_id:
            feature["links"] = [{"type": "closeMatch", "identifier": f"gn:{place.geonames_id}"}]
        return {
            "type": "FeatureCollection",
            "@context": export.LPF_CONTEXT,
            "attribution": geonames.CREDIT,
            "features": [feature],
        }

    def preview(self, place: Place) -> str:
        """The small HTML card of OpenRefine's preview: names, region, point."""
        esc = html.escape
        point = (
            f"{place.lat:.4f}, {place.lon:.4f}"
            if place.lat is not None and place.lon is not None
            else "unknown"
        )
        rows = [
            ("Cyrillic", self.cyrillic.get(place.place_id, "") or "unknown"),
            ("region 1945", self.region_1945(place) or "unknown"),
            ("country", place.country or "unknown"),
            ("point", point),
            ("type", ", ".join(TYPES[t] for t in types_of(place))),
        ]
        cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
        return (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>'
            f"{esc(place.name)}</title></head>"
            '<body style="font-family:sans-serif;font-size:12px;margin:4px">'
            f"<b>{esc(place.name)}</b> <small>{esc(place.place_id)}</small>"
            f'<table style="font-size:12px">{cells}</table></body></html>'
        )


def _placed(place: Place) -> bool:
    return place.lat is not None and place.lon is not None


def _strs(value: str) -> list[dict[str, Any]]:
    return [{"str": value}] if value else []


def symbol_classes_of(rows: Iterable[Mapping[str, str]]) -> dict[str, list[str]]:
    """place_id -> the symbol classes that published rows tied to it attest (not ``unknown``).

    Only rows whose place is decided (``auto`` or ``override``) count: a row still
    waiting for review says nothing yet about its candidate.
    """
    found: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.get("decision", "") not in ("auto", "override"):
            continue
        klass = row.get("symbol_class", "").strip()
        place_id = row.get("place_id", "").strip()
        if place_id and klass and klass != "unknown":
            found[place_id].append(klass)
    return dict(found)
