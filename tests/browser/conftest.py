"""Browser fixtures: headless Debian Chromium for dash_duo, and demo apps polled synchronously."""

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.chrome.options import Options

from dashboard.app import create_app
from dashboard.core.poller import Poller
from dashboard.core.settings import parse
from dashboard.core.store import open_store
from datasources import registry
from tests.conftest import need
from tests.demo_app import polled_demo_app


def pytest_setup_options():
    options = Options()
    if shutil.which("chromium"):
        options.binary_location = shutil.which("chromium")
    for flag in (
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1920,1080",
    ):
        options.add_argument(flag)
    return options


TWO_SOURCES = """
center_name: Test Center
refresh_s: 1
sources:
  - {kind: demo, name: metrics, interval_s: 60, frames: [services, chains, service_metrics]}
  - {kind: demo, name: itsm, interval_s: 60, frames: [incidents, changes, chaos_runs]}
playlists:
  rotation: [{page: /wall, seconds: 2}, {page: /sources, seconds: 60}]
"""


def assert_no_console_errors(dash_duo):
    errors = [entry for entry in dash_duo.get_logs() or [] if entry.get("level") == "SEVERE"]
    assert errors == [], errors


CLIPPED = """
const inside = (el, box) => { const r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
  return r.bottom <= b.bottom + 1 && r.right <= b.right + 1; };
return {
  names: [...document.querySelectorAll('.oc-tile-name, .oc-chain-head h2')]
    .filter(el => el.scrollWidth > el.clientWidth || !inside(el, el.closest('.oc-tile, .oc-chain')))
    .map(el => el.textContent),
  figures: [...document.querySelectorAll('.oc-metric-main, .oc-metric-label')]
    .filter(el => !inside(el, el.closest('.oc-tile')))
    .map(el => el.closest('.oc-tile').dataset.service),
  tiles: document.querySelectorAll('.oc-tile-name').length,
};
"""  # the wall's names, figures and their status shapes that do not fit their tile or chain


def viewport(dash_duo, width, height):
    """Make the page's viewport exactly ``width`` x ``height`` (a window adds its own chrome)."""
    dash_duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def _need_chromium():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        need("Chromium", "install the chromium and chromium-driver Debian packages")


class Estate:
    """An app on its sources (by default two demo sources, monitoring and ITSM) that a test polls when it
    wants, on a clock it moves."""

    def __init__(self, config: str = TWO_SOURCES, offset: timedelta = timedelta(0)):
        self.settings = parse(config)
        self.store = open_store(None, self.settings.deployment, self.settings.source_names)
        self.offset = offset
        self.sources = {spec["name"]: registry.build(spec) for spec in self.settings.sources}
        self.poller = Poller(list(self.sources.values()), self.store, clock=lambda: datetime.now(UTC) + self.offset)
        for name in self.sources:
            self.poll(name)
        self.app = create_app(self.settings, self.store)

    def poll(self, name: str) -> dict:
        return self.poller.poll(self.sources[name])


@pytest.fixture
def estate():
    """A fresh two-source estate and its app."""
    _need_chromium()
    return Estate()


@pytest.fixture
def demo_app():
    """The app on the built-in demo config, its store filled by one synchronous poll."""
    _need_chromium()
    return polled_demo_app()
