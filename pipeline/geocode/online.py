"""Geocode online: geopy providers (Nominatim, GeoNames), the rate limiter with
retries and backoff, the on-disk answer cache and parsing of online answers."""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Mapping
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
from pipeline.errors import GeocoderError, InputDataError
from pipeline.geocode.params import GeocodeParams, Provider
from pipeline.geocode.points import OVERRIDE_KM, Method, Point, best_place_id, settlement_radius_km
from pipeline.io import Row, read_json, write_json
from pipeline.places import Gazetteer
from pipeline.records import Certainty

logger = logging.getLogger(__name__)


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
