"""Geocode stage: give every placed row a WGS84 point, its method, source and certainty.

The default geocoder is offline: a geopy :class:`~geopy.geocoders.base.Geocoder`
over the built gazetteer, so ``dvc repro`` gives the same map on a machine with
no network. Users who want to reach further (a settlement the gazetteer lacks)
choose an online provider in ``params.yaml`` (Nominatim, or the GeoNames web
service); it is asked only for rows the gazetteer cannot place, through geopy's
:class:`~geopy.extra.rate_limiter.RateLimiter`, with retries and backoff, and an
on-disk cache so that a rerun makes no request.

Certainty follows the evidence, not the name: a GeoNames settlement point is
``certain`` within a radius scaled by its population; a point from general
knowledge (the dossier) is ``less-certain`` with a wider radius; a record that
names only a region (チタ州) or only a camp number gets the region's centroid
and radius and is ``uncertain``. Review rows are at most ``less-certain``.

The map's symbols mark the principal area of a camp (the ministry map's NOTE 2),
so even a ``certain`` point is the place the camp was named after, not a fence.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from geopy.adapters import RequestsAdapter
from geopy.exc import (
    GeocoderParseError,
    GeocoderRateLimited,
    GeocoderServiceError,
    GeocoderTimedOut,
    GeocoderUnavailable,
)
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import GeoNames, Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from pipeline import area, geonames
from pipeline import overrides as ov
from pipeline.errors import GeocoderError, InputDataError, ParamsError
from pipeline.io import Row, merge_columns, read_csv, read_json, write_csv, write_json
from pipeline.names import REGION_WORD_RE, fold, is_camp_number_only
from pipeline.overrides import Override
from pipeline.places import Gazetteer, Place, Region, load
from pipeline.records import GEOCODE_COLUMNS, Certainty, Decision

logger = logging.getLogger(__name__)

#: Said in the layer metadata by the export stage (the ministry map's NOTE 2).
PRINCIPAL_AREA_NOTE = (
    "The map's symbols show the principal area of the labor camp location "
    "(NOTE 2 of the ministry's map): a point marks the place a camp or camp district "
    "was named after, within uncertainty_km, not the site of a single compound."
)

PUBLIC_NOMINATIM = "nominatim.openstreetmap.org"

#: Radius of a point known only from general knowledge (the dossier's rounded
#: coordinates, or a camp district such as Khurmuli spread along a railway).
GENERAL_KNOWLEDGE_KM = 15.0
#: Radius of a point that a person set by hand in overrides.csv without one.
OVERRIDE_KM = 5.0


class Provider(enum.StrEnum):
    """Where points come from for rows the gazetteer cannot place."""

    OFFLINE = "offline"
    NOMINATIM = "nominatim"
    GEONAMES = "geonames"


class Method(enum.StrEnum):
    """How a row's point was found (the ``geocode_method`` column)."""

    OVERRIDE = "override"
    GAZETTEER = "gazetteer"
    GEONAMES = "geonames"
    NOMINATIM = "nominatim"
    REGION = "region"


@dataclass(frozen=True)
class GeocodeParams:
    """The ``geocode`` section of params.yaml.

    ``provider: offline`` (the default) never opens a socket. An online provider
    needs ``user_agent`` (Nominatim's usage policy asks for an application name
    and contact) and, for GeoNames, ``username``. ``domain`` and ``scheme`` point
    the provider elsewhere (a self-hosted Nominatim, or a test server).
    """

    provider: str = "offline"
    user_agent: str = ""
    username: str = ""
    domain: str = ""
    scheme: str = "https"
    timeout: float = 10.0
    min_delay_seconds: float = 1.0
    max_retries: int = 2
    backoff_seconds: float = 2.0
    cache_path: str = "gazetteer/geocode_cache.json"
    fail_on_error: bool = True

    def check(self) -> Provider:
        """Return the provider, or raise :class:`ParamsError` saying the fix."""
        try:
            provider = Provider(self.provider)
        except ValueError:
            known = ", ".join(p.value for p in Provider)
            raise ParamsError(
                f"params.yaml geocode.provider: {self.provider!r} is not one of {known}"
            ) from None
        if provider is Provider.OFFLINE:
            return provider
        if not self.user_agent.strip():
            raise ParamsError(
                "params.yaml geocode.user_agent is empty: set it to your application name "
                "and contact e-mail (for example 'camp-map/0.1 you@example.org') before "
                f"using the {provider} provider"
            )
        if provider is Provider.GEONAMES and not self.username.strip():
            raise ParamsError(
                "params.yaml geocode.username is empty: the GeoNames web service needs "
                "an account name (register at https://www.geonames.org/login)"
            )
        public = provider is Provider.NOMINATIM and self.domain in ("", PUBLIC_NOMINATIM)
        if public and self.min_delay_seconds < 1.0:
            raise ParamsError(
                "params.yaml geocode.min_delay_seconds must be at least 1 for the public "
                "Nominatim server (its usage policy allows 1 request per second)"
            )
        if self.max_retries < 0 or self.timeout <= 0 or self.min_delay_seconds < 0:
            raise ParamsError(
                "params.yaml geocode: max_retries, timeout and min_delay_seconds "
                "must not be negative (timeout above 0)"
            )
        return provider


# --------------------------------------------------------------------------- gazetteer


@dataclass(frozen=True)
class NameIndex:
    """Folded names (every script) to place ids, and region forms to region ids."""

    places: Mapping[str, tuple[str, ...]]
    regions: Mapping[str, str]


def index_names(gazetteer: Gazetteer) -> NameIndex:
    """Index a gazetteer's place names and its regions' names and kana forms."""
    places: dict[str, list[str]] = {}
    pairs = [(p.name, p.place_id) for p in gazetteer.places.values()]
    pairs += [(n.name, n.place_id) for n in gazetteer.names]
    for name, place_id in pairs:
        ids = places.setdefault(fold(name), [])
        if place_id in gazetteer.places and place_id not in ids:
            ids.append(place_id)
    regions = {
        fold(form): region.region_id
        for region in sorted(gazetteer.regions.values(), key=lambda r: r.region_id, reverse=True)
        for form in (*region.kana, region.name_1945)
        if form
    }
    return NameIndex({k: tuple(v) for k, v in places.items() if v}, regions)


# ----------------------------------------------------------------- offline geocoder


class GazetteerGeocoder(Geocoder):
    """A geopy geocoder over the built gazetteer; it never opens a socket.

    Having geopy's interface lets the stage treat the gazetteer and an online
    provider alike, and lets users call it from their own geopy code.
    """

    def __init__(self, gazetteer: Gazetteer) -> None:
        # The adapter geopy builds here is never used: no method below calls it.
        super().__init__(user_agent="camps-offline-gazetteer")
        self.gazetteer = gazetteer
        self.index = index_names(gazetteer)

    def geocode(
        self, query: str, *, exactly_one: bool = True, timeout: float | None = None
    ) -> Location | list[Location] | None:
        """Places whose name (any script) folds to ``query``, most populous first."""
        ids = self.index.places.get(fold(query), ())
        places = sorted(
            (self.gazetteer.places[i] for i in ids), key=lambda p: (-p.population, p.place_id)
        )
        found = [loc for p in places if (loc := self.lookup(p.place_id)) is not None]
        if exactly_one:
            return found[0] if found else None
        return found or None

    def lookup(self, place_id: str) -> Location | None:
        """The place with this id as a Location (``raw`` = its record); None if pointless."""
        place = self.gazetteer.places.get(place_id)
        if place is None or place.lat is None or place.lon is None:
            return None
        address = ", ".join(x for x in (place.name, place.country) if x)
        return Location(address, (place.lat, place.lon), dataclasses.asdict(place))

    def region(self, region_id: str) -> Location | None:
        """A region's centroid as a Location (``raw`` = the region record)."""
        region = self.gazetteer.regions.get(region_id)
        if region is None or region.lat is None or region.lon is None:
            return None
        return Location(region.name_1945, (region.lat, region.lon), dataclasses.asdict(region))


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
    >>> settlement_radius_km(None, "station")
    2.0
    """
    if population is None or population <= 0:
        point_like = any(w in feature_type.lower() for w in ("station", "mine", "camp site"))
        return 2.0 if point_like else 5.0
    radius = 2.0 + math.sqrt(population / (3000.0 * math.pi))
    return round(min(radius, 25.0), 1)


def place_point(place: Place) -> Point:
    """A gazetteer place's point: GeoNames is ``certain``, anything else ``less-certain``."""
    assert place.lat is not None and place.lon is not None
    if place.point_source.startswith("geonames") and place.geonames_id:
        return Point(
            place.lat,
            place.lon,
            Method.GAZETTEER,
            f"geonames:{place.geonames_id}",
            Certainty.CERTAIN,
            settlement_radius_km(place.population, place.feature_type),
        )
    radius = max(GENERAL_KNOWLEDGE_KM, settlement_radius_km(place.population, place.feature_type))
    return Point(
        place.lat, place.lon, Method.GAZETTEER, place.place_id, Certainty.LESS_CERTAIN, radius
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
        Method.REGION,
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


def make_online_geocoder(params: GeocodeParams) -> Geocoder | None:
    """The geopy geocoder of ``params.provider``, or None for ``offline``."""
    provider = params.check()
    common: dict[str, Any] = {
        "user_agent": params.user_agent,
        "timeout": params.timeout,
        "scheme": params.scheme,
        # geopy's requests adapter retries silently (twice) behind the RateLimiter's
        # back; retries are ours, so each request is paced and counted.
        "adapter_factory": functools.partial(RequestsAdapter, max_retries=0),
    }
    if params.domain:
        common["domain"] = params.domain
    if provider is Provider.NOMINATIM:
        return Nominatim(**common)
    if provider is Provider.GEONAMES:
        return GeoNames(params.username, **common)
    return None


_RETRYABLE = (GeocoderRateLimited, GeocoderTimedOut, GeocoderUnavailable)


class GeocodeCache:
    """Answers of an online provider on disk, keyed by provider and query.

    A rerun is served from here and makes no request; "no result" is stored too.
    Each new answer is written at once (atomically), so an interrupted run
    keeps what it fetched.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.data: dict[str, Any] = read_json(self.path) if self.path.is_file() else {}
        if not isinstance(self.data, dict):
            raise InputDataError(f"{self.path}: not a geocode cache: delete it to start afresh")

    @staticmethod
    def key(provider: str, query: str) -> str:
        return f"{provider}|{query}"

    def get(self, provider: str, query: str) -> tuple[bool, Any]:
        key = self.key(provider, query)
        return key in self.data, self.data.get(key)

    def put(self, provider: str, query: str, answer: Any) -> None:
        self.data[self.key(provider, query)] = answer
        write_json(self.path, dict(sorted(self.data.items())))


class OnlineGeocoder:
    """An online geopy geocoder behind RateLimiter, retries with backoff, and a cache."""

    def __init__(
        self,
        geocoder: Geocoder,
        params: GeocodeParams,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.geocoder = geocoder
        self.params = params
        self.method = _method_of(geocoder)
        self.cache = GeocodeCache(Path(params.cache_path))
        self.sleep = sleep
        self.limited = RateLimiter(
            geocoder.geocode,
            min_delay_seconds=params.min_delay_seconds,
            max_retries=0,  # retries are ours, with a growing wait (below)
            error_wait_seconds=params.min_delay_seconds,
            swallow_exceptions=False,
        )
        self.requests = 0

    def _kwargs(self) -> dict[str, Any]:
        codes = sorted(area.COUNTRIES)
        if isinstance(self.geocoder, Nominatim):
            return {"country_codes": [c.lower() for c in codes]}
        if isinstance(self.geocoder, GeoNames):
            return {"country": codes}
        return {}

    def fetch(self, query: str, where: str) -> Any:
        """The cached or fetched answer for ``query``: a dict, or None for no result."""
        hit, answer = self.cache.get(self.method, query)
        if hit:
            return answer
        location = self._ask(query, where)
        answer = None
        if location is not None:
            answer = {
                "address": location.address,
                "lat": location.latitude,
                "lon": location.longitude,
                "raw": location.raw,
            }
        self.cache.put(self.method, query, answer)
        return answer

    def _ask(self, query: str, where: str) -> Location | None:
        name = f"{self.method} ({self.params.scheme}://{self.params.domain or 'default'})"
        for attempt in range(self.params.max_retries + 1):
            self.requests += 1
            try:
                return self.limited(query, exactly_one=True, **self._kwargs())
            except GeocoderParseError as exc:
                raise GeocoderError(
                    f"{where}: {name} sent a malformed answer for {query!r} ({exc}): "
                    "check geocode.domain and geocode.scheme in params.yaml"
                ) from None
            except (*_RETRYABLE, GeocoderServiceError) as exc:
                retryable = isinstance(exc, _RETRYABLE) or type(exc) is GeocoderServiceError
                if not retryable or attempt == self.params.max_retries:
                    raise GeocoderError(
                        f"{where}: {name} failed for {query!r} after {attempt + 1} "
                        f"request(s): {type(exc).__name__}: {exc}: answers so far are cached "
                        f"in {self.params.cache_path}; rerun later, or set geocode.provider "
                        "to offline"
                    ) from None
                wait = self.params.backoff_seconds * 2**attempt
                retry_after = getattr(exc, "retry_after", None)
                if retry_after:
                    wait = max(wait, float(retry_after))
                logger.warning("%s: %s: %s; retrying in %.1f s", where, name, exc, wait)
                self.sleep(wait)
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise GeocoderError(
                    f"{where}: {name} sent an answer of an unexpected shape for {query!r} "
                    f"({type(exc).__name__}: {exc})"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def point(self, answer: Mapping[str, Any], query: str) -> Point:
        """A point from a provider's answer: ``less-certain``, radius from its evidence.

        The source is the provider's own page for the feature when the answer
        names it (an OSM object, a GeoNames id), else the request that found it.
        """
        raw = answer.get("raw") or {}
        lat, lon = float(answer["lat"]), float(answer["lon"])
        source = self.query_url(query)
        radius = OVERRIDE_KM
        if self.method == Method.NOMINATIM:
            if raw.get("osm_type") and raw.get("osm_id"):
                source = f"https://www.openstreetmap.org/{raw['osm_type']}/{raw['osm_id']}"
            radius = _bbox_radius_km(raw.get("boundingbox"))
        elif self.method == Method.GEONAMES:
            if raw.get("geonameId"):
                source = geonames.URI.format(raw["geonameId"])
            population = raw.get("population")
            radius = settlement_radius_km(int(population) if population else None)
        # an online name match was never reviewed: at best less-certain
        return Point(lat, lon, self.method, source, Certainty.LESS_CERTAIN, radius)

    def query_url(self, query: str) -> str:
        """The provider's search URL for ``query`` (what a reader can repeat)."""
        api = getattr(self.geocoder, "api", "") or getattr(self.geocoder, "api_geocode", "")
        return f"{api}?{urlencode({'q': query})}" if api else query


def _method_of(geocoder: Geocoder) -> str:
    if isinstance(geocoder, Nominatim):
        return Method.NOMINATIM
    if isinstance(geocoder, GeoNames):
        return Method.GEONAMES
    return type(geocoder).__name__.lower()


def _bbox_radius_km(bbox: Any) -> float:
    """Half the diagonal of Nominatim's bounding box (south, north, west, east), 2–25 km.

    >>> _bbox_radius_km(["48.3", "48.6", "134.9", "135.3"])
    22.3
    >>> _bbox_radius_km(None)
    5.0
    """
    try:
        south, north, west, east = (float(v) for v in bbox)
    except (TypeError, ValueError):
        return 5.0
    dy = (north - south) * 111.2
    dx = (east - west) * 111.2 * math.cos(math.radians((north + south) / 2))
    return round(min(max(math.hypot(dx, dy) / 2, 2.0), 25.0), 1)


# -------------------------------------------------------------------- the stage


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
        candidates = json.loads(row.get("candidates", "") or "[]")
    except json.JSONDecodeError:
        return ""
    if candidates and isinstance(candidates, list) and isinstance(candidates[0], dict):
        return str(candidates[0].get("id", "")).strip()
    return ""


def region_only(row: Row, gazetteer: Gazetteer, index: NameIndex) -> str | None:
    """The region id when the row's name is only a region (チタ州) or only a camp number.

    A bare town name that doubles as a region's (チタ, ハバロフスク) is the town
    when the reconcile stage placed it; with a region suffix (州, 地方…) it is the region.
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
    return None


def offline_point(row: Row, offline: GazetteerGeocoder) -> Point | None:
    """The row's point from the gazetteer alone, by the evidence it rests on."""
    gazetteer = offline.gazetteer
    region_id = region_only(row, gazetteer, offline.index)
    if region_id is not None:
        return region_point(gazetteer.regions[region_id])
    place_id = best_place_id(row)
    if offline.lookup(place_id) is not None:
        return place_point(gazetteer.places[place_id])
    region_id = place_id.removeprefix("region:")
    if region_id in gazetteer.regions:
        return region_point(gazetteer.regions[region_id])
    return None


def region_fallback(row: Row, gazetteer: Gazetteer) -> Point | None:
    """A place the gazetteer knows without a point (Krasnaya Zarya, probably defunct):
    its region's centroid and radius, ``uncertain``, rather than no point at all."""
    place = gazetteer.places.get(best_place_id(row))
    if place is None or place.region_id not in gazetteer.regions:
        return None
    return region_point(gazetteer.regions[place.region_id])


def online_query(row: Row, gazetteer: Gazetteer | None = None) -> str:
    """What to ask a provider: the place's Russian name, else the row's best form.

    >>> online_query({"place_name": "Kivda", "cyrillic_candidates": "Кивда|Кибда"})
    'Kivda'
    """
    if gazetteer is not None:
        place_id = best_place_id(row)
        for name in gazetteer.names:
            if name.place_id == place_id and name.script == "Cyrl" and name.lang == "ru":
                return name.name
    for column in ("place_name", "cyrillic_candidates", "latin_candidates", "romaji"):
        value = row.get(column, "").split("|")[0].strip()
        if value:
            return value
    return ""


@dataclass
class _Tally:
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    problems: list[str] = dataclasses.field(default_factory=list)

    def add(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1


def _geocode_row(
    row: Row,
    where: str,
    override: Override | None,
    offline: GazetteerGeocoder,
    online: OnlineGeocoder | None,
    tally: _Tally,
) -> Point | None:
    point = override_point(override) if override is not None else None
    if point is not None:
        return point
    decision = row.get("decision", "").strip()
    if decision not in (Decision.AUTO, Decision.REVIEW, Decision.OVERRIDE):
        return None
    point = offline_point(row, offline)
    if point is None and online is not None:
        query = online_query(row, offline.gazetteer)
        if query:
            answer = online.fetch(query, where)
            if answer is not None:
                point = online.point(answer, query)
            else:
                tally.add("online_no_result")
    if point is None:
        point = region_fallback(row, offline.gazetteer)
    if point is None:
        logger.warning("%s: no point for place %r", where, best_place_id(row))
        tally.add("unplaced")
        return None
    return at_most_less_certain(point) if decision == Decision.REVIEW else point


def run(
    input_path: Path,
    output_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    params: GeocodeParams,
    encoding: str | None = None,
    geocoder: Geocoder | None = None,
) -> dict[str, Any]:
    """Add lat, lon, geocode_method, geocode_source, certainty, uncertainty_km to each row.

    Every input row is written, in input order; unresolved rows keep an empty
    point. ``geocoder`` is an online geopy geocoder to use for rows the
    gazetteer cannot place (built from ``params`` when None and the provider is
    not offline). A point outside the former USSR and Mongolia, or a failed
    online request, is reported with its row; with ``fail_on_error`` (default)
    the stage then fails and writes nothing, else the row keeps an empty point.
    """
    provider = params.check()
    header, rows = read_csv(
        Path(input_path), ("katakana", "decision"), encoding=encoding, min_rows=1
    )
    offline = GazetteerGeocoder(load(Path(gazetteer_dir)))
    overrides = ov.read(Path(overrides_path), offline.gazetteer.places)
    if geocoder is None and provider is not Provider.OFFLINE:
        geocoder = make_online_geocoder(params)
    online = OnlineGeocoder(geocoder, params) if geocoder is not None else None
    tally = _Tally()
    for n, row in enumerate(rows, 2):
        rid = row.get("record_id", "")
        where = f"{input_path}: row {n} (record_id {rid}, {row.get('katakana', '')})"
        # The rule of the reconcile stage: by record_id, else by the row's katakana.
        override = ov.find(overrides, rid, ov.key_of(row.get("katakana", "")))
        point = _place_row(row, where, override, offline, online, tally)
        row.update(point.columns() if point else dict.fromkeys(GEOCODE_COLUMNS, ""))
        tally.add(str(point.method) if point else "no_point")
    if tally.problems:
        for problem in tally.problems:
            logger.error("%s", problem)
        if params.fail_on_error:
            raise GeocoderError(
                f"{len(tally.problems)} row(s) could not be geocoded; nothing was written:\n"
                + "\n".join(tally.problems)
            )
    write_csv(Path(output_path), merge_columns(header, GEOCODE_COLUMNS), rows)
    logger.info("geocode: %s", PRINCIPAL_AREA_NOTE)
    report: dict[str, Any] = {"rows": len(rows), **dict(sorted(tally.counts.items()))}
    report["problems"] = len(tally.problems)
    if online is not None:
        report["requests"] = online.requests
    return report


def _place_row(
    row: Row,
    where: str,
    override: Override | None,
    offline: GazetteerGeocoder,
    online: OnlineGeocoder | None,
    tally: _Tally,
) -> Point | None:
    """Geocode one row and check its point; problems go to the tally, not the output."""
    try:
        point = _geocode_row(row, where, override, offline, online, tally)
    except GeocoderError as exc:
        tally.problems.append(str(exc))
        return None
    if point is None:
        return None
    reason = outside_reason(point)
    if reason is not None:
        tally.problems.append(
            f"{where}: the {point.method} point {reason} ({point.source}): fix the "
            "override or gazetteer entry, or mark the row unresolved"
        )
        return None
    return point
