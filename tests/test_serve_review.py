"""``camps serve --review``: the review queue and decisions over HTTP, on the real data.

The queue is the one of the committed ``output/stages/reconciled.csv``; every
decision goes to an overrides file in the test's folder, through the real
uvicorn server of ``tests/serve_client.py``.
"""

from __future__ import annotations

import concurrent.futures
import csv
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from serve_client import call, call_json, running

from pipeline import overrides as ov
from pipeline import serve
from pipeline.cli import cli

REPO = Path(__file__).resolve().parents[1]
GAZETTEER = REPO / "gazetteer" / "build"
OVERRIDES = REPO / "gazetteer" / "overrides.csv"
PARAMS = REPO / "params.yaml"
ROWS = REPO / "output" / "stages" / "geocoded.csv"
RECONCILED = REPO / "output" / "stages" / "reconciled.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def service() -> serve.Service:
    return serve.load_service(GAZETTEER, OVERRIDES, PARAMS, ROWS)


@pytest.fixture
def decisions(tmp_path: Path) -> Path:
    return tmp_path / "overrides.csv"


@pytest.fixture
def base(service: serve.Service, decisions: Path) -> Iterator[str]:
    """As `camps serve --review --overrides FILE`: the service answers with FILE's decisions."""
    files = serve.ReviewFiles(RECONCILED, GAZETTEER, decisions)
    loaded = service.overrides
    service.use_overrides(ov.read(decisions))
    try:
        with running(serve.make_app(service, review=files)) as url:
            yield url
    finally:
        service.use_overrides(loaded)


def decide(base: str, body: Any) -> tuple[int, Any]:
    return call_json(base + "/review/decide", json_body=body)


def test_queue_groups_names_with_counts_candidates_and_reasons(base: str) -> None:
    status, found = call_json(base + "/review/queue")
    assert status == 200
    wanted = {r["katakana"] for r in read_rows(RECONCILED) if r["decision"] == "review"}
    assert {q["katakana"] for q in found["queue"]} == wanted
    assert found["names"] == len(found["queue"]) and found["rows"] >= found["names"]
    for item in found["queue"]:
        assert item["rows"] == len(item["record_ids"]) >= 1
        assert item["reason"]
        for c in item["candidates"]:
            assert c["place_id"] and isinstance(c["score"], float)
    points = [c for q in found["queue"] for c in q["candidates"] if c["lat"] is not None]
    assert points and all(-90 <= c["lat"] <= 90 and -180 <= c["lon"] <= 180 for c in points)


def test_accept_reject_and_place_land_in_the_overrides_file(base: str, decisions: Path) -> None:
    queue = call_json(base + "/review/queue")[1]["queue"]
    first, second, third = queue[0], queue[1], queue[2]
    best = first["candidates"][0]["place_id"]
    status, done = decide(
        base,
        {
            "name": first["katakana"],
            "action": "accept",
            "place_id": best,
            "who": "Sato",
            "why": "the register's camp number",
        },
    )
    assert status == 200, done
    assert decide(base, {"name": second["katakana"], "action": "reject", "who": "Sato"})[0] == 200
    status, done = decide(
        base, {"name": third["katakana"], "action": "place", "lat": 51.5, "lon": 113.25}
    )
    assert status == 200, done
    found = {o.katakana: o for o in ov.read(decisions)}
    accepted, rejected, placed = (found[q["katakana"]] for q in (first, second, third))
    assert accepted.accept and accepted.place_id == best and accepted.note.startswith("the reg")
    assert dict(accepted.cells)["reviewer"] == "Sato" and "T" in accepted.created
    assert not rejected.accept and rejected.place_id == ""
    assert placed.accept and (placed.lat, placed.lon) == (51.5, 113.25) and placed.place_id == ""
    assert dict(placed.cells)["reviewer"]  # the user running the service, when none is given
    after = call_json(base + "/review/queue")[1]["queue"]
    assert len(after) == len(queue) - 3
    assert {first["katakana"], second["katakana"], third["katakana"]}.isdisjoint(
        q["katakana"] for q in after
    )


def test_the_service_answers_with_a_decision_once_recorded(base: str) -> None:
    item = next(
        q for q in call_json(base + "/review/queue")[1]["queue"] if len(q["candidates"]) > 1
    )
    other = item["candidates"][1]["place_id"]
    name = urllib.parse.quote(item["katakana"])
    before = call_json(base + f"/lookup?name={name}")[1]["results"][0]
    assert before["decision"] != "override" and before["place_id"] != other
    body = {"name": item["katakana"], "action": "accept", "place_id": other}
    assert decide(base, body)[0] == 200
    after = call_json(base + f"/lookup?name={name}")[1]["results"][0]
    assert (after["decision"], after["place_id"]) == ("override", other)


def test_concurrent_decisions_lose_none(base: str, decisions: Path) -> None:
    queue = call_json(base + "/review/queue")[1]["queue"]
    with_candidates = [q for q in queue if q["candidates"]][:8]

    def one(item: dict[str, Any]) -> int:
        body = {
            "name": item["katakana"],
            "action": "accept",
            "place_id": item["candidates"][0]["place_id"],
        }
        return decide(base, body)[0]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, with_candidates))
    assert statuses == [200] * len(with_candidates)
    written = {o.katakana for o in ov.read(decisions)}
    assert written == {q["katakana"] for q in with_candidates}


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ([1, 2], 400, "JSON object"),
        ({"name": "x"}, 400, "action"),
        ({"name": "", "action": "reject"}, 400, "name"),
        ({"name": "ラーダ", "action": "accept"}, 400, "place_id"),
        ({"name": "ラーダ", "action": "accept", "place_id": "gn:none"}, 400, "not a place id"),
        ({"name": "ラーダ", "action": "place", "lat": 95, "lon": 10}, 400, "lat"),
        ({"name": "ラーダ", "action": "place", "lat": "nan", "lon": 10}, 400, "lat"),
        ({"name": "ラーダ", "action": "place", "lat": 50}, 400, "lon"),
        ({"name": "ラーダ", "action": "reject", "lat": 50, "lon": 1}, 400, "place only"),
        ({"name": "ラーダ", "action": "delete"}, 400, "action"),
        ({"name": "ラーダ", "action": "reject", "evil": 1}, 400, "unknown field"),
        ({"name": "ハバロフスク州", "action": "reject"}, 400, "not in the review queue"),
        ({"name": "ラーダ", "action": "reject", "why": "x" * 600}, 400, "why"),
    ],
)
def test_bad_bodies_get_4xx_json_and_write_nothing(
    base: str, decisions: Path, body: Any, status: int, says: str
) -> None:
    got, answer = decide(base, body)
    assert got == status and answer["status"] == "error" and says in answer["message"], answer
    assert not decisions.exists()


def test_bad_transport_is_refused(base: str, decisions: Path) -> None:
    got, _, body = call(base + "/review/decide", data={"name": "ラーダ", "action": "reject"})
    assert got == 415 and b"application/json" in body
    got, _, body = call(
        base + "/review/decide",
        json_body={"name": "ラーダ", "action": "reject"},
        headers={"Origin": "http://evil.example"},
    )
    assert got == 403 and b"own page" in body
    got, _, body = call(base + "/review/decide", json_body=None, headers={})
    assert got == 405
    assert not decisions.exists()


def test_without_review_the_endpoints_refuse(service: serve.Service, tmp_path: Path) -> None:
    with running(serve.make_app(service)) as url:
        status, answer = call_json(url + "/review/queue")
        assert status == 403 and "read-only" in answer["message"]
        status, answer = decide(url, {"name": "ラーダ", "action": "reject"})
        assert status == 403 and "--review" in answer["message"]


def test_review_refuses_another_host(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--review", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 2
    assert "127.0.0.1 only" in result.output + result.stderr


def test_camps_serve_review_in_a_subprocess_writes_decisions(tmp_path: Path) -> None:
    """The command a user runs: `camps serve --review --input ... --overrides FILE`."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    decisions = tmp_path / "mine.csv"
    command = [sys.executable, "-m", "pipeline", "serve", "--review", "--port", str(port)]
    command += ["--input", str(RECONCILED), "--overrides", str(decisions)]
    command += ["--gazetteer", str(GAZETTEER), "--params", str(PARAMS)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                status, found = call_json(base + "/review/queue", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "camps serve did not answer within 120 s"
                time.sleep(0.2)
        assert status == 200 and found["names"] > 0
        name = found["queue"][-1]["katakana"]
        assert decide(base, {"name": name, "action": "reject", "why": "no such camp"})[0] == 200
        assert call_json(base + "/review/queue")[1]["names"] == found["names"] - 1
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
    (only,) = ov.read(decisions)
    assert only.katakana == name and not only.accept and only.note == "no such camp"
    assert "review decisions go to" in (process.stderr.read() if process.stderr else "")


# --- the review panel in headless Chromium, against the real service --------------------


@pytest.fixture(scope="module")
def served_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    result = CliRunner().invoke(
        cli, ["export", "--input", str(ROWS), "--output-dir", str(out), "--params", str(PARAMS)]
    )
    assert result.exit_code == 0, result.stderr
    return out / "site"


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    import os

    from pipeline import browser

    lacking = browser.missing()
    if lacking:
        reason = f"the browser test needs Debian's {lacking} (apt-get install {lacking})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    with browser.chromium() as handle:
        yield handle


def wait_for(driver: Any, script: str, timeout: float = 10.0) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while not (found := driver.execute_script(script)):
        assert time.monotonic() < deadline, f"timed out: {script}"
        time.sleep(0.05)
    return found


def test_panel_accepts_a_name_into_the_overrides_file(
    driver: Any, service: serve.Service, served_site: Path, tmp_path: Path
) -> None:
    """Issue 18: the page served by `camps serve --review` lists the queue; one accept lands."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from pipeline import browser

    decisions = tmp_path / "overrides.csv"
    files = serve.ReviewFiles(RECONCILED, GAZETTEER, decisions)
    with running(serve.make_app(service, served_site, files)) as url:
        driver.get(url + "/site/index.html?lang=en")
        browser.wait_ready(driver)
        names = int(
            wait_for(
                driver,
                "return document.querySelector('#review[data-ready]') &&"
                " document.querySelector('#review').getAttribute('data-names');",
            )
        )
        queue = call_json(url + "/review/queue")[1]["queue"]
        assert names == len(queue) > 0
        item = next(q for q in queue if q["candidates"])
        shown = driver.execute_script(
            "return Array.prototype.map.call(document.querySelectorAll('#review-queue li'),"
            " function (li) { return li.getAttribute('data-name'); });"
        )
        assert shown == [q["katakana"] for q in queue]
        driver.find_element(By.ID, "review-who").send_keys("Tanaka")
        button = driver.find_element(
            By.CSS_SELECTOR, f"#review-queue li[data-name='{item['katakana']}'] button"
        )
        button.send_keys(Keys.ENTER)  # by keyboard: the first candidate's accept gets focus
        wait_for(driver, "return document.querySelectorAll('.review-accept').length > 0;")
        markers = driver.execute_script(
            "return document.querySelectorAll('.leaflet-interactive').length;"
        )
        assert markers > 0
        focused = driver.execute_script("return document.activeElement.className;")
        assert focused == "review-accept"
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        wait_for(
            driver,
            f"return document.querySelector('#review').getAttribute('data-names')"
            f" === '{len(queue) - 1}';",
        )
        status = driver.find_element(By.ID, "review-status").text
        assert item["katakana"] in status
    found = ov.read(decisions)
    assert len(found) == 1
    assert found[0].katakana == item["katakana"] and found[0].accept
    assert found[0].place_id == item["candidates"][0]["place_id"]
    assert dict(found[0].cells)["reviewer"] == "Tanaka"


HOSTILE = "<img src=x onerror=window.PWNED=1>"


def test_panel_places_a_point_by_click_and_never_injects_names(
    driver: Any, service: serve.Service, served_site: Path, tmp_path: Path
) -> None:
    """A hostile name and candidate show as text; a click on the map places the point."""

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from pipeline import browser

    with RECONCILED.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns, rows = list(reader.fieldnames or []), list(reader)
    target = next(r for r in rows if r["decision"] == "review" and r["candidates"])
    target["katakana"] += HOSTILE
    candidates = json.loads(target["candidates"])
    candidates[0]["name"] = HOSTILE
    target["candidates"] = json.dumps(candidates, ensure_ascii=False)
    hostile = tmp_path / "reconciled.csv"
    with hostile.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    decisions = tmp_path / "overrides.csv"
    files = serve.ReviewFiles(hostile, GAZETTEER, decisions)
    with running(serve.make_app(service, served_site, files)) as url:
        driver.get(url + "/site/index.html?lang=ja")
        browser.wait_ready(driver)
        wait_for(driver, "return document.querySelector('#review[data-ready]');")
        button = driver.find_element(By.CSS_SELECTOR, "#review-queue li:first-child button")
        assert HOSTILE in button.text
        button.click()
        wait_for(driver, "return document.querySelectorAll('.review-accept').length > 0;")
        texts = driver.execute_script(
            "return Array.prototype.map.call(document.querySelectorAll("
            "'.review-candidates li span, .leaflet-tooltip'),"
            " function (n) { return n.textContent; });"
        )
        assert any(HOSTILE in t for t in texts)
        assert driver.execute_script("return window.PWNED === undefined;")
        assert driver.execute_script("return document.querySelectorAll('#review img').length;") == 0
        driver.find_element(By.CSS_SELECTOR, ".review-place").click()
        assert "placing" in driver.find_element(By.ID, "map").get_attribute("class")
        ActionChains(driver).move_to_element_with_offset(
            driver.find_element(By.ID, "map"), -200, -150
        ).click().perform()
        wait_for(
            driver,
            "return /保存しました/.test(document.getElementById('review-status').textContent);",
        )
    found = ov.read(decisions)
    assert len(found) == 1 and found[0].accept and found[0].has_point
    assert found[0].katakana == target["katakana"] and found[0].place_id == ""
    assert found[0].lat is not None and -90 <= found[0].lat <= 90


# --- the layers redrawn after a decision (GET /review/layers) ----------------------------

SITE_DATA = REPO / "output" / "site" / "data" / "camps.geojson"
TRANSLITERATED = REPO / "output" / "stages" / "transliterated.csv"


def features_with(layers: dict[str, Any], record_ids: list[str]) -> list[dict[str, Any]]:
    """The features whose marker stands for (the first of) these records."""
    return [f for f in layers["features"] if f["properties"]["id"] in record_ids]


def test_layers_redraw_each_decision_as_the_stages_would(
    service: serve.Service, tmp_path: Path
) -> None:
    """After accept, reject and place, /review/layers equals reconcile + geocode + the
    export's site data run on the committed rows with the same overrides file."""
    from pipeline import export

    decisions = tmp_path / "overrides.csv"
    files = serve.ReviewFiles(RECONCILED, GAZETTEER, decisions, ROWS, "t")
    loaded = service.overrides
    service.use_overrides([])
    try:
        with running(serve.make_app(service, review=files)) as url:
            status, before = call_json(url + "/review/layers")
            assert status == 200
            published = json.loads(SITE_DATA.read_text("utf-8"))
            assert before["features"] == published["features"]  # nothing decided yet
            queue = call_json(url + "/review/queue")[1]["queue"]
            moved = next(q for q in queue if len(q["candidates"]) > 1)
            other = moved["candidates"][1]
            rejected, placed = [q for q in queue if q is not moved][:2]
            status, done = decide(
                url, {"name": moved["katakana"], "action": "accept", "place_id": other["place_id"]}
            )
            assert status == 200 and done["rows_redrawn"] == moved["rows"], done
            assert decide(url, {"name": rejected["katakana"], "action": "reject"})[0] == 200
            body = {"name": placed["katakana"], "action": "place", "lat": 51.5, "lon": 113.25}
            assert decide(url, body)[0] == 200
            after = call_json(url + "/review/layers")[1]
    finally:
        service.use_overrides(loaded)
    (feature,) = features_with(after, [min(moved["record_ids"])])
    assert feature["geometry"]["coordinates"] == [round(other["lon"], 5), round(other["lat"], 5)]
    assert feature["properties"]["review"] is False
    assert feature["properties"]["method"] != "override"  # the place's own point
    (old,) = features_with(before, [min(moved["record_ids"])])
    assert old["properties"]["review"] is True
    assert old["geometry"]["coordinates"] != feature["geometry"]["coordinates"]
    rows_of = sum(f["properties"]["rows"] for f in before["features"])
    assert sum(f["properties"]["rows"] for f in after["features"]) == rows_of - rejected["rows"]
    assert not features_with(after, rejected["record_ids"])
    (point,) = [f for f in after["features"] if f["geometry"]["coordinates"] == [113.25, 51.5]]
    assert point["properties"]["method"] == "override"
    # a click cites no source: the point is never drawn as certain
    assert point["properties"]["certainty"] == "less-certain"
    assert placed["katakana"] in point["properties"]["spellings"]
    # the stages, run by the commands a user runs, on the same overrides file
    stages = tmp_path / "stages"
    stages.mkdir()
    for command in (
        ["reconcile", "--input", str(TRANSLITERATED), "--output", str(stages / "r.csv")],
        ["geocode", "--input", str(stages / "r.csv"), "--output", str(stages / "g.csv")],
    ):
        common = ["--gazetteer", str(GAZETTEER), "--overrides", str(decisions)]
        result = CliRunner().invoke(cli, [*command, *common, "--params", str(PARAMS)])
        assert result.exit_code == 0, result.stderr
    placed_rows = export.prepare(read_rows(stages / "g.csv"), stages / "g.csv")
    expected = export.site_data([p for p in placed_rows if p.point is not None], "t")
    assert after["features"] == expected["features"]


def test_layers_refuse_without_review_or_rows(service: serve.Service, tmp_path: Path) -> None:
    with running(serve.make_app(service)) as url:
        status, answer = call_json(url + "/review/layers")
        assert status == 403 and "read-only" in answer["message"]
    files = serve.ReviewFiles(RECONCILED, GAZETTEER, tmp_path / "o.csv")
    with running(serve.make_app(service, review=files)) as url:
        status, answer = call_json(url + "/review/layers")
        assert status == 409 and "--rows" in answer["message"]


MARKER = "document.querySelector('.camp-marker span[data-id=\"' + arguments[0] + '\"]')"


def test_panel_redraws_the_layers_after_a_decision_without_reload(
    driver: Any, service: serve.Service, served_site: Path, tmp_path: Path
) -> None:
    """Issue 18: accept another candidate in the page; its marker moves, loses the review
    outline and takes the place's certainty; the counts follow, and the page never reloads."""
    from selenium.webdriver.common.by import By

    from pipeline import browser

    files = serve.ReviewFiles(RECONCILED, GAZETTEER, tmp_path / "overrides.csv", ROWS)
    loaded = service.overrides
    service.use_overrides([])
    try:
        with running(serve.make_app(service, served_site, files)) as url:
            driver.get(url + "/site/index.html?lang=en")
            browser.wait_ready(driver)
            wait_for(driver, "return document.getElementById('map').getAttribute('data-redrawn');")
            driver.execute_script("window.NOT_RELOADED = true;")
            queue = call_json(url + "/review/queue")[1]["queue"]
            item = next(q for q in queue if len(q["candidates"]) > 1)
            other = item["candidates"][1]
            record = min(item["record_ids"])
            read = (
                "var s = " + MARKER + "; return s && [s.getAttribute('data-lat'),"
                " s.getAttribute('data-lon'), s.getAttribute('data-review'),"
                " s.getAttribute('data-certainty'), s.getAttribute('data-uncertainty-km')];"
            )
            before = driver.execute_script(read, record)
            assert before[2] == "true"
            driver.find_element(
                By.CSS_SELECTOR, f"#review-queue li[data-name='{item['katakana']}'] button"
            ).click()
            driver.find_element(
                By.CSS_SELECTOR, f".review-accept[data-place-id='{other['place_id']}']"
            ).click()
            wait_for(
                driver,
                "return document.querySelector('#review').getAttribute('data-names')"
                f" === '{len(queue) - 1}';",
            )
            after = driver.execute_script(read, record)
            layers = call_json(url + "/review/layers")[1]
            drawn = driver.execute_script(
                "return [document.getElementById('map').getAttribute('data-features'),"
                " document.querySelectorAll('.camp-marker').length, window.NOT_RELOADED];"
            )
    finally:
        service.use_overrides(loaded)
    assert abs(float(after[0]) - other["lat"]) < 1e-4 and abs(float(after[1]) - other["lon"]) < 1e-4
    assert after[2] == "false" and after[:2] != before[:2]
    (feature,) = features_with(layers, [record])
    assert after[3] == feature["properties"]["certainty"] != before[3]  # review: less-certain
    assert float(after[4]) == feature["properties"]["uncertainty_km"]
    assert drawn == [str(len(layers["features"])), len(layers["features"]), True]
