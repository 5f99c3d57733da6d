"""Progress of long work: a tqdm bar on a terminal, plain periodic lines in a pipe (DVC).

Through the real `camps transliterate` on 1,200 distinct katakana names of the
committed gazetteer build (GeoNames' and the curated katakana names).
"""

from __future__ import annotations

import csv
import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

COUNT = 1200


@pytest.fixture(scope="module")
def register(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with (repo / "gazetteer/build/names.csv").open(encoding="utf-8", newline="") as handle:
        kana = sorted({r["name"] for r in csv.DictReader(handle) if r["script"] == "Kana"})
    assert len(kana) > COUNT
    path = tmp_path_factory.mktemp("progress") / "register.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "katakana"])
        writer.writerows([f"p{n}", name] for n, name in enumerate(kana[:COUNT]))
    return path


def _command(register: Path) -> list[str]:
    out = register.with_name("out.csv")
    command = [sys.executable, "-m", "pipeline", "transliterate", "--input", str(register)]
    return [*command, "--output", str(out)]


def test_plain_lines_in_a_pipe(repo: Path, register: Path) -> None:
    done = subprocess.run(_command(register), cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    counts = re.findall(r"transliterate: (\d+/\d+) names in [\d.]+ s", done.stderr)
    assert counts == ["1000/1200", "1200/1200"]
    assert "\r" not in done.stderr


def test_a_bar_on_a_terminal(repo: Path, register: Path) -> None:
    main, terminal = pty.openpty()
    # A terminal 100 columns wide (a new pseudo-terminal has none: tqdm would draw nothing).
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    # Read while it runs: what is unread when the last terminal end closes is lost.
    process = subprocess.Popen(
        _command(register), cwd=repo, stdout=subprocess.DEVNULL, stderr=terminal
    )
    os.close(terminal)
    shown = b""
    try:
        while chunk := _read(main):
            shown += chunk
    finally:
        os.close(main)
    assert process.wait(timeout=300) == 0
    text = shown.decode("utf-8", "replace")
    assert "transliterate: 100%" in text and "1200/1200" in text and "\r" in text
    assert "/1200 names in" not in text  # no plain lines beside the bar


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal's other end is closed: all is read
        return b""
