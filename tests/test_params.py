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
    assert load_section(write(tmp_path, "export: {a: 1}\n"), "reconcile", Example) == Example()


def test_values_are_typed(tmp_path: Path) -> None:
    path = write(tmp_path, "reconcile:\n  top_k: 3\n  threshold: 1\n  countries: [KZ, MN]\n")
    params = load_section(path, "reconcile", Example)
    assert params == Example(top_k=3, threshold=1.0, countries=("KZ", "MN"))


def test_unknown_key_names_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "reconcile:\n  topk: 3\n")
    with pytest.raises(ParamsError, match=r"unknown key\(s\) topk .* known keys are countries"):
        load_section(path, "reconcile", Example)


def test_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, "reconcile:\n  top_k: many\n")
    with pytest.raises(ParamsError, match=r"reconcile.top_k must be int, got 'many'"):
        load_section(path, "reconcile", Example)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "reconcile:\n  top_k: [1,\n")
    with pytest.raises(ParamsError, match="is not valid YAML"):
        load_section(path, "reconcile", Example)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="no such params file"):
        load_section(tmp_path / "absent.yaml", "reconcile", Example)


def test_repo_params_load_for_every_stage(repo: Path) -> None:
    from pipeline import gazetteer

    params = load_section(repo / "params.yaml", "gazetteer", gazetteer.GazetteerParams)
    assert "MN" in params.countries


BAD_PARAMS = {
    "a misspelt section": (
        "reconcle:\n  top_k: 3\n",
        "unknown section 'reconcle': did you mean reconcile?",
    ),
    "top_k 0": ("transliterate:\n  top_k: 0\n", "transliterate.top_k must be from 1 to 100, got 0"),
    "beam 0": ("transliterate:\n  beam: 0\n", "transliterate.beam must be from 1 to 1000, got 0"),
    "a NaN weight": ("transliterate:\n  lm_weight: .nan\n", "lm_weight must be a finite number"),
    "a 5,000-digit integer": (
        "transliterate:\n  beam: " + "9" * 5000 + "\n",
        "value has 5000 digits",
    ),
    "an alias bomb in a key": ("a: &a [1]\n? *a\n: 1\n", "found unhashable key"),
    "lower-case countries": (
        "gazetteer:\n  countries: [ru, ua]\n",
        "gazetteer.countries must list",
    ),
    "no countries": ("gazetteer:\n  countries: []\n", "gazetteer.countries must list"),
}


@pytest.mark.parametrize("case", sorted(BAD_PARAMS))
def test_bad_params_are_refused_before_any_work(case: str, tmp_path: Path, runner) -> None:  # type: ignore[no-untyped-def]
    from pipeline.cli import cli

    text, message = BAD_PARAMS[case]
    params = write(tmp_path, text)
    section = "gazetteer" if "countries" in text else "transliterate"
    out = tmp_path / "out"
    args = {
        "gazetteer": ["gazetteer", "--output-dir", str(out)],
        "transliterate": [
            "transliterate",
            "--input",
            str(Path(__file__).parent / "data" / "raw_tiny.csv"),
            "--output",
            str(out / "t.csv"),
        ],
    }[section]
    result = runner.invoke(cli, [*args, "--params", str(params)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert message in result.stderr and "Traceback" not in result.output
    assert not out.exists()


def test_a_fifo_params_file_is_refused_not_waited_on(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "params.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ParamsError, match="not a regular file"):
        load_section(fifo, "transliterate", Example)
