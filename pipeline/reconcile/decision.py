"""Decisions: ``auto``, ``review`` or ``unresolved`` for ranked candidates; overrides win."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from pipeline.names import fold_cyrillic
from pipeline.overrides import Override
from pipeline.places import Place, is_postal
from pipeline.reconcile.index import Index
from pipeline.reconcile.matching import by_ear_places
from pipeline.reconcile.params import ReconcileParams
from pipeline.reconcile.query import Query
from pipeline.reconcile.regions import hint_reach, hinted_regions, reach_share
from pipeline.reconcile.scoring import Candidate, Feature, candidates, place_distance_km
from pipeline.records import Decision


def decide(ranked: Sequence[Candidate], index: Index, params: ReconcileParams) -> Decision:
    """``auto`` only for a high score with no distant rival close behind.

    A rival is a different place more than ``rival_km`` away whose score is within
    ``auto_margin`` of the best, or whose name fits as well while no region hint
    sets the two apart: the same name in several regions is for a human.
    """
    if not ranked or ranked[0].score < params.review_threshold:
        return Decision.UNRESOLVED
    best = ranked[0]
    if best.score < params.auto_threshold:
        return Decision.REVIEW
    places = index.gazetteer.places
    confirmed = best.feature(Feature.REGION) > 0
    for other in ranked[1:]:
        if place_distance_km(places[best.place_id], places[other.place_id]) <= params.rival_km:
            continue
        if _postal_namesake(best, other):
            continue
        if other.score >= best.score - params.auto_margin:
            return Decision.REVIEW
        same_name = other.evidence >= best.evidence - 0.02
        if same_name and not confirmed and other.feature(Feature.REGION) >= 0:
            return Decision.REVIEW
    return Decision.AUTO


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The reconcile columns of one row."""

    place_id: str
    place_name: str
    score: float
    decision: Decision
    candidates: tuple[Candidate, ...]

    def columns(self) -> dict[str, str]:
        """The row's values for RECONCILE_COLUMNS."""
        matched = self.decision in (Decision.AUTO, Decision.OVERRIDE)
        shown = [
            c.as_w3c(matched and c.place_id == self.place_id, labels=False) for c in self.candidates
        ]
        return {
            "place_id": self.place_id,
            "place_name": self.place_name,
            "score": f"{self.score:.4f}",
            "decision": str(self.decision),
            "candidates": json.dumps(shown, ensure_ascii=False),
        }


def resolve(query: Query, index: Index, params: ReconcileParams) -> Outcome:
    """Rank and decide one query (no overrides)."""
    ranked = district_first(query, candidates(query, index, params), index, params)
    decision = decide(ranked, index, params)
    if decision is Decision.AUTO and (
        _foreign_namesake(query, ranked[0], index)
        or rough_point(index.gazetteer.places[ranked[0].place_id])
        or query.flag == "region_only"
        or outside_area(query.region_hint)
        or _near_village(ranked[0], index, params)
        or _unconfirmed_postal(ranked[0])
        or _generic_name(query, ranked[0])
        or _by_ear_only(query, ranked[0], index)
    ):
        decision = Decision.REVIEW
    top = tuple(ranked[: params.top_k])
    if query.flag == "region_only" and decision is Decision.UNRESOLVED:
        # 沿海州, 外蒙古: the name is a region that no town shares; a human sees the
        # region (geocode gives it its centroid and radius), never a guessed town.
        for region in hinted_regions(query.text, index):
            return Outcome(
                f"region:{region.region_id}", region.name_1945, 0.5, Decision.REVIEW, top
            )
    if decision is Decision.UNRESOLVED or not top:
        return Outcome("", "", top[0].score if top else 0.0, Decision.UNRESOLVED, top)
    return Outcome(top[0].place_id, top[0].name, top[0].score, decision, top)


#: Region words of a hint that put the place outside the USSR and Mongolia: Manchuria,
#: China, Korea. A Soviet namesake of a Manchurian camp (ハイラル) is for a human.
OUTSIDE_AREA_WORDS = ("満洲", "満州", "中国", "朝鮮", "Manchuria", "Manchukuo", "China", "Korea")


#: Names that hundreds of places bear (new, old, red, Soviet, October …): matched
#: alone, without a region that confirms the place, they are for a human.
GENERIC_NAMES = frozenset(
    fold_cyrillic(n)
    for n in (
        "Новая",
        "Новый",
        "Новое",
        "Новые",
        "Старая",
        "Старый",
        "Старое",
        "Красная",
        "Красный",
        "Красное",
        "Советская",
        "Советский",
        "Советское",
        "Октябрьский",
        "Октябрьское",
        "Первомайский",
        "Первомайское",
        "Заречный",
        "Заречное",
        "Центральный",
        "Лесной",
        "Горный",
        "Южный",
        "Северный",
        "Восточный",
        "Западный",
        "Речной",
        "Степной",
        "Луговой",
        "Садовый",
        "Полевой",
        "Мирный",
        "Победа",
        "Свобода",
        "Комсомольский",
        "Ленинский",
    )
)


def _generic_name(query: Query, best: Candidate) -> bool:
    """Whether the name read is a common word (Новая) and no region confirms the place."""
    first = fold_cyrillic(query.cyrillic[0]) if query.cyrillic else ""
    return first in GENERIC_NAMES and best.feature(Feature.REGION) <= 0


def district_first(
    query: Query, ranked: list[Candidate], index: Index, params: ReconcileParams
) -> list[Candidate]:
    """Among readings as good as the best, the place inside the hinted district first.

    ベルシーナ・ダランスン reads as well Дарасун (Karymsky district) as Вершино-Дарасунский;
    the source's "トウングコチエンスキー地区" says which: the one within
    :data:`~pipeline.places.DISTRICT_KM` of the district's centre, the nearest first.
    A camp area's seat in the hint (第25地区スレチェンスク) does the same within
    :data:`~pipeline.reconcile.regions.CAMP_AREA_KM`. The score is untouched here (the
    row stays ``review`` while a namesake rivals it).
    """
    if len(ranked) < 2 or "地区" not in query.region_hint:
        return ranked
    near = hint_reach(query.region_hint, index, params)
    if not near:
        return ranked
    places = index.gazetteer.places
    best = ranked[0]
    tied = [c for c in ranked if c.evidence >= best.evidence - 0.02]

    def distance(c: Candidate) -> float:
        return reach_share(places[c.place_id], near)

    inside = sorted((c for c in tied if distance(c) <= 1.0), key=distance)
    if not inside or inside[0].place_id == best.place_id:
        return ranked
    return [inside[0], *(c for c in ranked if c.place_id != inside[0].place_id)]


def _by_ear_only(query: Query, best: Candidate, index: Index) -> bool:
    """Whether the best is reached only by sound changes or a suffix put back.

    ペガワト is Беговат only if the ear slipped twice; コムツモール is Комсомольск only
    if a clerk dropped the -ск: the reading is likely, the place a guess for a
    human, however well a region fits. One change (ベガワト, akanye alone) is kept for
    a human too: a rewrite credits 0.9 of kana similarity, more than the fuzzy match
    of the same spelling, and ``auto`` must not rest on a rule's guess. A name of the
    place read without rewrites (an exact Cyrillic candidate) is not this.
    """
    if best.feature(Feature.NAME_EXACT) > 0:
        return False
    reached = [
        value
        for number, value in by_ear_places(query.key, index).items()
        if any(e.place_id == best.place_id for e in index.kana_entries[number])
    ]
    return bool(reached) and best.feature(Feature.KANA) <= max(reached) + 1e-9


def _near_village(best: Candidate, index: Index, params: ReconcileParams) -> bool:
    """Whether the best is a small uncurated place whose name is only near the reading.

    キビトーク read as Квиток (a syllable dropped) may be that village; a region that
    fits lifts its score, but a near name on a village is a guess for a human
    (``village_population``). A town (Кокуй for カクイ) or a curated place is not.
    """
    place = index.gazetteer.places[best.place_id]
    inexact = best.feature(Feature.NAME_EXACT) < 0.85 and best.feature(Feature.KANA) < 0.9
    return inexact and not place.curated and place.population < params.village_population


def _postal_namesake(best: Candidate, other: Candidate) -> bool:
    """Whether a rival is a postal-code village that the hint favours no more than the best.

    Without this, every town would lose ``auto`` to the namesake villages the
    postal layer holds (98 of gold_dev's autos fell to 75); a village the region
    hint confirms while the town is outside it still blocks.
    """
    return (
        is_postal(other.place_id)
        and not is_postal(best.place_id)
        and other.feature(Feature.REGION) <= max(best.feature(Feature.REGION), 0)
    )


def _unconfirmed_postal(best: Candidate) -> bool:
    """Whether the best is a postal-code village that no region hint confirms.

    GeoNames' postal layer holds some 88,000 villages and stations with no
    population: the same name recurs across the USSR, so one of them takes
    ``auto`` only where the name's region hint puts it in its region; a
    namesake far from the hint never wins ``auto`` over a town.
    """
    return is_postal(best.place_id) and best.feature(Feature.REGION) <= 0


def outside_area(region_hint: str) -> bool:
    """Whether a region hint places the name outside the area (満洲, Manchuria).

    >>> outside_area("満洲"), outside_area("チタ州|Chita Oblast")
    (True, False)
    """
    return any(word.lower() in region_hint.lower() for word in OUTSIDE_AREA_WORDS)


def rough_point(place: Place) -> bool:
    """Whether a place's point is a guess: no source gives it, its curator rates it low.

    The curated gazetteer says so in the note ("point from the dossier (general
    knowledge, confidence low)"). Such a place is for a human to confirm, never
    ``auto``: the name may be right and the point tens of kilometres off, or the
    name a guess the sources never made (ジプヘーゲン).
    """
    return not place.point_source.startswith("geonames") and "confidence low" in place.note


def _foreign_namesake(query: Query, best: Candidate, index: Index) -> bool:
    """Whether the name is the usual katakana of a larger place outside the area.

    ベルリン is Berlin before it is the Russian village of Berlin (613 people):
    such a name goes to a human, never to ``auto``.
    """
    foreign = index.foreign_keys.get(query.key, 0)
    return foreign > index.gazetteer.places[best.place_id].population


def apply_override(
    outcome: Outcome, override: Override, index: Index, params: ReconcileParams
) -> Outcome:
    """A manual decision wins: accept ties the row, reject drops one candidate or all."""
    if override.accept:
        place = index.gazetteer.places.get(override.place_id)
        name = place.name if place else override.note
        return Outcome(override.place_id, name, 1.0, Decision.OVERRIDE, outcome.candidates)
    if not override.place_id:
        return Outcome("", "", 0.0, Decision.UNRESOLVED, outcome.candidates)
    kept = [c for c in outcome.candidates if c.place_id != override.place_id]
    if not kept or kept[0].score < params.review_threshold:
        return Outcome("", "", kept[0].score if kept else 0.0, Decision.UNRESOLVED, tuple(kept))
    # A human said no to the first choice: the next one is never taken without a look.
    return Outcome(kept[0].place_id, kept[0].name, kept[0].score, Decision.REVIEW, tuple(kept))
