"""Manual decisions: the one reader, finder and writer of ``gazetteer/overrides.csv``.

A person who has looked at a row (``camps review``) records here that its name is
a given place (accept, by ``place_id`` or by a point of its own) or is no place
(reject). The file is read by the reconcile stage (an override wins over the
matcher), the geocode stage (an override's own point wins over the gazetteer's),
``camps validate`` and ``camps review``, all with the rules below, so a row that
one of them takes is taken the same way by the others:

* ``scope`` says which rows a decision is for: ``name`` (the default: every row
  whose ``katakana`` has this :func:`key_of`, the matcher's key, whatever the
  row's other columns), ``region`` (those of them whose region, the katakana
  prefix or the raw ``region`` column, is the decision's ``region``) or
  ``record`` (the one row with this ``record_id``). A decision is about a name,
  so editing, reordering or adding columns of a register keeps it;
* a file of the old shape (no ``scope`` column) is read as it was written: a
  row with a ``record_id`` is for that record, a row without for its name;
* ``decision`` is ``accept`` or ``reject``; an accept needs a ``place_id`` or a
  point (``lat`` and ``lon``, both or neither, in decimal degrees);
* ``place_id``, when given, is a place of the built gazetteer;
* ``uncertainty_km``, when given, is the radius of the override's point.

A record's override is the last row for its ``record_id``, else the last row for
its name and region, else the last row for its name (:func:`find`). A decision
that no row takes any more is reported (:func:`stale`), never dropped. Writing
keeps every column and cell the file had, columns this module does not know
included (:func:`write`); writers hold the file's lock (:func:`locked`) from
read to rename, so concurrent ``camps review`` runs lose no decision.

This module may import :mod:`pipeline.io`, :mod:`pipeline.errors`,
:mod:`pipeline.records` and the text library, never a stage.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from pipeline.errors import InputDataError
from pipeline.io import Row, merge_columns, read_csv, write_csv
from pipeline.names import REGION_WORD_RE, fold, match_key, split_name
from pipeline.records import OVERRIDE_COLUMNS

#: Columns without which the file cannot say anything.
REQUIRED_COLUMNS = ("place_id", "decision")
#: What a decision is for: every row of a name, of a name in a region, or one record.
SCOPES = ("name", "region", "record")


#: Latin words of a region's name that say what kind of unit it is, not which one.
_LATIN_UNIT_WORDS = frozenset(
    ("oblast", "krai", "kray", "region", "ssr", "assr", "asssr", "republic", "aimag", "ao")
)


def region_key(text: str) -> str:
    """How a region is compared: folded, without a region word (州, 地方, Oblast, SSR).

    >>> region_key("チタ州") == region_key("チタ"), region_key(" Chita oblast")
    (True, 'chita')
    >>> region_key("カザフ共和国") == region_key("カザフ"), region_key("Kazakh SSR")
    (True, 'kazakh')
    """
    words = [w for w in text.strip().split() if w.lower() not in _LATIN_UNIT_WORDS]
    return fold(REGION_WORD_RE.sub("", " ".join(words)))


def regions_of(row: Mapping[str, str]) -> frozenset[str]:
    """The region keys of a register row: its katakana prefix and its ``region`` column."""
    found = {split_name(row.get("katakana", "")).region_hint, row.get("region", "")}
    found |= set(row.get("region_hint", "").split("|"))
    return frozenset(region_key(r) for r in found if r.strip()) - {""}


def key_of(katakana: str) -> str:
    """The key that ties a katakana override to rows: the bare name's match key.

    >>> key_of("チタ州カダラ") == key_of("カダラ")
    True
    """
    return match_key(split_name(katakana).name) if katakana.strip() else ""


@dataclasses.dataclass(frozen=True)
class Override:
    """One row of overrides.csv, checked; ``cells`` are its values as written.

    Attributes
    ----------
    record_id, katakana:
        Which rows it is for: one record, else every row of this name.
    key:
        :func:`key_of` the katakana ("" without one).
    scope, region:
        ``name``, ``region`` (rows of the name in ``region``) or ``record``.
    place_id:
        The accepted place, or the one candidate a reject drops ("" for none).
    lat, lon, uncertainty_km:
        The override's own point and its radius, when given.
    accept:
        True for ``accept``, False for ``reject``.
    note, source, created:
        Why, on what evidence, and when.
    row:
        The file's row number (2 is the first under the header; 0 for a new row).
    cells:
        Every cell of the row, known columns or not, in the file's order: what
        :func:`write` writes back.
    """

    record_id: str
    katakana: str
    key: str
    place_id: str
    lat: float | None
    lon: float | None
    uncertainty_km: float | None
    accept: bool
    note: str
    source: str
    created: str
    row: int
    cells: tuple[tuple[str, str], ...]
    scope: str = "name"
    region: str = ""

    @property
    def target(self) -> tuple[str, str]:
        """What the decision is about: ("record", id), ("region", key|region), ("name", key)."""
        if self.scope == "record":
            return "record", self.record_id
        if self.scope == "region":
            return "region", f"{self.key}|{region_key(self.region)}"
        return "name", self.key

    @property
    def label(self) -> str:
        """The decision's name as a person reads it in a report."""
        if self.scope == "record":
            return f"record {self.record_id} ({self.katakana})" if self.katakana else self.record_id
        return f"{self.katakana} in {self.region}" if self.scope == "region" else self.katakana

    @property
    def has_point(self) -> bool:
        """Whether the override gives a point of its own."""
        return self.lat is not None and self.lon is not None


def _number(
    where: str, column: str, text: str, low: float, high: float, what: str
) -> tuple[float | None, str]:
    """A number cell within [low, high]: (value, "") or (None, problem)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if low <= value <= high:
        return value, ""
    return None, f"{where}, column {column}: '{text}' is not {what}"


def parse(
    cells: Mapping[str, str], path: Path, row: int = 0, places: Container[str] | None = None
) -> tuple[Override | None, list[str]]:
    """Check one row; return the override (None when it is broken) and its problems.

    Every problem names the file, row and column, with the fix. ``places`` is
    the built gazetteer's place ids; None skips that check.
    """
    where = f"{path}: row {row}"
    text = {name: (value or "").strip() for name, value in cells.items()}
    record_id, katakana = text.get("record_id", ""), text.get("katakana", "")
    place_id, decision = text.get("place_id", ""), text.get("decision", "").lower()
    scope = text.get("scope", "").lower() or ("record" if record_id else "name")
    region = text.get("region", "")
    problems = []
    if not record_id and not katakana:
        problems.append(f"{where}, column record_id: give a record_id or a katakana")
    elif scope not in SCOPES:
        problems.append(
            f"{where}, column scope: '{text.get('scope', '')}' must be one of {', '.join(SCOPES)} "
            "(empty: record when a record_id is given, else name)"
        )
    elif scope == "record" and not record_id:
        problems.append(f"{where}, column record_id: scope record needs the record's id")
    elif scope != "record" and not key_of(katakana):
        problems.append(f"{where}, column katakana: scope {scope} needs the katakana name")
    if scope == "region" and not region_key(region):
        problems.append(f"{where}, column region: scope region needs the region it is for")
    if decision not in ("accept", "reject"):
        problems.append(
            f"{where}, column decision: '{cells.get('decision', '')}' must be accept or reject"
        )
    if place_id and places is not None and place_id not in places:
        problems.append(
            f"{where}, column place_id: '{place_id}' is not a place of the gazetteer: use an "
            "id from gazetteer/build/places.csv (see `camps lookup NAME`) or leave it empty "
            "and give lat and lon"
        )
    values: dict[str, float | None] = {}
    for column, limit in (("lat", 90.0), ("lon", 180.0)):
        what = f"a {column} in decimal degrees (-{limit:g} to {limit:g})"
        values[column], problem = (
            _number(where, column, text[column], -limit, limit, what)
            if text.get(column)
            else (None, "")
        )
        if problem:
            problems.append(f"{problem}: fix it or leave both lat and lon empty")
    if bool(text.get("lat")) != bool(text.get("lon")):
        missing = "lon" if text.get("lat") else "lat"
        problems.append(f"{where}, column {missing}: give both lat and lon, or neither")
    radius, problem = (None, "")
    if text.get("uncertainty_km"):
        what = "a radius in km"
        radius, problem = _number(where, "uncertainty_km", text["uncertainty_km"], 0, 2e4, what)
    if problem:
        problems.append(f"{problem}: write a number such as 5 or leave it empty")
    if decision == "accept" and not place_id and not text.get("lat"):
        problems.append(
            f"{where}, column place_id: an accept needs a place_id or a point (lat, lon)"
        )
    if problems:
        return None, problems
    override = Override(
        record_id=record_id,
        katakana=katakana,
        key=key_of(katakana),
        place_id=place_id,
        lat=values["lat"],
        lon=values["lon"],
        uncertainty_km=radius,
        accept=decision == "accept",
        note=text.get("note", ""),
        source=text.get("source", ""),
        created=text.get("created", ""),
        row=row,
        cells=tuple((name, value or "") for name, value in cells.items()),
        scope=scope,
        region=region,
    )
    return override, []


def check(path: Path, places: Container[str] | None = None) -> tuple[list[Override], list[str]]:
    """Read overrides.csv and list every problem (``camps validate``); no file is no override.

    Returns the good rows and one line per problem: a file that cannot be read,
    lacks a column of :data:`REQUIRED_COLUMNS`, or has broken rows.
    """
    path = Path(path)
    if not path.exists():
        return [], []
    try:
        _, rows = read_csv(path, required=REQUIRED_COLUMNS)
    except InputDataError as exc:
        return [], [str(exc)]
    found, problems = [], []
    for number, cells in enumerate(rows, start=2):
        override, wrong = parse(cells, path, number, places)
        problems.extend(wrong)
        if override is not None:
            found.append(override)
    # Two rows for one name in a hand-edited file are not a problem: the last one
    # wins, as it always has (a sheet import or one `camps review` call refuses them).
    return found, problems


def read(path: Path, places: Container[str] | None = None) -> list[Override]:
    """Read and check overrides.csv; a missing file means no overrides.

    Raises
    ------
    InputDataError
        Listing every problem of :func:`check`, each with file, row, column and fix.
    """
    found, problems = check(path, places)
    if problems:
        raise InputDataError("\n".join(problems))
    return found


def find(
    overrides: Sequence[Override], record_id: str, key: str, regions: Iterable[str] = ()
) -> Override | None:
    """The override of a row: by record_id, then by name in one of the row's
    ``regions`` (:func:`regions_of`), then by name; the last row wins.

    >>> rows = [Override("", "チタ", key_of("チタ"), "a", None, None, None, True,
    ...                  "", "", "", 2, ())]
    >>> find(rows, "r-1", key_of("チタ")).place_id, find(rows, "r-1", "")
    ('a', None)
    """
    by_record = [o for o in overrides if o.scope == "record" and o.record_id == record_id]
    if record_id and by_record:
        return by_record[-1]
    if not key:
        return None
    wanted = {region_key(r) for r in regions} - {""}
    by_region = [
        o
        for o in overrides
        if o.scope == "region" and o.key == key and region_key(o.region) in wanted
    ]
    if by_region:
        return by_region[-1]
    by_key = [o for o in overrides if o.scope == "name" and o.key == key]
    return by_key[-1] if by_key else None


@dataclasses.dataclass(frozen=True)
class Finder:
    """The overrides indexed by target, built once per file: :func:`find` in O(1) a row.

    A register of a million rows and a thousand decisions would otherwise scan
    every decision for every row. The last row for a target wins, as in :func:`find`.
    """

    by_record: Mapping[str, Override]
    by_region: Mapping[tuple[str, str], Override]
    by_name: Mapping[str, Override]

    def find_row(self, row: Mapping[str, str]) -> Override | None:
        """The override of a register row (record_id, katakana, region prefix and column)."""
        record_id = row.get("record_id", "")
        if record_id and record_id in self.by_record:
            return self.by_record[record_id]
        if not (self.by_region or self.by_name):
            return None  # no name to key (the costly part, on every row of a register)
        key = key_of(row.get("katakana", ""))
        if not key:
            return None
        if self.by_region:
            found = [self.by_region.get((key, r)) for r in sorted(regions_of(row))]
            hits = [o for o in found if o is not None]
            if hits:
                return max(hits, key=lambda o: o.row)
        return self.by_name.get(key)


def finder(overrides: Sequence[Override]) -> Finder:
    """Index ``overrides`` for :meth:`Finder.find_row`."""
    by_record: dict[str, Override] = {}
    by_region: dict[tuple[str, str], Override] = {}
    by_name: dict[str, Override] = {}
    for o in overrides:
        if o.scope == "record":
            by_record[o.record_id] = o
        elif o.scope == "region" and o.key:
            by_region[o.key, region_key(o.region)] = o
        elif o.key:
            by_name[o.key] = o
    return Finder(by_record, by_region, by_name)


def find_row(overrides: Sequence[Override], row: Mapping[str, str]) -> Override | None:
    """:func:`find` for one register row; build a :func:`finder` once for many rows."""
    return finder(overrides).find_row(row)


def stale(overrides: Sequence[Override], rows: Iterable[Mapping[str, str]]) -> list[Override]:
    """The decisions no row of ``rows`` takes any more (its name, region or record is gone).

    Reported by the reconcile stage (count and names), never dropped from the file.
    """
    if not overrides:
        return []
    records: set[str] = set()
    keys: set[str] = set()
    regions: set[str] = set()
    for row in rows:
        key = key_of(row.get("katakana", ""))
        records.add(row.get("record_id", ""))
        keys.add(key)
        regions.update(f"{key}|{r}" for r in regions_of(row))
    taken = {"record": records, "name": keys, "region": regions}
    return [o for o in overrides if o.target[1] not in taken[o.target[0]]]


def replace(existing: Iterable[Override], new: Sequence[Override]) -> list[Override]:
    """``existing`` less the rows that ``new`` decides again (same target), then ``new``."""
    decided = {o.target for o in new}
    return [o for o in existing if o.target not in decided] + list(new)


def contradictions(overrides: Sequence[Override]) -> list[tuple[Override, Override]]:
    """Pairs of decisions for one target that say different things (place or accept)."""
    first: dict[tuple[str, str], Override] = {}
    found = []
    for o in overrides:
        seen = first.setdefault(o.target, o)
        if seen is not o and (seen.accept, seen.place_id, seen.lat, seen.lon) != (
            o.accept,
            o.place_id,
            o.lat,
            o.lon,
        ):
            found.append((seen, o))
    return found


@contextlib.contextmanager
def locked(path: Path, timeout: float = 60.0) -> Iterator[None]:
    """Hold the overrides file's lock (``FILE.lock`` beside it) from read to rename.

    One writer at a time: ``camps review`` reads, adds and writes under it, so
    two reviews at once both keep their decisions. filelock (PyPI) takes an
    OS lock (flock) that dies with its process: a killed review never leaves
    the file locked.
    """
    import filelock

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(target) + ".lock", timeout=timeout)
    try:
        with lock:
            yield
    except filelock.Timeout:
        raise InputDataError(
            f"{target}: another `camps review` has held its lock for {timeout:g} s: "
            "wait for it to finish, then try again"
        ) from None


def write(path: Path, overrides: Sequence[Override], columns: Sequence[str] = ()) -> None:
    """Write overrides atomically with every column they carry.

    The columns are ``columns`` (the file's header when it is rewritten), then the
    standard :data:`~pipeline.records.OVERRIDE_COLUMNS`, then any other column a
    row carries; each row's cells are written as they were given.
    """
    out = merge_columns(columns, OVERRIDE_COLUMNS)
    for override in overrides:
        out = merge_columns(out, [name for name, _ in override.cells])
    rows: list[Row] = [dict(o.cells) for o in overrides]
    write_csv(Path(path), out, rows)


def header(path: Path) -> list[str]:
    """The columns of an existing overrides file, in its order ([] for none)."""
    return read_csv(Path(path), required=REQUIRED_COLUMNS)[0] if Path(path).exists() else []
