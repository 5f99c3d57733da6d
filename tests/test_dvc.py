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
