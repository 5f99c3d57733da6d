"""The house layout (issue 13): no stage imports another, modules a newcomer can hold."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"
STAGES = ("gazetteer", "transliterate", "reconcile", "geocode", "export")
MAX_LINES = 600


def _stage_files(stage: str) -> list[Path]:
    module = PACKAGE / f"{stage}.py"
    return [module] if module.is_file() else sorted((PACKAGE / stage).rglob("*.py"))


def _pipeline_imports(source: Path) -> set[str]:
    """The top-level ``pipeline`` modules a file imports, lazily or not."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "pipeline" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_imports_another_stage(stage: str) -> None:
    files = _stage_files(stage)
    assert files, f"no code for stage {stage}"
    edges = {
        f"{path.relative_to(PACKAGE.parent)} imports pipeline.{other}"
        for path in files
        for other in _pipeline_imports(path)
        if other in STAGES and other != stage
    }
    assert edges == set()


def test_the_import_check_sees_a_lazy_import(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text(
        "def f():\n    from pipeline import reconcile as rc\n    import pipeline.io\n"
    )
    assert _pipeline_imports(source) == {"reconcile", "io"}


def test_no_module_is_longer_than_a_newcomer_can_hold() -> None:
    long = {
        str(path.relative_to(PACKAGE.parent)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text("utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by what they hold: {long}"


def test_every_package_says_what_it_owns_and_may_import() -> None:
    for init in [PACKAGE / "__init__.py", *PACKAGE.glob("*/__init__.py")]:
        doc = ast.get_docstring(ast.parse(init.read_text("utf-8"))) or ""
        assert doc, f"{init} has no docstring"
        if init.parent != PACKAGE:
            assert "import" in doc, f"{init}: say what the package may import"
