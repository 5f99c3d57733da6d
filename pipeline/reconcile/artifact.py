"""The reconcile index's name keys, derived once per gazetteer build and saved.

Turning 120,000 gazetteer names into kana keys (through :func:`kana_of_cyrillic`)
and folded keys is most of the seconds :func:`pipeline.reconcile.index.build_index`
takes; the result depends only on the built ``names.csv`` and the code, so it is
saved as JSON in the cache folder of :mod:`pipeline.artifacts` (not among the
gazetteer stage's outputs: DVC's outputs stay those of ``camps gazetteer``). The
file name is a digest of ``names.csv``'s bytes, the source of :mod:`pipeline.names`
and of the index code, and :data:`FORMAT`; its manifest's SHA-256 is checked on
load: a truncated, foreign or stale file is derived again with a warning; a folder
that cannot be written, with a warning, leaves the keys in memory.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, cast

from pipeline import artifacts
from pipeline.artifacts import ArtifactError
from pipeline.places import Gazetteer
from pipeline.reconcile.index import Derived, derive

logger = logging.getLogger(__name__)

#: Version of the file's layout: bump it when :func:`save` writes something else.
FORMAT = 1
KIND = "reconcile-keys"
_CODE = ("artifacts.py", "names", "reconcile/index.py", "reconcile/artifact.py")

Keys = dict[str, dict[str, Derived]]


def inputs(gazetteer_dir: Path) -> dict[str, Any]:
    """Everything the keys are made from: what the file's name and manifest are keyed on."""
    return {
        "format": FORMAT,
        "names": artifacts.file_digest(Path(gazetteer_dir) / "names.csv"),
        "code": artifacts.code_digest(_CODE),
    }


def derive_all(gazetteer: Gazetteer) -> Keys:
    """:func:`derive` of every distinct (script, name) of the gazetteer."""
    keys: Keys = {}
    for item in gazetteer.names:
        by_name = keys.setdefault(item.script, {})
        if item.name not in by_name:
            by_name[item.name] = derive(item.name, item.script)
    return keys


def load(folder: Path, made_of: dict[str, Any]) -> Keys:
    """The keys saved in ``folder`` for exactly these inputs, verified.

    Raises FileNotFoundError when there are none, :class:`ArtifactError` when they
    are stale, truncated or foreign.
    """
    data = artifacts.read(folder, KIND, made_of, ".json.data")
    try:
        with artifacts.paused_gc():
            raw = json.loads(data)
        # JSON lists stand for the tuples of Derived: build_index only unpacks them.
        if not all(isinstance(v, dict) for v in raw.values()):
            raise TypeError("not script -> name -> keys")
    except (ValueError, TypeError, AttributeError) as error:
        path = artifacts.paths(folder, KIND, made_of, ".json.data")[0]
        raise ArtifactError(f"{path}: unreadable ({error})") from error
    return cast(Keys, raw)


def save(keys: Keys, folder: Path, made_of: dict[str, Any]) -> Path:
    """Write the keys and their manifest (atomically); OSError when unwritable."""
    data = json.dumps(keys, ensure_ascii=False, separators=(",", ":")).encode()
    return artifacts.write(folder, KIND, made_of, data, ".json.data")


def cached_keys(gazetteer_dir: Path, gazetteer: Gazetteer, folder: Path | None = None) -> Keys:
    """The keys of the built gazetteer in ``gazetteer_dir``: loaded, else derived and saved."""
    folder = artifacts.cache_dir() if folder is None else Path(folder)
    made_of = inputs(gazetteer_dir)
    return artifacts.load_or_make(
        logger,
        "reconcile index",
        folder,
        lambda: load(folder, made_of),
        lambda: derive_all(gazetteer),
        lambda keys: save(keys, folder, made_of),
        (
            "no saved keys in {folder} yet, deriving them",
            "deriving the keys again",
            "keys kept in memory only; set {env} to a writable folder to load them in a "
            "fraction of a second",
        ),
    )
