"""The committed outputs are what the code makes: `dvc status` has nothing to say."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest


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


def _imported_homes(module: str, repo: Path) -> set[str]:
    """The `pipeline` files and packages that importing ``module`` loads (dvc.yaml's names)."""
    import sys

    code = f"import sys, {module}; print(' '.join(m for m in sys.modules if 'pipeline.' in m))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True
    )
    homes = set()
    for name in done.stdout.split():
        top = name.split(".")[1]
        homes.add(f"pipeline/{top}" if (repo / "pipeline" / top).is_dir() else f"pipeline/{top}.py")
    return homes


@pytest.mark.parametrize("stage", ["reconcile", "geocode", "evaluate"])
def test_stage_deps_list_every_module_it_imports(stage: str, repo: Path) -> None:
    # After an edit of a module a stage imports, `dvc status` must name the stage.
    import yaml

    deps = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"][stage]["deps"]
    missing = sorted(_imported_homes(f"pipeline.{stage}", repo) - set(deps))
    assert not missing, f"dvc.yaml stage {stage} imports {missing}: add them to its deps"
