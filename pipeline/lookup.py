"""``camps lookup``: where a raw katakana name is, and how sure, as the pipeline would say.

A name typed at the terminal has no transliterate columns: it is transliterated
first by the transliterate stage's own function with the ``transliterate`` params
section, then reconciled with the ``reconcile`` section, so that what lookup says
is what ``camps run`` would write for the same cell (``transliterate.beam`` and
``top_k`` included). The same two steps serve :mod:`pipeline.evaluate`.

It also says where the name is (:class:`Where`): the place, its Cyrillic name,
its region of 1945 and country, the point with its certainty and radius as the
geocode stage would give them (the geocode stage's own offline functions), a
``geo:`` URI (RFC 5870) and an OpenStreetMap link, in English or Japanese words.

This module returns data; :mod:`pipeline.cli` prints it. It may import the
transliterate, reconcile and geocode stages (it is a tool over them), never click.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from pipeline import geocode as gc
from pipeline import overrides as ov
from pipeline import reconcile as rc
from pipeline import transliterate as tr
from pipeline.errors import ParamsError
from pipeline.names import script_of
from pipeline.records import Certainty, Decision

#: Certainty in words, per output language.
CERTAINTY_WORDS = {
    "en": {
        Certainty.CERTAIN: "certain",
        Certainty.LESS_CERTAIN: "less certain",
        Certainty.UNCERTAIN: "uncertain",
    },
    "ja": {
        Certainty.CERTAIN: "確実",
        Certainty.LESS_CERTAIN: "やや不確実",
        Certainty.UNCERTAIN: "不確実",
    },
}
#: The headings of the text answer, per language.
WORDS = {
    "en": {
        "place": "place",
        "cyrillic": "Cyrillic",
        "region": "region",
        "country": "country",
        "point": "point",
        "certainty": "certainty",
        "radius": "within about {km} km of the point",
        "decision": "decision",
        "nowhere": "no place: nothing in the gazetteer is near this name",
        "review": "best guess, to review (camps review)",
    },
    "ja": {
        "place": "地名",
        "cyrillic": "キリル文字",
        "region": "地域",
        "country": "国",
        "point": "座標",
        "certainty": "確からしさ",
        "radius": "この点から半径約{km} km以内",
        "decision": "判定",
        "nowhere": "該当なし: 地名辞典にこの名に近い地名がありません",
        "review": "最有力候補 (要確認: camps review)",
    },
}
LANGUAGES = tuple(WORDS)


@dataclasses.dataclass(frozen=True)
class Where:
    """Where a looked-up name is, as the geocode stage would place it."""

    place_id: str
    place: str
    cyrillic: str
    region: str
    country: str
    lat: float
    lon: float
    certainty: Certainty
    radius_km: float
    method: str

    @property
    def geo_uri(self) -> str:
        """RFC 5870 ``geo:`` URI with the radius as its uncertainty (in metres).

        >>> Where("a", "Chita", "Чита", "", "RU", 52.03, 113.5, Certainty.CERTAIN, 8.0,
        ...       "gazetteer").geo_uri
        'geo:52.03000,113.50000;u=8000'
        """
        return f"geo:{self.lat:.5f},{self.lon:.5f};u={round(self.radius_km * 1000)}"

    @property
    def osm_url(self) -> str:
        """An OpenStreetMap link centred on the point, zoomed to about the radius."""
        zoom = 13 if self.radius_km <= 5 else 11 if self.radius_km <= 20 else 8
        return (
            f"https://www.openstreetmap.org/?mlat={self.lat:.5f}&mlon={self.lon:.5f}"
            f"#map={zoom}/{self.lat:.5f}/{self.lon:.5f}"
        )

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON of the place (beside the reconciliation API's ``result``)."""
        return {
            "place_id": self.place_id,
            "place": self.place,
            "cyrillic": self.cyrillic,
            "region": self.region,
            "country": self.country,
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "certainty": str(self.certainty),
            "certainty_words": CERTAINTY_WORDS[lang][self.certainty],
            "radius_km": round(self.radius_km, 1),
            "radius_words": WORDS[lang]["radius"].format(km=f"{self.radius_km:g}"),
            "geocode_method": self.method,
            "geo_uri": self.geo_uri,
            "osm_url": self.osm_url,
        }


def query_of(
    katakana: str, model: tr.Model, params: tr.TransliterateParams, region: str = ""
) -> rc.Query:
    """The reconcile query of a raw cell, transliterated by the transliterate stage first.

    ``model`` is the transliteration model (:func:`pipeline.transliterate.default_model`
    for the stage's; a held-out one to measure names it never saw).

    ``region`` is a raw file's English ``region`` column (1945 terms); it adds to
    the katakana prefix (チタ州…), as in :func:`pipeline.reconcile.query_of_row`.
    """
    found = tr.transliterate_name(katakana, model, params)
    return rc.make_query(
        katakana,
        region_hint="|".join(h for h in (found.parts.region_hint, region.strip()) if h),
        cyrillic=found.cyrillic,
        latin=found.latin,
        romaji=found.romaji,
    )


@dataclasses.dataclass(frozen=True)
class Lookup:
    """What the pipeline says about one name: its query, outcome and hinted regions."""

    name: str
    query: rc.Query
    outcome: rc.Outcome
    #: ids of the 1945 units that the name's region hint names (none without a hint)
    regions: tuple[str, ...]
    #: where the name is (None when no place and no point was found, or not asked)
    where: Where | None = None

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON of ``camps lookup --json``: one query's answer in the shape of the
        reconciliation API (``result``: the candidates), with the reconcile columns
        and, under ``where``, the place."""
        columns = self.outcome.columns()
        candidates = json.loads(columns["candidates"])
        return {
            "result": candidates,
            "query": self.name,
            "key": self.query.key,
            "region_hint": self.query.region_hint,
            "cyrillic_candidates": list(self.query.cyrillic),
            **columns,
            "score": round(self.outcome.score, 4),
            "candidates": candidates,
            "where": self.where.as_dict(lang) if self.where else None,
        }


def lookup(
    name: str,
    index: rc.Index,
    overrides: Sequence[ov.Override],
    model: tr.Model,
    transliterate_params: tr.TransliterateParams,
    reconcile_params: rc.ReconcileParams,
    top: int = 10,
    geocoder: gc.OfflinePlaces | None = None,
) -> Lookup:
    """Ranked candidates with their per-feature values for one name (``camps lookup``).

    An override by katakana is applied, as the stage would; ``top`` candidates are
    kept. With ``geocoder`` (the offline one over ``index``'s gazetteer), the
    answer says where the name is (:func:`where_of`).
    """
    if top < 1:
        raise ParamsError(f"--top must be at least 1, got {top}")
    if not name.strip():
        raise ParamsError("NAME is empty: give a katakana name such as ライチハ")
    query = query_of(name, model, transliterate_params)
    wide = dataclasses.replace(reconcile_params, top_k=top)
    outcome = rc.resolve(query, index, wide)
    row = {"katakana": name, "region_hint": query.region_hint}
    override = ov.find_row(overrides, row)
    if override is not None:
        outcome = rc.apply_override(outcome, override, index, wide)
    regions = tuple(r.region_id for r in rc.hinted_regions(query.region_hint, index))
    where = None
    if geocoder is not None:
        where = where_of(name, query, outcome, override, geocoder)
    return Lookup(name, query, outcome, regions, where)


def where_of(
    name: str,
    query: rc.Query,
    outcome: rc.Outcome,
    override: ov.Override | None,
    geocoder: gc.OfflinePlaces,
) -> Where | None:
    """The place and point of a looked-up name, by the geocode stage's offline rules.

    An override's own point wins; else the gazetteer's point of the place (or of
    the region, for a name that is only a region), its radius widened by the
    reading's doubt; a review answer is at most ``less-certain``, as in the
    geocode stage.
    """
    row = outcome.columns() | {
        "katakana": name,
        "katakana_normalized": query.key,
        "region_hint": query.region_hint,
        "cyrillic_candidates": "|".join(query.cyrillic),
        "camp_no_hint": gc.camp_number({"katakana": name}),
    }
    point = gc.row_point(row, override, geocoder)
    if point is None:
        return None
    gazetteer = geocoder.gazetteer
    place = gazetteer.places.get(outcome.place_id or gc.best_place_id(row))
    region = gazetteer.regions.get(place.region_id) if place else None
    matched = next((c.matched for c in outcome.candidates if c.place_id == outcome.place_id), "")
    matched = matched.rsplit(" (", 1)[0].strip()
    cyrillic = matched if matched and script_of(matched) == "Cyrl" else ""
    if not cyrillic and place is not None:
        cyrillic = geocoder.cyrillic_names.get(place.place_id, "")
    return Where(
        place_id=place.place_id if place else "",
        place=place.name if place else (outcome.place_name or name),
        cyrillic=cyrillic,
        region=", ".join(
            dict.fromkeys(
                r for r in ((region.name_1945, region.name_modern) if region else ()) if r
            )
        )
        or (place.admin_1945 if place else ""),
        country=place.country if place else "",
        lat=point.lat,
        lon=point.lon,
        certainty=point.certainty,
        radius_km=point.uncertainty_km,
        method=str(point.method),
    )


def describe(result: Lookup, lang: str = "en") -> list[str]:
    """Where a name is, in words (``camps lookup``'s first lines), English or Japanese."""
    words = WORDS[lang]
    where = result.where
    if where is None:
        return [f"{result.name}: {words['nowhere']}"]
    lines = [
        f"{result.name}: {where.place} ({where.cyrillic or '-'})",
        f"  {words['region']}: {where.region or '-'}; {words['country']}: {where.country or '-'}",
        f"  {words['point']}: {where.lat:.5f}, {where.lon:.5f}  {where.geo_uri}",
        f"  {words['certainty']}: {CERTAINTY_WORDS[lang][where.certainty]}, "
        + words["radius"].format(km=f"{where.radius_km:g}"),
        f"  {where.osm_url}",
    ]
    if result.outcome.decision is Decision.REVIEW:
        lines.append(f"  {words['decision']}: {words['review']}")
    return lines
