"""Geocode params: the ``geocode`` section of params.yaml, its provider and its checks."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pipeline.errors import ParamsError

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
