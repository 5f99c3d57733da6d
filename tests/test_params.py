"""params.yaml → frozen dataclasses: defaults, types, unknown keys."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline.errors import ParamsError
from pipeline.params import load_section


@dataclasses.dataclass(frozen=True)
class Example:
    top_k: int = 5
    threshold: float = 0.5
    name: str = "x"
    countries: tuple[str, ...] = ("RU",)
    user_agent: str | None = None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_section_is_absent(tmp_path: Path) -> None:
    assert load_section(write(tmp_path, "other: {a: 1}\n"), "example", Example) == Example()


def test_values_are_typed(tmp_path: Path) -> None:
    path = write(tmp_path, "example:\n  top_k: 3\n  threshold: 1\n  countries: [KZ, MN]\n")
    params = load_section(path, "example", Example)
    assert params == Example(top_k=3, threshold=1.0, countries=("KZ", "MN"))


def test_unknown_key_names_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "example:\n  topk: 3\n")
    with pytest.raises(ParamsError, match=r"unknown key\(s\) topk .* known keys are countries"):
        load_section(path, "example", Example)


def test_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, "example:\n  top_k: many\n")
    with pytest.raises(ParamsError, match=r"example.top_k must be int, got 'many'"):
        load_section(path, "example", Example)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "example:\n  top_k: [1,\n")
    with pytest.raises(ParamsError, match="is not valid YAML"):
        load_section(path, "example", Example)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="no such params file"):
        load_section(tmp_path / "absent.yaml", "example", Example)


def test_repo_params_load_for_every_stage(repo: Path) -> None:
    from pipeline import gazetteer

    params = load_section(repo / "params.yaml", "gazetteer", gazetteer.GazetteerParams)
    assert "MN" in params.countries
