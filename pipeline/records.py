"""Closed sets and column contracts shared by the stages (see DESIGN.md)."""

from __future__ import annotations

import dataclasses
import enum
import logging
import math
import re
from collections.abc import Iterable

logger = logging.getLogger(__name__)


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


class GeocodeMethod(enum.StrEnum):
    """How a row's point was found (the geocode stage's ``geocode_method`` column).

    ``place`` a town, settlement or village of the gazetteer; ``station`` a
    railway station of the gazetteer; ``region_centroid`` the centroid of a 1945
    region (only the region is known); ``override`` a point set by a person;
    ``geonames`` and ``nominatim`` an online provider's answer.
    """

    OVERRIDE = "override"
    PLACE = "place"
    STATION = "station"
    REGION_CENTROID = "region_centroid"
    GEONAMES = "geonames"
    NOMINATIM = "nominatim"

    @property
    def online(self) -> bool:
        """Whether the point is an online provider's answer."""
        return self in (GeocodeMethod.GEONAMES, GeocodeMethod.NOMINATIM)


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
    "scope",
    "region",
    "place_id",
    "lat",
    "lon",
    "decision",
    "note",
    "source",
    "created",
)
#: What export adds to each row of its layers: the class, why (``detainee count: <source>``
#: or ``printed on the map``), the figure as the source gives it (``over 16,000``) and the label.
EXPORT_COLUMNS = ("symbol_class", "class_basis", "detainees_figure", "label")
#: The sourced figures of a camp row (raw/README.md). Only ``detainees``, a count of the
#: people detained at the camp area, gives a class; the others are shown, never classed.
FIGURE_COLUMNS = (
    "detainees",
    "detainees_source",
    "detainees_counts",
    "detainees_year",
    "detainees_trust",
    "detainees_excerpt",
    "deaths",
    "deaths_source",
    "burials",
    "burials_source",
    "remains_recovered",
    "remains_source",
    "other_figures",
)
#: Figures that are whole numbers in the layers (``detainees`` is the figure's lower end).
COUNT_COLUMNS = ("detainees", "deaths", "burials", "remains_recovered")
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
    "camp_area_hint",  # reconcile --camp-areas: the camp area a camp number ties to
    "fid",  # the GeoPackage's own feature id
)


#: Columns of a raw file: SQLite (the GeoPackage) allows 2,000 per table, and the
#: stages add about 30 of their own.
MAX_COLUMNS = 1_900


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
    if len(columns) > MAX_COLUMNS:
        return [
            f"{source}: row 1: {len(columns):,} columns, more than the {MAX_COLUMNS:,} a "
            "GeoPackage layer can hold beside the pipeline's own: keep the columns you "
            "need (record_id, katakana, region, ...) and drop the rest"
        ]
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


_NUMBER = r"(\d[\d,_ ]*)"
_ABOUT = re.compile(r"^(?:about|approx\.?|approximately|circa|ca\.|c\.|~|≈|約)\s*" + _NUMBER + "$")
_OVER = re.compile(r"^(?:over|more than|at least|>|≥)\s*" + _NUMBER + "$")
_PLUS = re.compile(r"^" + _NUMBER + r"\s*(?:\+|以上)$")
_RANGE = re.compile(r"^" + _NUMBER + r"\s*(?:-|–|—|to)\s*" + _NUMBER + "$")
_EXACT = re.compile(r"^" + _NUMBER + "$")
#: "about N" is read as N give or take this share, so "about 10,000" fits no class.
ABOUT_TOLERANCE = 0.1


@dataclasses.dataclass(frozen=True)
class Figure:
    """A sourced figure as an interval of whole numbers.

    ``high`` is ``None`` for an open figure ("over 16,000"); ``count`` is the
    number the source writes (the lower end of a range, the bound of "over").
    """

    low: int
    high: int | None
    qualifier: str  # "", "about", "over" or "range"
    count: int

    def text(self) -> str:
        """The figure as a reader would write it.

        >>> [parse_figure(v).text() for v in ("40000", "~30000", ">16000", "1200-1500")]
        ['40,000', 'about 30,000', 'over 16,000', '1,200-1,500']
        """
        if self.qualifier == "range":
            return f"{self.low:,}-{self.high:,}"
        prefix = f"{self.qualifier} " if self.qualifier else ""
        return f"{prefix}{self.count:,}"


def _whole(text: str) -> int:
    number = float(text.replace(",", "").replace("_", "").replace(" ", ""))
    if not math.isfinite(number) or number < 0 or number != int(number):
        raise ValueError(f"not a count: {text!r}")
    if number > MAX_DETAINEES:
        # 1e20 would overflow the GeoPackage's 64-bit integer column
        raise ValueError(f"{text.strip()[:30]!r} is over {MAX_DETAINEES:,}, not a camp's count")
    return int(number)


def parse_figure(value: str) -> Figure | None:
    """Parse a figure: ``40,000``, ``about 30,000`` (``~``, ``c.``), ``over 16,000``
    (``>``, ``16,000+``) or a range ``1,200-1,500``; empty is ``None``.

    >>> parse_figure("over 16,000")
    Figure(low=16001, high=None, qualifier='over', count=16000)
    >>> parse_figure("about 10,000")
    Figure(low=9000, high=11000, qualifier='about', count=10000)
    """
    text = value.strip().lower()
    if not text:
        return None
    if match := _EXACT.match(text):
        n = _whole(match.group(1))
        return Figure(n, n, "", n)
    if match := _ABOUT.match(text):
        n = _whole(match.group(1))
        low, high = round(n * (1 - ABOUT_TOLERANCE)), round(n * (1 + ABOUT_TOLERANCE))
        return Figure(low, high, "about", n)
    if match := _OVER.match(text) or _PLUS.match(text):
        n = _whole(match.group(1))
        return Figure(n + 1, None, "over", n)
    if match := _RANGE.match(text):
        low, high = _whole(match.group(1)), _whole(match.group(2))
        if low > high:
            raise ValueError(f"a range from high to low: {value!r}")
        return Figure(low, high, "range", low)
    raise ValueError(f"not a count: {value!r}")


def parse_detainees(value: str) -> int | None:
    """The number a figure writes (its lower end); empty is ``None``.

    >>> parse_detainees("40,000"), parse_detainees(" ~30000 "), parse_detainees("")
    (40000, 30000, None)
    """
    figure = parse_figure(value)
    return None if figure is None else figure.count


def class_of_figure(figure: Figure | None) -> SymbolClass:
    """The legend class a figure supports, else ``unknown``: never a guess.

    The legend says "over 20,000", "over 10,000" and "less than 10,000"; a count of
    exactly 10,000 or 20,000 is not "over" that bound, so it falls in the class
    below. A figure is an interval: "over 20,000" needs its low end above 20,000,
    "over 10,000" its low end above 10,000 (an open or wider top is still "over
    10,000"), and "less than 10,000" its high end at 10,000 at most. So "over
    3,000" or "about 10,000" (9,000-11,000) fit no class.

    >>> [str(class_of_figure(parse_figure(v))) for v in ("10000", "20000", "over 3000")]
    ['under_10000', 'over_10000', 'unknown']
    """
    if figure is None:
        return SymbolClass.UNKNOWN
    if figure.low > 20000:
        return SymbolClass.OVER_20000
    if figure.low > 10000:
        return SymbolClass.OVER_10000
    if figure.high is not None and figure.high <= 10000:
        return SymbolClass.UNDER_10000
    return SymbolClass.UNKNOWN


#: A detainee figure above this is refused (the whole Soviet camp system held millions).
MAX_DETAINEES = 1_000_000_000
#: ``candidates`` cells deeper or longer than this are not the reconcile stage's.
_MAX_CANDIDATES_CHARS = 1_000_000


#: The words of each per-candidate feature of the reconcile stage (its ``candidates``
#: JSON gives id and value only): the service names them (the 1.0 draft of the W3C
#: API), the export describes the candidates table's columns with them.
FEATURE_LABELS = {
    "name_exact": "the name in some script is a name of the place",
    "kana_similarity": "katakana similarity to the Russian name read by Japanese rules",
    "latin_similarity": "Latin similarity of the transliterations to the place's Latin names",
    "partial_name": "only one word of a compound name matched",
    "soviet_name": "the name matched is a curated name of a period",
    "region": "region hint puts the place inside (+1) or outside (-1) the 1945 unit",
    "feature_type": "feature word agrees (+1) or not (-1) with the place's type",
    "population": "population prior (log scale, 1 from a million)",
    "curated": "a place of the curated historical gazetteer",
    "unique": "no distant namesake comes near this name evidence",
}


def parse_candidates(cell: str) -> list[dict[str, object]]:
    """The reconcile stage's ``candidates`` JSON: a list of objects with id, name, score.

    Raises :class:`ValueError` saying what is wrong (not JSON, nested too deep,
    not a list, an entry without a text id or name, a score that is not a finite
    number); the caller names the file, row and column.

    >>> parse_candidates('[{"id": "gn:1", "name": "Чита", "score": 0.9}]')[0]["score"]
    0.9
    >>> parse_candidates('{"id": "gn:1"}')
    Traceback (most recent call last):
    ...
    ValueError: not a JSON list of candidates (dict)
    """
    text = cell.strip()
    if not text:
        return []
    if len(text) > _MAX_CANDIDATES_CHARS:
        raise ValueError(f"{len(text):,} characters, more than a candidates list holds")
    import json

    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(data, list):
        raise ValueError(f"not a JSON list of candidates ({type(data).__name__})")
    for n, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise ValueError(f"candidate {n} is a {type(item).__name__}, not an object")
        for key in ("id", "name"):
            if not isinstance(item.get(key), str):
                raise ValueError(f"candidate {n} has no text {key!r}")
        score = item.get("score")
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise ValueError(f"candidate {n}: score {score!r} is not a number")
        if not math.isfinite(score):
            raise ValueError(f"candidate {n}: score {score!r} is not finite")
    return data


def classify(symbol_class: str, detainees: str) -> SymbolClass:
    """The class a row is drawn with: the printed class, else the sourced count's, else unknown.

    DESIGN.md: never guess a class (:func:`class_of_figure` says how a figure
    gives one).

    >>> [str(classify(*pair)) for pair in (("", "40,000"), ("small", "40000"), ("", ""))]
    ['over_20000', 'small', 'unknown']
    """
    printed = symbol_class.strip()
    if printed and printed != SymbolClass.UNKNOWN:
        return SymbolClass(printed)
    return class_of_figure(parse_figure(detainees))


#: A gazetteer name's ``period``: ``YYYY``, ``YYYY-YYYY``, ``-YYYY`` or ``YYYY-`` (see validate).
PERIOD_RE = re.compile(r"^(?:(\d{4})|(\d{4})?-(\d{4})?)$")
#: The years of the internment the register spellings come from (DESIGN.md's title).
INTERNMENT_YEARS = (1945, 1956)


def parse_period(period: str) -> tuple[float, float] | None:
    """A period as (first year, last year), open ends infinite; ``None`` when empty.

    >>> parse_period("1935-1957"), parse_period("-1972"), parse_period("1945")
    ((1935.0, 1957.0), (-inf, 1972.0), (1945.0, 1945.0))
    """
    text = period.strip()
    if not text:
        return None
    match = PERIOD_RE.match(text)
    if match is None:
        raise ValueError(f"not a period: {period!r}")
    single, start, end = match.groups()
    if single:
        return float(single), float(single)
    return (float(start) if start else -math.inf), (float(end) if end else math.inf)


def in_use_during_internment(period: str) -> bool:
    """Whether a name with this period was in use at some time in 1945-1956.

    An empty period (a current name, or one we hold no dates for) says nothing,
    so it is not preferred; a period that does not parse counts as unknown too.

    >>> [in_use_during_internment(p) for p in ("1935-1957", "-1935", "1961-", "", "-1991")]
    [True, False, False, False, True]
    """
    try:
        span = parse_period(period)
    except ValueError:
        return False
    if span is None:
        return False
    first, last = INTERNMENT_YEARS
    return span[0] <= last and span[1] >= first


def period_rank(period: str) -> int:
    """How strongly a name's period recommends it for a register of 1945-1956.

    2: in use then (Voroshilov 1935-1957); 1: a dated name of another time
    (Nikolsk-Ussuriysky -1935); 0: no period. Among equal readings the higher wins.

    >>> [period_rank(p) for p in ("1935-1957", "-1935", "")]
    [2, 1, 0]
    """
    if in_use_during_internment(period):
        return 2
    return 1 if period.strip() else 0


def assign_record_ids(rows: list[dict[str, str]], source: str) -> list[str]:
    """Give every row a ``record_id``, keeping the ones the file has; return problems.

    A given id is kept as given, less spaces around it (the rows trimmed are
    logged). An id made here depends only on the row's name cell and how many
    rows before it have the same name: adding, removing or reordering columns,
    or editing any other cell, keeps it. Ids are unique: a made id that equals
    a given one takes the next number. A duplicate id that the file itself
    carries is reported, not renamed.

    >>> rows = [{"katakana": "チタ"}, {"katakana": "チタ", "notes": "x"}, {"record_id": " 7 "}]
    >>> assign_record_ids(rows, "x.csv"), [r["record_id"] for r in rows]
    ([], ['r-6d62d45412', 'r-6d62d45412-2', '7'])
    """
    ids = RecordIds(source)
    ids.see(rows)
    problems = ids.checked()
    ids.assign(rows)
    return problems


class RecordIds:
    """:func:`assign_record_ids` over a file read in chunks, in two passes.

    :meth:`see` every chunk (the ids the file gives), :meth:`checked`, then
    :meth:`assign` every chunk again, in the same order: the ids are those
    :func:`assign_record_ids` gives the whole file.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.seen: dict[str, int] = {}
        self.trimmed: list[int] = []
        self.problems: list[str] = []
        self.rows = 0
        self.occurrences: dict[str, int] = {}
        self.taken: set[str] = set()

    def see(self, rows: Iterable[dict[str, str]]) -> None:
        """Note the ids that the rows give (the next rows of the file), trimmed."""
        for number, row in enumerate(rows, start=self.rows + 2):
            self.rows += 1
            raw = row.get("record_id", "")
            given = raw.strip()
            if not given:
                continue
            if given != raw:
                self.trimmed.append(number)
            if given in self.seen:
                self.problems.append(
                    f"{self.source}: row {number}, column record_id: '{given}' repeats row "
                    f"{self.seen[given]}: give each row its own id or leave the column empty"
                )
            self.seen.setdefault(given, number)
            row["record_id"] = given

    def checked(self) -> list[str]:
        """The problems of the ids seen (repeats); log the ids that were trimmed."""
        if self.trimmed:
            more = " …" if len(self.trimmed) > 10 else ""
            shown = ", ".join(map(str, self.trimmed[:10])) + more
            logger.warning(
                "%s: column record_id: spaces around %d id(s) dropped (rows %s)",
                self.source,
                len(self.trimmed),
                shown,
            )
        self.taken = set(self.seen)
        return self.problems

    def assign(self, rows: Iterable[dict[str, str]]) -> None:
        """Trim the rows' given ids and make the missing ones (the next rows of the file)."""
        import hashlib

        for row in rows:
            given = row.get("record_id", "").strip()
            if given:
                row["record_id"] = given
                continue
            name = row.get("katakana", "").strip()
            base = "r-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]
            count = self.occurrences.get(base, 0) + 1
            made = base if count == 1 else f"{base}-{count}"
            while made in self.taken:
                count += 1
                made = f"{base}-{count}"
            self.occurrences[base] = count
            self.taken.add(made)
            row["record_id"] = made


def check_raw_rows(rows: Iterable[dict[str, str]], source: str, start: int = 2) -> list[str]:
    """Problems in the optional raw columns that later stages rely on, one line each.

    ``symbol_class`` must be a class id of the legend and ``detainees`` a count, so
    that a typo fails at the first stage with its row, not at export. ``start`` is
    the row number of the first of ``rows`` (a later chunk of a file starts further).

    >>> rows = [{"katakana": "チタ", "symbol_class": "big", "detainees": "many"}]
    >>> for problem in check_raw_rows(rows, "a.csv"):
    ...     print(problem[:60])
    a.csv: row 2, column symbol_class: 'big' is not a class: use
    a.csv: row 2, column detainees: 'many' is not a count: write
    """
    classes = ", ".join(c.value for c in SymbolClass)
    problems = []
    for number, row in enumerate(rows, start=start):
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
                "write a whole number such as 10311 or 40,000, 'about 30,000', 'over 16,000' "
                "or a range '1,200-1,500', or leave it empty"
            )
    return problems
