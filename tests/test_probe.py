"""The hostile cases of issue 21's probe as one table (issue 21, "Measures").

Each row is input bytes (or a params file, or a stage file), a command line, the
exit code expected and a piece of the message that must say what is wrong. Every
case runs through the CLI (click's CliRunner) under its own time limit and must
end in that exit code with that message and no traceback: 0 tracebacks, 0 hangs,
0 silent exits. Outputs named in a row must not exist after a refused run.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli

RAW = "record_id,katakana\nr1,チタ\n"
GEOCODED = (
    "record_id,katakana,decision,lat,lon,candidates\n"
    "r1,チタ,auto,52.03171,113.50087,\nr2,ハバロフスク,unresolved,,,\n"
)
DEEP = "[" * 100_000 + "]" * 100_000


def _review_file(candidates: str) -> str:
    cell = '"' + candidates.replace('"', '""') + '"'
    return f"record_id,katakana,decision,score,candidates\nr1,チタ,review,0.5,{cell}\n"


@dataclass(frozen=True)
class Case:
    name: str
    command: str  # transliterate | export | review | params | geocode_params
    data: bytes = RAW.encode()
    exit_code: int = 1
    message: str = ""
    args: tuple[str, ...] = ()
    params: str = ""
    seconds: float = 30.0
    setup: str = ""  # gpkg_folder | fifo
    extra: dict[str, str] = field(default_factory=dict)


CASES = [
    # ------------------------------------------------------------ rows lost
    Case(
        "unbalanced quote swallows rows",
        "transliterate",
        'record_id,katakana,notes\nr1,ライチハ,"unterminated\nr2,チタ,b\nr3,カラガンダ,c\n'.encode(),
        message="a quote opens a cell that never closes",
    ),
    Case(
        "unbalanced quote in the katakana cell",
        "transliterate",
        'record_id,katakana\nr1,"ライチハ\nr2,チタ\nr3,カラガンダ\n'.encode(),
        message="never closes",
    ),
    # ------------------------------------------------------------ the user's columns
    Case("user's lat column", "transliterate", "katakana,lat\nチタ,1\n".encode(), message="lat"),
    Case(
        "user's decision column",
        "transliterate",
        "katakana,decision\nチタ,x\n".encode(),
        message="column decision: the pipeline writes this column",
    ),
    Case("a column named fid", "transliterate", "katakana,fid\nチタ,1\n".encode(), message="fid"),
    Case(
        "a column named unresolved_reason",
        "transliterate",
        "katakana,unresolved_reason\nチタ,1\n".encode(),
        message="column unresolved_reason",
    ),
    Case(
        "two columns differing only in case",
        "transliterate",
        "katakana,Notes,notes\nチタ,1,2\n".encode(),
        message="differ only in case",
    ),
    Case(
        "10,000 columns",
        "transliterate",
        (
            ",".join(["katakana", *(f"c{i}" for i in range(10_000))])
            + "\n"
            + ",".join(["チタ"] + ["x"] * 10_000)
            + "\n"
        ).encode(),
        message="10,001 columns, more than the 1,900",
    ),
    Case(
        "record ids repeated once spaces are stripped",
        "transliterate",
        "record_id,katakana\n r1 ,チタ\nr1,ハバロフスク\n".encode(),
        message="'r1' repeats row 2",
    ),
    # ------------------------------------------------------------ values
    Case(
        "detainees of 1e20",
        "transliterate",
        "katakana,detainees\nチタ,1e20\n".encode(),
        message="column detainees: '1e20'",
    ),
    Case(
        "detainees of 1e20 in the export stage",
        "export",
        (
            GEOCODED.replace("candidates\n", "candidates,detainees\n")
            .replace(",\nr2", ",,1e20\nr2")
            .replace(",,,\n", ",,,,\n")
        ).encode(),
        message="column detainees",
    ),
    # ------------------------------------------------------------ encodings and formats
    Case("an empty file", "transliterate", b"", message="the file is empty"),
    Case("Shift-JIS", "transliterate", RAW.encode("cp932"), message="is not UTF-8"),
    Case("EUC-JP", "transliterate", RAW.encode("euc_jp"), message="is not UTF-8"),
    Case("a gzip file", "transliterate", b"\x1f\x8b\x08\x00" + bytes(40), message="in.csv"),
    Case("a PDF", "transliterate", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", message="in.csv"),
    Case("a zip (xlsx) file", "transliterate", b"PK\x03\x04" + bytes(40), message="in.csv"),
    Case(
        "--encoding rot13 (a codec, not a text encoding)",
        "transliterate",
        args=("--encoding", "rot13"),
        message="--encoding rot13: not a text encoding",
    ),
    Case(
        "--encoding base64",
        "transliterate",
        args=("--encoding", "base64"),
        message="--encoding base64: not a text encoding",
    ),
    Case(
        "--encoding of no codec",
        "transliterate",
        args=("--encoding", "klingon"),
        message="unknown encoding name",
    ),
    Case("a FIFO as the input", "transliterate", setup="fifo", message="in.csv"),
    # ------------------------------------------------------------ params
    Case(
        "an unknown params section",
        "params",
        params="reconcle:\n  auto_threshold: 0.9\n",
        exit_code=2,
        message="reconcle",
    ),
    Case("top_k 0", "params", params="transliterate:\n  top_k: 0\n", exit_code=2, message="top_k"),
    Case("beam 0", "params", params="transliterate:\n  beam: 0\n", exit_code=2, message="beam"),
    Case(
        "lm_weight NaN",
        "params",
        params="transliterate:\n  lm_weight: .nan\n",
        exit_code=2,
        message="lm_weight",
    ),
    Case(
        "a 5,000-digit integer",
        "params",
        params="transliterate:\n  top_k: " + "9" * 5000 + "\n",
        exit_code=2,
        message="value has 5000 digits",
    ),
    Case(
        "an alias bomb",
        "params",
        params="a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        exit_code=2,
        message="params",
    ),
    Case(
        "a negative backoff",
        "geocode_params",
        params="geocode:\n  backoff_seconds: -1\n",
        exit_code=2,
        message="backoff_seconds",
    ),
    Case(
        "a NaN min_delay_seconds",
        "geocode_params",
        params="geocode:\n  min_delay_seconds: .nan\n",
        exit_code=2,
        message="min_delay_seconds",
    ),
    Case(
        "a Retry-After cap of 28 hours",
        "geocode_params",
        params="geocode:\n  max_wait_seconds: 100000\n",
        exit_code=2,
        message="geocode.max_wait_seconds must be from 0 to 3600",
    ),
    # ------------------------------------------------------------ stage files
    Case(
        "nested candidates JSON in review --list",
        "review",
        _review_file(DEEP).encode(),
        message="column candidates: JSON nested too deep",
    ),
    Case(
        "candidates JSON of the wrong shape in review --list",
        "review",
        _review_file('{"id": "gn:1"}').encode(),
        message="column candidates: not a JSON list of candidates (dict)",
    ),
    Case(
        "candidates without a score in review --list",
        "review",
        _review_file('[{"id": "gn:1", "name": "Чита", "score": [1]}]').encode(),
        message="candidate 1: score [1] is not a number",
    ),
    Case(
        "nested candidates JSON in export",
        "export",
        GEOCODED.replace("113.50087,\n", f'113.50087,"{DEEP}"\n').encode(),
        message="row 2, column candidates: JSON nested too deep",
    ),
    Case(
        "candidates JSON of the wrong shape in export",
        "export",
        GEOCODED.replace("113.50087,\n", '113.50087,"[[1, 2]]"\n').encode(),
        message="candidate 1 is a list, not an object",
    ),
    Case(
        "camps.gpkg is a folder",
        "export",
        GEOCODED.encode(),
        setup="gpkg_folder",
        message="camps.gpkg is a folder, not a file",
    ),
]


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail the case (not hang the suite) when it runs past ``seconds``."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _argv(case: Case, tmp_path: Path) -> list[str]:
    source = tmp_path / "in.csv"
    if case.setup == "fifo":
        os.mkfifo(source)
    else:
        source.write_bytes(case.data)
    params = tmp_path / "params.yaml"
    params.write_text(case.params or "{}\n", encoding="utf-8")
    if case.command == "transliterate" or case.command == "params":
        argv = ["transliterate", "--input", str(source), "--output", str(tmp_path / "out.csv")]
    elif case.command == "geocode_params":
        argv = ["geocode", "--input", str(source), "--output", str(tmp_path / "out.csv")]
    elif case.command == "export":
        out = tmp_path / "out"
        if case.setup == "gpkg_folder":
            (out / "camps.gpkg").mkdir(parents=True)
        argv = ["export", "--input", str(source), "--output-dir", str(out)]
    else:
        argv = ["review", "--list", "--input", str(source)]
    return [*argv, *case.args, "--params", str(params)]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_probe_case(case: Case, tmp_path: Path, runner: CliRunner) -> None:
    argv = _argv(case, tmp_path)
    with time_limit(case.seconds):
        result = runner.invoke(cli, argv)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"traceback: {result.exception!r}"
    )
    assert "Traceback" not in result.output
    assert result.exit_code == case.exit_code, result.output
    assert case.message in result.stderr, result.stderr
    if case.exit_code:
        assert not (tmp_path / "out.csv").exists()
        assert not (tmp_path / "out" / "camps.geojson").exists()


def test_the_table_covers_the_issue(repo: Path) -> None:
    """At least one case per hostile kind the issue lists (a guard against shrinking)."""
    assert len(CASES) >= 35
    assert len({c.name for c in CASES}) == len(CASES)


# ------------------------------------------------- terminal and output files


def test_escape_codes_in_names_reach_no_terminal(tmp_path: Path, runner: CliRunner) -> None:
    """review --list, error messages and log lines show control characters inert."""
    name = "チ\x1b[2J\x1b]8;;http://x\x07タ\u202e\x9b"
    cell = '[{"id": "gn:1", "name": "Чи\\u001b[31mта", "score": 0.5}]'.replace('"', '""')
    source = tmp_path / "in.csv"
    source.write_text(
        f'record_id,katakana,decision,score,candidates\nr1,{name},review,0.5,"{cell}"\n',
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["review", "--list", "--input", str(source)])
    assert result.exit_code == 0, result.output
    assert "チ\\u001b[2J\\u001b]8;;http://x\\u0007タ\\u202e\\u009b" in result.stdout
    assert "Чи\\u001b[31mта" in result.stdout
    # a message that echoes user text: a path holding an escape
    bad = tmp_path / "x\x1b[2Jy.csv"
    result = runner.invoke(cli, ["transliterate", "--input", str(bad), "--output", "o.csv"])
    assert result.exit_code in (1, 2) and "x\\u001b[2Jy.csv" in result.stderr
    for text in (result.stdout, result.stderr):
        assert not any(c in text for c in "\x1b\x07\x9b\u202e\x00")


def test_log_lines_show_control_characters_inert(tmp_path: Path, runner: CliRunner) -> None:
    source = tmp_path / "in.csv"
    source.write_text(GEOCODED.replace("チタ", "チ\x1bタ"), encoding="utf-8")
    result = runner.invoke(
        cli, ["-v", "export", "--input", str(source), "--output-dir", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert "control characters" in result.stderr and "\x1b" not in result.stderr


def test_nul_and_controls_are_the_same_in_every_output_file(
    tmp_path: Path, runner: CliRunner
) -> None:
    """NUL cut names short in the GeoPackage and GeoJSON but not in Linked Places: now
    every file holds the same text, each control character as U+FFFD."""
    import json
    import sqlite3

    source = tmp_path / "in.csv"
    source.write_text(
        GEOCODED.replace("チタ", "チ\x00タ\x1b[0mx").replace("ハバロフスク", "ハ\x00バ"),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = runner.invoke(cli, ["export", "--input", str(source), "--output-dir", str(out)])
    assert result.exit_code == 0, result.output
    want, gone = "チ\ufffdタ\ufffd[0mx", "ハ\ufffdバ"
    with contextlib.closing(sqlite3.connect(out / "camps.gpkg")) as db:
        assert db.execute("select katakana from camps").fetchall() == [(want,)]
        assert db.execute("select katakana from unresolved").fetchall() == [(gone,)]
    geojson = json.loads((out / "camps.geojson").read_text(encoding="utf-8"))
    assert geojson["features"][0]["properties"]["katakana"] == want
    lpf = json.loads((out / "camps.lpf.json").read_text(encoding="utf-8"))
    assert lpf["features"][0]["properties"]["title"] == want
    assert gone in (out / "unresolved.csv").read_text(encoding="utf-8")


# --------------------------------------------------------------- a full disk


@pytest.mark.parametrize("command", ["reconcile", "export"])
def test_a_full_disk_is_a_message(
    command: str, tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while a stage's file is put in place: exit 1, the disk named, no traceback."""
    import pipeline.io.files as files

    def full(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    source = tmp_path / "in.csv"
    if command == "export":
        source.write_text(GEOCODED, encoding="utf-8")
        argv = ["export", "--input", str(source), "--output-dir", str(tmp_path / "out")]
    else:
        from pipeline.records import TRANSLITERATE_COLUMNS

        row = {"record_id": "r1", "katakana": "チタ", "katakana_normalized": "チタ"}
        row |= {"romaji": "Chita", "latin_candidates": "Chita", "cyrillic_candidates": "Чита"}
        columns = ["record_id", "katakana", *TRANSLITERATE_COLUMNS]
        source.write_text(
            ",".join(columns) + "\n" + ",".join(row.get(c, "") for c in columns) + "\n",
            encoding="utf-8",
        )
        tiny = Path(__file__).parent / "data" / "gazetteer_tiny"
        argv = ["reconcile", "--input", str(source), "--output", str(tmp_path / "out.csv")]
        argv += ["--gazetteer", str(tiny), "--overrides", str(tmp_path / "none.csv")]
    monkeypatch.setattr(files.os, "replace", full)
    result = runner.invoke(cli, argv)
    assert result.exit_code == 1, result.output
    assert "the disk is full (No space left on device): free some space" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not list(tmp_path.rglob(".*.tmp"))  # no temp file left behind


def test_a_real_full_disk_in_export(tmp_path: Path, runner: CliRunner) -> None:
    """The same on a real 256 KB tmpfs (root only): GDAL's own error is turned into it."""
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode:
        pytest.skip("mounting a tmpfs needs root")
    try:
        (disk / "fill").write_bytes(bytes(200_000))
        rows = "".join(f"r{i},チタ,auto,52.03171,113.50087,\n" for i in range(3, 400))
        source = tmp_path / "in.csv"
        source.write_text(GEOCODED + rows, encoding="utf-8")
        result = runner.invoke(
            cli, ["export", "--input", str(source), "--output-dir", str(disk / "out")]
        )
        assert result.exit_code == 1, result.output
        assert "the disk is full" in result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_has_control_is_the_control_pattern_for_every_character() -> None:
    """The fast test (str.isprintable first) says what the pattern says, for each
    character of the Basic Multilingual Plane and the astral ones of names."""
    from pipeline.controls import CONTROL, has_control

    for code in [*range(0x10000), 0x1F600, 0x20B9F, 0xE0001]:
        char = chr(code)
        for text in (char, f"チタ{char}Чита"):
            assert has_control(text) == (CONTROL.search(text) is not None), hex(code)
