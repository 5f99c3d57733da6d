"""The command line as a user meets it: every DVC stage is a command with help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pipeline.cli import cli

DVC_STAGES = sorted(
    yaml.safe_load((Path(__file__).parent.parent / "dvc.yaml").read_text())["stages"]
)
DESIGN_COMMANDS = [
    "transliterate",
    "reconcile",
    "geocode",
    "export",
    "run",
    "lookup",
    "review",
    "evaluate",
    "validate",
]


@pytest.mark.parametrize("stage", DVC_STAGES)
def test_every_dvc_stage_is_a_command_with_help(stage: str, repo: Path, runner: CliRunner) -> None:
    spec = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"][stage]
    assert spec["cmd"].split()[:2] == ["camps", stage]
    # The stage's module, or its package once it grew into one (STYLE.md 1).
    home = f"pipeline/{stage}" if (repo / "pipeline" / stage).is_dir() else f"pipeline/{stage}.py"
    assert home in spec["deps"]
    result = runner.invoke(cli, [stage, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


@pytest.mark.parametrize("command", DESIGN_COMMANDS)
def test_every_design_command_has_an_example(command: str, runner: CliRunner) -> None:
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert f"camps {command}" in result.output


def test_dvc_stage_params_sections_exist(repo: Path) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    for name, spec in stages.items():
        for section in spec.get("params", []):
            assert section in params, f"stage {name} names params section {section}"


def test_python_dash_m_is_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "transliterate" in done.stdout


def test_unknown_command_is_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["transmogrify"])
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_bad_params_file_is_usage_error(tmp_path: Path, runner: CliRunner) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("gazetteer:\n  countries: [RU]\n  colour: red\n")
    result = runner.invoke(
        cli, ["gazetteer", "--params", str(params), "--output-dir", str(tmp_path / "g")]
    )
    assert result.exit_code == 2
    assert "unknown key(s) colour" in result.stderr


def test_missing_input_is_bad_data(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        cli,
        ["transliterate", "--input", str(tmp_path / "nope.csv"), "--output", str(tmp_path / "o")],
    )
    assert result.exit_code == 1
    assert "nope.csv: no such file" in result.stderr
    assert "Traceback" not in result.output
