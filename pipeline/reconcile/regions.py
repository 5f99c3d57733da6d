"""Region hints: the 1945 units a hint names, and whether a place lay inside one."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from pipeline.area import haversine_km
from pipeline.names import fold_latin, match_key, script_of
from pipeline.places import DISTRICT, DISTRICT_KM, Place, Region
from pipeline.reconcile.index import Index, latin_region_key
from pipeline.reconcile.matching import kana_hits
from pipeline.reconcile.params import ReconcileParams
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


#: A district named in a hint: a -スキー (-ский) adjective before 地区, not 第N地区.
_DISTRICT_HINT = re.compile(r"([\u30a1-\u30fc・]+スキー?)地区")
#: Fuzzy ratio at which a hinted district's adjective is a curated district's name.
DISTRICT_RATIO = 0.85


def hinted_districts(hint: str, index: Index, params: ReconcileParams) -> tuple[Place, ...]:
    """The curated districts a hint names (トウングコチエンスキー地区: Тунгокоченский район).

    >>> hinted_districts("チタ州 第25地区", None, ReconcileParams())  # type: ignore[arg-type]
    ()
    """
    out: dict[str, Place] = {}
    for adjective in _DISTRICT_HINT.findall(hint):
        for number, similarity in kana_hits(match_key(adjective), index, params):
            if similarity < DISTRICT_RATIO:
                continue
            for entry in index.kana_entries[number]:
                place = index.gazetteer.places[entry.place_id]
                if place.feature_type == DISTRICT:
                    out[place.place_id] = place
    return tuple(out.values())


#: A camp number followed by its seat in a hint: 第25地区スレチェンスク (camp area No. 25
#: at Sretensk), as burial lists head their sections.
_SEAT_HINT = re.compile(
    r"第[0-9０-９一二三四五六七八九十百]+(?:地区|収容所|分所|支部)([\u30a1-\u30fc・]{3,})"
)
#: How far from its seat a camp area's branches lay: hundreds of km along a railway or a
#: river (camp No. 25 at Sretensk held Vershino-Darasunsky, 150 km west).
CAMP_AREA_KM = 300.0


def hinted_seats(hint: str, index: Index) -> tuple[Place, ...]:
    """The places a hint names as a camp area's seat (第25地区スレチェンスク: Sretensk).

    Only a kana key that is exactly a gazetteer name, and not a district or a region.

    >>> hinted_seats("チタ州 トウングコチエンスキー地区", None)  # type: ignore[arg-type]
    ()
    """
    out: dict[str, Place] = {}
    for town in _SEAT_HINT.findall(hint):
        number = index.key_ids.get(match_key(town))
        for entry in index.kana_entries[number] if number is not None else ():
            place = index.gazetteer.places[entry.place_id]
            if not entry.partial and place.feature_type not in (DISTRICT, "region"):
                out[place.place_id] = place
    return tuple(out.values())


def hint_reach(hint: str, index: Index, params: ReconcileParams) -> list[tuple[Place, float]]:
    """The places a hint names below its region, each with how far its reach goes.

    A district (トウングコチエンスキー地区) reaches :data:`~pipeline.places.DISTRICT_KM`
    from its centre, a camp area's seat (第25地区スレチェンスク) :data:`CAMP_AREA_KM`;
    none without a 地区 in the hint.
    """
    if "地区" not in hint:
        return []
    near = [(d, DISTRICT_KM) for d in hinted_districts(hint, index, params)]
    return near + [(s, CAMP_AREA_KM) for s in hinted_seats(hint, index)]


def reach_share(place: Place, near: Sequence[tuple[Place, float]]) -> float:
    """How far a place lies from the nearest hinted place, as a share of its reach.

    Inside when at most 1; infinite without a point or without a hinted place.
    """
    return min(
        (_distance_km(place, p) / km for p, km in near),
        default=math.inf,
    )


def _distance_km(a: Place, b: Place) -> float:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return math.inf
    return haversine_km(a.lat, a.lon, b.lat, b.lon)
