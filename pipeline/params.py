"""params.yaml, one section per stage, read into frozen dataclasses.

Params flow one way: the YAML section becomes the stage's dataclass, which is
handed to the stage's ``run()``. An unknown key is an error, so a typo never
silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from pipeline.errors import ParamsError

T = TypeVar("T")


def read_params(path: Path) -> dict[str, Any]:
    """The whole params file as a mapping of section name to mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError(f"{path}: no such params file: pass --params FILE") from None
    except UnicodeDecodeError:
        raise ParamsError(f"{path}: not UTF-8 text: re-save it as UTF-8") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ParamsError(f"{path}:{where} is not valid YAML ({exc}): fix the syntax") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamsError(
            f"{path}: expected sections (stage: {{key: value}}), got {type(data).__name__}"
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
    return cls(**values)


def _coerce(path: Path, section: str, key: str, value: Any, hint: Any) -> Any:
    """Check ``value`` against the field's type; ints are accepted where floats are."""
    origin = typing.get_origin(hint)
    union = origin in (typing.Union, types.UnionType)
    allowed: tuple[Any, ...] = typing.get_args(hint) if union else (hint,)
    for kind in allowed:
        if kind is type(None) and value is None:
            return None
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind in (str, bool) and type(value) is kind:
            return value
        if typing.get_origin(kind) is tuple and isinstance(value, list):
            return tuple(value)
    names = " or ".join(getattr(k, "__name__", str(k)) for k in allowed)
    raise ParamsError(f"{path}: {section}.{key} must be {names}, got {value!r}")
