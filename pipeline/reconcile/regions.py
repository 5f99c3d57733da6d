"""Region hints: the 1945 units a hint names, and whether a place lay inside one."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pipeline.area import haversine_km
from pipeline.names import fold_latin, match_key, script_of
from pipeline.places import Place, Region
from pipeline.reconcile.index import Index, latin_region_key
from pipeline.reconcile.query import split_list


def hinted_regions(hint: str, index: Index) -> tuple[Region, ...]:
    """The 1945 units a region hint names, the most specific ones.

    The hint is the katakana prefix of a cell (チタ州…) and/or a raw file's
    ``region`` column in English 1945 terms, joined by ``|``: "Karaganda Oblast,
    Kazakh SSR", "Khabarovsk Krai (Amur Oblast)". A whole form is looked up first,
    then each part (at commas, brackets, slashes); a unit that contains another
    named unit gives way to it (Amur Oblast, not all of Khabarovsk Krai).
    """
    if not hint.strip():
        return ()
    ids: list[str] = []
    for item in split_list(hint) or (hint,):
        found = [r for key in _region_keys_of(item) for r in index.region_keys.get(key, ())]
        if found:
            ids.extend(found)
            continue
        for part in re.split(r"[・,()/;\s\u3000]", item):
            for key in _region_keys_of(part, bare=True):
                ids.extend(index.region_keys.get(key, ()))
    regions = [index.gazetteer.regions[r] for r in dict.fromkeys(ids)]
    return tuple(r for r in regions if not any(_contains(r, other) for other in regions))


def _region_keys_of(text: str, bare: bool = False) -> list[str]:
    """Look-up keys of one region form: katakana/kanji by match_key, Latin folded."""
    if not text.strip():
        return []
    if script_of(text) == "Latn":
        return [k for k in (fold_latin(text), latin_region_key(text) if bare else "") if k]
    return [k for k in (match_key(text),) if k]


def _contains(outer: Region, inner: Region) -> bool:
    """Whether ``outer`` is a larger unit that holds all of ``inner``."""
    if outer.region_id == inner.region_id or outer.country != inner.country:
        return False
    if "*" in inner.admin1_codes:
        return False
    return "*" in outer.admin1_codes or set(inner.admin1_codes) < set(outer.admin1_codes)


def lies_inside(place: Place, region: Region, regions: Mapping[str, Region]) -> bool:
    """Whether a place lay inside a 1945 unit: by its region, its admin1, else by distance.

    A place with a known admin1 is inside or outside by its code: the radius of a
    unit as large as Khabarovsk Krai would take in half of Primorye.
    """
    if place.region_id and place.region_id == region.region_id:
        return True
    own = regions.get(place.region_id)
    if own is not None and _contains(region, own):
        return True
    if place.admin1 and region.admin1_codes:
        return region.covers(place.country, place.admin1)
    if place.country and region.country and place.country != region.country:
        return False
    if (
        place.lat is None
        or place.lon is None
        or region.lat is None
        or region.lon is None
        or region.radius_km is None
    ):
        return False
    return haversine_km(place.lat, place.lon, region.lat, region.lon) <= region.radius_km
