"""The committed outputs are what the code makes: `dvc status` has nothing to say."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml


def test_committed_outputs_are_up_to_date(repo: Path) -> None:
    if not (repo / ".git").exists():
        pytest.skip("not a git checkout (dvc status compares against the committed lock)")
    dvc = shutil.which("dvc", path=str(repo / ".venv" / "bin")) or shutil.which("dvc")
    assert dvc, "dvc is a dependency of the package: run `make test`"
    done = subprocess.run(
        [dvc, "status", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "DVC_NO_ANALYTICS": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout or "{}") == {}, (
        "dvc.lock and the committed outputs are out of step with the code: "
        f"run `make run` and commit dvc.lock and output/\n{done.stdout}"
    )


# ----------------------------------------------------------------- true deps

PACKAGE = "pipeline"


def _module_path(repo: Path, dotted: str) -> Path | None:
    """The file (module) or folder (package) of a dotted ``pipeline`` name, if any."""
    base = repo / Path(*dotted.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base
    return None


def _imported(repo: Path, source: Path, nodes: list[ast.stmt] | None = None) -> set[Path]:
    """The project modules and packages that a file (or some of its statements) imports."""
    tree = nodes if nodes is not None else ast.parse(source.read_text("utf-8")).body
    package = ".".join(source.relative_to(repo).with_suffix("").parts)
    if source.name != "__init__.py":
        package = package.rpartition(".")[0]
    names: set[str] = set()
    for node in (n for top in tree for n in ast.walk(top)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    found = set()
    for name in names:
        if name == PACKAGE or not name.startswith(PACKAGE + "."):
            continue
        path = _module_path(repo, name)
        if path is not None:
            found.add(path)
    return found


def _closure(repo: Path, start: set[Path]) -> set[Path]:
    """Every project file that importing ``start`` runs (packages: all their files)."""
    seen: set[Path] = set()
    todo = list(start)
    while todo:
        path = todo.pop()
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file in seen:
                continue
            seen.add(file)
            todo.extend(_imported(repo, file) - seen)
            # A module inside a package also runs its package's __init__ files.
            for parent in file.relative_to(repo).parents:
                init = repo / parent / "__init__.py"
                if parent.parts and parent != Path(PACKAGE) and init.is_file():
                    todo.append(init)
    return seen


def _command_imports(repo: Path, command: str) -> set[Path]:
    """What ``camps COMMAND`` imports: the CLI's own top-level imports and the command's.

    The CLI imports each stage inside its command, so the ``cli`` package is not
    followed as a whole: that would make every stage depend on every other. The
    command's function can be in any file of the package; the top-level imports
    are those of that file, of ``cli/__init__.py`` and of ``cli/options.py``. The
    package's own files are left out (every stage lists the whole ``cli`` folder).
    """
    package = repo / PACKAGE / "cli"
    shared = [package / "__init__.py", package / "options.py"]
    for source in sorted(package.glob("*.py")):
        tree = ast.parse(source.read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if not (isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "")):
                    continue
                named = [k.value.value for k in decorator.keywords if k.arg == "name"]  # type: ignore[attr-defined]
                if (named[0] if named else node.name.replace("_", "-")) != command:
                    continue
                found = _imported(repo, source, [*_top_imports(source), *node.body])
                for other in shared:
                    found |= _imported(repo, other, _top_imports(other))
                return {f for f in found if f != package and package not in f.parents}
    raise AssertionError(f"dvc.yaml runs `camps {command}`, which the CLI does not have")


def _top_imports(source: Path) -> list[ast.stmt]:
    """The import statements at the top level of a file."""
    tree = ast.parse(source.read_text("utf-8"))
    return [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]


def _cli_files(repo: Path) -> set[Path]:
    """Every file of the ``cli`` package: each stage runs through all of them."""
    return set((repo / PACKAGE / "cli").rglob("*.py"))


def _stages(repo: Path) -> dict[str, dict[str, Any]]:
    stages: dict[str, dict[str, Any]] = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    return stages


def test_every_stage_lists_the_project_code_it_runs(repo: Path) -> None:
    missing = {}
    for name, stage in _stages(repo).items():
        words = stage["cmd"].split()
        assert words[0] == "camps", f"stage {name} must run the CLI: {stage['cmd']}"
        deps = [repo / dep for dep in stage.get("deps", [])]
        code = _closure(repo, _command_imports(repo, words[1])) | _cli_files(repo)
        code.discard(repo / PACKAGE / "__init__.py")  # the package docstring only
        uncovered = sorted(
            str(f.relative_to(repo))
            for f in code
            if not any(f == d or d in f.parents for d in deps)
        )
        if uncovered:
            missing[name] = uncovered
    assert missing == {}, f"dvc.yaml stages do not list the code they import: {missing}"
    init = ast.parse((repo / PACKAGE / "__init__.py").read_text("utf-8"))
    assert not any(isinstance(n, ast.Import | ast.ImportFrom) for n in init.body)


def test_the_meta_test_sees_an_import_through_a_package(repo: Path, tmp_path: Path) -> None:
    # The closure follows relative imports inside a package and `from pipeline import x`.
    pkg = tmp_path / PACKAGE
    (pkg / "stage").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "stage" / "__init__.py").write_text("from .core import run\n")
    (pkg / "stage" / "core.py").write_text("from pipeline import shared\n")
    (pkg / "shared.py").write_text("import json\n")
    found = _closure(tmp_path, {pkg / "stage"})
    assert pkg / "shared.py" in found


def _copy_of_repo(repo: Path, target: Path) -> Path:
    """The tracked files of the working tree in a fresh git repo (no history needed)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = repo / os.fsdecode(name)
        if source.is_file():
            (target / os.fsdecode(name)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / os.fsdecode(name))
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    return target


def test_editing_an_imported_module_makes_its_stages_stale(repo: Path, tmp_path: Path) -> None:
    if not (repo / ".git").exists():
        pytest.skip("not a git checkout")
    dvc = shutil.which("dvc", path=str(repo / ".venv" / "bin")) or shutil.which("dvc")
    assert dvc
    copy = _copy_of_repo(repo, tmp_path / "repo")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}

    def stale() -> set[str]:
        done = subprocess.run(
            [dvc, "status", "--json"], cwd=copy, capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, done.stderr
        return set(json.loads(done.stdout or "{}"))

    assert stale() == set()
    for module in ("io/csvfile.py", "records.py"):
        with (copy / PACKAGE / module).open("a", encoding="utf-8") as handle:
            handle.write("\n# an edit\n")
    users = {
        name
        for name, stage in _stages(repo).items()
        if any(
            copy / PACKAGE / m in _closure(copy, _command_imports(copy, stage["cmd"].split()[1]))
            for m in ("io/csvfile.py", "records.py")
        )
    }
    assert {"export", "reconcile", "geocode"} <= users
    assert stale() == users
