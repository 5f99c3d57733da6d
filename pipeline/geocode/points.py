"""Geocode points: :class:`Point`, :class:`OfflinePlaces` (the built gazetteer and
its name index), settlement and region radii, region points, overrides' points and
the camp-number rules (a district named after a region or a town)."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pipeline import area
from pipeline.geocode.radii import (
    GENERAL_KNOWLEDGE_KM,
    OVERRIDE_KM,
    Doubt,
    RegionRadii,
    reading_probability,
    widened_km,
)
from pipeline.io import Row
from pipeline.names import REGION_SUFFIXES, REGION_WORD_RE, fold, is_camp_number_only, split_name
from pipeline.overrides import Override
from pipeline.places import DISTRICT, DISTRICT_KM, Gazetteer, Name, Place, Region, name_column
from pipeline.records import Certainty, Decision, GeocodeMethod, parse_candidates

V = TypeVar("V")

#: Feature types of the gazetteer whose point is a railway station.
STATION_TYPES = ("station",)
#: The column the reconcile stage fills with the camp area a row's camp number ties to.
CAMP_AREA_COLUMN = "camp_area_hint"


#: The ``geocode_method`` values (one home: :mod:`pipeline.records`).
Method = GeocodeMethod


@dataclass(frozen=True)
class NameIndex:
    """Folded names (every script) to place ids, and region forms to region ids."""

    places: Mapping[str, tuple[str, ...]]
    regions: Mapping[str, str]


def index_names(gazetteer: Gazetteer) -> NameIndex:
    """Index a gazetteer's place names and its regions' names and kana forms."""
    return NameIndex(place_names(gazetteer), region_names(gazetteer))


def place_names(gazetteer: Gazetteer) -> dict[str, tuple[str, ...]]:
    """Folded names (every script) of the gazetteer's places to their ids (seconds)."""
    places: dict[str, list[str]] = {}
    pairs = [(p.name, p.place_id) for p in gazetteer.places.values()]
    pairs += [(n.name, n.place_id) for n in gazetteer.names]
    for name, place_id in pairs:
        ids = places.setdefault(fold(name), [])
        if place_id in gazetteer.places and place_id not in ids:
            ids.append(place_id)
    return {k: tuple(v) for k, v in places.items() if v}


def region_names(gazetteer: Gazetteer) -> dict[str, str]:
    """Folded names and kana forms of the gazetteer's regions to their ids (a moment)."""
    return {
        fold(form): region.region_id
        for region in sorted(gazetteer.regions.values(), key=lambda r: r.region_id, reverse=True)
        for form in (*region.kana, region.name_1945)
        if form
    }


# ----------------------------------------------------------------- offline geocoder


class PlaceRows:
    """The gazetteer's name rows of each place, found when a place is first asked for.

    Walking all 124,000 names to group them by place cost 30 ms of each
    ``camps lookup``; the first and last row of every place are two dicts made in
    C, and a place's rows (in the gazetteer's order, as the walk gave them) are
    the rows between, when the build keeps a place's names together, as
    ``gazetteer/build/names.csv`` does (else every row is walked once, as before).
    """

    def __init__(self, names: Sequence[Name]) -> None:
        self._ids = list(name_column(names, "place_id"))  # all at once (in C when saved)
        self._names = name_column(names, "name")
        self._scripts = name_column(names, "script")
        count = len(self._ids)
        self._last = dict(zip(self._ids, range(count), strict=True))
        self._first = dict(zip(reversed(self._ids), range(count - 1, -1, -1), strict=True))
        self.names: Mapping[str, list[str]] = Found(self._names_of, self._first)
        self.cyrillic: Mapping[str, str] = Found(self._cyrillic_of, self._first)

    def rows(self, place_id: str) -> Sequence[int]:
        """The numbers of the place's name rows, in order (none for an unknown place)."""
        first = self._first.get(place_id)
        if first is None:
            return ()
        end = self._last[place_id] + 1
        ids = self._ids
        if ids[first:end].count(place_id) == end - first:
            return range(first, end)
        return self._walked[place_id]

    @functools.cached_property
    def _walked(self) -> dict[str, list[int]]:
        # Names of a place apart (a gazetteer made in memory in another order): every
        # row walked once, as before.
        found: dict[str, list[int]] = {}
        for number, place_id in enumerate(self._ids):
            found.setdefault(place_id, []).append(number)
        return found

    def _names_of(self, place_id: str) -> list[str] | None:
        rows = self.rows(place_id)
        return [self._names[n] for n in rows] if rows else None

    def _cyrillic_of(self, place_id: str) -> str | None:
        return next(
            (self._names[n] for n in self.rows(place_id) if self._scripts[n] == "Cyrl"), None
        )


class Found(Mapping[str, V]):
    """A mapping whose value of a key is found by ``find`` when first asked (None: absent).

    ``keys`` holds every key that may have a value; listing the mapping finds them all.
    """

    def __init__(self, find: Callable[[str], V | None], keys: Collection[str]) -> None:
        self._find = find
        self._keys = keys
        self._found: dict[str, V | None] = {}

    def __getitem__(self, key: str) -> V:
        if key not in self._found:
            self._found[key] = self._find(key)
        value = self._found[key]
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return (key for key in self._keys if key in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class OfflinePlaces:
    """The built gazetteer with its name index: what the offline rules look places up in.

    It imports no geopy (``camps lookup`` and ``camps serve`` start faster without
    it); :class:`pipeline.geocode.offline.GazetteerGeocoder` adds geopy's interface.
    """

    def __init__(self, gazetteer: Gazetteer, doubt: Doubt | None = None) -> None:
        from pipeline.geocode.artifact import name_index  # it imports this module

        self.gazetteer = gazetteer
        self.index = name_index(gazetteer)
        #: how the reading's doubt widens a radius (params.yaml geocode section)
        self.doubt = doubt if doubt is not None else Doubt()
        self.radii = RegionRadii.of(gazetteer)

    @functools.cached_property
    def names_of(self) -> dict[str, list[Name]]:
        """Each place's names in a known language (made when a name is first asked for)."""
        names_of: dict[str, list[Name]] = {}
        for name in self.gazetteer.names:
            if not name.lang.startswith("und"):
                names_of.setdefault(name.place_id, []).append(name)
        return names_of

    @functools.cached_property
    def _rows(self) -> PlaceRows:
        return PlaceRows(self.gazetteer.names)

    @property
    def all_names_of(self) -> Mapping[str, list[str]]:
        """Each place's names, every language (found when a place is first asked for)."""
        return self._rows.names

    @property
    def cyrillic_names(self) -> Mapping[str, str]:
        """Each place's first Cyrillic name in the gazetteer (found when first asked for)."""
        return self._rows.cyrillic

    def has_point(self, place_id: str) -> bool:
        """Whether the gazetteer has this place with a point."""
        place = self.gazetteer.places.get(place_id)
        return place is not None and place.lat is not None and place.lon is not None


# -------------------------------------------------------------------- the point


@dataclass(frozen=True)
class Point:
    """A row's point with how it was found and how far it may be off."""

    lat: float
    lon: float
    method: Method | str
    source: str
    certainty: Certainty
    uncertainty_km: float

    def columns(self) -> dict[str, str]:
        """The stage's output columns (6 decimals: about 0.1 m)."""
        return {
            "lat": f"{self.lat:.6f}",
            "lon": f"{self.lon:.6f}",
            "geocode_method": str(self.method),
            "geocode_source": self.source,
            "certainty": str(self.certainty),
            "uncertainty_km": f"{self.uncertainty_km:.1f}",
        }


def settlement_radius_km(population: int | None, feature_type: str = "") -> float:
    """How far a camp named after a settlement may lie from its GeoNames point.

    A camp stood in or at the edge of the place: 2 km for a point feature
    (station, mine) plus the radius of a built-up area holding the population at
    3,000 people per km² (a typical Soviet town density), capped at 25 km. With
    no population known, 5 km. The point is the centre GeoNames gives.

    >>> settlement_radius_km(618150), settlement_radius_km(9847), settlement_radius_km(None)
    (10.1, 3.0, 5.0)
    >>> settlement_radius_km(None, "station"), settlement_radius_km(None, "district")
    (2.0, 130.0)
    """
    if feature_type == DISTRICT:
        return DISTRICT_KM
    if population is None or population <= 0:
        point_like = any(w in feature_type.lower() for w in ("station", "mine", "camp site"))
        return 2.0 if point_like else 5.0
    radius = 2.0 + math.sqrt(population / (3000.0 * math.pi))
    return round(min(radius, 25.0), 1)


def place_point(place: Place) -> Point:
    """A gazetteer place's point: GeoNames is ``certain``, anything else ``less-certain``.

    The method is ``station`` for a railway station, else ``place``; the radius
    is the place's extent (:func:`settlement_radius_km`), at least
    :data:`GENERAL_KNOWLEDGE_KM` for a point from general knowledge.
    """
    assert place.lat is not None and place.lon is not None
    method = Method.STATION if place.feature_type.lower() in STATION_TYPES else Method.PLACE
    if place.point_source.startswith("geonames") and place.geonames_id:
        return Point(
            place.lat,
            place.lon,
            method,
            f"geonames:{place.geonames_id}",
            Certainty.CERTAIN,
            settlement_radius_km(place.population, place.feature_type),
        )
    radius = max(GENERAL_KNOWLEDGE_KM, settlement_radius_km(place.population, place.feature_type))
    return Point(place.lat, place.lon, method, place.place_id, Certainty.LESS_CERTAIN, radius)


def district_point(place: Place) -> Point:
    """A camp district named after a town (チタ第24地区): the town, never ``certain``.

    A GUPVI camp's branches lay around the place it was named after, so the
    radius is at least :data:`GENERAL_KNOWLEDGE_KM` and the point ``less-certain``.
    """
    point = place_point(place)
    return dataclasses.replace(
        point,
        certainty=Certainty.LESS_CERTAIN
        if point.certainty is Certainty.CERTAIN
        else point.certainty,
        uncertainty_km=max(point.uncertainty_km, GENERAL_KNOWLEDGE_KM),
    )


def region_point(region: Region) -> Point | None:
    """A region-level record: the region's centroid and radius, ``uncertain``.

    None when the region has no member places, hence no centroid.
    """
    if region.lat is None or region.lon is None or region.radius_km is None:
        return None
    return Point(
        region.lat,
        region.lon,
        Method.REGION_CENTROID,
        f"region:{region.region_id}",
        Certainty.UNCERTAIN,
        region.radius_km,
    )


def at_most_less_certain(point: Point) -> Point:
    """A review row's point: not yet confirmed, so never ``certain``."""
    if point.certainty is Certainty.CERTAIN:
        return dataclasses.replace(point, certainty=Certainty.LESS_CERTAIN)
    return point


# ------------------------------------------------------------- point in the area


def outside_reason(point: Point) -> str | None:
    """Why a point is not in the former USSR or Mongolia, or None if it is."""
    if not (-90 <= point.lat <= 90 and -180 <= point.lon <= 180):
        return f"({point.lat}, {point.lon}) is not a WGS84 latitude, longitude"
    country = area.country_of(point.lat, point.lon)
    if country not in area.COUNTRIES:
        return f"({point.lat:.6f}, {point.lon:.6f}) lies in {country}, outside the USSR/Mongolia"
    return None


# -------------------------------------------------------------- online geocoding


def override_point(override: Override) -> Point | None:
    """The override's own point: ``certain`` when it cites a source, else ``less-certain``."""
    if override.lat is None or override.lon is None or not override.accept:
        return None
    certainty = Certainty.CERTAIN if override.source else Certainty.LESS_CERTAIN
    radius = override.uncertainty_km if override.uncertainty_km is not None else OVERRIDE_KM
    source = override.source or f"overrides.csv:{override.record_id or override.katakana}"
    return Point(override.lat, override.lon, Method.OVERRIDE, source, certainty, radius)


def best_place_id(row: Row) -> str:
    """The row's place id, else (review rows) the first candidate's id."""
    if row.get("place_id", "").strip():
        return row["place_id"].strip()
    try:
        candidates = parse_candidates(row.get("candidates", ""))
    except ValueError:
        return ""  # a broken cell places nothing; export reports it with its row
    return str(candidates[0]["id"]).strip() if candidates else ""


def camp_number(row: Row) -> str:
    """The GUPVI camp number a row names (第十六地区 -> "16"), else "".

    >>> camp_number({"katakana": "ハバロフスク地方第十六地区"}), camp_number({"katakana": "チタ"})
    ('16', '')
    """
    hint = row.get("camp_no_hint", "").strip()
    if hint:
        return hint
    names = (row.get("katakana_normalized", "").strip(), row.get("katakana", "").strip())
    return next((split_name(n).camp_no for n in names if n and split_name(n).camp_no), "")


def district_region(row: Row, index: NameIndex) -> str | None:
    """The region a camp district is named after (ハバロフスク地方第十六地区), else None.

    The name without its camp number must be a region's form with its region
    word (ハバロフスク地方, チタ州); a bare town name (チタ第24地区) is the town.
    """
    for column in ("katakana_normalized", "katakana"):
        parts = split_name(row.get(column, "").strip())
        words = [w for w in parts.feature_hint.split("|") if w in REGION_SUFFIXES]
        if not parts.name or not words:
            continue
        for form in (*(parts.name + w for w in words), parts.name):
            region_id = index.regions.get(fold(form))
            if region_id:
                return region_id
    return None


def region_only(row: Row, gazetteer: Gazetteer, index: NameIndex) -> str | None:
    """The region id when the row's name is only a region (チタ州) or only a camp number.

    A bare town name that doubles as a region's (チタ, ハバロフスク) is the town
    when the reconcile stage placed it; with a region suffix (州, 地方…) it is the region.
    A camp number with a region's name (ハバロフスク地方第十六地区) is the region.
    """
    name = row.get("katakana", "").strip()
    region_id = index.regions.get(fold(name))
    placed = best_place_id(row) in gazetteer.places
    if region_id and (REGION_WORD_RE.search(name) or not placed):
        return region_id
    if is_camp_number_only(name) or is_camp_number_only(row.get("katakana_normalized", "")):
        place = gazetteer.places.get(best_place_id(row))
        if place is not None and place.region_id in gazetteer.regions:
            return place.region_id
        return index.regions.get(fold(row.get("region_hint", ""))) or None
    if camp_number(row):
        return district_region(row, index)
    return None


def camp_area_place(row: Row, offline: OfflinePlaces) -> Place | None:
    """The camp area a row's camp number ties to (reconcile's ``camp_area_hint``), with a point."""
    place_id = row.get(CAMP_AREA_COLUMN, "").strip()
    if not place_id or not offline.has_point(place_id):
        return None
    return offline.gazetteer.places[place_id]


def offline_point(row: Row, offline: OfflinePlaces) -> Point | None:
    """The row's point from the gazetteer alone, by the evidence it rests on.

    A camp-number row is placed on its camp area when reconcile tied the number
    to one (``camp_area_hint``); else on the region it is named after
    (``region_centroid``), else on the town (:func:`district_point`).
    """
    gazetteer = offline.gazetteer
    if camp_number(row):
        area_place = camp_area_place(row, offline)
        if area_place is not None and area_place.place_id == best_place_id(row):
            return district_point(area_place)
    region_id = region_only(row, gazetteer, offline.index)
    if region_id is not None:
        return region_point(gazetteer.regions[region_id])
    place_id = best_place_id(row)
    if offline.has_point(place_id):
        place = gazetteer.places[place_id]
        return district_point(place) if camp_number(row) else place_point(place)
    region_id = place_id.removeprefix("region:")
    if region_id in gazetteer.regions:
        return region_point(gazetteer.regions[region_id])
    return None


def widen(point: Point, row: Row, offline: OfflinePlaces) -> Point:
    """The point's radius widened by the reading's doubt (:mod:`pipeline.geocode.radii`).

    An override keeps its own radius (a person decided); a region centroid keeps
    the region's; any other point widens towards the radius of its place's 1945
    region by the chance that the reading is wrong.
    """
    if point.method in (Method.OVERRIDE, Method.REGION_CENTROID):
        return point
    place = offline.gazetteer.places.get(best_place_id(row))
    names = [place.name, *offline.all_names_of.get(place.place_id, ())] if place else []
    q = reading_probability(row, names, offline.doubt)
    if q is None:
        return point
    radius = widened_km(point.uncertainty_km, offline.radii.wrong_km(place), q)
    return dataclasses.replace(point, uncertainty_km=radius)


def region_fallback(row: Row, gazetteer: Gazetteer) -> Point | None:
    """A place the gazetteer knows without a point (Krasnaya Zarya, probably defunct):
    its region's centroid and radius, ``uncertain``, rather than no point at all."""
    place = gazetteer.places.get(best_place_id(row))
    if place is None or place.region_id not in gazetteer.regions:
        return None
    return region_point(gazetteer.regions[place.region_id])


#: Decisions whose row names a gazetteer place to put on the map.
PLACED_DECISIONS = frozenset({Decision.AUTO, Decision.REVIEW, Decision.OVERRIDE})


#: Every column :func:`row_point` reads (without an override or an online provider):
#: rows equal in these get one point, so the geocode stage places each once.
ROW_POINT_COLUMNS = (
    "katakana",
    "katakana_normalized",
    "camp_no_hint",
    CAMP_AREA_COLUMN,
    "region_hint",
    "place_id",
    "candidates",
    "decision",
    "score",
    "cyrillic_candidates",
)


def row_point(
    row: Row,
    override: Override | None,
    offline: OfflinePlaces,
    ask: Callable[[Row], Point | None] | None = None,
) -> Point | None:
    """A reconciled row's point by the offline rules (the geocode stage's and lookup's).

    An override's own point wins; a row decided ``auto``, ``review`` or ``override``
    gets its place's point (``ask``, an online provider, where the gazetteer has
    none), else its region's centre, widened by the reading's doubt; a review row is
    at most ``less-certain``. ``None``: an undecided row, or no point anywhere.
    """
    point = override_point(override) if override is not None else None
    if point is not None:
        return point
    decision = row.get("decision", "").strip()
    if decision not in PLACED_DECISIONS:
        return None
    point = offline_point(row, offline)
    if point is None and ask is not None:
        point = ask(row)
    if point is None:
        point = region_fallback(row, offline.gazetteer)
    if point is None:
        return None
    point = widen(point, row, offline)
    return at_most_less_certain(point) if decision == Decision.REVIEW else point
