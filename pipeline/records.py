"""Closed sets and column contracts shared by the stages (see DESIGN.md)."""

from __future__ import annotations

import enum
import math


class SymbolClass(enum.StrEnum):
    """The ministry map's symbol classes (NOTE 1), plus our ``unknown``."""

    OVER_20000 = "over_20000"
    OVER_10000 = "over_10000"
    UNDER_10000 = "under_10000"
    SMALL = "small"
    UNKNOWN = "unknown"


#: Legend text and label colour per class, in the map's order (NOTE 1 of the seed).
LEGEND: dict[SymbolClass, tuple[str, str]] = {
    SymbolClass.OVER_20000: ("Over 20,000 detained (large circle, heavy outline)", "#d7191c"),
    SymbolClass.OVER_10000: ("Over 10,000 (black circle)", "#2b5fd9"),
    SymbolClass.UNDER_10000: ("Less than 10,000 (small circle)", "#000000"),
    SymbolClass.SMALL: ("Small number (triangle)", "#1a9641"),
    SymbolClass.UNKNOWN: ("No class attested (not on the map's legend)", "#808080"),
}


class Decision(enum.StrEnum):
    """How a name was tied to a place by the reconcile stage."""

    AUTO = "auto"
    REVIEW = "review"
    OVERRIDE = "override"
    UNRESOLVED = "unresolved"


class Certainty(enum.StrEnum):
    """Certainty of a point, in the Linked Places Format's vocabulary."""

    CERTAIN = "certain"
    LESS_CERTAIN = "less-certain"
    UNCERTAIN = "uncertain"


#: What transliterate adds to a register; reconcile needs them all.
TRANSLITERATE_COLUMNS = (
    "katakana_normalized",
    "region_hint",
    "romaji",
    "latin_candidates",
    "cyrillic_candidates",
    "name_flag",
    "feature_hint",
    "camp_no_hint",
)
RECONCILE_COLUMNS = ("place_id", "place_name", "score", "decision", "candidates")
#: gazetteer/overrides.csv as ``camps review`` writes it; ``uncertainty_km`` (the radius
#: of an override's own point) and any other column are optional and kept.
OVERRIDE_COLUMNS = (
    "record_id",
    "katakana",
    "place_id",
    "lat",
    "lon",
    "decision",
    "note",
    "source",
    "created",
)
#: What export adds to each row of its layers.
EXPORT_COLUMNS = ("symbol_class", "class_basis", "label")
#: A gold file of ``camps evaluate`` (empty expected: a name that must not match).
GOLD_COLUMNS = ("katakana", "expected", "lat", "lon")
#: A file of real register spellings (raw/realnames_dev.csv): the cell, the region its
#: source gives, the Russian name and point where a source pins them, Manchurian or not.
REALNAMES_COLUMNS = (
    "katakana",
    "region_given",
    "cyrillic",
    "latin",
    "lat",
    "lon",
    "not_ussr",
)
#: The curated gazetteer (gazetteer/places.csv, place_names.csv, regions.csv, maps.csv)
#: as ``camps validate`` checks it; the build needs the ``*_REQUIRED`` ones.
CURATED_PLACE_COLUMNS = (
    "place_id",
    "name",
    "feature_type",
    "admin_1945",
    "region_id",
    "country",
    "lat",
    "lon",
    "point_source",
    "geonames_id",
    "maps",
    "sources",
    "note",
)
CURATED_NAME_COLUMNS = ("place_id", "name", "lang", "period", "source")
CURATED_REGION_COLUMNS = (
    "region_id",
    "name_1945",
    "name_modern",
    "country",
    "admin1_codes",
    "kana",
    "latin",
    "source",
)
MAP_COLUMNS = ("id", "title", "publisher", "year", "series_scale", "place", "note")
CURATED_REQUIRED = ("place_id", "name", "country", "lat", "lon", "point_source", "geonames_id")
CURATED_REGION_REQUIRED = ("region_id", "name_1945", "country", "admin1_codes", "kana")
GEOCODE_COLUMNS = (
    "lat",
    "lon",
    "geocode_method",
    "geocode_source",
    "certainty",
    "uncertainty_km",
)


#: Columns the stages write into a register's rows. ``place_id`` and ``symbol_class``
#: are not among them: a raw file may give the place it already knows and the class
#: printed on the map, which the stages honour.
STAGE_COLUMNS = (
    *TRANSLITERATE_COLUMNS,
    *(c for c in RECONCILE_COLUMNS if c != "place_id"),
    *GEOCODE_COLUMNS,
    *(c for c in EXPORT_COLUMNS if c != "symbol_class"),
    "unresolved_reason",
    "fid",  # the GeoPackage's own feature id
)


def columns_taken(columns: list[str], source: str) -> list[str]:
    """Problems of a raw header whose columns a stage would overwrite, one line each.

    A user's own ``lat`` or ``decision`` would silently be replaced by the
    stages' values; two columns that differ only in case would be one in a
    GeoPackage. Both are refused with the column named and the fix.

    >>> for problem in columns_taken(["katakana", "lat", "Notes", "notes"], "a.csv"):
    ...     print(problem[:64])
    a.csv: row 1, column lat: the pipeline writes this column (it wo
    a.csv: row 1, columns Notes and notes differ only in case (one c
    """
    problems = [
        f"{source}: row 1, column {name}: the pipeline writes this column (it would "
        f"overwrite yours): rename it, e.g. to my_{name}"
        for name in columns
        if name.strip().lower() in STAGE_COLUMNS
    ]
    seen: dict[str, str] = {}
    for name in columns:
        other = seen.setdefault(name.lower(), name)
        if other != name:
            problems.append(
                f"{source}: row 1, columns {other} and {name} differ only in case "
                "(one column in a GeoPackage): rename one"
            )
    return problems


def parse_detainees(value: str) -> int | None:
    """Parse a detainee figure such as ``"40,000"`` or ``"~30000"``; empty is ``None``.

    >>> parse_detainees("40,000"), parse_detainees(" ~30000 "), parse_detainees("")
    (40000, 30000, None)
    """
    text = value.strip().lstrip("~≈c.").replace(",", "").replace(" ", "").replace("_", "")
    if not text:
        return None
    number = float(text)  # ValueError is the caller's to report with row and column
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"not a count: {value!r}")
    return int(number)


def classify(symbol_class: str, detainees: str) -> SymbolClass:
    """The class a row is drawn with: the printed class, else the sourced count's, else unknown.

    DESIGN.md: never guess a class. A count of exactly 10,000 or 20,000 is not
    "over" either bound, so it falls in the class below.

    >>> [str(classify(*pair)) for pair in (("", "40,000"), ("small", "40000"), ("", ""))]
    ['over_20000', 'small', 'unknown']
    """
    printed = symbol_class.strip()
    if printed and printed != SymbolClass.UNKNOWN:
        return SymbolClass(printed)
    count = parse_detainees(detainees)
    if count is None:
        return SymbolClass.UNKNOWN
    if count > 20000:
        return SymbolClass.OVER_20000
    if count > 10000:
        return SymbolClass.OVER_10000
    return SymbolClass.UNDER_10000


def assign_record_ids(rows: list[dict[str, str]], source: str) -> list[str]:
    """Give every row a ``record_id``, keeping the ones the file has; return problems.

    An id made here is stable: the hash of the row's katakana and its other
    values, with ``-2``, ``-3`` … for identical rows, so reruns give the same ids.
    A duplicate id that the file itself carries is reported, not renamed.

    >>> rows = [{"katakana": "チタ"}, {"katakana": "チタ"}]
    >>> assign_record_ids(rows, "x.csv"), [r["record_id"] for r in rows]
    ([], ['r-08dd603e44', 'r-08dd603e44-2'])
    """
    import hashlib

    problems: list[str] = []
    seen: dict[str, int] = {}
    made: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        given = row.get("record_id", "").strip()
        if given:
            if given in seen:
                problems.append(
                    f"{source}: row {number}, column record_id: '{given}' repeats row "
                    f"{seen[given]}: give each row its own id or leave the column empty"
                )
            seen.setdefault(given, number)
            row["record_id"] = given
            continue
        payload = "\x1f".join(f"{k}={v}" for k, v in sorted(row.items()) if k != "record_id")
        base = "r-" + hashlib.sha1(payload.encode("utf-8")).hexdigest()[:10]
        made[base] = made.get(base, 0) + 1
        row["record_id"] = base if made[base] == 1 else f"{base}-{made[base]}"
    return problems


def check_raw_rows(rows: list[dict[str, str]], source: str) -> list[str]:
    """Problems in the optional raw columns that later stages rely on, one line each.

    ``symbol_class`` must be a class id of the legend and ``detainees`` a count, so
    that a typo fails at the first stage with its row, not at export.

    >>> rows = [{"katakana": "チタ", "symbol_class": "big", "detainees": "many"}]
    >>> for problem in check_raw_rows(rows, "a.csv"):
    ...     print(problem[:60])
    a.csv: row 2, column symbol_class: 'big' is not a class: use
    a.csv: row 2, column detainees: 'many' is not a count: write
    """
    classes = ", ".join(c.value for c in SymbolClass)
    problems = []
    for number, row in enumerate(rows, start=2):
        printed = row.get("symbol_class", "").strip()
        if printed and printed not in {c.value for c in SymbolClass}:
            problems.append(
                f"{source}: row {number}, column symbol_class: '{printed}' is not a class: "
                f"use one of {classes} (or leave it empty)"
            )
        try:
            parse_detainees(row.get("detainees", ""))
        except ValueError:
            problems.append(
                f"{source}: row {number}, column detainees: '{row['detainees']}' is not a count: "
                "write a whole number such as 10311 or 40,000, or leave it empty"
            )
    return problems
