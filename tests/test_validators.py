"""The ecosystem's own validators on the committed outputs (issue 19).

The schemas are read from ``../shared/schemas/`` (the published specifications,
kept offline); where that folder is absent a test skips and says why, and under
CI (the ``CI`` environment variable) that is a failure instead.

WHG v3 is emulated as it runs an upload (WorldHistoricalGazetteer/whg3,
``validation/tasks.py``): each feature's geometry is checked with shapely, the
feature is wrapped alone in a FeatureCollection and validated with a Draft 7
validator; on an error WHG tries its automatic fixes (an integer where a string is
due, ``when`` start/end moved into ``timespans``, a bad ``@id`` given a prefix) and
validates again, a bounded number of times; a feature still failing is rejected,
and one rejected feature blocks the whole dataset.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft7Validator, ValidationError
from shapely.geometry import shape

from pipeline.cli import cli

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO.parent / "shared" / "schemas"
OUTPUT = REPO / "output"
#: WHG's VALIDATION_MAXFIXATTEMPTS is a setting; a few rounds cover its three fixes.
MAX_FIX_ATTEMPTS = 3


def schema_file(relative: str) -> Path:
    """A published schema, or a skip (a failure under CI) when the folder is absent."""
    path = SCHEMAS / relative
    if not path.is_file():
        reason = f"{path} is absent: the shared schemas live beside the repo in ../shared/"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def _fix(collection: dict[str, Any], error: ValidationError) -> list[str]:
    """WHG's automatic fixes for one error; the descriptions of those applied."""
    path = list(error.absolute_path)
    parent: Any = collection
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1] if path else None
    value = error.instance
    fixes: list[str] = []
    if error.validator == "type" and error.validator_value == "string" and isinstance(value, int):
        parent[last] = str(value)
        fixes.append(f"integer {value} made a string")
    listed = error.validator_value if isinstance(error.validator_value, list) else []
    if error.validator == "required" and "timespans" in listed:
        when = value if isinstance(value, dict) else {}
        span = {k: when.pop(k) for k in ("start", "end") if k in when}
        if span:
            when["timespans"] = [span]
            fixes.append("start/end moved into timespans")
    refs = {r.get("$ref") for r in listed if isinstance(r, dict)}
    if isinstance(value, str) and refs & {
        "#/definitions/patterns/definitions/validURL",
        "#/definitions/patterns/definitions/namespaceTerm",
    }:
        if value == "":
            del parent[last]
            fixes.append("empty @id removed")
        else:
            parent[last] = f"anon:{value}"
            fixes.append(f"@id {value!r} prefixed with anon:")
    return fixes


def whg_upload(features: list[dict[str, Any]], schema: dict[str, Any]) -> dict[str, list]:
    """Rejected features (with the error) and the fixes WHG would have applied."""
    validator = Draft7Validator(schema)
    rejected: list[tuple[str, str]] = []
    fixes: list[tuple[str, str]] = []
    for original in features:
        feature = copy.deepcopy(original)
        fid = feature.get("@id", "-- no @id --")
        for geometry in feature["geometry"].get("geometries", [feature["geometry"]]):
            if not shape(geometry).is_valid:
                rejected.append((fid, "geometry failed validation and could not be fixed"))
        collection = {"type": "FeatureCollection", "features": [feature]}
        for _attempt in range(MAX_FIX_ATTEMPTS + 1):
            error = next(iter(validator.iter_errors(collection)), None)
            if error is None:
                break
            applied = _fix(collection, error) if _attempt < MAX_FIX_ATTEMPTS else []
            if not applied:
                rejected.append((fid, error.message[:300]))
                break
            fixes += [(fid, f) for f in applied]
    return {"rejected": rejected, "fixes": fixes}


@pytest.fixture(scope="module")
def lpf() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((OUTPUT / "camps.lpf.json").read_text("utf-8"))
    return data


def test_whg_v3_accepts_every_committed_feature(lpf: dict[str, Any]) -> None:
    schema = json.loads(schema_file("lpf/whg3_lpf_v2.0.schema.json").read_text("utf-8"))
    features = lpf["features"]
    result = whg_upload(features, schema)
    assert result["rejected"] == []
    assert result["fixes"] == []  # nothing left for WHG to repair either
    for feature in features:
        props = feature["properties"]
        assert props["fclasses"] and props["ccodes"] and feature["when"]["timespans"]
        assert all(t["identifier"].startswith("aat:3") and t["label"] for t in feature["types"])


def test_whg_v3_rejects_what_it_should(lpf: dict[str, Any]) -> None:
    # The emulation is not a rubber stamp: the faults of issue 19 are refused.
    schema = json.loads(schema_file("lpf/whg3_lpf_v2.0.schema.json").read_text("utf-8"))
    good = lpf["features"][0]
    no_country = copy.deepcopy(good)
    no_country["properties"]["ccodes"] = []
    bad_id = copy.deepcopy(good)
    bad_id["names"][0]["citations"] = [{"label": "x", "@id": "not-a-url"}]
    no_class = copy.deepcopy(good)
    del no_class["properties"]["fclasses"], no_class["types"]
    # (A feature without any ``when`` passes the v2.0 schema: its ``relations``
    # branch holds vacuously when a feature has no relations; the test above
    # checks ``when`` itself.)
    result = whg_upload([no_country, bad_id, no_class], schema)
    assert len(result["rejected"]) == 2, result
    assert result["fixes"] == [(good["@id"], "@id 'not-a-url' prefixed with anon:")]


def test_whg_v12_schema_accepts_every_committed_feature(lpf: dict[str, Any]) -> None:
    schema = json.loads(schema_file("lpf/whgazetteer_schema_lpf_v1.2.json").read_text("utf-8"))
    validator = Draft7Validator(schema)
    errors = [(f["@id"], e.message) for f in lpf["features"] for e in validator.iter_errors(f)]
    assert errors == []


def test_lpf_links_names_and_citations(lpf: dict[str, Any]) -> None:
    rows = list(csv.DictReader((OUTPUT / "stages" / "geocoded.csv").open(encoding="utf-8")))
    with_geonames = sum(r["geocode_source"].startswith("geonames:") for r in rows)
    features = lpf["features"]
    linked = [f for f in features if f.get("links")]
    assert len(linked) >= with_geonames > 0
    for feature in linked:
        (link,) = feature["links"]
        assert link["type"] == "closeMatch"
        assert re.fullmatch(r"https://www\.geonames\.org/\d+", link["identifier"])
    names = [n for f in features for n in f["names"]]
    assert {"ja-Kana", "ja-Latn", "en", "ru"} <= {n["lang"] for n in names}
    cyrillic = {n["toponym"] for n in names if n["lang"] == "ru"}
    assert {"Алма-Ата", "Ворошилов"} <= cyrillic
    voroshilov = next(n for n in names if n["toponym"] == "Ворошилов")
    assert voroshilov["when"]["timespans"] == [{"start": {"in": "1935"}, "end": {"in": "1957"}}]
    cited = [c for n in names for c in n["citations"]]
    cited += [c for f in features for g in f["geometry"]["geometries"] for c in g["citations"]]
    assert all("|" not in c.get("@id", "") for c in cited)


def _lptsv_rows() -> list[dict[str, str]]:
    text = (OUTPUT / "camps.lp.tsv").read_text("utf-8")
    assert '"' not in text  # LP-TSV: no quotes enclosing fields
    return list(csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))


def test_lptsv_passes_whg_delimited_checks(lpf: dict[str, Any]) -> None:
    # WHG's validate_delim (whgazetteer datasets/utils.py): required fields, the
    # patterns of ccodes/matches/start/end, lon/lat ranges, fclasses or aat_types.
    rows = _lptsv_rows()
    assert len(rows) == len(lpf["features"])
    aliases = "bnf|cerl|dbp|gn|gnd|gov|loc|pl|tgn|viaf|wd|wp|whg"
    patterns = {
        "ccodes": r"([a-zA-Z]{2};?)+",
        "matches": rf"https?:\/\/.*\..*|({aliases}):\d+",
        "start": r"(-?\d{1,4}(-\d{2})?(-\d{2})?)(\/(-?\d{1,4}(-\d{2})?(-\d{2})?))?",
        "end": r"(-?\d{1,4}(-\d{2})?(-\d{2})?)(\/(-?\d{1,4}(-\d{2})?(-\d{2})?))?",
    }
    lpf_aat = {t["identifier"][4:] for f in lpf["features"] for t in f["types"]}
    for row in rows:
        assert all(row[k] for k in ("id", "title", "title_source", "start")), row
        assert row["fclasses"] or row["aat_types"]
        for field, pattern in patterns.items():
            assert not row[field] or re.search(pattern, row[field]), (field, row[field])
        assert -180 <= float(row["lon"]) <= 180 and -90 <= float(row["lat"]) <= 90
        aat, types = row["aat_types"].split(";"), row["types"].split(";")
        assert len(aat) == len(types) and set(aat) <= lpf_aat
        assert all(v.rsplit("@", 1)[1] for v in row["variants"].split(";") if v)
    assert sum(bool(r["matches"]) for r in rows) == sum(
        bool(f.get("links")) for f in lpf["features"]
    )


def test_export_cli_writes_lptsv_from_the_gazetteer(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        cli,
        [
            "export",
            "--input",
            str(OUTPUT / "stages" / "geocoded.csv"),
            "--output-dir",
            str(tmp_path),
            "--gazetteer",
            str(REPO / "gazetteer" / "build"),
        ],
    )
    assert result.exit_code == 0, result.output
    fresh = (tmp_path / "camps.lp.tsv").read_text("utf-8")
    assert fresh == (OUTPUT / "camps.lp.tsv").read_text("utf-8")
    assert (tmp_path / "camps.lpf.json").read_bytes() == (OUTPUT / "camps.lpf.json").read_bytes()


def _dvc(*args: str, cwd: Path = REPO) -> str:
    import shutil
    import subprocess

    dvc = shutil.which("dvc", path=str(REPO / ".venv" / "bin")) or shutil.which("dvc")
    assert dvc, "dvc is not installed: pip install -e '.[dev]'"
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    env["PATH"] = f"{Path(dvc).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [dvc, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_dvc_metrics_show_numbers_only() -> None:
    shown = json.loads(_dvc("metrics", "show", "--json"))

    def leaves(tree: Any) -> list[Any]:
        if isinstance(tree, dict):
            return [leaf for value in tree.values() for leaf in leaves(value)]
        return [tree]

    (workspace,) = shown.values()  # the workspace, keyed "" or "workspace"
    data = workspace["data"]["output/metrics.json"]["data"]
    values = leaves(data)
    assert len(values) > 20
    assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    labels = json.loads((OUTPUT / "metrics_labels.json").read_text("utf-8"))
    assert labels["gold"] == "gold_dev.csv"


def test_dvc_plots_show_renders_the_declared_plots(tmp_path: Path) -> None:
    rendered = tmp_path / "plots"
    _dvc("plots", "show", "-o", str(rendered))
    page = (rendered / "index.html").read_text("utf-8")
    for name in ("reliability", "reliability_unseen", "score_histogram", "distance_cdf"):
        assert f"vegaEmbed('#output_plots_{name}_csv', spec)" in page
    specs = json.loads(_dvc("plots", "show", "--json"))["data"]
    assert set(specs) == {
        "output/plots/reliability.csv",
        "output/plots/reliability_unseen.csv",
        "output/plots/score_histogram.csv",
        "output/plots/distance_cdf.csv",
    }
    for name, (spec, *_) in specs.items():
        assert spec["type"] == "vega" and spec["content"]["data"]["values"], name
    histogram = specs["output/plots/score_histogram.csv"][0]["content"]["data"]["values"]
    gold = list(csv.DictReader((REPO / "raw" / "gold_dev.csv").open(encoding="utf-8")))
    # Four series (one per decision) of ten deciles; together they count every gold row.
    assert sum(int(v["dvc_inferred_y_value"]) for v in histogram) == len(gold)


def _frictionless(descriptor: Path) -> Any:
    import shutil
    import subprocess

    tool = shutil.which("frictionless", path=str(REPO / ".venv" / "bin"))
    tool = tool or shutil.which("frictionless")
    assert tool, "frictionless is not installed: pip install -e '.[dev]'"
    return subprocess.run(
        [tool, "validate", "--json", descriptor.name],
        cwd=descriptor.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_frictionless_validates_the_committed_data_package() -> None:
    descriptor = OUTPUT / "datapackage.json"
    done = _frictionless(descriptor)
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["valid"], done.stdout[:2000]
    package = json.loads(descriptor.read_text("utf-8"))
    manifest = json.loads((OUTPUT / "manifest.json").read_text("utf-8"))
    export_files = {
        f for f in manifest["files"] if not f.startswith("stages/") and f != "datapackage.json"
    }
    assert {r["path"] for r in package["resources"]} == export_files
    licenses = {item["name"] for item in package["licenses"]}
    assert {"CC-BY-4.0", "public-domain"} <= licenses
    tables = {r["path"]: r for r in package["resources"] if r["type"] == "table"}
    assert set(tables) == {"unresolved.csv", "camps.lp.tsv", "results.csv", "candidates.csv"}
    lp_fields = {f["name"]: f["type"] for f in tables["camps.lp.tsv"]["schema"]["fields"]}
    assert lp_fields["lat"] == "number" and lp_fields["start"] == "integer"
    ranked = {f["name"]: f for f in tables["candidates.csv"]["schema"]["fields"]}
    assert ranked["rank"]["type"] == "integer" and ranked["feature_population"]["type"] == "number"
    assert "population" in ranked["feature_population"]["description"]


def test_frictionless_reads_the_rows_and_catches_a_changed_file(tmp_path: Path) -> None:
    from pipeline import export

    fixture = REPO / "tests" / "data" / "geocoded_tiny.csv"
    export.run(fixture, tmp_path, export.ExportParams(preview=False))
    done = _frictionless(tmp_path / "datapackage.json")
    assert done.returncode == 0, done.stdout[:2000]
    report = json.loads(done.stdout)
    rows = {t["name"]: t["stats"]["rows"] for t in report["tasks"] if t["type"] == "table"}
    assert rows == {"camps.lp.tsv": 9, "unresolved.csv": 2, "results.csv": 11, "candidates.csv": 9}
    tsv = tmp_path / "camps.lp.tsv"
    tsv.write_text(tsv.read_text("utf-8").replace("\t1956\t", "\tlate\t", 1), "utf-8")
    broken = _frictionless(tmp_path / "datapackage.json")
    assert broken.returncode != 0
    codes = {e["type"] for t in json.loads(broken.stdout)["tasks"] for e in t["errors"]}
    assert {"type-error", "hash-count"} & codes or "byte-count" in codes, codes


def test_citation_cff_is_valid_under_the_cff_schema() -> None:
    import yaml

    schema = json.loads((REPO / "tests" / "data" / "schemas" / "cff-1.2.0.schema.json").read_text())
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text("utf-8"))
    errors = [e.message for e in Draft7Validator(schema).iter_errors(citation)]
    assert errors == []
    assert citation["cff-version"] == "1.2.0" and citation["references"]
    broken = dict(citation, authors=[])
    assert list(Draft7Validator(schema).iter_errors(broken))  # the schema is not a rubber stamp


def test_geojson_files_valid_under_the_official_schema() -> None:
    schema = json.loads(schema_file("geojson/FeatureCollection.json").read_text("utf-8"))
    validator = Draft7Validator(schema)
    files = [OUTPUT / "camps.geojson", *sorted((OUTPUT / "by_class").glob("*.geojson"))]
    assert len(files) == 6
    for path in files:
        data = json.loads(path.read_text("utf-8"))
        assert [e.message for e in validator.iter_errors(data)] == [], path.name


def test_an_absent_schema_skips_with_the_reason_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="absent: the shared schemas"):
        schema_file("lpf/no_such_schema.json")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"no_such_schema\.json is absent"):
        schema_file("lpf/no_such_schema.json")
