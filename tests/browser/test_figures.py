"""Charts and tables grow with the viewport: on a 4K screen a chart is as tall, its text as large and its
markers as big, and a table's rows as tall, relative to the screen, as on a 1080p one (layouts/components/graphs.py
heights in rem, assets/figures.js, the grid spacing in assets/opscenter.css)."""

import pytest

from tests.browser.conftest import assert_no_console_errors

pytestmark = pytest.mark.browser

TIMELINE = "#oc-chaos-timeline"
MEASURE = """
var plot = document.querySelector(arguments[0]);
var rows = Array.from(plot.querySelectorAll('.ytick text')).map(function (t) { return t.getBoundingClientRect().top; });
return {
    width: window.innerWidth,
    height: plot.getBoundingClientRect().height,
    tick: parseFloat(getComputedStyle(plot.querySelector('.xtick text')).fontSize),
    legend: parseFloat(getComputedStyle(plot.querySelector('.legendtext')).fontSize),
    marker: plot.querySelector('.scatterlayer .point').getBBox().width,
    row: (rows[rows.length - 1] - rows[0]) / (rows.length - 1),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    grid_row: document.querySelector('#oc-chaos-services .ag-row').getBoundingClientRect().height,
};
"""


def _at(dash_duo, width: int, height: int, type_px: int) -> dict:
    """Resize the window, wait until the timeline has redrawn in the type size ``type_px``, and measure it."""
    dash_duo.driver.set_window_size(width, height)
    dash_duo.wait_for_style_to_equal(f"{TIMELINE} .xtick text", "font-size", f"{type_px}px", timeout=20)
    return dash_duo.driver.execute_script(MEASURE, TIMELINE)


def test_chaos_page_scales_its_chart_and_table_together(dash_duo, demo_app):
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/chaos")
    dash_duo.wait_for_element(f"{TIMELINE} .scatterlayer .point", timeout=20)
    dash_duo.wait_for_element("#oc-chaos-services .ag-row", timeout=20)
    desk = _at(dash_duo, 1920, 1080, 15)
    wall = _at(dash_duo, 3840, 2160, 30)
    assert wall["width"] == 2 * desk["width"]
    for measure in ("height", "tick", "legend", "marker", "row", "grid_row"):
        assert wall[measure] == pytest.approx(2 * desk[measure], rel=0.05), measure
    for shown in (desk, wall):
        assert shown["row"] >= 1.5 * shown["tick"]  # row labels do not crowd
        assert shown["overflow"] <= 0
    assert _at(dash_duo, 1920, 1080, 15)["marker"] == pytest.approx(desk["marker"])  # back: not scaled twice
    assert_no_console_errors(dash_duo)
