"""The static web map (``site/``): the writer, hostile names, and the page in real Chromium.

The browser tests run ``camps export`` through click on the committed geocode
stage output (real data, 100 camps), open ``site/index.html`` from ``file://`` in
Debian's headless Chromium with every host unresolvable, and read only what the
page publishes for tests: ``data-features``/``data-ready`` on the map, ``data-class``
in the legend, ``data-id`` on search results and popups. Without chromium,
chromium-driver or selenium they skip, naming the package; under ``CI=true`` a
missing one is a failure.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline import browser, export, style
from pipeline.cli import cli
from pipeline.export import site
from pipeline.io import read_boundaries, write_csv
from pipeline.records import LEGEND

REPO = Path(__file__).resolve().parent.parent
GEOCODED = REPO / "output" / "stages" / "geocoded.csv"
TINY = Path(__file__).parent / "data" / "geocoded_tiny.csv"
HOSTILE = "<script>window.PWNED=1</script>\"'><img src=x onerror=window.PWNED=2>"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def placed_rows() -> list[dict[str, str]]:
    """The committed geocode stage's rows that the map draws (a point, not unresolved)."""
    return [r for r in read_rows(GEOCODED) if r["lat"].strip() and r["decision"] != "unresolved"]


def site_data(folder: Path) -> dict[str, Any]:
    text = (folder / "data" / "camps.js").read_text(encoding="utf-8")
    assert text.startswith("window.CAMPS_DATA = ") and text.endswith(";\n")
    data: dict[str, Any] = json.loads(text[len("window.CAMPS_DATA = ") : -2])
    return data


def export_site(rows_path: Path, out: Path) -> Path:
    result = CliRunner().invoke(
        cli,
        [
            "export",
            "--input",
            str(rows_path),
            "--output-dir",
            str(out),
            "--params",
            str(REPO / "params.yaml"),
        ],
    )
    assert result.exit_code == 0, result.stderr
    return out / "site"


# --- the writer -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_site(GEOCODED, tmp_path_factory.mktemp("export"))


def test_export_writes_the_site_into_the_manifest(real_site: Path) -> None:
    manifest = json.loads((real_site.parent / "manifest.json").read_text(encoding="utf-8"))
    listed = set(manifest["files"])
    for name in (*site.STATIC, "data/camps.js", "data/camps.geojson", "data/background.js"):
        assert (real_site / name).is_file()
        assert f"site/{name}" in listed
    licence = (real_site / "vendor" / "leaflet" / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("BSD 2-Clause License") and "Agafonkin" in licence


def test_every_placed_row_is_a_feature_with_its_fields(real_site: Path) -> None:
    data = site_data(real_site)
    placed = placed_rows()
    assert len(data["features"]) == len(placed) >= 100
    by_id = {f["id"]: f["properties"] for f in data["features"]}
    bukachacha = by_id["bukachacha"]
    assert bukachacha["katakana"] == "ブカチャチャ" and bukachacha["cyrillic"] == "Букачача"
    assert bukachacha["latin"] == "Bukachacha" and bukachacha["region"] == "Chita Oblast"
    assert {"text": "GeoNames 2026023", "url": "https://www.geonames.org/2026023"} in bukachacha[
        "sources"
    ]
    assert bukachacha["candidates"][0]["id"] == "bukachacha"
    regional = [p for p in by_id.values() if p["method"] == "region_centroid"]
    assert regional and all(p["region_point"] for p in regional)
    assert not any(p["region_point"] for p in by_id.values() if p["method"] != "region_centroid")


def test_legend_comes_from_the_qgis_style() -> None:
    items = site.legend()
    assert [i["id"] for i in items] == [k.value for k in style.MARKERS]
    for item, (klass, marker) in zip(items, style.MARKERS.items(), strict=True):
        assert (item["shape"], item["fill"], item["outline"]) == (
            marker.shape,
            marker.fill,
            marker.outline,
        )
        assert item["label_colour"] == LEGEND[klass][1]


def test_background_is_small_and_covers_the_area() -> None:
    data = site.background(read_boundaries())
    names = {f["properties"]["name"] for f in data["features"]}
    assert {"Russia", "Mongolia", "Kazakhstan", "Japan"} <= names
    assert len(json.dumps(data)) < 150_000
    assert site.background(None) == {"type": "FeatureCollection", "features": []}


def test_site_weight_is_under_3_mb(real_site: Path) -> None:
    assert browser.site_weight(real_site) < 3_000_000


def test_hostile_names_are_escaped_in_the_data_file(tmp_path: Path) -> None:
    rows = read_rows(TINY)
    rows[0]["katakana"] = HOSTILE
    rows[0]["source"] = "javascript:alert(1)|" + HOSTILE
    folder = export_site(write_csv_rows(tmp_path / "in.csv", rows), tmp_path / "o")
    text = (folder / "data" / "camps.js").read_text(encoding="utf-8")
    assert "<" not in text  # no data can close a tag or open one
    props = [f["properties"] for f in site_data(folder)["features"]]
    hostile = next(p for p in props if p["katakana"] == HOSTILE)
    assert {"text": "javascript:alert(1)", "url": ""} in hostile["sources"]


def write_csv_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    write_csv(path, list(rows[0]), rows)
    return path


def test_site_can_be_turned_off(tmp_path: Path) -> None:
    import dataclasses

    params = dataclasses.replace(export.ExportParams(), preview=False, site=False)
    export.run(TINY, tmp_path, params)
    assert not (tmp_path / "site").exists()


# --- the page in headless Chromium ------------------------------------------------------


def need_browser() -> None:
    lacking = browser.missing()
    if not lacking:
        return
    reason = f"the browser test needs Debian's {lacking} (apt-get install {lacking})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    need_browser()
    with browser.chromium() as handle:
        yield handle


def open_page(driver: Any, folder: Path, lang: str = "en") -> None:
    driver.get((folder / "index.html").resolve().as_uri() + f"?lang={lang}")
    browser.wait_ready(driver)


def attr(driver: Any, selector: str, name: str) -> Any:
    return driver.execute_script(
        "var n = document.querySelector(arguments[0]); return n && n.getAttribute(arguments[1]);",
        selector,
        name,
    )


def search(driver: Any, text: str, popup: bool = True) -> list[str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.ID, "search")
    box.clear()
    box.send_keys(text)
    ids: list[str] = driver.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('#results li'),"
        " function (li) { return li.getAttribute('data-id'); });"
    )
    box.send_keys(Keys.ENTER)
    if popup:
        wait_for(driver, "return document.querySelector('.leaflet-popup .popup') !== null;")
    return ids


def wait_for(driver: Any, script: str, timeout: float = 5.0) -> None:
    """Wait until a script returns true (a search flies, then opens its popup)."""
    import time

    deadline = time.monotonic() + timeout
    while not driver.execute_script(script):
        assert time.monotonic() < deadline, f"timed out: {script}"
        time.sleep(0.05)


def test_page_loads_offline_with_every_marker_and_class(driver: Any, real_site: Path) -> None:
    browser.requests_made(driver)  # drop what came before
    open_page(driver, real_site)
    urls = browser.requests_made(driver)
    assert any(u.endswith("/data/camps.js") for u in urls)  # the log does see requests
    assert browser.remote(urls) == []
    assert attr(driver, "#map", "data-features") == str(len(placed_rows()))
    markers = driver.execute_script("return document.querySelectorAll('.camp-marker').length;")
    assert markers == len(placed_rows())
    classes = driver.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('#legend li[data-class]'),"
        " function (n) { return n.getAttribute('data-class'); });"
    )
    assert classes == ["over_20000", "over_10000", "under_10000", "small", "unknown"]
    assert driver.execute_script("return window.PWNED === undefined;")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ハバロフスク", "khabarovsk"),
        ("チタ州ブカチャチャ", "bukachacha"),
        ("Букачача", "bukachacha"),
        ("habarofusuku", "khabarovsk"),  # romaji, any case
        ("Khabarovsk", "khabarovsk"),
        ("ぶかちゃちゃ", "bukachacha"),  # hiragana folds to katakana
    ],
)
def test_search_puts_the_right_place_first(
    driver: Any, real_site: Path, text: str, expected: str
) -> None:
    open_page(driver, real_site)
    assert search(driver, text)[0] == expected
    assert attr(driver, ".leaflet-popup .popup", "data-id") == expected
    status = driver.execute_script("return document.getElementById('status').textContent;")
    assert "within about" in status and " km" in status


def test_popup_shows_sources_and_candidates(driver: Any, real_site: Path) -> None:
    open_page(driver, real_site)
    search(driver, "ブカチャチャ")
    links = driver.execute_script(
        "return Array.prototype.map.call("
        "document.querySelectorAll('.leaflet-popup .sources a'), function (a) { return a.href; });"
    )
    assert "https://bystrov.ustrcr.cz/tabory/3876" in links
    assert "https://www.geonames.org/2026023" in links
    text = driver.execute_script("return document.querySelector('.leaflet-popup').textContent;")
    radius = next(
        f["properties"]["uncertainty_km"]
        for f in site_data(real_site)["features"]
        if f["id"] == "bukachacha"
    )
    shown = f"{round(radius, 1):g} km" if radius < 10 else f"{round(radius)} km"
    for part in ("ブカチャチャ", "Букачача", "Bukachacha", "Chita Oblast", "certain", shown):
        assert part in text


def test_region_centre_reads_as_a_region(driver: Any, real_site: Path) -> None:
    data = site_data(real_site)
    regional = next(f["properties"] for f in data["features"] if f["properties"]["region_point"])
    open_page(driver, real_site)
    search(driver, regional["katakana"])
    status = driver.execute_script("return document.getElementById('status').textContent;")
    assert status.startswith("somewhere in") and "only the region is known" in status
    dashed = driver.execute_script(
        "return document.querySelectorAll('.symbol.region-point').length;"
    )
    assert dashed == sum(f["properties"]["region_point"] for f in data["features"])
    circles = driver.execute_script(
        "return [document.querySelectorAll('path.uncertainty').length,"
        " document.querySelectorAll('path.uncertainty.region-point').length];"
    )
    sized = [f["properties"] for f in data["features"] if f["properties"]["uncertainty_km"]]
    assert circles == [len(sized), sum(p["region_point"] for p in sized)]


def test_labels_do_not_overlap(driver: Any, real_site: Path) -> None:
    open_page(driver, real_site)
    boxes = driver.execute_script(
        "return Array.prototype.map.call("
        "document.querySelectorAll('.camp-label:not(.hidden)'), function (n) {"
        " var r = n.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; });"
    )
    assert len(boxes) >= 10
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_japanese_switch_and_keyboard(driver: Any, real_site: Path) -> None:
    from selenium.webdriver.common.by import By

    open_page(driver, real_site)
    driver.find_element(By.ID, "lang").click()
    assert attr(driver, "html", "lang") == "ja"
    assert driver.find_element(By.ID, "search-label").text == "地名を探す"
    driver.find_element(By.ID, "lang").click()
    assert attr(driver, "html", "lang") == "en"
    focusable = driver.execute_script(
        "return document.querySelectorAll('.leaflet-marker-icon[tabindex=\"0\"]').length;"
    )
    assert focusable == len(placed_rows())


def test_screenshot_is_not_blank(driver: Any, real_site: Path, tmp_path: Path) -> None:
    from io import BytesIO

    from PIL import Image

    open_page(driver, real_site)
    shot = tmp_path / "site.png"
    driver.save_screenshot(str(shot))
    rect = driver.execute_script(
        "var r = document.getElementById('map').getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom];"
    )
    image = Image.open(BytesIO(shot.read_bytes())).convert("RGB")
    area = image.crop(tuple(int(v) for v in rect))
    colours = area.getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50  # land, sea, borders, symbols, labels
    top = max(count for count, _ in colours)
    assert top < 0.9 * area.width * area.height  # not one colour over the map


def test_hostile_names_never_become_html(driver: Any, tmp_path: Path) -> None:
    rows = read_rows(TINY)
    for row in rows[:3]:
        row["katakana"] = HOSTILE
        row["place_name"] = HOSTILE
        row["source"] = HOSTILE + "|javascript:window.PWNED=3"
    rows[3]["symbol_class"] = ""
    rows[3]["detainees"] = ""
    rows[3]["source"] = ""
    folder = export_site(write_csv_rows(tmp_path / "in.csv", rows), tmp_path / "o")
    open_page(driver, folder)
    assert driver.execute_script("return window.PWNED === undefined;")
    search(driver, "<script>")
    text = driver.execute_script("return document.querySelector('.leaflet-popup h3').textContent;")
    assert text == HOSTILE
    assert (
        driver.execute_script(
            "return document.querySelectorAll('.popup img, .popup script').length;"
        )
        == 0
    )
    assert driver.execute_script("return window.PWNED === undefined;")


def test_empty_layer_still_loads(driver: Any, tmp_path: Path) -> None:
    rows = [r | {"decision": "unresolved"} for r in read_rows(TINY)]
    folder = export_site(write_csv_rows(tmp_path / "in.csv", rows), tmp_path / "o")
    open_page(driver, folder)
    assert attr(driver, "#map", "data-features") == "0"
    assert len(re.findall("data-class", driver.page_source)) >= 5


def test_missing_browser_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "missing", lambda: "chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI=true but .*chromium"):
        need_browser()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        need_browser()


def test_bench_site_prints_weight_and_time(real_site: Path, tmp_path: Path) -> None:
    need_browser()
    result = CliRunner().invoke(cli, ["bench", "--site", str(real_site)])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["features"] == len(placed_rows()) and report["remote_requests"] == []
    assert 0 < report["bytes"] < 3_000_000 and report["interactive_s_median"] > 0
    missing = CliRunner().invoke(cli, ["bench", "--site", str(tmp_path)])
    assert missing.exit_code == 2 and "no index.html: run `camps export` first" in missing.stderr


class _SiteWithLookup:
    """The site on 127.0.0.1 with a stand-in for `camps serve`'s /lookup (issue 17)."""

    def __init__(self, folder: Path) -> None:
        import functools
        import http.server
        import threading

        answer = {
            "name": "ノヴォシビルスク",
            "candidates": [
                {"id": "gn:1496747", "name": "Novosibirsk", "lat": 55.0411, "lon": 82.9344},
            ],
        }
        self.asked: list[str] = []
        asked = self.asked

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/lookup"):
                    asked.append(self.path)
                    body = json.dumps(answer).encode("utf-8")
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                super().do_GET()

            def log_message(self, *args: Any) -> None:
                pass

        handler = functools.partial(Handler, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.url = self.origin + "index.html"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_served_page_asks_the_lookup_api(driver: Any, real_site: Path) -> None:
    served = _SiteWithLookup(real_site)
    try:
        driver.get(served.url + "?lang=en")
        browser.wait_ready(driver)
        import time

        deadline = time.monotonic() + 5
        while attr(driver, "#map", "data-lookup") != "true" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert attr(driver, "#map", "data-lookup") == "true"
        search(driver, "ノヴォシビルスク", popup=False)
        while time.monotonic() < deadline and not driver.execute_script(
            "return document.querySelector('#results li[data-id=\"gn:1496747\"]') !== null;"
        ):
            time.sleep(0.05)
        text = driver.execute_script(
            "var li = document.querySelector('#results li[data-id=\"gn:1496747\"]');"
            " return li && li.textContent;"
        )
        assert text and "Novosibirsk" in text and "lookup service" in text
        assert any("name=%E3%83%8E" in path for path in served.asked)
        assert (
            browser.remote(
                [u for u in browser.requests_made(driver) if not u.startswith(served.origin)]
            )
            == []
        )
    finally:
        served.close()


def test_static_page_never_asks_for_lookup(driver: Any, real_site: Path) -> None:
    browser.requests_made(driver)
    open_page(driver, real_site)
    search(driver, "ノヴォシビルスク", popup=False)
    assert attr(driver, "#map", "data-lookup") is None
    assert not any("lookup" in u for u in browser.requests_made(driver))


def test_a_register_that_repeats_a_place_gets_one_marker(tmp_path: Path) -> None:
    rows = read_rows(TINY)
    again = rows[0] | {"record_id": "d-001b", "katakana": "ウラジヲストツク"}
    folder = export_site(write_csv_rows(tmp_path / "in.csv", [*rows, again]), tmp_path / "o")
    features = site_data(folder)["features"]
    placed = [r for r in rows if r["decision"] != "unresolved"]
    assert len(features) == len(placed)
    vladivostok = next(f["properties"] for f in features if f["id"] == "d-001")
    assert vladivostok["rows"] == 2
    assert vladivostok["spellings"] == ["ウラジオストク", "ウラジヲストツク"]
    assert "ウラジヲストツク" in vladivostok["names"]
    ussuriysk = next(f["properties"] for f in features if f["id"] == "d-002")
    assert {"ウスリースク", "ニコリスク"} <= set(ussuriysk["names"])  # " / "-separated variants


def test_the_map_served_by_camps_serve_asks_its_lookup(driver: Any, real_site: Path) -> None:
    """Issue 18: served by the real `camps serve --site`, the search asks its /lookup."""
    import time

    from serve_client import running

    from pipeline import serve

    service = serve.load_service(
        REPO / "gazetteer" / "build",
        REPO / "gazetteer" / "overrides.csv",
        REPO / "params.yaml",
        GEOCODED,
    )
    with running(serve.make_app(service, real_site)) as base:
        driver.get(base + "/site/index.html?lang=en")
        browser.wait_ready(driver)
        deadline = time.monotonic() + 10
        while attr(driver, "#map", "data-lookup") != "true" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert attr(driver, "#map", "data-lookup") == "true"
        search(driver, "ノヴォシビルスク", popup=False)
        found = "return document.querySelector('#results li[data-id=\"gn:1496747\"]');"
        while time.monotonic() < deadline and not driver.execute_script(found):
            time.sleep(0.05)
        text = driver.execute_script(found[:-1] + " && " + found[7:-1] + ".textContent;")
        assert text and "Novosibirsk" in text and "lookup service" in text
        others = [u for u in browser.requests_made(driver) if not u.startswith(base)]
        assert browser.remote(others) == []


def test_camp_district_popup_says_what_the_point_stands_for(driver: Any, tmp_path: Path) -> None:
    """A camp district (第十六地区) reads as the region or town it was named after.

    The register goes through the stage commands on the repo's gazetteer, then
    `camps export`; the page says "Camp district No. 16, placed on the region".
    """
    register = tmp_path / "register.csv"
    register.write_text(
        "record_id,katakana\nk16,ハバロフスク地方第十六地区\nc24,チタ第24地区\n", encoding="utf-8"
    )
    runner, common = CliRunner(), ["--params", str(REPO / "params.yaml")]
    files = [register, *(tmp_path / f"{s}.csv" for s in ("t", "r", "g"))]
    for command, src, out in zip(
        ("transliterate", "reconcile", "geocode"), files[:-1], files[1:], strict=True
    ):
        result = runner.invoke(cli, [command, "--input", str(src), "--output", str(out), *common])
        assert result.exit_code == 0, result.stderr
    folder = export_site(files[-1], tmp_path / "out")
    by_id = {f["id"]: f["properties"] for f in site_data(folder)["features"]}
    assert (by_id["k16"]["district"], by_id["k16"]["method"]) == ("16", "region_centroid")
    assert (by_id["c24"]["district"], by_id["c24"]["certainty"]) == ("24", "less-certain")
    for text, words in (
        (
            "ハバロフスク地方第十六地区",
            "Camp district No. 16, placed on the region it was named after",
        ),
        ("チタ第24地区", "Camp district No. 24, placed on the place it was named after"),
    ):
        open_page(driver, folder)
        search(driver, text)
        said = driver.execute_script("return document.querySelector('.leaflet-popup').textContent;")
        assert words in said, said
        assert "(certain)" not in said
