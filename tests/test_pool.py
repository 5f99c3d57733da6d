"""The shared process pool: same answers as a loop, a dead worker is an error, no hang."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline import pool
from pipeline.errors import PipelineError

pytestmark = pytest.mark.skipif(not pool.can_fork(), reason="needs fork")


def _square_all(chunk: list[int]) -> list[int]:
    return [n * n for n in chunk]


def _die_on_seven(chunk: list[int]) -> list[int]:
    if 7 in chunk:
        os.kill(os.getpid(), signal.SIGKILL)
    return chunk


def test_results_come_back_in_order_as_from_a_loop() -> None:
    chunks = [list(range(i, i + 5)) for i in range(0, 100, 5)]
    expected = [_square_all(c) for c in chunks]
    assert list(pool.map_chunks(_square_all, chunks, 2, label="test", batch=3)) == expected
    assert list(pool.map_chunks(_square_all, chunks, 1, label="test")) == expected


def test_a_killed_worker_is_an_error_with_the_fix_not_a_hang() -> None:
    chunks = [[n] for n in range(20)]
    with pytest.raises(PipelineError, match=r"a worker process died.*test\.workers: 1"):
        list(pool.map_chunks(_die_on_seven, chunks, 2, label="test"))


# A run of the CLI's own SIGTERM handling around a pool busy with slow chunks.
_SCRIPT = textwrap.dedent(
    """
    import signal, sys, time
    from pipeline import pool
    from pipeline.cli import _exit_on_sigterm

    def slow(chunk):
        time.sleep(0.05)
        return chunk

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    for number, _ in enumerate(pool.map_chunks(slow, [[n] for n in range(400)], 2, label="t")):
        if number == 2:
            print("busy", flush=True)
    """
)


def test_sigterm_during_a_pool_ends_the_run_every_time(tmp_path: Path) -> None:
    # Before the shared pool, about one SIGTERM in seven hung the run for good.
    script = tmp_path / "busy.py"
    script.write_text(_SCRIPT, encoding="utf-8")
    for attempt in range(12):
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "busy"
        time.sleep(0.01 * attempt)  # vary the moment the signal lands
        child.send_signal(signal.SIGTERM)
        try:
            code = child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            pytest.fail(f"attempt {attempt}: the run hung after SIGTERM")
        assert code == 128 + signal.SIGTERM, attempt
        assert time.monotonic() - started < 20
        # No worker outlives the run.
        assert _group_members(child.pid) == [], attempt


def _group_members(group: int) -> list[int]:
    """Processes still alive in a process group (read from /proc, no pgrep needed)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone while we looked
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _slow_square(chunk: list[int]) -> list[int]:
    time.sleep(0.02)
    return [n * n for n in chunk]


def test_a_signal_while_the_pool_runs_is_handled_once_its_workers_are_gone() -> None:
    # The handler's exception must not land inside the futures' locks: it runs after
    # the pool has stopped its workers, and the handlers are as they were.
    import multiprocessing

    alive_when_handled: list[int] = []

    def handler(signum: int, frame: object) -> None:
        alive_when_handled.append(len(multiprocessing.active_children()))
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    got = []
    try:
        with pytest.raises(SystemExit):
            chunks = [[n] for n in range(200)]
            for number, result in enumerate(pool.map_chunks(_slow_square, chunks, 2, label="t")):
                got.append(result)
                if number == 3:
                    os.kill(os.getpid(), signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert alive_when_handled == [0]
    assert got[:4] == [[0], [1], [4], [9]] and len(got) < 200
