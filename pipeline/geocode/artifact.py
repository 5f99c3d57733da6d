"""The offline geocoder's name index, built once per gazetteer build and saved.

Folding the 140,000 names of the gazetteer for :func:`pipeline.geocode.points.place_names`
takes a second or two; the result depends only on the loaded gazetteer
(:attr:`pipeline.places.Gazetteer.key`) and this code, so it is saved as JSON in
the cache folder of :mod:`pipeline.artifacts`, checked against its manifest on
load (a stale, truncated or foreign file is built again with a warning) and kept
in memory when the folder cannot be written. It is loaded when a place is first
looked up by name (:class:`Deferred`): the offline rules of ``camps lookup`` and
``camps serve`` need only the regions' forms, made at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pipeline import artifacts
from pipeline.artifacts import ArtifactError
from pipeline.geocode.points import NameIndex, index_names, place_names, region_names
from pipeline.places import Gazetteer

logger = logging.getLogger(__name__)

#: Version of the file's layout: bump it when :func:`save` writes something else.
FORMAT = 2
KIND = "geocode-names"
_CODE = ("artifacts.py", "names", "geocode/points.py", "geocode/artifact.py")
_SUFFIX = ".json.data"

Places = dict[str, tuple[str, ...]]


class Deferred(Mapping[str, tuple[str, ...]]):
    """A mapping made by ``make`` when first read (then kept)."""

    def __init__(self, make: Callable[[], Places]) -> None:
        self._make = make
        self._made: Places | None = None

    def _mapping(self) -> Places:
        if self._made is None:
            self._made = self._make()
        return self._made

    def __getitem__(self, key: str) -> tuple[str, ...]:
        return self._mapping()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())


def inputs(gazetteer: Gazetteer) -> dict[str, Any]:
    """Everything the name index is made from: the gazetteer's key and the code."""
    return {"format": FORMAT, "gazetteer": gazetteer.key, "code": artifacts.code_digest(_CODE)}


def load(folder: Path, gazetteer: Gazetteer) -> Places:
    """The place names saved for this gazetteer and code, verified (FileNotFoundError if none)."""
    made_of = inputs(gazetteer)
    data = artifacts.read(folder, KIND, made_of, _SUFFIX)
    try:
        with artifacts.paused_gc():
            raw = json.loads(data)
            return {str(k): tuple(map(str, v)) for k, v in raw.items()}
    except (ValueError, TypeError, AttributeError) as error:
        path = artifacts.paths(folder, KIND, made_of, _SUFFIX)[0]
        raise ArtifactError(f"{path}: unreadable ({error})") from error


def save(places: Places, gazetteer: Gazetteer, folder: Path) -> Path:
    """Write the place names and their manifest (atomically); OSError when unwritable."""
    data = json.dumps(places, ensure_ascii=False, separators=(",", ":")).encode()
    return artifacts.write(folder, KIND, inputs(gazetteer), data, _SUFFIX)


def cached_places(gazetteer: Gazetteer, folder: Path) -> Places:
    """:func:`place_names` of the gazetteer: loaded from ``folder``, else made and saved."""
    return artifacts.load_or_make(
        logger,
        "geocoder name index",
        folder,
        lambda: load(folder, gazetteer),
        lambda: place_names(gazetteer),
        lambda places: save(places, gazetteer, folder),
        artifacts.BUILD_WORDS,
    )


def name_index(gazetteer: Gazetteer, folder: Path | None = None) -> NameIndex:
    """:func:`index_names` of the gazetteer; its place names from the cache, on first use,
    when the gazetteer was loaded from a build."""
    if not gazetteer.key:  # made in memory (tests, evaluate's held-out gazetteers)
        return index_names(gazetteer)
    where = artifacts.cache_dir() if folder is None else Path(folder)
    return NameIndex(Deferred(lambda: cached_places(gazetteer, where)), region_names(gazetteer))
