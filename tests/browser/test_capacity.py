"""/capacity renders cost, headroom and recommendations from the derived peaks, with links to the service page;
before the open it sizes from the previous trading day."""

from datetime import UTC, datetime

import pytest

from dashboard.core.derived import DerivedFrames
from tests.browser.conftest import _need_chromium, assert_no_console_errors
from tests.demo_app import polled_demo_app

pytestmark = pytest.mark.browser
WEDNESDAY_AFTERNOON = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai: a day of trading behind it
TUESDAY_NIGHT = datetime(2026, 11, 16, 19, 0, tzinfo=UTC)  # Tuesday 03:00 in Shanghai, hours before the open


def test_capacity_page_shows_costs_and_links(dash_duo):
    _need_chromium()
    dash_duo.start_server(
        polled_demo_app(clock=lambda: WEDNESDAY_AFTERNOON, derived=lambda store: DerivedFrames(store, history_days=1))
    )
    dash_duo.driver.get(dash_duo.server_url + "/capacity")
    dash_duo.wait_for_contains_text("#oc-capacity-total", "CNY", timeout=20)
    dash_duo.wait_for_contains_text("#oc-capacity-chains", "Equity trading", timeout=10)
    link = dash_duo.find_element("#oc-capacity-services a[href^='/service/']")
    assert "from=now-6h" in link.get_attribute("href")
    assert_no_console_errors(dash_duo)


def test_before_the_open_the_previous_trading_day_sizes_the_estate(dash_duo):
    """At 03:00 on Tuesday the day so far is a few quiet night hours: Monday's peaks decide, so nothing is
    scaled in on a night's 5% CPU, and pretrade-risk, one instance of which ran at 96%, is scaled out."""
    _need_chromium()
    dash_duo.start_server(
        polled_demo_app(clock=lambda: TUESDAY_NIGHT, derived=lambda store: DerivedFrames(store, history_days=1))
    )
    dash_duo.driver.get(dash_duo.server_url + "/capacity")
    dash_duo.wait_for_contains_text(
        "#oc-capacity-day", "Mon 2026-11-16, the last completed A-share trading day", timeout=20
    )
    first = dash_duo.find_element("#oc-capacity-advice .ag-row[row-index='0']")
    assert "pretrade-risk" in first.text and "Scale out" in first.text, first.text
    assert "pretrade-risk-2" in first.text  # its busiest instance decides
    advice = dash_duo.find_element("#oc-capacity-advice").text
    assert "Scale in" not in advice, advice
    risky = dash_duo.find_element("#oc-capacity-services .ag-row[row-index='0']")
    assert "pretrade-risk" in risky.text  # the riskiest service first
    assert dash_duo.find_element("#oc-capacity-chart .main-svg")
    assert_no_console_errors(dash_duo)


SQUARES = """
var legend = document.querySelector(arguments[0] + ' .legend');
var box = legend.getBoundingClientRect();
return Array.from(legend.querySelectorAll('.legendpoints path')).filter(function (p) {
    return p.getAttribute('d') === 'M6,6H-6V-6H6Z';
}).map(function (p) {
    var r = p.getBoundingClientRect(), text = p.closest('.traces').querySelector('.legendtext').getBoundingClientRect();
    return {size: r.width, inside: r.left >= box.left, gap: text.left - r.right};
});
"""


def test_the_legend_squares_grow_with_the_type_and_stay_beside_their_text(dash_duo):
    """Plotly draws a legend's squares at 12 px whatever the type; assets/figures.js grows them on a 4K wall."""
    _need_chromium()
    chart = "#oc-capacity-chart"
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(
        polled_demo_app(clock=lambda: WEDNESDAY_AFTERNOON, derived=lambda store: DerivedFrames(store, history_days=1))
    )
    dash_duo.driver.get(dash_duo.server_url + "/capacity")
    dash_duo.wait_for_element(f"{chart} .legendpoints path", timeout=30)
    sizes = {}
    for width, height, type_px in ((1920, 1080, 15), (3840, 2160, 30)):
        dash_duo.driver.set_window_size(width, height)
        dash_duo.wait_for_style_to_equal(f"{chart} .xtick text", "font-size", f"{type_px}px", timeout=20)
        squares = dash_duo.driver.execute_script(SQUARES, chart)
        assert squares and all(s["inside"] and s["gap"] > 0 for s in squares), squares
        sizes[width] = squares[0]["size"]
    assert sizes[3840] == pytest.approx(2 * sizes[1920], rel=0.1)
    assert_no_console_errors(dash_duo)
