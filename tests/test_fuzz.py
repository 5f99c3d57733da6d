"""A Hypothesis fuzz suite over input files, stage files and params (issue 21).

Random columns, cells, quotes, encodings and JSON shapes go through the CLI as a
user runs it (click's CliRunner, in a scratch folder), and whatever comes in:

* the exit code is 0, 1 or 2 and no exception escapes (no traceback);
* an accepted run keeps every row: rows in = rows out (the transliterate
  output; the export's ``camps`` + ``unresolved`` layers);
* nothing is written outside the output folder.

Budgets keep the suite under a minute (``max_examples`` per test, no deadline
per example: the first transliterate builds the model once per process). Under
CI (``CI`` set) the examples are derandomized, so a run is repeatable.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pipeline.cli import cli

CI = bool(os.environ.get("CI"))
FUZZ = settings(
    deadline=None,
    derandomize=CI,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

# ------------------------------------------------------------------ strategies

#: Characters that break naive CSV and terminals, beside katakana and Cyrillic.
TRICKY = ",\"\n\r\t\x00\x1b\u202e\ufeff'=+-@;|[]{} "
cells = st.text(
    alphabet=st.sampled_from(list("チタハバロフスクライヤーッ") + list("Читаab1") + list(TRICKY)),
    max_size=12,
) | st.sampled_from(["", '=HYPERLINK("x")', "1e20", "-2+3", "NaN", "　", "\ufeff\ufeff"])
column_names = st.sampled_from(
    [
        "notes",
        "region",
        "source",
        "detainees",
        "symbol_class",
        "map_no",
        "Notes",
        "lat",
        "fid",
        "",
        "katakana ",
        "ｋａｔａｋａｎａ",
        "=cmd",
        "record_id",
        "x\x00y",
        "a,b",
        '"q"',
    ]
) | st.text(alphabet="abcxyz_", min_size=1, max_size=6)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp932", "euc_jp", "latin-1"]


@st.composite
def raw_files(draw: st.DrawFn) -> tuple[bytes, str | None, str]:
    """A raw register: bytes, the --encoding passed (or None) and how to read it back."""
    hostile = draw(st.booleans())  # half the files are well formed, with odd text
    names = column_names if hostile else st.sampled_from(["notes", "region", "source", "map_no"])
    extra = draw(st.lists(names, max_size=4, unique=not hostile))
    header = ["katakana", *extra] if draw(st.booleans()) else [*extra, "katakana"]
    if hostile and draw(st.integers(0, 4)) == 0:
        header = draw(st.lists(column_names, min_size=1, max_size=4))  # maybe no katakana
    width = st.integers(len(header), len(header) + int(hostile))
    rows = draw(
        st.lists(
            width.flatmap(lambda n: st.lists(cells, min_size=n, max_size=n)),
            min_size=int(not hostile),
            max_size=6,
        )
    )
    buffer = io.StringIO()
    if not hostile or draw(st.booleans()):
        csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows(
            [header, *rows]
        )
    else:  # naive joining: stray quotes, ragged rows, embedded separators
        buffer.write("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    text = buffer.getvalue()
    encoding = draw(st.sampled_from(ENCODINGS if hostile else ENCODINGS[:3]))
    data = text.encode(encoding, errors="replace")
    passed = draw(st.sampled_from([None, encoding]))
    return data, passed, encoding


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "name", "score", "x"]), inner, max_size=4)
    ),
    max_leaves=8,
)
candidate_cells = (
    json_values.map(lambda v: json.dumps(v, allow_nan=True))
    | st.sampled_from(["[" * 5000 + "]" * 5000, "[", "{}", "[{}]", ""])
    | st.lists(
        st.fixed_dictionaries({"id": st.text(max_size=5), "name": cells, "score": st.floats(0, 1)}),
        max_size=3,
    ).map(json.dumps)
)
numbers = st.sampled_from(["", "52.03", "-168.5", "200", "nan", "inf", "1e20", "x", "-0"]) | (
    st.floats(allow_nan=True, allow_infinity=True).map(repr)
)


@st.composite
def geocoded_files(draw: st.DrawFn) -> bytes:
    """A geocode-stage file with random values where the export checks them."""
    columns = [
        "record_id",
        "katakana",
        "decision",
        "lat",
        "lon",
        "score",
        "candidates",
        "detainees",
        "symbol_class",
        "certainty",
        "uncertainty_km",
    ]
    hostile = draw(st.booleans())  # half the files keep the contract, with odd text
    columns += draw(
        st.lists(column_names if hostile else st.just("notes"), max_size=2, unique=True)
    )
    n = draw(st.integers(1, 5))
    point = st.sampled_from([("52.03171", "113.50087"), ("48.48", "135.07"), ("", "")])
    clean = {
        "id": st.sampled_from([f"r{i}" for i in range(n)]),
        "decision": st.sampled_from(["auto", "review", "override", "unresolved"]),
        "number": st.sampled_from(["", "0.5", "1", "12.5"]),
        "candidates": st.sampled_from(["", "[]", '[{"id": "gn:1", "name": "Чита", "score": 0.9}]']),
        "detainees": st.sampled_from(["", "100", "40,000"]),
        "class": st.sampled_from(["", "small", "over_20000"]),
        "certainty": st.sampled_from(["", "certain", "less-certain"]),
    }
    rows = []
    for i in range(n):
        lat, lon = draw(point)
        if hostile:
            rid = draw(st.sampled_from([f"r{i}", f"r{i}", "", " r0 ", f"r{i}\x00"]))
            decision = draw(
                st.sampled_from(["auto", "review", "override", "unresolved", "", "AUTO"])
            )
            lat, lon = draw(st.sampled_from([lat, draw(numbers)])), draw(numbers)
            score, candidates = draw(numbers), draw(candidate_cells)
            detainees = draw(st.sampled_from(["", "100", "40,000", "1e20", "-1", "x"]))
            klass = draw(st.sampled_from(["", "small", "over_20000", "huge"]))
            certainty = draw(st.sampled_from(["", "certain", "less-certain", "maybe"]))
            radius = draw(numbers)
        else:
            rid, decision = f"r{i}", draw(clean["decision"])
            score, candidates = draw(clean["number"]), draw(clean["candidates"])
            detainees, klass = draw(clean["detainees"]), draw(clean["class"])
            certainty, radius = draw(clean["certainty"]), draw(clean["number"])
        rows.append(
            [
                rid,
                draw(cells),
                decision,
                lat,
                lon,
                score,
                candidates,
                detainees,
                klass,
                certainty,
                radius,
            ]
            + [draw(cells) for _ in columns[11:]]
        )
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([columns, *rows])
    return buffer.getvalue().encode("utf-8")


yaml_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.sampled_from([0, -1, 10**30, 2**63])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
PARAM_KEYS = {
    "transliterate": ["top_k", "beam", "lm_weight", "workers", "nonsense"],
    "geocode": ["provider", "timeout", "backoff_seconds", "max_wait_seconds", "domain"],
    "gazetteer": ["countries", "foreign_min_population"],
    "reconcle": ["auto_threshold"],
}


@st.composite
def params_files(draw: st.DrawFn) -> str:
    data: Any = {}
    for section in draw(st.lists(st.sampled_from(sorted(PARAM_KEYS)), max_size=3, unique=True)):
        keys = draw(st.lists(st.sampled_from(PARAM_KEYS[section]), max_size=3, unique=True))
        data[section] = {key: draw(yaml_values) for key in keys}
    if draw(st.integers(0, 5)) == 0:
        data = draw(yaml_values)  # not even a mapping of sections
    text = yaml.safe_dump(data, allow_unicode=True)
    if draw(st.integers(0, 5)) == 0:  # a hand edit gone wrong
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(["\t", ": :", "&a *a", "[", "\x00"])) + text[cut:]
    return text


# ------------------------------------------------------------------ checks


def _records(data: bytes, encoding: str) -> int:
    """Rows of the file as Python's csv module reads it (blank records are not rows)."""
    text = data.decode(encoding, errors="replace")
    return sum(
        1
        for cells in list(csv.reader(io.StringIO(text, newline="")))[1:]
        if any(c.strip() for c in cells)
    )


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _check(result: Result, before: set[str], root: Path, out: str) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    event(f"exit {result.exit_code}")
    if result.exit_code:  # which refusal: `pytest --hypothesis-show-statistics` lists them
        event(result.stderr.split(": ", 2)[-1][:50])
    stray = {f for f in _files(root) - before if not (f == out or f.startswith(out + "/"))}
    assert not stray, f"written outside the output folder: {stray}"


def _scratch(runner: CliRunner, tmp_path: Path, tag: str) -> Path:
    root = Path(tmp_path) / tag
    root.mkdir(parents=True, exist_ok=True)
    for child in root.iterdir():
        if child.is_dir():
            import shutil

            shutil.rmtree(child)
        else:
            child.unlink()
    return root


# ------------------------------------------------------------------ the fuzz


@settings(FUZZ, max_examples=40)
@given(case=raw_files())
def test_fuzz_raw_input_files(case: tuple[bytes, str | None, str], tmp_path_factory: Any) -> None:
    data, passed, _encoding = case
    root = _scratch(CliRunner(), tmp_path_factory.getbasetemp(), "raw")
    (root / "in.csv").write_bytes(data)
    before = _files(root)
    argv = ["transliterate", "--input", str(root / "in.csv"), "--output", str(root / "out/t.csv")]
    if passed:
        argv += ["--encoding", passed]
    result = CliRunner().invoke(cli, argv)
    _check(result, before, root, "out")
    if result.exit_code == 0:
        out = (root / "out" / "t.csv").read_text(encoding="utf-8-sig")
        rows_out = sum(1 for _ in csv.DictReader(io.StringIO(out)))
        reading = passed or (
            "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
        )
        assert rows_out == _records(data, reading), out


@settings(FUZZ, max_examples=15)
@given(data=geocoded_files())
def test_fuzz_stage_files_through_export(data: bytes, tmp_path_factory: Any) -> None:
    root = _scratch(CliRunner(), tmp_path_factory.getbasetemp(), "export")
    (root / "in.csv").write_bytes(data)
    (root / "params.yaml").write_text("export:\n  preview: false\n", encoding="utf-8")
    before = _files(root)
    result = CliRunner().invoke(
        cli,
        [
            "export",
            "--input",
            str(root / "in.csv"),
            "--output-dir",
            str(root / "out"),
            "--params",
            str(root / "params.yaml"),
        ],
    )
    _check(result, before, root, "out")
    if result.exit_code == 0:
        camps = json.loads((root / "out" / "camps.geojson").read_text(encoding="utf-8"))
        unresolved = (root / "out" / "unresolved.csv").read_text(encoding="utf-8-sig")
        rows_out = len(camps["features"]) + sum(1 for _ in csv.DictReader(io.StringIO(unresolved)))
        assert rows_out == _records(data, "utf-8")


@settings(FUZZ, max_examples=25)
@given(data=geocoded_files())
def test_fuzz_stage_files_through_review_list(data: bytes, tmp_path_factory: Any) -> None:
    root = _scratch(CliRunner(), tmp_path_factory.getbasetemp(), "review")
    (root / "in.csv").write_bytes(data)
    before = _files(root)
    result = CliRunner().invoke(cli, ["review", "--list", "--input", str(root / "in.csv")])
    _check(result, before, root, "out")
    assert "\x1b" not in result.output and "\x00" not in result.output


@settings(FUZZ, max_examples=30)
@given(text=params_files())
def test_fuzz_params(text: str, tmp_path_factory: Any) -> None:
    root = _scratch(CliRunner(), tmp_path_factory.getbasetemp(), "params")
    (root / "in.csv").write_text("record_id,katakana\nr1,チタ\nr2,ハバロフスク\n", encoding="utf-8")
    (root / "params.yaml").write_text(text, encoding="utf-8")
    before = _files(root)
    result = CliRunner().invoke(
        cli,
        [
            "transliterate",
            "--input",
            str(root / "in.csv"),
            "--output",
            str(root / "out/t.csv"),
            "--params",
            str(root / "params.yaml"),
        ],
    )
    _check(result, before, root, "out")
    if result.exit_code == 0:
        out = (root / "out" / "t.csv").read_text(encoding="utf-8-sig")
        assert sum(1 for _ in csv.DictReader(io.StringIO(out))) == 2
