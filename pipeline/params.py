"""params.yaml, one section per stage, read into frozen dataclasses.

Params flow one way: the YAML section becomes the stage's dataclass, which is
handed to the stage's ``run()``. An unknown key is an error, so a typo never
silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import stat
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from pipeline.errors import ParamsError

T = TypeVar("T")

#: The sections params.yaml may have: one per stage (DESIGN.md).
SECTIONS = ("gazetteer", "transliterate", "reconcile", "calibrate", "geocode", "export")
#: A params file is a few hundred bytes: anything this large is not one.
MAX_BYTES = 1_000_000
#: No count or size in any section comes near this; a larger int is a typo.
MAX_INT = 10**12


def read_params(path: Path) -> dict[str, Any]:
    """The whole params file as a mapping of section name to mapping.

    Refused with the fix: a path that is not a regular file (a FIFO would wait
    forever), a file over :data:`MAX_BYTES`, invalid YAML (an alias bomb
    included), a top level that is not sections, and a section name that is
    not a stage's (``reconcle:`` says "did you mean reconcile?").
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ParamsError(f"{path}: no such params file: pass --params FILE") from None
    except OSError as exc:
        raise ParamsError(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise ParamsError(f"{path}: not a regular file: pass a params.yaml file")
    if path.stat().st_size > MAX_BYTES:
        raise ParamsError(f"{path}: over {MAX_BYTES:,} bytes: not a params file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ParamsError(f"{path}: not UTF-8 text: re-save it as UTF-8") from None
    except OSError as exc:
        raise ParamsError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        # libyaml's safe loader when PyYAML has it: the same documents, a tenth of the time.
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ParamsError(f"{path}:{where} is not valid YAML ({exc}): fix the syntax") from None
    except (TypeError, ValueError, RecursionError) as exc:  # e.g. an unhashable alias as a key
        raise ParamsError(f"{path}: cannot be read as params ({exc}): fix the YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamsError(
            f"{path}: expected sections (stage: {{key: value}}), got {type(data).__name__}"
        )
    for name in data:
        if name not in SECTIONS:
            close = difflib.get_close_matches(str(name), SECTIONS, n=1)
            hint = f": did you mean {close[0]}?" if close else ""
            raise ParamsError(
                f"{path}: unknown section '{name}'{hint} (sections: {', '.join(SECTIONS)})"
            )
    return data


def load_section(path: Path, section: str, cls: type[T]) -> T:
    """Read ``section`` of ``path`` into the frozen dataclass ``cls``.

    Missing keys take the dataclass defaults; unknown keys and wrong types raise
    :class:`ParamsError` naming the file, section and key.
    """
    data = read_params(path).get(section) or {}
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: section '{section}' must be a mapping of key: value")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ParamsError(
            f"{path}: unknown key(s) {', '.join(unknown)} in section '{section}': "
            f"known keys are {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(cls)
    values = {key: _coerce(path, section, key, value, hints[key]) for key, value in data.items()}
    try:
        return cls(**values)
    except ParamsError as exc:  # a range the section's own __post_init__ checks
        raise ParamsError(f"{path}: {exc}") from None


def check_range(section: str, key: str, value: float, low: float, high: float) -> None:
    """Raise :class:`ParamsError` unless ``low <= value <= high`` (for ``__post_init__``).

    >>> check_range("transliterate", "beam", 0, 1, 1000)
    Traceback (most recent call last):
    ...
    pipeline.errors.ParamsError: transliterate.beam must be from 1 to 1000, got 0
    """
    if not low <= value <= high:
        raise ParamsError(f"{section}.{key} must be from {low} to {high}, got {value}")


def _coerce(path: Path, section: str, key: str, value: Any, hint: Any) -> Any:
    """Check ``value`` against the field's type; ints are accepted where floats are."""
    origin = typing.get_origin(hint)
    union = origin in (typing.Union, types.UnionType)
    allowed: tuple[Any, ...] = typing.get_args(hint) if union else (hint,)
    for kind in allowed:
        if kind is type(None) and value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
            raise ParamsError(f"{path}: {section}.{key} is too large: {str(value)[:20]}…")
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ParamsError(f"{path}: {section}.{key} must be a finite number, got {value}")
            return float(value)
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind in (str, bool) and type(value) is kind:
            return value
        if typing.get_origin(kind) is tuple and isinstance(value, list):
            return tuple(value)
    names = " or ".join(getattr(k, "__name__", str(k)) for k in allowed)
    raise ParamsError(f"{path}: {section}.{key} must be {names}, got {value!r}")
