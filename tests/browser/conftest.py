"""Browser fixtures: headless Debian Chromium for dash_duo, and a demo app polled once."""
import shutil

import pytest
from selenium.webdriver.chrome.options import Options

from dashboard.app import create_app
from dashboard.poller import Poller
from dashboard.settings import load
from dashboard.store import open_store
from datasources import registry
from tests.conftest import need


def pytest_setup_options():
    options = Options()
    if shutil.which("chromium"):
        options.binary_location = shutil.which("chromium")
    for flag in ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1920,1080"):
        options.add_argument(flag)
    return options


@pytest.fixture
def demo_app():
    """The app on the built-in demo config, its store filled by one synchronous poll."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        need("Chromium", "install the chromium and chromium-driver Debian packages")
    settings = load()
    store = open_store(None, settings.deployment, settings.source_names)
    poller = Poller([registry.build(spec) for spec in settings.sources], store)
    poller.publish_config(settings.chains)
    for source in poller.sources:
        poller.poll(source)
    return create_app(settings, store)
