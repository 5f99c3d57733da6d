"""The offline geocoder's name index, built once per gazetteer build and saved.

Folding the 140,000 names of the gazetteer for :func:`pipeline.geocode.points.index_names`
takes a second or two at every start; the result depends only on the loaded
gazetteer (:attr:`pipeline.places.Gazetteer.key`) and this code, so it is saved
as JSON in the cache folder of :mod:`pipeline.artifacts`, checked against its
manifest on load (a stale, truncated or foreign file is built again with a
warning) and kept in memory when the folder cannot be written.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pipeline import artifacts
from pipeline.artifacts import ArtifactError
from pipeline.geocode.points import NameIndex, index_names
from pipeline.places import Gazetteer

logger = logging.getLogger(__name__)

#: Version of the file's layout: bump it when :func:`save` writes something else.
FORMAT = 1
KIND = "geocode-names"
_CODE = ("artifacts.py", "names", "geocode/points.py", "geocode/artifact.py")
_SUFFIX = ".json.data"


def inputs(gazetteer: Gazetteer) -> dict[str, Any]:
    """Everything the name index is made from: the gazetteer's key and the code."""
    return {"format": FORMAT, "gazetteer": gazetteer.key, "code": artifacts.code_digest(_CODE)}


def load(folder: Path, gazetteer: Gazetteer) -> NameIndex:
    """The name index saved for this gazetteer and code, verified (FileNotFoundError if none)."""
    made_of = inputs(gazetteer)
    data = artifacts.read(folder, KIND, made_of, _SUFFIX)
    try:
        with artifacts.paused_gc():
            raw = json.loads(data)
            places = {str(k): tuple(map(str, v)) for k, v in raw["places"].items()}
            regions = {str(k): str(v) for k, v in raw["regions"].items()}
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        path = artifacts.paths(folder, KIND, made_of, _SUFFIX)[0]
        raise ArtifactError(f"{path}: unreadable ({error})") from error
    return NameIndex(places, regions)


def save(index: NameIndex, gazetteer: Gazetteer, folder: Path) -> Path:
    """Write the name index and its manifest (atomically); OSError when unwritable."""
    record = {"places": {k: list(v) for k, v in index.places.items()}, "regions": index.regions}
    data = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    return artifacts.write(folder, KIND, inputs(gazetteer), data, _SUFFIX)


def name_index(gazetteer: Gazetteer, folder: Path | None = None) -> NameIndex:
    """:func:`index_names` of the gazetteer: from the cache when it was loaded from a build."""
    if not gazetteer.key:  # made in memory (tests, evaluate's held-out gazetteers)
        return index_names(gazetteer)
    folder = artifacts.cache_dir() if folder is None else Path(folder)
    return artifacts.load_or_make(
        logger,
        "geocoder name index",
        folder,
        lambda: load(folder, gazetteer),
        lambda: index_names(gazetteer),
        lambda index: save(index, gazetteer, folder),
        artifacts.BUILD_WORDS,
    )
