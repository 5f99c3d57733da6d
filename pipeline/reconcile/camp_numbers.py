"""GUPVI camp numbers as a link: a register row "第7地区" ties to camp area No. 7.

Japanese registers name many camps only by the GUPVI number (第N地区 follows it;
the transliterate stage puts N in ``camp_no_hint``). A raw file of camp areas
(``raw/camps.csv``) gives each area's number in ``gupvi_camp_no``: a cell that
is the number alone is the camp's seat ("24" for Chita), a cell with words is a
branch or a number in passing ("24 (第10支部)"). A number ties to a camp area
only when exactly one row gives it alone, so "6" (Mogocha and Krasnaya Zarya)
ties to nothing: a hint, never a guess.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from pipeline.io import Row, read_csv
from pipeline.names import is_camp_number_only
from pipeline.records import Decision

#: The column reconcile adds when it is given the camp areas: the area the row's
#: camp number ties to (a place id), whatever the name matched.
CAMP_AREA_COLUMN = "camp_area_hint"
_BARE = re.compile(r"^\s*(\d+)\s*$")


def seat_number(cell: str) -> str:
    """The camp number a ``gupvi_camp_no`` cell gives as the area's own, else "".

    >>> seat_number(" 24 "), seat_number("24 (第10支部)"), seat_number("24 / 52")
    ('24', '', '')
    """
    match = _BARE.match(cell)
    return str(int(match.group(1))) if match else ""


def camp_areas(rows: Iterable[Row]) -> dict[str, str]:
    """Camp number -> place id of its camp area, for numbers exactly one row gives alone.

    >>> camp_areas([{"gupvi_camp_no": "7", "place_id": "tayshet"},
    ...             {"gupvi_camp_no": "6", "place_id": "mogocha"},
    ...             {"gupvi_camp_no": "6", "place_id": "krasnaya-zarya-chita"},
    ...             {"gupvi_camp_no": "7 (line end)", "place_id": "bratsk"}])
    {'7': 'tayshet'}
    """
    seats: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        number, place = seat_number(row.get("gupvi_camp_no", "")), row.get("place_id", "").strip()
        if number and place:
            seats[number].add(place)
    return {number: next(iter(p)) for number, p in sorted(seats.items()) if len(p) == 1}


def read_camp_areas(path: Path) -> dict[str, str]:
    """The camp areas of a raw file with ``gupvi_camp_no`` and ``place_id`` columns."""
    return camp_areas(read_csv(Path(path), required=("gupvi_camp_no", "place_id"))[1])


def tie_camp_numbers(
    rows: Iterable[Row], areas: Mapping[str, str], place_names: Mapping[str, str]
) -> int:
    """Fill ``camp_area_hint``; a row named by its camp number alone goes to review there.

    Only an ``unresolved`` row whose whole name is a camp number ("第7地区") takes
    the camp area as its place, as ``review`` (the number says where the camp's
    seat was, not which of its branches); every other row keeps its decision.
    ``place_names`` maps the place ids the gazetteer holds to their names.
    Returns the number of rows tied.
    """
    tied = 0
    for row in rows:
        place = areas.get(row.get("camp_no_hint", "").strip(), "")
        row[CAMP_AREA_COLUMN] = place if place in place_names else ""
        name = row.get("katakana_normalized", "") or row.get("katakana", "")
        if (
            row[CAMP_AREA_COLUMN]
            and row.get("decision") == Decision.UNRESOLVED
            and is_camp_number_only(name)
        ):
            row.update(
                place_id=place, place_name=place_names[place], decision=Decision.REVIEW.value
            )
            tied += 1
    return tied
