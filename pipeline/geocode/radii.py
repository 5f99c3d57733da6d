"""Radii that say what is known: a point's extent, widened by the doubt of its reading.

A row's ``uncertainty_km`` is the expected distance from its point to the camp
when the camp lies within the extent of the right place and, should the reading
be wrong, anywhere in the 1945 region around it::

    uncertainty_km = r + (1 - q) * (R - r)

``r``, the extent of what the point stands for, by method (:func:`extent_km`):

* ``place`` -- a settlement: 2 km plus the radius of a built-up area holding its
  population at 3,000 people per km², at most 25 km; 5 km with no population; a
  point from general knowledge (no GeoNames id) at least 15 km;
* ``station`` -- a railway station: 2 km (a point feature), plus the built-up
  radius of its settlement when GeoNames gives a population (the point is then
  the settlement's);
* ``region_centroid`` -- the region's own radius (its farthest member place);
* ``override`` -- the override's ``uncertainty_km``, else 5 km;
* ``geonames``, ``nominatim`` (online) -- the provider's evidence (population,
  bounding box);
* a camp district named after a town (チタ第24地区) -- the town, at least 15 km,
  since a GUPVI camp's branches lay around its seat, not in it.

``R``, where a wrong reading most likely still lies: the radius of the 1945
region of the place (by its ``region_id``, else the region covering its
country and admin1 code), else the median radius of the gazetteer's regions;
never less than ``r``, so a region centroid keeps the region's radius.

``q``, the probability that the reading is right (:func:`reading_probability`):
the reconcile probability ``score``, times ``1 - review_doubt`` on a ``review``
row (a row flagged for a rival, a rough point or a namesake abroad, which the
score does not weigh), times ``1 - rank_doubt * k`` when the place's name is the
k-th Cyrillic reading of the transliterate stage (k = 0 for the best one). An
override, decided by a person, has ``q = 1``; so has a row without a score
(a hand-made file): its radius is its extent alone.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipeline.io import Row
from pipeline.names import fold
from pipeline.places import Gazetteer, Place, Region
from pipeline.records import Decision

#: Radius of a point known only from general knowledge (the dossier's rounded
#: coordinates, or a camp district such as Khurmuli spread along a railway).
GENERAL_KNOWLEDGE_KM = 15.0
#: Radius of a point that a person set by hand in overrides.csv without one.
OVERRIDE_KM = 5.0


@dataclass(frozen=True)
class Doubt:
    """How much a reading's evidence lowers the reconcile probability (params.yaml).

    ``review`` is the share of a review row's probability withheld because the
    row was flagged for a reason the score does not weigh; ``rank`` the share
    withheld per rank of the transliteration that named the place below the
    best one. Neither is fitted: the defaults are about the rule-of-three upper
    bound of the error rates on the development sets (gold_dev and
    realnames_dev placed 0 of 30 review rows and 0 of 20 rows read from a
    lower-ranked transliteration more than 25 km off: 3/30, and 3/20 at rank 3).
    """

    review: float = 0.1
    rank: float = 0.05


def widened_km(extent_km: float, wrong_km: float, probability: float) -> float:
    """``r + (1 - q) * (R - r)``: the extent, widened towards the region by the doubt.

    >>> widened_km(10.1, 1310.7, 1.0), widened_km(10.1, 1310.7, 0.9), widened_km(436.6, 436.6, 0.2)
    (10.1, 140.2, 436.6)
    >>> widened_km(5.0, 2.0, 0.0)  # R is never below r
    5.0
    """
    q = min(max(probability, 0.0), 1.0)
    wide = max(wrong_km, extent_km)
    return round(extent_km + (1.0 - q) * (wide - extent_km), 1)


def reading_rank(readings: Iterable[str], names: Iterable[str]) -> int | None:
    """The rank (0 = best) of the first reading that is one of the place's names.

    None when no reading is (the matcher found the place by sound or Latin form).

    >>> reading_rank(["Кибда", "Кивда"], ["Кивда", "Kivda"]), reading_rank(["X"], ["Y"])
    (1, None)
    """
    folded = {fold(n) for n in names if n.strip()}
    for rank, reading in enumerate(r for r in readings if r.strip()):
        if fold(reading) in folded:
            return rank
    return None


def reading_probability(row: Row, names: Iterable[str], doubt: Doubt) -> float | None:
    """``q``: the reconcile probability lowered by the reading's doubt; None without a score.

    >>> row = {"score": "0.9", "decision": "review", "cyrillic_candidates": "Кибда|Кивда"}
    >>> reading_probability(row, ["Кивда"], Doubt(review=0.25, rank=0.1))
    0.6075
    >>> reading_probability({"score": "", "decision": "auto"}, [], Doubt()) is None
    True
    """
    decision = row.get("decision", "").strip()
    if decision == Decision.OVERRIDE:
        return 1.0
    try:
        score = float(row.get("score", "").strip())
    except ValueError:
        return None
    q = min(max(score, 0.0), 1.0)
    if decision == Decision.REVIEW:
        q *= 1.0 - doubt.review
    readings = row.get("cyrillic_candidates", "").split("|")
    rank = reading_rank(readings, names)
    if rank:
        q *= max(0.0, 1.0 - doubt.rank * rank)
    return round(q, 4)


@dataclass(frozen=True)
class RegionRadii:
    """The 1945 region each place lies in, for ``R``; built once per gazetteer."""

    regions: Mapping[str, Region]
    by_admin1: Mapping[tuple[str, str], str]
    by_country: Mapping[str, str]
    median_km: float

    @classmethod
    def of(cls, gazetteer: Gazetteer) -> RegionRadii:
        """Index the regions by the modern units they cover."""
        by_admin1: dict[tuple[str, str], str] = {}
        by_country: dict[str, str] = {}
        for region in sorted(gazetteer.regions.values(), key=lambda r: r.region_id):
            for code in region.admin1_codes:
                if code == "*":
                    by_country.setdefault(region.country, region.region_id)
                else:
                    by_admin1.setdefault((region.country, code), region.region_id)
        radii = [r.radius_km for r in gazetteer.regions.values() if r.radius_km]
        median = round(statistics.median(radii), 1) if radii else GENERAL_KNOWLEDGE_KM
        return cls(gazetteer.regions, by_admin1, by_country, median)

    def region_of(self, place: Place) -> Region | None:
        """The place's 1945 region: its own, else the one covering its admin1 unit."""
        region_id = (
            place.region_id
            if place.region_id in self.regions
            else self.by_admin1.get((place.country, place.admin1))
            or self.by_country.get(place.country, "")
        )
        return self.regions.get(region_id)

    def wrong_km(self, place: Place | None) -> float:
        """``R`` for a place: its region's radius, else the median region radius."""
        region = self.region_of(place) if place is not None else None
        if region is not None and region.radius_km:
            return region.radius_km
        return self.median_km
