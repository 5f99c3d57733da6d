"""Atomic writes, text and JSON files, and whole output sets sealed by a manifest."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import InputDataError, OutputError, PipelineError


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    A stage that fails (or is killed) mid-write leaves the previous ``target``
    intact and no partial file behind. The temporary file is named before it is
    made, inside the clean-up: a SIGTERM (an exit, pipeline.cli) that arrives the
    moment it exists still removes it (with ``mkstemp`` one sent between the
    file's creation and the clean-up left it behind).
    """
    target = Path(target)
    suffix = suffix or ".tmp"
    tmp: Path | None = None
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale(target, suffix)
            while True:
                tmp = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}"
                with contextlib.suppress(FileExistsError):
                    _create(tmp)
                    break
        except OSError as exc:
            raise OutputError(
                f"{target}: cannot write here ({exc.strerror}): choose a writable output folder"
            ) from None
        if target.is_dir():
            raise OutputError(
                f"{target} is a folder, not a file: move it away or choose another output"
            )
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OutputError) or not _is_write_error(exc):
            raise
        raise OutputError(_write_failure(target, exc)) from None


def _create(path: Path) -> None:
    """Make ``path`` as a new empty file, readable by its owner only (as ``mkstemp``)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _is_write_error(exc: BaseException) -> bool:
    """A failure of the write itself: the OS, SQLite (the GeoPackage) or GDAL (pyogrio)."""
    import sqlite3

    if isinstance(exc, PipelineError):
        return False  # raised by what makes the rows (a stage that streams), said as it is
    if isinstance(exc, OSError | sqlite3.Error):
        return True
    return type(exc).__module__.startswith("pyogrio")


def _write_failure(target: Path, exc: BaseException) -> str:
    """The message for a write that failed: a full disk says so, with the fix.

    GDAL and SQLite do not pass on ``errno``: a disk with less than 1 MB free, or
    their own words for it, count as full too.

    >>> import errno
    >>> _write_failure(Path("out/camps.gpkg"), OSError(errno.ENOSPC, "No space left on device"))
    ... # doctest: +ELLIPSIS
    'out/camps.gpkg: the disk is full (No space left on device): free some space and rerun; ...'
    """
    import errno
    import shutil

    first = (str(exc).splitlines() or [""])[0]
    what = getattr(exc, "strerror", None) or first[:120] or type(exc).__name__
    try:
        low = shutil.disk_usage(target.parent).free < 1_000_000
    except OSError:
        low = False
    words = ("disk is full", "no space left", "disk full")
    if (
        getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
        or low
        or any(w in str(exc).lower() for w in words)
    ):
        return (
            f"{target}: the disk is full ({what}): free some space and rerun; "
            "the previous file was left as it was"
        )
    return (
        f"{target}: could not be written ({what}): check the folder and rerun; "
        "the previous file was left as it was"
    )


def _remove_stale(target: Path, suffix: str) -> None:
    """Delete temporary files that a killed earlier write of ``target`` left behind.

    SIGTERM and Ctrl-C unwind through :func:`atomic_path` and clean up; only a
    SIGKILL (or a power cut) can leave one, and the next write of the same target
    sweeps it away. A temporary file names the process that writes it: one whose
    process still runs belongs to a live write (a second ``camps review`` at the
    same moment) and is left alone.
    """
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*{suffix}"):
        owner = stale.name[len(target.name) + 2 :].split(".", 1)[0]
        if owner.isdigit() and _alive(int(owner)):
            continue
        with contextlib.suppress(OSError):
            stale.unlink()


def _alive(pid: int) -> bool:
    """Whether a process of this machine still runs (zombies count as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


MANIFEST = "manifest.json"


@dataclasses.dataclass
class OutputSet:
    """The files one run writes into an output folder, to be sealed by a manifest."""

    folder: Path
    files: list[Path] = dataclasses.field(default_factory=list)
    rows: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, *paths: Path) -> None:
        """Count files written by this run as members of the set."""
        self.files.extend(Path(p) for p in paths)


_HELD: dict[Path, OutputSet] = {}  # folders this process holds, for nested stages


@contextlib.contextmanager
def output_set(folder: Path) -> Iterator[OutputSet]:
    """Write a folder's files as one set: locked, marked incomplete, sealed last.

    Each file is already written atomically; this makes the *set* whole. The
    folder is locked (a second run into it stops at once with a message, instead
    of both writing), its ``manifest.json`` is removed before the first file
    changes, and written again, last, with the hash of every file and the row
    counts, only when every file is in place. A run killed half-way therefore
    leaves a folder with no manifest, which ``camps validate --output DIR``
    reports as incomplete, never a set of two generations passed off as one.
    A stage called inside another's set (``camps run`` calling export) joins it.
    """
    folder = Path(folder)
    key = folder.resolve()
    if key in _HELD:
        yield _HELD[key]
        return
    import fcntl

    try:
        folder.mkdir(parents=True, exist_ok=True)
        # The folder itself is locked (flock works on a directory's descriptor on
        # Linux): no lock file to leave behind, and the lock dies with its process.
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot write here ({exc.strerror}): choose a writable output folder"
        ) from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(
                f"{folder}: another camps run is writing this folder: wait for it to "
                "finish, or choose another --output-dir"
            ) from None
        sealed = folder / MANIFEST
        previous = sealed.read_bytes() if sealed.is_file() else None
        sealed.unlink(missing_ok=True)
        outputs = _HELD[key] = OutputSet(folder)
        try:
            yield outputs
            write_manifest(outputs)
        except BaseException:
            # A run that failed before it changed a file (bad input) keeps the seal.
            if previous is not None and _still_sealed(folder, previous):
                write_text(sealed, previous.decode("utf-8"))
            raise
        finally:
            del _HELD[key]
    finally:
        os.close(descriptor)


def _still_sealed(folder: Path, manifest: bytes) -> bool:
    """Whether every file a manifest lists is still there with its hash."""
    try:
        return not unsealed_files(folder, json.loads(manifest).get("files", {}))
    except (OSError, ValueError, AttributeError):
        return False


def unsealed_files(folder: Path, files: dict[str, str]) -> dict[str, str]:
    """The files of a manifest's ``files`` that are ``missing`` or ``changed`` since."""
    found = {}
    for name, digest in sorted(files.items()):
        path = Path(folder) / name
        if not path.is_file():
            found[name] = "missing"
        elif file_digest(path) != digest:
            found[name] = "changed"
    return found


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(outputs: OutputSet) -> None:
    """Seal a folder: every file's hash and the row counts, written last.

    The generation id is a hash of the file hashes, not a time: the same inputs
    give a byte-identical manifest.
    """
    files = {
        p.relative_to(outputs.folder).as_posix(): file_digest(p) for p in sorted(set(outputs.files))
    }
    listing = "\n".join(f"{k} {v}" for k, v in files.items())
    generation = hashlib.sha256(listing.encode("utf-8")).hexdigest()[:16]
    manifest = {"generation": generation, "rows": outputs.rows, "files": files}
    write_json(outputs.folder / MANIFEST, manifest)


def write_text(target: Path, text: str | Iterable[str] | Iterable[bytes]) -> None:
    """Write UTF-8 text atomically: one string, or pieces written as they are made
    (a million-line file is never held whole), as str or as UTF-8 already."""
    with atomic_path(target) as tmp, tmp.open("wb") as handle:
        if isinstance(text, str):
            handle.write(text.encode("utf-8"))
        else:
            handle.writelines(p.encode("utf-8") if isinstance(p, str) else p for p in text)


def copy_file(source: Path, target: Path) -> None:
    """Copy a file's bytes atomically (the web map's vendored library and its images)."""
    data = Path(source).read_bytes()
    with atomic_path(target, suffix=Path(target).suffix or None) as tmp:
        tmp.write_bytes(data)


def write_json(target: Path, data: Any) -> None:
    """Write JSON atomically: UTF-8, keys in the order given, a final newline."""
    write_text(target, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def read_json(path: Path, object_hook: Callable[[dict[str, Any]], Any] | None = None) -> Any:
    """Read a JSON file, with a message naming the file on failure.

    ``object_hook`` may shrink each object as it is parsed, so a large file's
    unused fields never pile up in memory.
    """
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"), object_hook=object_hook)
    except FileNotFoundError:
        raise InputDataError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputDataError(f"{path}: not valid UTF-8 JSON ({exc})") from None
