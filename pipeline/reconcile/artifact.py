"""The reconcile index built once per gazetteer build, saved, and loaded lazily.

:func:`pipeline.reconcile.index.build_index` takes seconds (turning 120,000
gazetteer names into kana and folded keys, then grouping them); the index depends
only on the loaded gazetteer (keyed by :attr:`pipeline.places.Gazetteer.key`, the
digest of its build files and reader code) and on the code here, so it is saved
as numpy ``.npz`` arrays (read with ``allow_pickle=False``; each table's strings
one UTF-8 byte array, its lists one array of numbers and their offsets)
in the cache folder of :mod:`pipeline.artifacts` (not among the gazetteer
stage's outputs: DVC's outputs stay those of ``camps gazetteer``). The file holds
the keys and, for each, the numbers of the gazetteer's name rows it stands for;
loading makes each key's entries only when a query first reads them
(:class:`Entries`, :class:`EntryLists`), so a lookup of one name touches a few
hundred rows of 120,000. Its manifest's SHA-256 is checked on load: a truncated,
foreign or stale file is built again with a warning; a folder that cannot be
written, with a warning, leaves the index in memory.
"""

from __future__ import annotations

import bisect
import dataclasses
import io
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from pipeline import artifacts
from pipeline.artifacts import ArtifactError
from pipeline.places import Gazetteer
from pipeline.reconcile.index import Index, NameEntry, build_index
from pipeline.reconcile.model import PACKAGED, ScoreModel
from pipeline.reconcile.model import load as load_model

logger = logging.getLogger(__name__)

#: Version of the file's layout: bump it when :func:`save` writes something else.
FORMAT = 4
KIND = "reconcile-index"
_CODE = ("artifacts.py", "names", "records.py", "reconcile/index.py", "reconcile/artifact.py")
_SUFFIX = ".npz"

#: Makes the entry of a name row (its number in ``Gazetteer.names``), partial or whole.
MakeEntry = Callable[[int, bool], NameEntry]


def inputs(gazetteer: Gazetteer) -> dict[str, Any]:
    """Everything the index is made from: what the file's name and manifest are keyed on."""
    if not gazetteer.key:
        raise ValueError("a gazetteer made in memory has no key: index it with build_index")
    return {"format": FORMAT, "gazetteer": gazetteer.key, "code": artifacts.code_digest(_CODE)}


#: The character that joins a table's strings in one byte array (no key holds it).
_SEP = "\x00"


def _strings(values: Sequence[str]) -> np.ndarray:
    """Strings as one UTF-8 byte array, joined by :data:`_SEP`."""
    if any(_SEP in value for value in values):
        raise ValueError("a key holds the separator")
    return np.frombuffer(_SEP.join(values).encode(), dtype=np.uint8)


def _unstrings(data: np.ndarray, count: int) -> list[str]:
    """The ``count`` strings of :func:`_strings`."""
    values = data.tobytes().decode().split(_SEP) if count else []
    if len(values) != count:
        raise ValueError(f"{len(values)} strings, {count} expected")
    return values


def _offsets(lists: Sequence[Sequence[Any]]) -> np.ndarray:
    """Where each list starts in their concatenation, and where the last ends."""
    return np.cumsum([0, *map(len, lists)], dtype=np.int64)


class Entries(Mapping[str, tuple[NameEntry, ...]]):
    """Key → entries of a loaded index, each key's tuple made when first read.

    ``keys`` are sorted (as saved), so a key is found by bisection, with no dict of
    the 65,000 Latin keys made at each start; ``rows[offsets[n]:offsets[n + 1]]``
    are the name rows of the ``n``-th key.
    """

    def __init__(
        self, keys: Sequence[str], offsets: np.ndarray, rows: np.ndarray, make: MakeEntry
    ) -> None:
        if list(keys) != sorted(keys):  # in C: a sorted list is one pass
            raise ValueError("keys not sorted")
        self._keys = keys
        self._offsets = offsets
        self._rows = rows
        self._make = make
        self._made: dict[str, tuple[NameEntry, ...]] = {}

    def _number(self, key: object) -> int | None:
        if not isinstance(key, str):
            return None
        at = bisect.bisect_left(self._keys, key)
        return at if at < len(self._keys) and self._keys[at] == key else None

    def __getitem__(self, key: str) -> tuple[NameEntry, ...]:
        found = self._made.get(key)
        if found is None:
            number = self._number(key)
            if number is None:
                raise KeyError(key)
            rows = self._rows[self._offsets[number] : self._offsets[number + 1]].tolist()
            found = self._made[key] = tuple(self._make(row, False) for row in rows)
        return found

    def __contains__(self, key: object) -> bool:
        return self._number(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class EntryLists(Sequence[tuple[NameEntry, ...]]):
    """The entries of each kana key by number, each tuple made when first read."""

    def __init__(
        self, offsets: np.ndarray, rows: np.ndarray, partial: np.ndarray, make: MakeEntry
    ) -> None:
        self._offsets = offsets
        self._rows = rows
        self._partial = partial
        self._make = make
        self._made: dict[int, tuple[NameEntry, ...]] = {}

    @overload
    def __getitem__(self, number: int) -> tuple[NameEntry, ...]: ...
    @overload
    def __getitem__(self, number: slice) -> Sequence[tuple[NameEntry, ...]]: ...
    def __getitem__(
        self, number: int | slice
    ) -> tuple[NameEntry, ...] | Sequence[tuple[NameEntry, ...]]:
        if isinstance(number, slice):
            return [self[n] for n in range(len(self))[number]]
        found = self._made.get(number)
        if found is None:
            if not -len(self) <= number < len(self):
                raise IndexError(number)
            number %= len(self)
            start, end = self._offsets[number], self._offsets[number + 1]
            rows = self._rows[start:end].tolist()
            partial = self._partial[start:end].tolist()
            made = tuple(self._make(r, bool(p)) for r, p in zip(rows, partial, strict=True))
            found = self._made[number] = made
        return found

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


def _table(arrays: dict[str, np.ndarray], name: str, table: Mapping[str, Any]) -> None:
    """Save a mapping of keys to lists as ``name.keys``, ``name.offsets``, ``name.values``."""
    arrays[f"{name}.keys"] = _strings(list(table))
    arrays[f"{name}.count"] = np.asarray([len(table)], dtype=np.int64)
    arrays[f"{name}.offsets"] = _offsets(list(table.values()))


def encode(index: Index) -> bytes:
    """The index (all but its gazetteer) as ``.npz`` arrays, entries as numbers of name rows."""
    rows: dict[tuple[str, str, str, str], int] = {}
    for number, name in enumerate(index.gazetteer.names):
        rows.setdefault((name.place_id, name.name, name.script, name.period), number)

    def row(entry: NameEntry) -> int:
        return rows[(entry.place_id, entry.name, entry.script, entry.period)]

    arrays: dict[str, np.ndarray] = {}
    kana = list(index.kana_entries)
    arrays["kana.keys"] = _strings(index.kana_keys)
    arrays["kana.count"] = np.asarray([len(index.kana_keys)], dtype=np.int64)
    arrays["kana.offsets"] = _offsets(kana)
    arrays["kana.rows"] = np.asarray([row(e) for es in kana for e in es], dtype=np.int32)
    arrays["kana.partial"] = np.asarray([e.partial for es in kana for e in es], dtype=np.uint8)
    for field in ("cyrillic", "latin"):
        found: Mapping[str, tuple[NameEntry, ...]] = getattr(index, field)
        # The exact maps hold whole names only (see build_index); saved by sorted key,
        # for :class:`Entries`: the Latin keys are then ``latin_keys`` too.
        assert not any(e.partial for es in found.values() for e in es)
        entries = {key: found[key] for key in sorted(found)}
        _table(arrays, field, entries)
        arrays[f"{field}.rows"] = np.asarray(
            [row(e) for es in entries.values() for e in es], dtype=np.int32
        )
    for field in ("latin_by_place", "region_keys"):
        strings: Mapping[str, tuple[str, ...]] = getattr(index, field)
        _table(arrays, field, strings)
        arrays[f"{field}.values"] = _strings([v for vs in strings.values() for v in vs])
    if list(index.latin_keys) != sorted(index.latin):
        raise ValueError("latin_keys are not the sorted keys of latin")
    arrays["foreign.keys"] = _strings(list(index.foreign_keys))
    arrays["foreign.count"] = np.asarray([len(index.foreign_keys)], dtype=np.int64)
    arrays["foreign.values"] = np.asarray(list(index.foreign_keys.values()), dtype=np.int64)
    _table(arrays, "postings", index.postings)
    arrays["postings.values"] = np.concatenate(
        [np.asarray(ids, dtype=np.int32) for ids in index.postings.values()]
        or [np.zeros(0, dtype=np.int32)]
    )
    out = io.BytesIO()
    np.savez(out, allow_pickle=False, **arrays)
    return out.getvalue()


def decode(data: bytes, gazetteer: Gazetteer) -> Index:
    """The index saved by :func:`encode` over ``gazetteer``; entries are made on first read."""
    names = gazetteer.names
    made: dict[tuple[int, bool], NameEntry] = {}

    def make(row: int, partial: bool) -> NameEntry:
        entry = made.get((row, partial))
        if entry is None:
            name = names[row]
            entry = NameEntry(name.place_id, name.name, name.script, name.period, partial)
            made[(row, partial)] = entry
        return entry

    with np.load(io.BytesIO(data), allow_pickle=False) as saved:
        raw = {name: saved[name] for name in saved.files}

    def keys(name: str) -> list[str]:
        return _unstrings(raw[f"{name}.keys"], int(raw[f"{name}.count"][0]))

    def offsets(name: str, count: int, total: int) -> np.ndarray:
        found = raw[f"{name}.offsets"]
        if len(found) != count + 1 or found[0] != 0 or found[-1] != total:
            raise ValueError(f"{name}: offsets do not fit")
        if np.any(np.diff(found) < 0):
            raise ValueError(f"{name}: offsets do not grow")
        return found

    def split(name: str, values: Sequence[Any]) -> dict[str, tuple[Any, ...]]:
        names = keys(name)
        ends = offsets(name, len(names), len(values)).tolist()
        return {k: tuple(values[a:b]) for k, a, b in zip(names, ends, ends[1:], strict=False)}

    with artifacts.paused_gc():
        kana_keys = tuple(keys("kana"))
        numbers = [raw["kana.rows"], raw["cyrillic.rows"], raw["latin.rows"]]
        if any(len(n) and (n.min() < 0 or n.max() >= len(names)) for n in numbers):
            raise ValueError("name rows that the gazetteer does not have")
        if len(raw["kana.partial"]) != len(raw["kana.rows"]):
            raise ValueError("kana: partial flags do not fit")
        exact, sorted_keys = {}, {}
        for name in ("cyrillic", "latin"):
            found = sorted_keys[name] = keys(name)
            ends = offsets(name, len(found), len(raw[f"{name}.rows"]))
            exact[name] = Entries(found, ends, raw[f"{name}.rows"], make)
        strings = {}
        for name in ("latin_by_place", "region_keys"):
            count = int(raw[f"{name}.offsets"][-1]) if len(raw[f"{name}.offsets"]) else 0
            strings[name] = split(name, _unstrings(raw[f"{name}.values"], count))
        postings = raw["postings.values"]
        grams = keys("postings")
        ends = offsets("postings", len(grams), len(postings)).tolist()
        foreign = _unstrings(raw["foreign.keys"], int(raw["foreign.count"][0]))
        if len(foreign) != len(raw["foreign.values"]):
            raise ValueError("foreign: values do not fit")
        return Index(
            gazetteer=gazetteer,
            kana_keys=kana_keys,
            kana_entries=EntryLists(
                offsets("kana", len(kana_keys), len(raw["kana.rows"])),
                raw["kana.rows"],
                raw["kana.partial"],
                make,
            ),
            key_ids={key: number for number, key in enumerate(kana_keys)},
            postings={g: postings[a:b] for g, a, b in zip(grams, ends, ends[1:], strict=False)},
            cyrillic=exact["cyrillic"],
            latin=exact["latin"],
            latin_by_place=strings["latin_by_place"],
            region_keys=strings["region_keys"],
            latin_keys=tuple(sorted_keys["latin"]),
            foreign_keys=dict(zip(foreign, raw["foreign.values"].tolist(), strict=True)),
        )


def load(folder: Path, gazetteer: Gazetteer) -> Index:
    """The index saved in ``folder`` for this gazetteer and code, verified.

    Raises FileNotFoundError when there is none, :class:`ArtifactError` when it is
    stale, truncated or foreign.
    """
    made_of = inputs(gazetteer)
    data = artifacts.read(folder, KIND, made_of, _SUFFIX)
    try:
        return decode(data, gazetteer)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        path = artifacts.paths(folder, KIND, made_of, _SUFFIX)[0]
        raise ArtifactError(f"{path}: unreadable ({error})") from error


def save(index: Index, folder: Path) -> Path:
    """Write the index and its manifest (atomically); OSError when unwritable."""
    return artifacts.write(folder, KIND, inputs(index.gazetteer), encode(index), _SUFFIX)


def cached_index(
    gazetteer: Gazetteer, folder: Path | None = None, model: ScoreModel | Path | None = PACKAGED
) -> Index:
    """The index of a loaded gazetteer: loaded from the cache, else built and saved.

    ``model`` is the score model, as in :func:`build_index`; the saved file holds
    none (it is not made from the gazetteer), so it is attached on the way out.
    """
    if isinstance(model, Path):
        model = load_model(model)
    if not gazetteer.key:  # made in memory: nothing to key a saved index on
        return build_index(gazetteer, model)
    folder = artifacts.cache_dir() if folder is None else Path(folder)
    index = artifacts.load_or_make(
        logger,
        "reconcile index",
        folder,
        lambda: load(folder, gazetteer),
        lambda: build_index(gazetteer, None),
        lambda index: save(index, folder),
        artifacts.BUILD_WORDS,
    )
    return dataclasses.replace(index, model=model)
