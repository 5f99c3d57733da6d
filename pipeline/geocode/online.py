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
from pipeline.geocode.http import GuardedAdapter, RefusedAnswer, server_of
from pipeline.geocode.params import GeocodeParams, Provider
from pipeline.geocode.points import Method, Point, best_place_id, settlement_radius_km
from pipeline.geocode.radii import OVERRIDE_KM
from pipeline.io import Row, read_json, write_json
from pipeline.places import Gazetteer
from pipeline.records import Certainty

logger = logging.getLogger(__name__)


def make_online_geocoder(params: GeocodeParams) -> Geocoder | None:
    """The geopy geocoder of ``params.provider``, or None for ``offline``.

    Its requests go through :class:`~pipeline.geocode.http.GuardedAdapter`: a
    total time limit (``timeout``), a size limit (``max_response_bytes``), no
    redirect to another server, and the provider's answer shape checked before
    geopy parses it. :class:`OnlineGeocoder` installs its rate limit as the pace.
    """
    provider = params.check()
    if provider is Provider.OFFLINE:
        return None
    check = check_nominatim if provider is Provider.NOMINATIM else check_geonames
    common: dict[str, Any] = {
        "user_agent": params.user_agent,
        "timeout": params.timeout,
        "scheme": params.scheme,
        "adapter_factory": functools.partial(
            GuardedAdapter,
            pace=lambda: None,
            check=check,
            total_seconds=params.timeout,
            max_bytes=params.max_response_bytes,
        ),
    }
    if params.domain:
        common["domain"] = params.domain
    if provider is Provider.NOMINATIM:
        return Nominatim(**common)
    return GeoNames(params.username, **common)


# ------------------------------------------------------------ answer shapes

#: More results than this in one answer is not a geocoder's answer (we ask for one).
MAX_RESULTS = 50


def _refuse(what: str) -> RefusedAnswer:
    return RefusedAnswer(f"an answer of an unexpected shape ({what})")


def _coordinate(value: Any, limit: float, what: str) -> float:
    """A finite number within ±limit, from a number or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _refuse(f"{what} is {type(value).__name__}")
    try:
        number = float(value) if not isinstance(value, str) or len(value) < 40 else math.nan
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and -limit <= number <= limit):
        raise _refuse(f"{what} {str(value)[:40]!r} is not a coordinate")
    return number


def _count(value: Any, what: str) -> None:
    """An optional whole number (a population, an id): int or a string of digits."""
    if value is None or value == "":
        return
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and value.isdigit())
    ):
        raise _refuse(f"{what} {str(value)[:40]!r} is not a whole number")
    if len(str(value)) > 12:
        raise _refuse(f"{what} {str(value)[:40]}… is too large")


def check_nominatim(data: Any) -> None:
    """Refuse (:class:`RefusedAnswer`) what is not Nominatim's ``/search`` JSON.

    >>> check_nominatim([{"lat": "55.9", "lon": "97.9", "display_name": "Тайшет"}])
    >>> check_nominatim("Тайшет")
    Traceback (most recent call last):
    ...
    pipeline.geocode.http.RefusedAnswer: an answer of an unexpected shape (str, not a list)
    """
    if isinstance(data, dict) and isinstance(data.get("error"), str | dict):
        raise RefusedAnswer(f"the server answered an error: {str(data['error'])[:200]}")
    if not isinstance(data, list):
        raise _refuse(f"{type(data).__name__}, not a list")
    if len(data) > MAX_RESULTS:
        raise _refuse(f"{len(data)} results")
    for item in data:
        if not isinstance(item, dict):
            raise _refuse(f"a result is {type(item).__name__}")
        _coordinate(item.get("lat"), 90, "lat")
        _coordinate(item.get("lon"), 180, "lon")
        if not isinstance(item.get("display_name", ""), str):
            raise _refuse("display_name is not text")
        bbox = item.get("boundingbox")
        if bbox is not None and not (isinstance(bbox, list) and len(bbox) == 4):
            raise _refuse("boundingbox is not 4 numbers")
        for key in ("osm_type", "osm_id"):
            if not isinstance(item.get(key, ""), str | int) or isinstance(item.get(key), bool):
                raise _refuse(f"{key} is not an id")


def check_geonames(data: Any) -> None:
    """Refuse what is not the GeoNames ``searchJSON`` answer (its error status passes).

    >>> check_geonames({"geonames": [{"lat": "55.9", "lng": "97.9", "population": "1e5"}]})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pipeline.geocode.http.RefusedAnswer: an answer of an unexpected shape (population '1e5' ...
    """
    if not isinstance(data, dict):
        raise _refuse(f"{type(data).__name__}, not an object")
    if "status" in data and isinstance(data["status"], dict):
        return  # geopy turns GeoNames' own error status into its exception
    results = data.get("geonames")
    if not isinstance(results, list):
        raise _refuse("no 'geonames' list")
    if len(results) > MAX_RESULTS:
        raise _refuse(f"{len(results)} results")
    for item in results:
        if not isinstance(item, dict):
            raise _refuse(f"a result is {type(item).__name__}")
        _coordinate(item.get("lat"), 90, "lat")
        _coordinate(item.get("lng"), 180, "lng")
        _count(item.get("population"), "population")
        _count(item.get("geonameId"), "geonameId")
        for key in ("name", "countryCode", "adminName1"):
            if not isinstance(item.get(key, ""), str):
                raise _refuse(f"{key} is not text")


def check_answer(answer: Any) -> bool:
    """Whether a cached answer has the shape :meth:`OnlineGeocoder.fetch` stores.

    >>> check_answer({"address": "Тайшет", "lat": 55.9, "lon": 97.9, "raw": {}})
    True
    >>> check_answer({"address": "x", "lat": "1e999", "lon": 0, "raw": {}})
    False
    """
    if answer is None:
        return True
    if not isinstance(answer, dict) or not isinstance(answer.get("raw"), dict):
        return False
    try:
        _coordinate(answer.get("lat"), 90, "lat")
        _coordinate(answer.get("lon"), 180, "lon")
        _count(answer["raw"].get("population"), "population")
    except RefusedAnswer:
        return False
    return isinstance(answer.get("address"), str)


_RETRYABLE = (GeocoderRateLimited, GeocoderTimedOut, GeocoderUnavailable)


class OnlineStopped(GeocoderError):
    """The provider kept answering 429: no more requests this run (the message says why)."""


class GeocodeCache:
    """Answers of an online provider on disk, keyed by provider, server and query.

    A rerun is served from here and makes no request; "no result" is stored too.
    The server (``scheme://host:port``, normalised) is part of the key, so one
    server's answers are never reused for another. Only checked answers are
    stored, and a stored answer of the wrong shape (an older cache, a hand edit)
    is asked again rather than used. Each new answer is written at once
    (atomically), so an interrupted run keeps what it fetched.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.data: dict[str, Any] = read_json(self.path) if self.path.is_file() else {}
        if not isinstance(self.data, dict):
            raise InputDataError(f"{self.path}: not a geocode cache: delete it to start afresh")

    @staticmethod
    def key(provider: str, server: str, query: str) -> str:
        return f"{provider}|{server}|{query}"

    def get(self, provider: str, server: str, query: str) -> tuple[bool, Any]:
        key = self.key(provider, server, query)
        if key not in self.data:
            return False, None
        answer = self.data[key]
        if not check_answer(answer):
            logger.warning("%s: the cached answer for %r is malformed: asked again", self.path, key)
            return False, None
        return True, answer

    def put(self, provider: str, server: str, query: str, answer: Any) -> None:
        self.data[self.key(provider, server, query)] = answer
        write_json(self.path, dict(sorted(self.data.items())))


class Pace:
    """At least ``min_delay`` seconds between the starts of any two HTTP requests."""

    def __init__(self, min_delay: float, sleep: Callable[[float], None]) -> None:
        self.min_delay = min_delay
        self.sleep = sleep
        self.last: float | None = None

    def __call__(self) -> None:
        now = time.monotonic()
        if self.last is not None and now - self.last < self.min_delay:
            self.sleep(self.min_delay - (now - self.last))
        self.last = time.monotonic()


class OnlineGeocoder:
    """An online geopy geocoder behind RateLimiter, retries with backoff, and a cache.

    Every HTTP request (a retry, a redirect hop) is paced by :class:`Pace` when
    the geocoder uses the guarded adapter; waits (backoff, ``Retry-After``) are
    capped by ``max_wait_seconds``; after ``max_rate_limited`` answers of 429 in
    a row no more requests are made (:class:`OnlineStopped`).
    """

    def __init__(
        self,
        geocoder: Geocoder,
        params: GeocodeParams,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.geocoder = geocoder
        self.params = params
        self.method = _method_of(geocoder)
        self.server = server_of(
            getattr(geocoder, "scheme", params.scheme),
            getattr(geocoder, "domain", "") or params.domain,
        )
        self.cache = GeocodeCache(Path(params.cache_path))
        self.sleep = sleep
        if isinstance(getattr(geocoder, "adapter", None), GuardedAdapter):
            geocoder.adapter.pace = Pace(params.min_delay_seconds, sleep)
        self.limited = RateLimiter(
            geocoder.geocode,
            min_delay_seconds=params.min_delay_seconds,
            max_retries=0,  # retries are ours, with a growing wait (below)
            error_wait_seconds=params.min_delay_seconds,
            swallow_exceptions=False,
        )
        self.requests = 0
        self.rate_limited = 0  # 429 answers in a row
        self.stopped = ""

    def _kwargs(self) -> dict[str, Any]:
        codes = sorted(area.COUNTRIES)
        if isinstance(self.geocoder, Nominatim):
            return {"country_codes": [c.lower() for c in codes]}
        if isinstance(self.geocoder, GeoNames):
            return {"country": codes}
        return {}

    def fetch(self, query: str, where: str) -> Any:
        """The cached or fetched answer for ``query``: a dict, or None for no result.

        Raises :class:`OnlineStopped` without a request once the provider has
        stopped answering (repeated 429s), :class:`GeocoderError` for a failed
        or refused request; a refused answer is not cached.
        """
        hit, answer = self.cache.get(self.method, self.server, query)
        if hit:
            return answer
        if self.stopped:
            raise OnlineStopped(self.stopped)
        location = self._ask(query, where)
        answer = None
        if location is not None:
            answer = {
                "address": location.address,
                "lat": location.latitude,
                "lon": location.longitude,
                "raw": location.raw,
            }
            if not check_answer(answer):
                raise GeocoderError(
                    f"{where}: {self._name()} sent an answer of an unexpected shape for "
                    f"{query!r}: not used, not cached"
                )
        self.cache.put(self.method, self.server, query, answer)
        return answer

    def _name(self) -> str:
        return f"{self.method} ({self.server})"

    def _ask(self, query: str, where: str) -> Location | None:
        name = self._name()
        for attempt in range(self.params.max_retries + 1):
            self.requests += 1
            try:
                location = self.limited(query, exactly_one=True, **self._kwargs())
                self.rate_limited = 0
                return location
            except GeocoderParseError as exc:
                raise GeocoderError(
                    f"{where}: {name} sent a malformed answer for {query!r} ({exc}): "
                    "check geocode.domain and geocode.scheme in params.yaml"
                ) from None
            except RefusedAnswer as exc:
                raise GeocoderError(
                    f"{where}: {name} answer for {query!r} refused: {exc}: not used, not "
                    "cached; check that geocode.domain and geocode.scheme name the "
                    "provider's own server"
                ) from None
            except (*_RETRYABLE, GeocoderServiceError) as exc:
                if isinstance(exc, GeocoderRateLimited):
                    self.rate_limited += 1
                    if self.rate_limited >= self.params.max_rate_limited:
                        self.stopped = (
                            f"{where}: {name} answered 429 (too many requests) "
                            f"{self.rate_limited} times in a row, last for {query!r}: stopped "
                            f"querying; answers so far are cached in {self.params.cache_path}; "
                            "rerun later, or raise geocode.min_delay_seconds"
                        )
                        raise OnlineStopped(self.stopped) from None
                retryable = isinstance(exc, _RETRYABLE) or type(exc) is GeocoderServiceError
                if not retryable or attempt == self.params.max_retries:
                    raise GeocoderError(
                        f"{where}: {name} failed for {query!r} after {attempt + 1} "
                        f"request(s): {type(exc).__name__}: {exc}: answers so far are cached "
                        f"in {self.params.cache_path}; rerun later, or set geocode.provider "
                        "to offline"
                    ) from None
                wait = self._wait(attempt, getattr(exc, "retry_after", None))
                logger.warning("%s: %s: %s; retrying in %.1f s", where, name, exc, wait)
                self.sleep(wait)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
                raise GeocoderError(
                    f"{where}: {name} sent an answer of an unexpected shape for {query!r} "
                    f"({type(exc).__name__}: {exc})"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, attempt: int, retry_after: Any) -> float:
        """Backoff doubling per attempt, or the server's Retry-After, capped.

        >>> online = OnlineGeocoder.__new__(OnlineGeocoder)
        >>> online.params = GeocodeParams(backoff_seconds=2.0, max_wait_seconds=60.0)
        >>> online._wait(1, 100000), online._wait(2, None), online._wait(0, float("nan"))
        (60.0, 8.0, 2.0)
        """
        wait = self.params.backoff_seconds * 2**attempt
        try:
            asked = float(retry_after) if retry_after is not None else 0.0
        except (TypeError, ValueError):
            asked = 0.0
        if math.isfinite(asked) and asked > wait:
            wait = asked
        return min(wait, self.params.max_wait_seconds)

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
            population = str(raw.get("population") or "")
            radius = settlement_radius_km(int(population) if population.isdigit() else None)
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
