"""The wall left running: JS heap, DOM nodes and bytes per refresh over 1,000 refreshes at 200 services.

The app serves one demo source of 200 services with a 0.2 s refresh, while a poller
thread keeps moving the source's clock a minute per poll, so the data changes between
refreshes and the Patch paths run. Headless Chromium (Debian's) shows /wall?kiosk=1.
"""

from __future__ import annotations

import logging
import shutil
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

import flask
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from werkzeug.serving import make_server

from dashboard.app import create_app
from dashboard.core.poller import Poller
from dashboard.core.settings import parse
from dashboard.core.store import open_store
from datasources import registry

SERVICES = 200
REFRESHES = 1000
WARM_UP = 20
PAUSE_S = 2.0  # between polls: new data every ten refreshes or so, and the GIL left to the server
CONFIG = f"""
refresh_s: 0.2
sources:
  - kind: demo
    name: demo
    interval_s: 60
    services: {SERVICES}
    window_h: 1.5
    frames: [services, chains, service_metrics, incidents, changes, chaos_runs]
"""
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--window-size=1920,1080",
)


class Meter:
    """Count refreshes and the bytes of every callback request and response, on the server."""

    def __init__(self, server: flask.Flask):
        self.lock = threading.Lock()
        self.reset()
        server.after_request(self.record)

    def reset(self) -> None:
        with self.lock:
            self.refreshes, self.sent, self.received, self.wall_ms, self.redraws = 0, [], [], [], 0

    def record(self, response: flask.Response) -> flask.Response:
        if flask.request.path.endswith("/_dash-update-component"):
            output = str((flask.request.get_json(silent=True) or {}).get("output", ""))
            with self.lock:
                if output == "oc-versions.data":
                    self.refreshes += 1
                    self.sent.append(0)
                    self.received.append(0)
                if self.sent:
                    self.sent[-1] += len(response.get_data())
                    self.received[-1] += flask.request.content_length or 0
                if "oc-wall-keys.data" in output:
                    self.wall_ms.append((time.perf_counter() - flask.g.oc_started) * 1000)
                    self.redraws += response.status_code == 200
        return response


class MovingPoller(threading.Thread):
    """Poll the demo source over and over, a minute later each time."""

    def __init__(self, poller: Poller, source):
        super().__init__(daemon=True)
        self.poller, self.source, self.stop, self.polls = poller, source, threading.Event(), 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.poller.offset += timedelta(minutes=1)
            self.poller.poll(self.source)
            self.polls += 1
            self.stop.wait(PAUSE_S)


def _browser() -> webdriver.Chrome:
    options = Options()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def _memory(driver) -> tuple[float, int]:
    """JS heap used (bytes) and DOM elements, after a garbage collection."""
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    metrics = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    return metrics["JSHeapUsedSize"], driver.execute_script("return document.getElementsByTagName('*').length")


def _wait(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the wall stopped refreshing")
        time.sleep(0.5)


def _growth(start: float, end: float) -> str:
    return f"{(end - start) / start:+.1%}"


def run() -> list[dict]:
    """Return the wall's rows for the benchmark report."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    settings = parse(CONFIG)
    store = open_store(None, settings.deployment, settings.source_names)
    source = registry.build(settings.sources[0])
    poller = Poller([source], store, clock=lambda: datetime.now(UTC) + poller.offset)
    poller.offset = timedelta(0)
    poller.poll(source)
    app = create_app(settings, store)
    meter = Meter(app.server)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    moving, driver = MovingPoller(poller, source), _browser()
    try:
        driver.execute_cdp_cmd("Performance.enable", {})
        driver.get(f"http://127.0.0.1:{server.server_port}/wall?kiosk=1")
        moving.start()
        _wait(lambda: meter.refreshes >= WARM_UP, 120)
        heap_start, nodes_start = _memory(driver)
        meter.reset()
        polls_start, started = moving.polls, time.monotonic()
        _wait(lambda: meter.refreshes >= REFRESHES, REFRESHES * 2)
        heap_end, nodes_end = _memory(driver)
        elapsed, polls = time.monotonic() - started, moving.polls - polls_start
        with meter.lock:
            sent, received, wall_ms, redraws, refreshes = (
                list(meter.sent),
                list(meter.received),
                list(meter.wall_ms),
                meter.redraws,
                meter.refreshes,
            )
    finally:
        moving.stop.set()
        driver.quit()
        server.shutdown()
    changing = [s for s in sent if s > 1000] or [0]
    return [
        {
            "benchmark": f"wall refresh callback, {SERVICES} services",
            "median_ms": round(statistics.median(wall_ms), 1),
            "detail": f"p95 {statistics.quantiles(wall_ms, n=20)[-1]:.1f} ms; {len(wall_ms)} calls, "
            f"{redraws} with changes",
        },
        {
            "benchmark": f"wall bytes per refresh, {SERVICES} services",
            "median_ms": "–",
            "detail": f"server to browser: mean {statistics.mean(sent) / 1024:.1f} KB, "
            f"mean {statistics.mean(changing) / 1024:.1f} KB "
            f"and max {max(sent) / 1024:.1f} KB when data changed ({len(changing)} of {refreshes}); browser to server: "
            f"mean {statistics.mean(received) / 1024:.1f} KB (target under 20 KB)",
        },
        {
            "benchmark": f"wall JS heap over {refreshes:,} refreshes",
            "median_ms": "–",
            "detail": f"{heap_start / 2**20:.1f} MB -> {heap_end / 2**20:.1f} MB, {_growth(heap_start, heap_end)} "
            f"(target under 10%); {elapsed:.0f} s at {settings.refresh_s} s, {polls} polls",
        },
        {
            "benchmark": f"wall DOM elements over {refreshes:,} refreshes",
            "median_ms": "–",
            "detail": f"{nodes_start:,} -> {nodes_end:,}, {_growth(nodes_start, nodes_end)} (target under 10%)",
        },
    ]
