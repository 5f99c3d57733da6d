"""The offline geocoder with geopy's interface: :class:`GazetteerGeocoder`.

Apart from :mod:`pipeline.geocode.points` because geopy (with the HTTP clients it
loads) costs a good part of a second to import, which ``camps lookup`` and
``camps serve`` do not need.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point as GeopyPoint

from pipeline import area
from pipeline.geocode.points import OfflinePlaces
from pipeline.geocode.radii import Doubt
from pipeline.names import fold
from pipeline.places import Gazetteer


class GazetteerGeocoder(OfflinePlaces, Geocoder):
    """A geopy geocoder over the built gazetteer; it never opens a socket.

    Having geopy's interface lets the stage treat the gazetteer and an online
    provider alike, and lets users call it from their own geopy code.
    """

    def __init__(self, gazetteer: Gazetteer, doubt: Doubt | None = None) -> None:
        # The adapter geopy builds here is never used: no method below calls it.
        Geocoder.__init__(self, user_agent="camps-offline-gazetteer")
        OfflinePlaces.__init__(self, gazetteer, doubt)

    def geocode(
        self,
        query: str,
        *,
        exactly_one: bool = True,
        timeout: float | None = None,
        language: str | bool = False,
        country_codes: str | Sequence[str] | None = None,
    ) -> Location | list[Location] | None:
        """Places whose name (any script) folds to ``query``, most populous first.

        The keywords are geopy's common ones: ``timeout`` is accepted and unused
        (nothing goes over a network), ``language`` names the place in that language
        where the gazetteer has such a name, ``country_codes`` (ISO alpha-2, one or
        several, any case) keeps the places of those countries.
        """
        ids = self.index.places.get(fold(query), ())
        wanted = _country_set(country_codes)
        places = sorted(
            (self.gazetteer.places[i] for i in ids if not wanted or self._country(i) in wanted),
            key=lambda p: (-p.population, p.place_id),
        )
        found = [loc for p in places if (loc := self.lookup(p.place_id, language)) is not None]
        if exactly_one:
            return found[0] if found else None
        return found or None

    def reverse(
        self,
        query: Any,
        *,
        exactly_one: bool = True,
        timeout: float | None = None,
        language: str | bool = False,
        limit: int = 5,
    ) -> Location | list[Location] | None:
        """The gazetteer places nearest to a point, nearest first (geopy's ``reverse``).

        ``query`` is what geopy takes: a ``(lat, lon)`` pair, a
        :class:`geopy.point.Point` or a ``"lat, lon"`` string.
        """
        point = GeopyPoint(query)
        ranked = sorted(
            (area.haversine_km(point.latitude, point.longitude, p.lat, p.lon), p.place_id)
            for p in self.gazetteer.places.values()
            if p.lat is not None and p.lon is not None
        )
        found = [
            loc
            for _, place_id in ranked[: 1 if exactly_one else max(limit, 1)]
            if (loc := self.lookup(place_id, language)) is not None
        ]
        if exactly_one:
            return found[0] if found else None
        return found or None

    def _country(self, place_id: str) -> str:
        return self.gazetteer.places[place_id].country.upper()

    def lookup(self, place_id: str, language: str | bool = False) -> Location | None:
        """The place with this id as a Location (``raw`` = its record); None if pointless.

        With ``language`` (a BCP 47 tag such as ``ru`` or ``ja``) the address uses
        the gazetteer's name in that language, where it has one without a period.
        """
        place = self.gazetteer.places.get(place_id)
        if place is None or place.lat is None or place.lon is None:
            return None
        name = self._name_in(place_id, language) or place.name
        address = ", ".join(x for x in (name, place.country) if x)
        # Its fields are all scalars: a plain copy of them is asdict at a tenth the cost.
        return Location(address, (place.lat, place.lon), dict(vars(place)))

    def _name_in(self, place_id: str, language: str | bool) -> str:
        if not isinstance(language, str) or not language:
            return ""
        wanted = language.lower().split("-")[0]
        for name in self.names_of.get(place_id, ()):
            if name.lang.lower().split("-")[0] == wanted and not name.period:
                return name.name
        return ""

    def region(self, region_id: str) -> Location | None:
        """A region's centroid as a Location (``raw`` = the region record)."""
        region = self.gazetteer.regions.get(region_id)
        if region is None or region.lat is None or region.lon is None:
            return None
        return Location(region.name_1945, (region.lat, region.lon), dataclasses.asdict(region))


def _country_set(codes: str | Sequence[str] | None) -> set[str]:
    """geopy's ``country_codes``: one code or several, any case.

    >>> sorted(_country_set("ru")), sorted(_country_set(["KZ", "mn"])), _country_set(None)
    (['RU'], ['KZ', 'MN'], set())
    """
    if not codes:
        return set()
    return {c.strip().upper() for c in ([codes] if isinstance(codes, str) else codes)}
