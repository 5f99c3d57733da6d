"""How fast ``camps serve`` answers: start-up, batch latency, throughput (``bench --only serve``).

A real ``camps serve`` process is started on a free port of 127.0.0.1 and
asked over HTTP, as OpenRefine asks it: form-encoded batches of 10 queries.
The names are register spellings (:mod:`pipeline.synthetic`) of gazetteer
names, each asked once ("new names"), then the same again ("repeated": the
service's outcome cache answers). Every loop is bounded by a count and a
deadline, and the process is stopped at the end.

Wall-clock numbers depend on what else the machine runs; each phase also
reports the CPU seconds the server process spent (Linux ``/proc``), which do not.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import logging
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

BATCH = 10


def bench_names(gazetteer_dir: Path, count: int, seed: int = 1945) -> list[str]:
    """``count`` distinct register spellings of gazetteer names (no two alike)."""
    from pipeline import synthetic
    from pipeline.bench import register_names

    rng = random.Random(seed)
    pool = register_names(gazetteer_dir)
    found: dict[str, None] = {}
    for _ in range(count * 20):
        if len(found) >= count:
            break
        found[synthetic.misspell(rng.choice(pool), rng)] = None
    return list(found)


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process and its live children (None without /proc)."""
    import os

    own = _stat(pid)
    if own is None:
        return None
    found = [own]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(pid):
            fields = _stat(int(entry.name))
            if fields is not None and fields[1] == str(pid):  # its parent is pid
                found.append(fields)
    ticks = sum(int(f[11]) + int(f[12]) for f in found)
    return ticks / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Client:
    """One keep-alive HTTP connection that posts form-encoded query batches."""

    def __init__(self, port: int, timeout: float = 60.0) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def reconcile(self, names: Sequence[str]) -> dict[str, Any]:
        queries = {f"q{i}": {"query": name} for i, name in enumerate(names)}
        body = urllib.parse.urlencode({"queries": json.dumps(queries, ensure_ascii=False)})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        self.conn.request("POST", "/reconcile", body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"camps serve answered {response.status}: {data[:200]!r}")
        answer: dict[str, Any] = json.loads(data)
        return answer

    def close(self) -> None:
        self.conn.close()


def _batches(names: Sequence[str]) -> list[list[str]]:
    return [list(names[i : i + BATCH]) for i in range(0, len(names) - BATCH + 1, BATCH)]


def latency_ms(port: int, names: Sequence[str]) -> dict[str, float]:
    """p50 and p95 (ms) of 10-query batches asked one after another on one connection."""
    client = Client(port)
    times = []
    try:
        for batch in _batches(names):
            started = time.perf_counter()
            client.reconcile(batch)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        client.close()
    ranked = sorted(times)
    return {
        "batches": len(times),
        "p50_ms": round(statistics.median(ranked), 1),
        "p95_ms": round(ranked[min(len(ranked) - 1, int(0.95 * len(ranked)))], 1),
    }


def throughput(port: int, names: Sequence[str], clients: int, deadline_s: float) -> dict[str, Any]:
    """Queries/s with ``clients`` concurrent connections, each asking its share of ``names``."""
    shares = [_batches(names[i::clients]) for i in range(clients)]

    def work(batches: list[list[str]]) -> int:
        client = Client(port)
        done = 0
        stop = time.monotonic() + deadline_s
        try:
            for batch in batches:
                if time.monotonic() > stop:
                    break
                client.reconcile(batch)
                done += len(batch)
        finally:
            client.close()
        return done

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        counts = list(pool.map(work, shares, timeout=deadline_s + 60))
    seconds = time.perf_counter() - started
    return {
        "clients": clients,
        "queries": sum(counts),
        "seconds": round(seconds, 2),
        "queries_per_second": round(sum(counts) / seconds),
    }


def start_server(
    gazetteer_dir: Path, overrides: Path, params: Path, workers: int = 1, timeout_s: float = 180.0
) -> tuple[subprocess.Popen[bytes], int, float]:
    """Start ``camps serve`` on a free port; return it, the port and seconds to first answer."""
    port = _free_port()
    command = [sys.executable, "-m", "pipeline", "-q", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    command += ["--gazetteer", str(gazetteer_dir), "--overrides", str(overrides)]
    command += ["--params", str(params)]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"camps serve exited with code {process.returncode}")
        if time.perf_counter() - started > timeout_s:
            process.terminate()
            raise RuntimeError(f"camps serve did not answer within {timeout_s:g} s")
        try:
            client = Client(port, timeout=30)
            client.reconcile(["ライチハ"])
            client.close()
            break
        except OSError:
            time.sleep(0.05)
    return process, port, time.perf_counter() - started


def measure(
    port: int,
    names: Sequence[str],
    clients: int = 8,
    deadline_s: float = 60.0,
    pid: int | None = None,
) -> dict[str, Any]:
    """Latency and throughput on a running server: new names, then the same repeated.

    With the server's ``pid``, each phase adds the server's CPU milliseconds per query.
    """
    half = len(names) // 2
    first, second = names[:half], names[half:]
    phases = {
        "latency_new_names": lambda: latency_ms(port, first[: 50 * BATCH]),
        "latency_repeated": lambda: latency_ms(port, first[: 50 * BATCH]),
        "throughput_new_names": lambda: throughput(port, second, clients, deadline_s),
        "throughput_repeated": lambda: throughput(port, second, clients, deadline_s),
    }
    report: dict[str, Any] = {}
    for name, phase in phases.items():
        before = cpu_seconds(pid) if pid else None
        found = phase()
        after = cpu_seconds(pid) if pid else None
        if before is not None and after is not None:
            queries = found.get("queries") or found["batches"] * BATCH
            found["server_cpu_ms_per_query"] = round(1000 * (after - before) / queries, 2)
        report[name] = found
    return report


def bench(
    gazetteer_dir: Path,
    overrides: Path,
    params: Path,
    names: int = 2_000,
    clients: int = 8,
    workers: int = 2,
) -> dict[str, Any]:
    """Start ``camps serve``, measure it, stop it: the report of ``camps bench --only serve``.

    ``workers`` as ``camps serve --workers``: 2 uses both cores of the reference machine.
    The server CPU per query counts the first process and its forked workers.
    """
    asked = bench_names(gazetteer_dir, names)
    process, port, startup = start_server(gazetteer_dir, overrides, params, workers)
    try:
        startup_cpu = cpu_seconds(process.pid)
        report = measure(port, asked, clients, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
    return {
        "workers": workers,
        "startup_to_first_answer_s": round(startup, 2),
        "startup_server_cpu_s": round(startup_cpu, 2) if startup_cpu is not None else None,
        "names": len(asked),
        **report,
    }
