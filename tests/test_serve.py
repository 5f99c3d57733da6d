"""`camps serve`: the reconciliation API (0.2 and 1.0-draft), lookup, limits, concurrency.

Every test talks HTTP to a real uvicorn server on 127.0.0.1 (a free port, in a
thread; `camps serve` itself in a subprocess for the third-party client), over
the real gazetteer build, and validates each response against the published
schemas in ../shared/schemas/reconciliation-api.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_schemas import validate
from click.testing import CliRunner
from serve_client import call, call_json, raw_exchange, running

from pipeline import serve
from pipeline.cli import cli

REPO = Path(__file__).resolve().parents[1]
GAZETTEER = REPO / "gazetteer" / "build"
OVERRIDES = REPO / "gazetteer" / "overrides.csv"
PARAMS = REPO / "params.yaml"
ROWS = REPO / "output" / "stages" / "geocoded.csv"
VERSIONS = ("0.2", "1.0-draft")


def _raw_names() -> list[dict[str, str]]:
    """The real names of raw/camps.csv (with their English region) and of the gold set."""
    with (REPO / "raw" / "camps.csv").open(encoding="utf-8") as handle:
        camps = [{"katakana": r["katakana"], "region": r["region"]} for r in csv.DictReader(handle)]
    with (REPO / "raw" / "gold_dev.csv").open(encoding="utf-8") as handle:
        gold = [{"katakana": r["katakana"], "region": ""} for r in csv.DictReader(handle)]
    return camps + gold


@pytest.fixture(scope="module")
def service() -> serve.Service:
    return serve.load_service(GAZETTEER, OVERRIDES, PARAMS, ROWS)


@pytest.fixture(scope="module")
def base(service: serve.Service) -> Iterator[str]:
    with running(serve.make_app(service)) as url:
        yield url


def _batch(names: list[str], **extra: Any) -> dict[str, Any]:
    return {f"q{i}": {"query": name, **extra} for i, name in enumerate(names)}


def _reconcile(base: str, queries: dict[str, Any]) -> dict[str, Any]:
    validate("0.2", "reconciliation-query-batch", queries)
    status, got = call_json(f"{base}/reconcile", data={"queries": json.dumps(queries)})
    assert status == 200, got
    validate("0.2", "reconciliation-result-batch", got)
    # The 1.0 draft's candidate shape (features need id, name, value) holds too.
    validate(
        "1.0-draft",
        "reconciliation-result-batch",
        {"results": [{"candidates": got[k]["result"]} for k in queries]},
    )
    return got


# -- manifest, CORS, JSONP ------------------------------------------------------


def test_manifests_validate_and_name_every_service(base: str) -> None:
    status, manifest = call_json(f"{base}/reconcile")
    assert status == 200
    validate("0.2", "manifest", manifest)
    assert {t["id"] for t in manifest["defaultTypes"]} >= {"camp_place", "settlement", "station"}
    assert manifest["view"]["url"] == f"{base}/place/{{{{id}}}}"
    assert manifest["suggest"]["entity"]["service_path"] == "/suggest/entity"
    assert manifest["extend"]["propose_properties"]["service_path"] == "/properties"
    status, draft = call_json(f"{base}/v1")
    validate("1.0-draft", "manifest", draft)
    with pytest.raises(AssertionError):  # the validator does fail: 0.2's shape is not 1.0's
        validate("1.0-draft", "manifest", manifest)


def test_cors_and_jsonp(base: str) -> None:
    status, headers, body = call(f"{base}/reconcile", headers={"Origin": "http://localhost:3333"})
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    status, headers, body = call(
        f"{base}/reconcile",
        headers={"Origin": "http://x.org", "Access-Control-Request-Method": "POST"},
    )
    status, headers, body = call(f"{base}/reconcile?callback=jQuery123_45")
    text = body.decode("utf-8")
    assert headers["content-type"].startswith("application/javascript")
    assert text.startswith("/**/jQuery123_45(") and text.endswith(");")
    validate("0.2", "manifest", json.loads(text[len("/**/jQuery123_45(") : -2]))
    status, got = call_json(f"{base}/reconcile?callback=alert(1)//")
    assert status == 400 and got["status"] == "error"


def test_preflight_allows_posts_from_any_origin(base: str) -> None:
    request = urllib.request.Request(
        f"{base}/reconcile",
        method="OPTIONS",
        headers={"Origin": "http://x.org", "Access-Control-Request-Method": "POST"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert "POST" in response.headers["access-control-allow-methods"]


# -- reconciliation -------------------------------------------------------------


def test_form_json_and_get_batches_give_the_same_candidates(base: str) -> None:
    queries = _batch(["ライチハ", "チタ州カダラ", "スパスク"])
    form = _reconcile(base, queries)
    status, as_json = call_json(f"{base}/reconcile", json_body={"queries": queries})
    assert status == 200 and as_json == form
    query = urllib.parse.urlencode({"queries": json.dumps(queries)})
    status, as_get = call_json(f"{base}/reconcile?{query}")
    assert as_get == form
    best = form["q0"]["result"][0]
    assert best["id"] == "raichikhinsk" and best["match"] is True and 0 <= best["score"] <= 100
    assert "Райчиха" in best["description"] and "RU" in best["description"]
    assert {"id": "camp_place", "name": serve.TYPES["camp_place"]} in best["type"]
    # スパスク is a dozen Spassks: the stage sends it to review, so nothing is a match.
    assert not any(c["match"] for c in form["q2"]["result"])


def test_the_1_0_draft_batch(base: str) -> None:
    batch = {
        "queries": [
            {"conditions": [{"matchType": "name", "propertyValue": "ライチハ"}]},
            {
                "conditions": [
                    {"matchType": "name", "propertyValue": "カダラ"},
                    {"matchType": "property", "propertyId": "region", "propertyValue": "チタ州"},
                ],
                "limit": 2,
            },
        ]
    }
    validate("1.0-draft", "reconciliation-query-batch", batch)
    status, got = call_json(f"{base}/v1/match", json_body=batch)
    assert status == 200, got
    validate("1.0-draft", "reconciliation-result-batch", got)
    assert got["results"][0]["candidates"][0]["id"] == "raichikhinsk"
    assert len(got["results"][1]["candidates"]) <= 2


def test_properties_are_evidence_and_type_and_limit_filter(base: str) -> None:
    bare = _reconcile(base, _batch(["カダラ"]))["q0"]["result"]
    hinted = _reconcile(
        base, _batch(["カダラ"], properties=[{"pid": "region", "v": "Chita Oblast"}])
    )["q0"]["result"]
    region = {c["id"]: dict((f["id"], f["value"]) for f in c["features"])["region"] for c in hinted}
    assert region["kadala"] == 1.0 and all(
        dict((f["id"], f["value"]) for f in c["features"])["region"] == 0.0 for c in bare
    )
    by_country = _reconcile(
        base,
        _batch(["カダラ"], properties=[{"pid": "country", "v": {"id": "x", "name": "Mongolia"}}]),
    )["q0"]["result"]
    assert any(
        dict((f["id"], f["value"]) for f in c["features"])["region"] != 0.0 for c in by_country
    )
    one = _reconcile(base, _batch(["スパスク"], limit=1))["q0"]["result"]
    wide = _reconcile(base, _batch(["スパスク"], limit=12))["q0"]["result"]
    assert len(one) == 1 and len(wide) > 5 and wide[0]["id"] == one[0]["id"]
    stations = _reconcile(base, _batch(["スパスク"], type="station", limit=25))["q0"]["result"]
    assert all(any(t["id"] == "station" for t in c["type"]) for c in stations)


def test_the_service_answers_what_the_stage_writes_byte_for_byte(
    base: str, tmp_path: Path, runner: CliRunner
) -> None:
    names = _raw_names()
    raw = tmp_path / "raw.csv"
    with raw.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["record_id", "katakana", "region"])
        writer.writeheader()
        writer.writerows({"record_id": f"r{i}", **n} for i, n in enumerate(names))
    common = ["--params", str(PARAMS)]
    done = runner.invoke(
        cli, ["transliterate", "--input", str(raw), "--output", str(tmp_path / "t.csv"), *common]
    )
    assert done.exit_code == 0, done.stderr
    done = runner.invoke(
        cli,
        [
            *("reconcile", "--input", str(tmp_path / "t.csv"), "--output", str(tmp_path / "r.csv")),
            *("--gazetteer", str(GAZETTEER), "--overrides", str(OVERRIDES), *common),
        ],
    )
    assert done.exit_code == 0, done.stderr
    with (tmp_path / "r.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    asks = [{"name": n["katakana"], "region": n["region"]} for n in names]
    status, looked = call_json(f"{base}/lookup", json_body={"names": asks})
    assert status == 200, looked
    cells = ("place_id", "place_name", "score", "decision", "candidates")
    for row, result in zip(rows, looked["results"], strict=True):
        assert {c: row[c] for c in cells} == result["columns"], row["katakana"]
    # The API's candidates are the stage's (score on 0-100), and match only where auto.
    queries = {
        f"q{i}": {"query": n["katakana"], "properties": [{"pid": "region", "v": n["region"]}]}
        for i, n in enumerate(names)
    }
    answered: dict[str, Any] = {}
    keys = list(queries)
    for start in range(0, len(keys), 50):
        answered |= _reconcile(base, {k: queries[k] for k in keys[start : start + 50]})
    for key, row in zip(keys, rows, strict=True):
        stage = json.loads(row["candidates"])
        api = answered[key]["result"]
        assert [c["id"] for c in api] == [c["id"] for c in stage]
        # the same values; the API names each feature too (the 1.0 draft), the file not
        assert [[(f["id"], f["value"]) for f in c["features"]] for c in api] == [
            [(f["id"], f["value"]) for f in c["features"]] for c in stage
        ]
        assert all(f["name"] for c in api for f in c["features"])
        assert not any("name" in f for c in stage for f in c["features"])
        assert [c["score"] for c in api] == [round(c["score"] * 100, 2) for c in stage]
        assert [c["match"] for c in api] == [c["match"] for c in stage]
        assert any(c["match"] for c in api) == (row["decision"] in ("auto", "override"))
    assert {r["decision"] for r in rows} >= {"auto", "review"}


def test_lookup_by_get_gives_places_and_readings(base: str) -> None:
    query = urllib.parse.urlencode([("name", "ライチハ"), ("name", "チタ州カダラ")])
    status, got = call_json(f"{base}/lookup?{query}")
    assert status == 200
    first, second = got["results"]
    assert first["decision"] == "auto" and first["place_id"] == "raichikhinsk"
    assert first["candidates"][0]["lat"] and first["candidates"][0]["country"] == "RU"
    assert "Райчиха" in first["cyrillic_candidates"] and first["romaji"]
    assert second["region_hint"] == "チタ" and second["candidates"][0]["region_1945"]


# -- extension, suggest, preview, places -----------------------------------------


def test_extension_proposes_and_extends(base: str, service: serve.Service) -> None:
    status, proposed = call_json(f"{base}/properties?type=camp_place")
    validate("0.2", "data-extension-property-proposal", proposed)
    status, proposed_10 = call_json(f"{base}/v1/extend/propose?type=settlement&limit=3")
    validate("1.0-draft", "data-extension-property-proposal", proposed_10)
    assert len(proposed_10["properties"]) == 3
    ids = ["khabarovsk", "raichikhinsk", "no-such-place"]
    query = {"ids": ids, "properties": [{"id": p} for p in serve.PROPERTIES]}
    validate("0.2", "data-extension-query", query)
    status, got = call_json(f"{base}/reconcile", data={"extend": json.dumps(query)})
    assert status == 200, got
    validate("0.2", "data-extension-response", got)
    place = service.entities.places["khabarovsk"]
    row = got["rows"]["khabarovsk"]
    assert row["lat"] == [{"float": place.lat}] and row["name_cyrillic"] == [{"str": "Хабаровск"}]
    assert row["certainty"] == [{"str": "certain"}] and row["geonames_id"][0]["str"]
    assert all(v == [] for v in got["rows"]["no-such-place"].values())
    status, got_10 = call_json(f"{base}/v1/extend", json_body=query)
    validate("1.0-draft", "data-extension-response", got_10)
    assert [r["id"] for r in got_10["rows"]] == ids


def test_symbol_classes_come_from_decided_published_rows() -> None:
    rows = [
        {"place_id": "a", "symbol_class": "small", "decision": "auto"},
        {"place_id": "a", "symbol_class": "unknown", "decision": "auto"},
        {"place_id": "b", "symbol_class": "over_10000", "decision": "review"},
    ]
    assert serve.symbol_classes_of(rows) == {"a": ["small"]}


@pytest.mark.parametrize("prefix", ["ハバロ", "habaro", "Хабар", "khabar"])
def test_suggest_in_katakana_romaji_and_cyrillic(base: str, prefix: str) -> None:
    for path, version in (("/suggest/entity", "0.2"), ("/v1/suggest/entity", "1.0-draft")):
        query = urllib.parse.urlencode({"prefix": prefix})
        status, got = call_json(f"{base}{path}?{query}")
        assert status == 200
        validate(version, "suggest-entities-response", got)
        assert "khabarovsk" in [r["id"] for r in got["result"]], got


def test_preview_and_place_resolve_every_id(base: str) -> None:
    status, headers, body = call(f"{base}/preview?id=khabarovsk")
    html = body.decode("utf-8")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "Khabarovsk" in html and "Хабаровск" in html and "48.4620" in html
    status, place = call_json(f"{base}/place/khabarovsk")
    assert place["id"] == "khabarovsk" and place["country"] == "RU" and place["lat"]
    status, headers, body = call(f"{base}/place/gn:500047?format=lpf")
    lpf = json.loads(body)
    assert headers["content-type"].startswith("application/ld+json")
    feature = lpf["features"][0]
    assert feature["@id"].endswith("/place/gn:500047") and feature["properties"]["ccodes"]
    assert feature["geometry"]["geometries"][0]["coordinates"][1] == pytest.approx(53.70588)
    _validate_lpf(lpf)
    status, missing = call_json(f"{base}/place/nowhere")
    assert status == 404 and missing["status"] == "error"


def _validate_lpf(lpf: dict[str, Any]) -> None:
    from api_schemas import SCHEMAS
    from jsonschema import Draft7Validator

    path = SCHEMAS.parent / "lpf" / "whgazetteer_schema_lpf_v1.2.json"
    if not path.exists():
        return
    schema = json.loads(path.read_text("utf-8"))
    errors = list(Draft7Validator(schema).iter_errors(lpf["features"][0]))
    assert not errors, [e.message[:200] for e in errors[:3]]


# -- bad input and limits --------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"queries": "{not json"}, 400, "not valid JSON"),
        ({"queries": '["ライチハ"]'}, 400, "JSON object"),
        ({"queries": '"ライチハ"'}, 400, "JSON object"),
        ({"queries": json.dumps({"q0": "ライチハ"})}, 400, "object with 'query'"),
        ({"queries": json.dumps(_batch([""]))}, 400, "empty"),
        ({"queries": json.dumps(_batch(["  "]))}, 400, "empty"),
        ({"queries": json.dumps(_batch(["★・！"]))}, 400, "no letters"),
        ({"queries": json.dumps(_batch(["ア" * 5000]))}, 400, "characters"),
        ({"queries": json.dumps({"q0": {"query": 7}})}, 400, "must be a string"),
        (
            {"queries": json.dumps(_batch(["カダラ"], properties=[{"pid": "P31", "v": "x"}]))},
            400,
            "unknown property",
        ),
        ({"queries": json.dumps(_batch(["カダラ"], type="castle"))}, 400, "unknown type"),
        ({"queries": json.dumps(_batch(["カダラ"], limit=0))}, 400, "limit"),
        ({"queries": json.dumps(_batch(["カダラ"], limit="all"))}, 400, "limit"),
        ({"queries": json.dumps(_batch(["カダラ"] * 10_000))}, 413, "queries"),
        ({"extend": json.dumps({"ids": ["a"], "properties": [{"id": "x"}]})}, 400, "unknown"),
        ({"extend": "[]"}, 400, "extend"),
    ],
)
def test_bad_input_gets_its_4xx_and_the_service_goes_on(
    base: str, fields: dict[str, str], status: int, says: str
) -> None:
    got_status, got = call_json(f"{base}/reconcile", data=fields)
    assert got_status == status and got["status"] == "error" and says in got["message"], got
    assert _reconcile(base, _batch(["ライチハ"]))["q0"]["result"][0]["id"] == "raichikhinsk"


def test_malformed_json_bodies_and_unknown_paths(base: str) -> None:
    port = int(base.rsplit(":", 1)[1])
    body = b'{"queries": {"q0": '
    head = (
        b"POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    answer = raw_exchange(port, head, [body])
    assert answer.startswith(b"HTTP/1.1 400") and b"not valid JSON" in answer
    status, got = call_json(
        f"{base}/lookup", json_body={"names": ["ライチハ", {"name": "x", "p": 1}]}
    )
    assert status == 400 and "unknown field" in got["message"]
    status, got = call_json(f"{base}/nowhere")
    assert status == 404 and got["status"] == "error"
    status, got = call_json(f"{base}/v1/match")
    assert status == 405 and got["status"] == "error"
    status, got = call_json(f"{base}/suggest/entity?prefix=a&limit=many")
    assert status == 400 and "limit" in got["message"]


def test_a_20_mb_body_is_refused_before_it_is_read(base: str) -> None:
    port = int(base.rsplit(":", 1)[1])
    size = 20 * 1024 * 1024
    head = (
        b"POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
        + f"\r\nContent-Length: {size}\r\n\r\n".encode()
    )
    started = time.monotonic()
    answer = raw_exchange(port, head, [b"queries=" + b"a" * (1024 * 1024)] * 20)
    assert answer.startswith(b"HTTP/1.1 413") and b"over 1,000,000" in answer
    assert time.monotonic() - started < 20
    # Without a Content-Length (chunked), the count while reading stops it too.
    head = (
        b"POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    part = b"a" * 500_000
    chunk = f"{len(part):x}\r\n".encode() + part + b"\r\n"
    answer = raw_exchange(port, head, [chunk] * 4 + [b"0\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 413")
    assert _reconcile(base, _batch(["ライチハ"]))["q0"]["result"]


@contextlib.contextmanager
def _limited(service: serve.Service, **limits: Any) -> Iterator[str]:
    tight = dataclasses.replace(service.limits, **limits)
    other = serve.Service(
        service.index,
        service.overrides,
        service.model,
        service.transliterate_params,
        service.reconcile_params,
        service.entities,
        tight,
    )
    with running(serve.make_app(other)) as url:
        yield url


def test_a_slow_client_gets_408_and_others_are_answered_meanwhile(
    service: serve.Service,
) -> None:
    with _limited(service, read_timeout_s=1.5) as url:
        port = int(url.rsplit(":", 1)[1])
        head = (
            b"POST /reconcile HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
        )
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            slow = pool.submit(raw_exchange, port, head, [b"queries="] * 3, 1.0)
            time.sleep(0.3)
            status, got = call_json(
                f"{url}/reconcile", data={"queries": json.dumps(_batch(["ライチハ"]))}
            )
            assert status == 200 and got["q0"]["result"]
            answer = slow.result(timeout=20)
        assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive" in answer


def test_time_and_batch_limits(service: serve.Service) -> None:
    names = [n["katakana"] for n in _raw_names()[:40]]
    with _limited(service, time_limit_s=0.001, max_queries=30, cache_size=1) as url:
        status, got = call_json(f"{url}/reconcile", data={"queries": json.dumps(_batch(names))})
        assert status == 413 and "over 30" in got["message"]
        status, got = call_json(
            f"{url}/reconcile", data={"queries": json.dumps(_batch(names[:30]))}
        )
        assert status == 408 and "fewer queries" in got["message"]
        status, got = call_json(f"{url}/reconcile")
        assert status == 200 and got["name"]


# -- concurrency ------------------------------------------------------------------


def test_many_clients_at_once_get_the_answers_of_one_by_one(base: str) -> None:
    names = [n["katakana"] for n in _raw_names()[:80]]
    batches = [_batch(names[i : i + 10]) for i in range(0, len(names), 10)]
    alone = [_reconcile(base, b) for b in batches]

    def ask(batch: dict[str, Any]) -> dict[str, Any]:
        status, got = call_json(f"{base}/reconcile", data={"queries": json.dumps(batch)})
        assert status == 200
        return got

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        together = list(pool.map(ask, batches * 3, timeout=120))
    assert together == alone * 3


# -- the command and a third-party client ----------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# reconciler 0.2.2 calls DataFrame.drop(inplace=True), which pandas 3.1 deprecates.
@pytest.mark.filterwarnings("ignore::DeprecationWarning:reconciler")
@pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")
def test_camps_serve_with_the_reconciler_client(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    reconciler = pytest.importorskip("reconciler")
    port = _free_port()
    command = [sys.executable, "-m", "pipeline", "serve", "--port", str(port), "--workers", "2"]
    command += ["--gazetteer", str(GAZETTEER), "--params", str(PARAMS)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    workers: list[Path] = []
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                call_json(f"http://127.0.0.1:{port}/reconcile", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "camps serve did not answer within 120 s"
                time.sleep(0.2)
        with (REPO / "raw" / "camps.csv").open(encoding="utf-8") as handle:
            names = [r["katakana"] for r in csv.DictReader(handle)]
        column = pd.Series(names, name="katakana")
        assert column.nunique() == len(names) >= 100
        found = reconciler.reconcile(
            column, top_res=1, reconciliation_endpoint=f"http://127.0.0.1:{port}/reconcile"
        )
        assert len(found) == len(names) and set(found["input_value"]) == set(names)
        best = dict(zip(found["input_value"], found["id"], strict=True))
        assert best["ウラジオストク"] == "vladivostok"
        # `match` exactly where the service itself (the stage's rule) says so, name by name
        asked = {f"q{n}": {"query": name} for n, name in enumerate(names)}
        status, direct = call_json(
            f"http://127.0.0.1:{port}/reconcile", data={"queries": json.dumps(asked)}
        )
        assert status == 200
        matched = {
            names[int(key[1:])]
            for key, answer in direct.items()
            if answer["result"] and answer["result"][0]["match"]
        }
        assert set(found.loc[found["match"], "input_value"]) == matched and len(matched) >= 60
        assert set(found["type_id"]) <= set(serve.TYPES)
        workers = [p for p in Path("/proc").iterdir() if _parent_of(p) == process.pid]
        assert len(workers) == 1  # --workers 2: this process and one forked worker
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode is not None
    time.sleep(0.5)
    assert not [w for w in workers if w.exists()], "a forked worker outlived camps serve"


def _parent_of(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_serve_binds_to_localhost_by_default(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "127.0.0.1" in result.stdout
    result = runner.invoke(cli, ["serve", "--port", "70000"])
    assert result.exit_code == 2 and "70000" in result.stderr


def test_the_serve_benchmark_measures_a_running_server(base: str) -> None:
    from pipeline.serve import bench

    names = bench.bench_names(GAZETTEER, 60)
    assert len(set(names)) == 60
    port = int(base.rsplit(":", 1)[1])
    report = bench.measure(port, names, clients=3, deadline_s=30, pid=os.getpid())
    assert report["latency_new_names"]["batches"] == 3
    assert report["latency_new_names"]["p95_ms"] >= report["latency_new_names"]["p50_ms"] > 0
    assert report["throughput_repeated"]["queries"] == 30
    assert report["throughput_new_names"]["queries_per_second"] > 0
    assert report["latency_repeated"]["server_cpu_ms_per_query"] >= 0
