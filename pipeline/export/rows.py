"""The geocode stage's rows, checked, each with its class, label and (maybe) point.

All rows are checked before the first file is written, so bad input leaves the
previous outputs as they were.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from pipeline import area
from pipeline.controls import for_files, has_control
from pipeline.errors import InputDataError
from pipeline.records import (
    COUNT_COLUMNS,
    Certainty,
    Decision,
    SymbolClass,
    class_of_figure,
    parse_candidates,
    parse_figure,
)

logger = logging.getLogger(__name__)

REQUIRED = ("record_id", "katakana", "decision", "lat", "lon")
INTEGER_COLUMNS = COUNT_COLUMNS
REAL_COLUMNS = ("score", "lat", "lon", "uncertainty_km")
#: Columns the export adds: why the row has its class, and the text of its map label.
REASON_COLUMN = "unresolved_reason"
PLACED = (Decision.AUTO, Decision.OVERRIDE, Decision.REVIEW)


class Countries:
    """The country code of each point (:func:`pipeline.area.country_of`), once per point.

    Rows at one place share their point; one export's Linked Places features and
    results sheet share this memo, so each point is looked up once.
    """

    def __init__(self) -> None:
        self._codes: dict[tuple[float, float], str] = {}

    def of(self, point: tuple[float, float]) -> str:
        """ISO alpha-2 code of the country of ``point`` (lon, lat), by the one code path
        every stage uses.

        :func:`pipeline.area.country_of` (the nearest GeoNames place, as the geocode
        stage does) gives a coastal point that a coarse coastline misses its country
        still (WHG refuses a Linked Places feature with empty ``ccodes``).

        >>> countries = Countries()
        >>> countries.of((140.28, 48.97)), countries.of((106.92, 47.92))  # Sovetskaya Gavan
        ('RU', 'MN')
        """
        if point not in self._codes:
            self._codes[point] = area.country_of(point[1], point[0])
        return self._codes[point]


@dataclasses.dataclass(frozen=True, slots=True)
class Placed:
    """One input row, checked, with its class, label and (maybe) its point.

    Rows alike but for their record id (:func:`alike_key`) share one ``row``, the
    first one's cells (its ``record_id`` cell the first row's): ``record_id`` is
    the row's own, and every output takes a row's id from it, never from ``row``.
    """

    row: dict[str, str]
    symbol_class: SymbolClass
    class_basis: str
    figure: str  # the detainee figure as the source gives it ("over 16,000"), or ""
    label: str
    point: tuple[float, float] | None  # (lon, lat)
    reason: str  # why it is unresolved; empty for a row drawn on the map
    #: The row's cells but its record id (:func:`alike_key`), kept by :func:`prepare`.
    alike: Body | None = dataclasses.field(default=None, compare=False, repr=False)
    #: The row's record id as given (``row["record_id"]`` when not given).
    record_id: str = ""

    def __post_init__(self) -> None:
        if not self.record_id:
            object.__setattr__(self, "record_id", self.row.get("record_id", ""))

    def alike_row(self, record_id: str) -> Placed:
        """The row of id ``record_id`` alike this one but for its id, placed (what
        :func:`prepare` gives it): it shares this one's cells and findings."""
        return Placed(
            self.row,
            self.symbol_class,
            self.class_basis,
            self.figure,
            self.label,
            self.point,
            self.reason,
            self.alike,
            record_id,
        )

    def cells(self) -> dict[str, str]:
        """The row's cells with its own record id (a copy: ``row`` is shared)."""
        return self.row | {"record_id": self.record_id}

    @property
    def body(self) -> Body:
        """What rows alike but for their record id share: every other cell, in order.

        Every output of a row but its record id is a function of these cells, so
        the export makes each output once per body and puts the id in per row.
        """
        return self.alike if self.alike is not None else alike_key(self.row)


class Body(tuple[object, ...]):
    """A row's cells but its record id (:func:`alike_key`): their columns, then their
    texts, hashed once.

    Every output keys its once-per-body work by the body, several times per row;
    a tuple's hash is worked out anew at each use, over each of the row's twenty
    or so cells (2 microseconds a time, some 18 a row). The columns are one tuple
    for every row of a file (:data:`_COLUMN_SETS`), so a body holds a pointer per
    cell, not a (column, text) pair per cell (1.4 KB a body).

    >>> body = Body(("katakana",), ("チタ",))
    >>> body == (("katakana",), "チタ"), hash(body) == hash((("katakana",), "チタ"))
    (True, True)
    """

    _hash: int

    def __new__(cls, columns: tuple[str, ...], texts: Iterable[str]) -> Body:
        body = super().__new__(cls, (_COLUMN_SETS.setdefault(columns, columns), *texts))
        body._hash = tuple.__hash__(body)
        return body

    def __hash__(self) -> int:
        return self._hash


#: Each set of columns a body has been made with, once (a file's rows share theirs).
_COLUMN_SETS: dict[tuple[str, ...], tuple[str, ...]] = {}


def alike_key(row: dict[str, str]) -> Body:
    """Every cell of ``row`` but its record id, in order (rows equal in it are alike).

    >>> alike_key({"record_id": "a", "katakana": "チタ"}) == alike_key({"katakana": "チタ"})
    True
    >>> alike_key({"katakana": "チタ"}) == alike_key({"romaji": "チタ"})
    False
    """
    cells = dict(row)
    cells.pop("record_id", None)
    return Body(tuple(cells), cells.values())


def one_per_body(placed: Iterable[Placed]) -> list[Placed]:
    """The first row of each body (:attr:`Placed.body`), in order: what an output that
    drops repeats (a marker's names, the preview's points) needs to look at.

    >>> names = (("a", "チタ"), ("b", "チタ"), ("c", "ウ"))
    >>> rows = [{"record_id": i, "katakana": k} for i, k in names]
    >>> placed = [Placed(r, SymbolClass.UNKNOWN, "", "", "", None, "") for r in rows]
    >>> [p.record_id for p in one_per_body(placed)]
    ['a', 'c']
    """
    first: dict[Body, Placed] = {}
    for p in placed:
        first.setdefault(p.body, p)
    return list(first.values())


def without_controls(
    columns: Sequence[str], rows: Iterable[dict[str, str]], source: Path
) -> tuple[list[str], Iterator[dict[str, str]]]:
    """The header and rows with every control character as U+FFFD (logged, counted).

    Done before any file is written, so every file of the set holds the same text
    (:func:`pipeline.controls.for_files`; GDAL would cut a name at NUL in the
    GeoPackage and GeoJSON and not in the Linked Places file). The rows are given
    as they are taken (``rows`` may be a generator over a file's chunks, so they
    are never all held at once); the count is logged when the last is taken.
    """
    return [for_files(c) for c in columns], _cleaned(rows, source)


def _cleaned(rows: Iterable[dict[str, str]], source: Path) -> Iterator[dict[str, str]]:
    replaced = 0
    for row in rows:
        # one search of the joined text: the pattern matches single characters
        if has_control("".join(row)) or has_control("".join(row.values())):
            replaced += 1
            row = {for_files(k): for_files(v) for k, v in row.items()}
        yield row
    if replaced:
        logger.warning(
            "%s: %d row(s) hold control characters (NUL, escapes): written as U+FFFD",
            source,
            replaced,
        )


def prepare(
    rows: Iterable[dict[str, str]],
    source: Path,
    order: list[str] | None = None,
) -> list[Placed]:
    """Check every row and place it; sorted by record id so reruns give the same files.

    Rows alike but for their id (:func:`alike_key`) are checked and placed once and
    share the first one's cells: a register names one camp thousands of times, and
    each copy of its candidates cell is some 2 KB. ``rows`` may be a generator: the
    rows as read are never all held. ``order``, when given, gets the record ids
    (stripped) in the order of ``rows``.
    """
    seen: dict[str, int] = {}
    placed: list[Placed] = []
    checked: set[str] = set()  # candidates cells found good (a register repeats them)
    alike: dict[Body, Placed] = {}
    # one str per distinct text in the bodies' cells: bodies of one place or of one
    # name's spellings repeat its place, point and candidates (a third of their bytes)
    texts: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):
        record_id = row["record_id"].strip()
        if not record_id:
            raise InputDataError(
                f"{source}: row {number}, column record_id: empty: "
                "run the transliterate stage, which gives every row an id"
            )
        if record_id in seen:
            raise InputDataError(
                f"{source}: row {number}, column record_id: '{record_id}' repeats row "
                f"{seen[record_id]}: each row needs its own id"
            )
        seen[record_id] = number
        if order is not None:
            order.append(record_id)
        key = alike_key(row)
        done = alike.get(key)
        if done is None:
            row = {column: texts.setdefault(text, text) for column, text in row.items()}
            key = alike_key(row)
            done = alike[key] = dataclasses.replace(
                _place(row, f"{source}: row {number}", checked), alike=key
            )
            placed.append(done)
        else:
            placed.append(done.alike_row(row["record_id"]))
    return sorted(placed, key=lambda p: p.record_id)


def _place(
    row: dict[str, str],
    where: str,
    checked: set[str] | None = None,
) -> Placed:
    """Check one row's values and decide where it goes.

    ``checked`` holds the candidates cells found good on earlier rows (each
    distinct cell is parsed once).
    """
    decision = _decision(row["decision"], where)
    cell = row.get("candidates", "")
    if checked is None or cell not in checked:
        try:
            parse_candidates(cell)
        except ValueError as exc:
            raise InputDataError(
                f"{where}, column candidates: {exc}: rerun the reconcile stage to rebuild it"
            ) from None
        if checked is not None:
            checked.add(cell)
    for column in ("score", "uncertainty_km"):
        real(row.get(column, ""), where, column)
    for column in INTEGER_COLUMNS:
        integer(row.get(column, ""), where, column)
    klass, basis = _symbol_class(row, where)
    figure = parse_figure(row.get("detainees", ""))
    point = _point(row, where)
    reason = ""
    if decision not in PLACED:
        reason = "decision is unresolved: no place matched the name"
    elif point is None:
        reason = f"decision is {decision.value} but the geocode stage gave no point"
    certainty = row.get("certainty", "").strip()
    if certainty and certainty not in {c.value for c in Certainty}:
        raise InputDataError(
            f"{where}, column certainty: '{certainty}' is not one of "
            f"{', '.join(c.value for c in Certainty)}"
        )
    return Placed(
        row,
        klass,
        basis,
        figure.text() if figure else "",
        label_for(row),
        point if not reason else None,
        reason,
    )


def _decision(value: str, where: str) -> Decision:
    try:
        return Decision(value.strip())
    except ValueError:
        raise InputDataError(
            f"{where}, column decision: '{value}' is not one of "
            f"{', '.join(d.value for d in Decision)}: rerun the reconcile stage"
        ) from None


def real(value: str, where: str, column: str) -> float | None:
    """A finite float, or ``None`` for an empty cell."""
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InputDataError(f"{where}, column {column}: '{value}' is not a number")
    return number


def integer(value: str, where: str, column: str) -> int | None:
    from pipeline.records import parse_detainees

    try:
        return parse_detainees(value)
    except ValueError:
        raise InputDataError(
            f"{where}, column {column}: '{value}' is not a count: write digits such as 12,000"
        ) from None


def _symbol_class(row: dict[str, str], where: str) -> tuple[SymbolClass, str]:
    """The row's class and its basis (DESIGN.md: printed class, else the sourced count's).

    ``printed on the map`` only when the row gives the map's number (``map_no``);
    a class derived from a count names the source of the count.

    >>> _symbol_class({"detainees": "about 8,000", "detainees_source": "S"}, "")
    (<SymbolClass.UNDER_10000: 'under_10000'>, 'detainee count: S')
    >>> _symbol_class({"detainees": "over 3,000", "detainees_source": "S"}, "")[1]
    "none: the figure 'over 3,000' fits no single class"
    """
    printed = row.get("symbol_class", "").strip()
    if printed and printed != SymbolClass.UNKNOWN:
        try:
            klass = SymbolClass(printed)
        except ValueError:
            raise InputDataError(
                f"{where}, column symbol_class: '{printed}' is not one of "
                f"{', '.join(c.value for c in SymbolClass)}"
            ) from None
        if row.get("map_no", "").strip():
            return klass, "printed on the map"
        return klass, "given in the input (no map_no: not checked against the map)"
    text = row.get("detainees", "")
    try:
        figure = parse_figure(text)
    except ValueError:
        raise InputDataError(f"{where}, column detainees: '{text}' is not a count") from None
    klass = class_of_figure(figure)
    if klass is not SymbolClass.UNKNOWN:
        source = row.get("detainees_source", "").strip() or "no source given"
        return klass, f"detainee count: {source}"
    if figure is not None:
        return klass, f"none: the figure '{figure.text()}' fits no single class"
    return klass, "none"


def _point(row: dict[str, str], where: str) -> tuple[float, float] | None:
    lat = real(row["lat"], where, "lat")
    lon = real(row["lon"], where, "lon")
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise InputDataError(f"{where}: lat and lon must both be given or both be empty")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputDataError(
            f"{where}: lat {lat}, lon {lon} is off the globe: are lat and lon swapped?"
        )
    return lon, lat


def label_for(row: dict[str, str]) -> str:
    """The map label: the ministry map's number, else the place name, else the katakana.

    >>> label_for({"map_no": "", "place_name": "Chita", "katakana": "チタ"})
    'Chita'
    >>> label_for({"map_no": "12", "place_name": "Chita", "katakana": "チタ"})
    '12'
    """
    for column in ("map_no", "place_name", "katakana"):
        value = row.get(column, "").strip()
        if value:
            return value
    return ""


def check_partition(
    given: Sequence[str], camps: Sequence[Placed], unresolved: Sequence[Placed]
) -> None:
    """Every input row (``given``: the record ids read) exactly once across camps and
    unresolved (DESIGN.md's promise)."""
    ids = [p.record_id.strip() for p in (*camps, *unresolved)]
    if sorted(ids) != sorted(given) or len(set(ids)) != len(ids):
        raise AssertionError("export lost or repeated a row: camps + unresolved != input")


def added(placed: Placed) -> dict[str, str]:
    return {
        "symbol_class": placed.symbol_class.value,
        "class_basis": placed.class_basis,
        "detainees_figure": placed.figure,
        "label": placed.label,
    }
