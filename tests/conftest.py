"""Shared fixtures. Each helper-specific fixture lives in its own test module."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent

# The transliteration model's artifacts (pipeline/transliterate/artifact.py) go to a
# folder of this session, inherited by the `camps` processes the tests start, so a
# test never reads an artifact a previous run left (built once per session).
os.environ.setdefault("CAMPS_CACHE", tempfile.mkdtemp(prefix="camps-cache-"))

# Run by Debian's /usr/bin/python3 with the QGIS bindings, not imported by pytest.
collect_ignore = ["qgis_check.py"]


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root (tests may run from any folder)."""
    return REPO


@pytest.fixture()
def runner() -> CliRunner:
    """A click runner; click >= 8.2 keeps stdout and stderr apart."""
    return CliRunner()
