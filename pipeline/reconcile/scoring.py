"""Scoring: per-candidate features (W3C reconciliation), scored by the learned model."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping, Sequence
from typing import Any

from rapidfuzz import fuzz, process

from pipeline.area import haversine_km
from pipeline.names import fold_latin
from pipeline.places import DISTRICT_KM, Place, Region
from pipeline.reconcile.index import Index
from pipeline.reconcile.matching import Hit, gather, sharpen
from pipeline.reconcile.model import ScoreModel, terms
from pipeline.reconcile.params import ReconcileParams
from pipeline.reconcile.query import Query, split_list
from pipeline.reconcile.regions import hinted_districts, hinted_regions, lies_inside, reach_share
from pipeline.records import FEATURE_LABELS, in_use_during_internment


class Feature(enum.StrEnum):
    """The per-candidate signals (W3C reconciliation ``features``)."""

    NAME_EXACT = "name_exact"
    KANA = "kana_similarity"
    LATIN = "latin_similarity"
    PARTIAL = "partial_name"
    SOVIET_NAME = "soviet_name"
    REGION = "region"
    FEATURE_TYPE = "feature_type"
    POPULATION = "population"
    CURATED = "curated"
    UNIQUE = "unique"

    @property
    def label(self) -> str:
        """The feature's human-readable name (the 1.0 draft of the API requires one).

        >>> Feature.KANA.label
        'katakana similarity to the Russian name read by Japanese rules'
        """
        return FEATURE_LABELS[str(self)]


def population_prior(population: int) -> float:
    """Population on a log scale, 0 for none and 1 from a million up.

    >>> population_prior(0), population_prior(999_999), round(population_prior(10_000), 2)
    (0.0, 1.0, 0.67)
    """
    return min(1.0, math.log10(population + 1) / 6.0)


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One ranked place for a name, with its per-feature values."""

    place_id: str
    name: str
    score: float
    features: tuple[tuple[Feature, float], ...]
    matched: str
    evidence: float

    def feature(self, which: Feature) -> float:
        """The value of one feature."""
        return dict(self.features)[which]

    def as_w3c(self, match: bool, labels: bool = True) -> dict[str, Any]:
        """The W3C reconciliation API's candidate shape (plus the name that matched).

        With ``labels`` each feature carries ``id``, ``name`` and ``value``, as the
        1.0 draft's result schema requires (0.2 needs only ``id`` and ``value``):
        the service answers so. The stage files keep the 0.2 shape, whose features
        are the same for every row: the labels were half of a reconciled row's bytes.
        """

        def feature(which: Feature, value: float) -> dict[str, Any]:
            named = {"name": which.label} if labels else {}
            return {"id": str(which), **named, "value": round(value, 4)}

        return {
            "id": self.place_id,
            "name": self.name,
            "score": round(self.score, 4),
            "match": match,
            "features": [feature(f, v) for f, v in self.features],
            "description": f"matched {self.matched}",
        }


def _latin_forms(query: Query) -> list[str]:
    """The query's Latin forms compared with a place's Latin names, folded.

    Romaji is a weak form of the name (habarofusuku) but it is all a raw cell may give.
    """
    return [fold_latin(lat) for lat in (*query.latin[:2], query.romaji) if lat]


def _latin_similarity(forms: Sequence[str], place_id: str, index: Index) -> float:
    names = index.latin_by_place.get(place_id, ())
    best = 0.0
    for form in forms:
        found = process.extractOne(form, names, scorer=fuzz.ratio)
        if found is not None:
            best = max(best, found[1] / 100.0)
    return best


_FEATURE_TYPES = {
    "駅": ("station",),
    "炭鉱": ("mine", "coal mine"),
    "鉱山": ("mine",),
    "市": ("city", "town", "populated place"),
    "町": ("town", "populated place", "settlement"),
    "村": ("village", "populated place", "settlement"),
}


def _feature_type_value(hint: str, place: Place) -> float:
    """+1 when a feature word agrees with the place's type, -1 when it contradicts, else 0."""
    wanted = [t for word in split_list(hint) for t in _FEATURE_TYPES.get(word, ())]
    if not wanted or not place.feature_type:
        return 0.0
    kind = place.feature_type.lower()
    return 1.0 if any(w in kind for w in wanted) else -1.0


@dataclasses.dataclass(frozen=True)
class Featured:
    """One place for a name before it is scored: its features and the model's terms."""

    place_id: str
    name: str
    features: tuple[tuple[Feature, float], ...]
    matched: str
    evidence: float
    terms: tuple[float, ...]


def featurize(
    query: Query, hits: Mapping[str, Hit], index: Index, params: ReconcileParams
) -> list[Featured]:
    """The places kept for a name (by name evidence, best first), with their features.

    What :func:`score_hits` scores and what ``camps calibrate`` fits the model on.
    """
    regions = hinted_regions(query.region_hint, index)
    ranked = sorted(hits.items(), key=lambda item: (-item[1].evidence, item[0]))
    kept = ranked[: max(4 * params.top_k, 20)]
    forms = _latin_forms(query)
    latins = [_latin_similarity(forms, place_id, index) for place_id, _ in kept]
    evidences = [
        max(hit.evidence, 0.9 * sharpen(lat)) for (_, hit), lat in zip(kept, latins, strict=True)
    ]
    places = index.gazetteer.places
    region_values = [_region_value(places[place_id], regions, index) for place_id, _ in kept]
    # A district in the hint rules out the namesakes beyond its reach as rivals of the
    # places within it (see _neighbours); a camp's seat, whose area reaches hundreds of
    # km, only orders equal readings (decision.district_first).
    reach = [(d, DISTRICT_KM) for d in hinted_districts(query.region_hint, index, params)]
    ruled_out = [bool(reach) and reach_share(places[pid], reach) > 1.0 for pid, _ in kept]
    uniques, shadows = _neighbours(kept, evidences, ruled_out, index, params)
    out = []
    for (place_id, hit), latin, evidence, unique, shadowed, region in zip(
        kept, latins, evidences, uniques, shadows, region_values, strict=True
    ):
        place = places[place_id]
        soviet = 1.0 if in_use_during_internment(hit.period) else 0.0
        features = (
            (Feature.NAME_EXACT, hit.exact),
            (Feature.KANA, hit.kana),
            (Feature.LATIN, latin),
            (Feature.PARTIAL, 1.0 if hit.partial else 0.0),
            (Feature.SOVIET_NAME, soviet),
            (Feature.REGION, region),
            (Feature.FEATURE_TYPE, _feature_type_value(query.feature_hint, place)),
            (Feature.POPULATION, population_prior(place.population)),
            (Feature.CURATED, 1.0 if place.curated else 0.0),
            (Feature.UNIQUE, unique),
        )
        values = terms({str(f): v for f, v in features}, evidence, shadowed)
        out.append(Featured(place_id, place.name, features, hit.matched, evidence, values))
    return out


def _region_value(place: Place, regions: Sequence[Region], index: Index) -> float:
    """+1 inside a hinted 1945 unit, -1 outside all of them, 0 without a hint."""
    if not regions:
        return 0.0
    inside = any(lies_inside(place, r, index.gazetteer.regions) for r in regions)
    return 1.0 if inside else -1.0


def score_featured(featured: Sequence[Featured], model: ScoreModel) -> list[Candidate]:
    """Score featured places with ``model`` (a distribution over them), best first."""
    scores = model.distribution([model.logit(f.terms) for f in featured])
    out = [
        Candidate(f.place_id, f.name, p, f.features, f.matched, f.evidence)
        for f, p in zip(featured, scores, strict=True)
    ]
    out.sort(key=lambda c: (-c.score, c.place_id))
    return out


def score_hits(
    query: Query, hits: Mapping[str, Hit], index: Index, params: ReconcileParams
) -> list[Candidate]:
    """Turn gathered evidence into ranked, scored candidates (best first).

    The scores are the index's learned model (:mod:`pipeline.reconcile.model`): the
    candidates of a name share one probability, the rest is "none of these".
    """
    if index.model is None:
        raise ValueError("this index was built without a score model (model=None)")
    return score_featured(featurize(query, hits, index, params), index.model)


def _neighbours(
    kept: Sequence[tuple[str, Hit]],
    evidences: Sequence[float],
    ruled_out: Sequence[bool],
    index: Index,
    params: ReconcileParams,
) -> tuple[list[float], list[bool]]:
    """Per place: ``unique`` (1 or 0) and whether a near place has better name evidence.

    An exact match on a name that one place alone bears (Провидения) is surer
    than the same match shared with far-off namesakes or near readings
    (``unique``: no place farther than ``rival_km`` within ``unique_gap`` of its
    evidence); the decision still looks at rivals, this lets the score say so.
    A namesake that the source's district rules out (``ruled_out``: farther than
    :data:`~pipeline.places.DISTRICT_KM` from the centre of the hint's
    トウングコチエンスキー地区) is no rival of a place within it: ベルシーナ・ダランスキー村
    of that district is Вершино-Дарасунский, and Дарасун of Karymsky district does not
    share its name.
    A place within ``rival_km`` of one with better evidence (ties: the curated
    one, then the larger, then the smaller id) is *shadowed*: a second entry of
    the same town, or a lesser neighbour, that must not take the town's probability.
    """
    places = index.gazetteer.places
    # Better entry: more name evidence, then curated, then more people, then the id.
    order = sorted(range(len(kept)), key=lambda k: kept[k][0], reverse=True)
    by_id = {k: n for n, k in enumerate(order)}  # a larger number: a smaller id
    rank = [
        (e, places[pid].curated, places[pid].population, by_id[k])
        for k, ((pid, _), e) in enumerate(zip(kept, evidences, strict=True))
    ]
    uniques, shadows = [], []
    for i, (place_id, _) in enumerate(kept):
        unique, shadowed = 1.0, False
        for j, (other_id, _) in enumerate(kept):
            near_evidence = (
                unique
                and evidences[j] >= evidences[i] - params.unique_gap
                and (ruled_out[i] or not ruled_out[j])
            )
            better = not shadowed and rank[j] > rank[i]
            if j == i or not (near_evidence or better):
                continue  # the distance (the costly part) only when it decides something
            far = place_distance_km(places[place_id], places[other_id]) > params.rival_km
            if far and near_evidence:
                unique = 0.0
            elif not far and better:
                shadowed = True
        uniques.append(unique)
        shadows.append(shadowed)
    return uniques, shadows


def candidates(query: Query, index: Index, params: ReconcileParams) -> list[Candidate]:
    """Ranked candidates for one query."""
    return score_hits(query, gather(query, index, params), index, params)


def place_distance_km(a: Place, b: Place) -> float:
    if None in (a.lat, a.lon, b.lat, b.lon):
        return math.inf
    return haversine_km(a.lat, a.lon, b.lat, b.lon)  # type: ignore[arg-type]
