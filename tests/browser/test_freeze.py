"""Change freezes in headless Chromium: the wall flags a release running in the morning session, /incidents
counts the breaches of the last 30 days, the service page flags its own."""

from datetime import datetime

import pandas as pd
import pytest

from dashboard.analytics import freeze
from dashboard.core.derived import DerivedFrames
from dashboard.core.settings import load
from tests.demo_app import polled_demo_app

pytestmark = pytest.mark.browser

MORNING_RELEASE = datetime.fromisoformat("2026-12-02T09:30:00+08:00")  # the demo's release runs 09:27-09:35


@pytest.fixture(scope="module")
def freeze_app():
    health = load().health
    app = polled_demo_app(
        clock=lambda: MORNING_RELEASE, derived=lambda store: DerivedFrames(store, history_days=1, health=health)
    )
    return app


def test_the_wall_and_incidents_show_changes_made_during_a_freeze(dash_duo, freeze_app):
    store = freeze_app.server.extensions["opscenter"].store
    breaches = store.frame("freeze_breaches")
    recent = freeze.recent(breaches, pd.Timestamp(MORNING_RELEASE))
    running = breaches[(breaches["ts"] == pd.Timestamp(MORNING_RELEASE) - pd.Timedelta(minutes=3))]
    assert len(running) == 1 and running["flagged"].all()  # the release started at 09:27

    dash_duo.start_server(freeze_app)
    dash_duo.driver.get(dash_duo.server_url + "/wall")
    dash_duo.wait_for_element("#oc-wall-freeze-count", timeout=20)
    assert "1 in freeze" in dash_duo.find_element("#oc-wall-freeze-count").text
    flagged = dash_duo.find_element(f".oc-change[data-change='{running['id'].iloc[0]}'] .oc-freeze-flagged")
    assert "freeze" in flagged.text and "A-share trading session" in flagged.get_attribute("title")

    dash_duo.driver.get(dash_duo.server_url + "/incidents")
    dash_duo.wait_for_element("#oc-freeze-panel .oc-freeze-count", timeout=20)
    count = dash_duo.find_element("#oc-freeze-panel .oc-freeze-count").text
    assert count == str(int(recent["flagged"].sum())) and int(count) > 0
    assert len(dash_duo.find_elements("#oc-freeze-panel .oc-freeze-row")) == min(len(recent), 12)

    window = "from=2026-12-02T01:00:00Z&to=2026-12-02T02:00:00Z"  # 09:00-10:00 in Shanghai
    dash_duo.driver.get(f"{dash_duo.server_url}/service/order-gateway?lang=zh&{window}")
    dash_duo.wait_for_element("#oc-service-freeze .oc-freeze-row", timeout=20)
    assert "封网" in dash_duo.find_element("#oc-service-freeze h2").text
    assert dash_duo.find_elements("#oc-service-events .oc-freeze-flagged")
    errors = [entry for entry in dash_duo.get_logs() or [] if entry.get("level") == "SEVERE"]
    assert errors == [], errors
