"""The reconcile index built once per gazetteer build, saved, and loaded lazily.

:func:`pipeline.reconcile.index.build_index` takes seconds (turning 120,000
gazetteer names into kana and folded keys, then grouping them); the index depends
only on the loaded gazetteer (keyed by :attr:`pipeline.places.Gazetteer.key`, the
digest of its build files and reader code) and on the code here, so it is saved
as JSON in the cache folder of :mod:`pipeline.artifacts` (not among the gazetteer
stage's outputs: DVC's outputs stay those of ``camps gazetteer``). The file holds
the keys and, for each, the numbers of the gazetteer's name rows it stands for;
loading makes each key's entries only when a query first reads them
(:class:`Entries`, :class:`EntryLists`), so a lookup of one name touches a few
hundred rows of 120,000. Its manifest's SHA-256 is checked on load: a truncated,
foreign or stale file is built again with a warning; a folder that cannot be
written, with a warning, leaves the index in memory.
"""

from __future__ import annotations

import dataclasses
import json
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
FORMAT = 2
KIND = "reconcile-index"
_CODE = ("artifacts.py", "names", "records.py", "reconcile/index.py", "reconcile/artifact.py")
_SUFFIX = ".json.data"

#: Makes the entry of a name row (its number in ``Gazetteer.names``), partial or whole.
MakeEntry = Callable[[int, bool], NameEntry]


def inputs(gazetteer: Gazetteer) -> dict[str, Any]:
    """Everything the index is made from: what the file's name and manifest are keyed on."""
    if not gazetteer.key:
        raise ValueError("a gazetteer made in memory has no key: index it with build_index")
    return {"format": FORMAT, "gazetteer": gazetteer.key, "code": artifacts.code_digest(_CODE)}


class Entries(Mapping[str, tuple[NameEntry, ...]]):
    """Key → entries of a loaded index, each key's tuple made when first read."""

    def __init__(self, rows: dict[str, list[int]], make: MakeEntry) -> None:
        self._rows = rows
        self._make = make
        self._made: dict[str, tuple[NameEntry, ...]] = {}

    def __getitem__(self, key: str) -> tuple[NameEntry, ...]:
        found = self._made.get(key)
        if found is None:
            found = self._made[key] = tuple(self._make(row, False) for row in self._rows[key])
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class EntryLists(Sequence[tuple[NameEntry, ...]]):
    """The entries of each kana key by number, each tuple made when first read."""

    def __init__(self, rows: list[list[list[int]]], make: MakeEntry) -> None:
        self._rows = rows
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
            return [self[n] for n in range(len(self._rows))[number]]
        found = self._made.get(number)
        if found is None:
            made = tuple(self._make(row, bool(partial)) for row, partial in self._rows[number])
            found = self._made[number] = made
        return found

    def __len__(self) -> int:
        return len(self._rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


def encode(index: Index) -> bytes:
    """The index (all but its gazetteer) as JSON, entries as numbers of name rows."""
    rows: dict[tuple[str, str, str, str], int] = {}
    for number, name in enumerate(index.gazetteer.names):
        rows.setdefault((name.place_id, name.name, name.script, name.period), number)

    def row(entry: NameEntry) -> int:
        return rows[(entry.place_id, entry.name, entry.script, entry.period)]

    def whole(entries: Mapping[str, tuple[NameEntry, ...]]) -> dict[str, list[int]]:
        # The exact maps hold whole names only (see build_index).
        assert not any(e.partial for es in entries.values() for e in es)
        return {key: [row(e) for e in es] for key, es in entries.items()}

    record = {
        "kana_keys": list(index.kana_keys),
        "kana_entries": [[[row(e), int(e.partial)] for e in es] for es in index.kana_entries],
        "cyrillic": whole(index.cyrillic),
        "latin": whole(index.latin),
        "latin_by_place": {k: list(v) for k, v in index.latin_by_place.items()},
        "region_keys": {k: list(v) for k, v in index.region_keys.items()},
        "latin_keys": list(index.latin_keys),
        "foreign_keys": dict(index.foreign_keys),
        "postings": {gram: ids.tolist() for gram, ids in index.postings.items()},
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


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

    with artifacts.paused_gc():
        raw = json.loads(data)
        kana_keys = tuple(raw["kana_keys"])
        kana_entries = raw["kana_entries"]
        numbers = [row for es in kana_entries for row, _ in es]
        numbers += [row for key in ("cyrillic", "latin") for rs in raw[key].values() for row in rs]
        if len(kana_entries) != len(kana_keys) or any(not 0 <= n < len(names) for n in numbers):
            raise ValueError("name rows that the gazetteer does not have")
        return Index(
            gazetteer=gazetteer,
            kana_keys=kana_keys,
            kana_entries=EntryLists(kana_entries, make),
            key_ids={key: number for number, key in enumerate(kana_keys)},
            postings={g: np.asarray(ids, dtype=np.int32) for g, ids in raw["postings"].items()},
            cyrillic=Entries(raw["cyrillic"], make),
            latin=Entries(raw["latin"], make),
            latin_by_place={k: tuple(v) for k, v in raw["latin_by_place"].items()},
            region_keys={k: tuple(v) for k, v in raw["region_keys"].items()},
            latin_keys=tuple(raw["latin_keys"]),
            foreign_keys={k: int(v) for k, v in raw["foreign_keys"].items()},
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
