"""Headless Debian Chromium, offline, for the web map's browser test and benchmark.

Drives Debian's ``chromium`` through ``chromium-driver`` with selenium (a dev
dependency; imported only here). The browser is cut off from the network twice
over: ``--host-resolver-rules`` makes every host name unresolvable and a proxy at
an unused local port swallows the rest (only 127.0.0.1, where a test serves the
site, stays reachable), and Chrome's DevTools performance log
records every request the page makes, so a test can show that none left the
machine (:func:`requests_made`). A tool, not a stage: nothing in the pipeline
imports it.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Debian's package names, for the message when one is missing.
BROWSER_PACKAGES = "chromium chromium-driver"
#: Schemes a page from disk may load without leaving the machine.
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:", "chrome-error:")


def missing() -> str:
    """What is missing to drive the browser (package names), or ``""`` when all is there."""
    lacking = []
    if not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()):
        lacking.append("chromium")
    if not (shutil.which("chromedriver") or Path("/usr/bin/chromedriver").exists()):
        lacking.append("chromium-driver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        lacking.append("selenium (pip install -e '.[dev]')")
    return " ".join(lacking)


@contextmanager
def chromium(width: int = 1280, height: int = 800) -> Iterator[Any]:
    """A headless Chromium WebDriver with no network and its performance log on."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        "--allow-file-access-from-files",
        f"--window-size={width},{height}",
        "--lang=en-GB",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def requests_made(driver: Any) -> list[str]:
    """Every URL the page asked for since the last call (DevTools Network events)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def remote(urls: list[str]) -> list[str]:
    """The URLs that would leave the machine (not ``file:``, ``data:`` ...).

    >>> remote(["file:///x/index.html", "data:image/png;base64,AA", "https://cdn.example/a.js"])
    ['https://cdn.example/a.js']
    """
    return [url for url in urls if not url.startswith(LOCAL_SCHEMES)]


def wait_ready(driver: Any, timeout: float = 20.0) -> float:
    """Wait until the map says ``data-ready="true"``; return the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        ready = driver.execute_script(
            "var m = document.getElementById('map'); return m && m.getAttribute('data-ready');"
        )
        if ready == "true":
            return time.perf_counter() - start
        time.sleep(0.02)
    raise TimeoutError(f"the map was not ready after {timeout:g} s")


def site_weight(folder: Path) -> int:
    """Bytes of every file of a site folder."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def bench_site(folder: Path, runs: int = 3) -> dict[str, Any]:
    """Weight of the site and its time to interactive (navigation start to ``data-ready``).

    Time to interactive is read from the page's own clock (``performance.now()``,
    from navigation start, when the map sets ``data-ready``), the median of
    ``runs`` fresh loads.
    """
    page = Path(folder).resolve() / "index.html"
    times = []
    with chromium() as driver:
        for _ in range(runs):
            driver.get(page.as_uri())
            wait_ready(driver)
            ready_ms = driver.execute_script(
                "return document.getElementById('map').getAttribute('data-ready-ms');"
            )
            times.append(float(ready_ms) / 1000)
            features = driver.execute_script(
                "return document.getElementById('map').getAttribute('data-features');"
            )
        leaked = remote(requests_made(driver))
    times.sort()
    return {
        "site": str(folder),
        "bytes": site_weight(folder),
        "megabytes": round(site_weight(folder) / 1_000_000, 3),
        "features": int(features),
        "interactive_s_median": round(times[len(times) // 2], 3),
        "interactive_s_max": round(times[-1], 3),
        "runs": runs,
        "remote_requests": leaked,
    }
