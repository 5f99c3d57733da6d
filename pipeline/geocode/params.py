"""Geocode params: the ``geocode`` section of params.yaml, its provider and its checks."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pipeline.errors import ParamsError
from pipeline.geocode.radii import Doubt
from pipeline.params import check_range

PUBLIC_NOMINATIM = "nominatim.openstreetmap.org"


class Provider(enum.StrEnum):
    """Where points come from for rows the gazetteer cannot place."""

    OFFLINE = "offline"
    NOMINATIM = "nominatim"
    GEONAMES = "geonames"


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
    #: cap on any wait between retries, the server's Retry-After included
    max_wait_seconds: float = 60.0
    #: an answer larger than this once decoded (a gzip bomb) is refused
    max_response_bytes: int = 2_000_000
    #: after this many 429 answers in a row, no more requests this run
    max_rate_limited: int = 3
    #: Cyrillic candidates of an unresolved name asked of the provider, best first
    online_candidates: int = 3
    #: share of a review row's reconcile probability withheld (pipeline.geocode.radii)
    review_doubt: float = 0.1
    #: share withheld per rank below the best of the reading that named the place
    rank_doubt: float = 0.05

    def __post_init__(self) -> None:
        check_range("geocode", "timeout", self.timeout, 0.001, 300)
        check_range("geocode", "min_delay_seconds", self.min_delay_seconds, 0, 3600)
        check_range("geocode", "max_retries", self.max_retries, 0, 10)
        check_range("geocode", "max_wait_seconds", self.max_wait_seconds, 0, 3600)
        check_range("geocode", "backoff_seconds", self.backoff_seconds, 0, 3600)
        check_range("geocode", "max_response_bytes", self.max_response_bytes, 1000, 10**8)
        check_range("geocode", "max_rate_limited", self.max_rate_limited, 1, 1000)
        check_range("geocode", "online_candidates", self.online_candidates, 0, 10)
        check_range("geocode", "review_doubt", self.review_doubt, 0, 1)
        check_range("geocode", "rank_doubt", self.rank_doubt, 0, 1)

    def doubt(self) -> Doubt:
        """How the reading's doubt widens a radius."""
        return Doubt(review=self.review_doubt, rank=self.rank_doubt)

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
        # the host as the request will reach it: Nominatim.OpenStreetMap.org,
        # nominatim.openstreetmap.org.:443 are the public server too (http imports
        # geopy and requests: only a check of an online provider needs them)
        from pipeline.geocode.http import host_of

        host = host_of(self.scheme, self.domain) if self.domain.strip() else PUBLIC_NOMINATIM
        public = provider is Provider.NOMINATIM and host == PUBLIC_NOMINATIM
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
