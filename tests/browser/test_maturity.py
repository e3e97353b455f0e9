"""/maturity in Chromium: the catalogue's items with levels and evidence, the figures, the exports, in both languages.

The evidence is evaluated as the poller's after-poll job does it (``EvidenceJob`` on the polled store, into a
history database), and one item carries an assessment, so the page shows proposals, a confirmed status and
progress.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import requests
from dash.testing.wait import until
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from dashboard.app import create_app
from dashboard.core.leases import leases_for
from dashboard.db.history import History
from dashboard.maturity import assessments
from dashboard.maturity import model as catalogue
from dashboard.maturity.evidence_job import EvidenceJob
from dashboard.security.access import AccessStore
from tests import poppler
from tests.browser.conftest import _need_chromium, assert_no_console_errors
from tests.demo_app import polled_demo_app

pytestmark = pytest.mark.browser
WEDNESDAY_AFTERNOON = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)  # a trading day behind the evidence
MODEL = catalogue.load()


@pytest.fixture
def maturity_app(tmp_path):
    """The demo app polled on a Wednesday afternoon, its evidence evaluated, MON-01 assessed as passed."""
    _need_chromium()
    polled = polled_demo_app(clock=lambda: WEDNESDAY_AFTERNOON)
    ctx = polled.server.extensions["opscenter"]
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    history = History(url)
    history.migrate()
    assert EvidenceJob(MODEL, ctx.store, history, 3600, leases_for(ctx.store))(WEDNESDAY_AFTERNOON) > 40
    with history.engine.begin() as connection:
        assessments.append(
            connection,
            "MON-01",
            "pass",
            "li.wei",
            "golden signals on every tier-1 service",
            ["https://wiki.example/mon-01"],
            "pass",
            WEDNESDAY_AFTERNOON - timedelta(days=2),
        )
    history.close()
    access = AccessStore(url)
    yield create_app(ctx.settings, ctx.store, access)
    access.close()


def _texts(dash_duo, selector: str) -> list[str]:
    return [e.text for e in dash_duo.find_elements(selector)]


def _cell(dash_duo, item: str, field: str) -> str:
    return dash_duo.find_element(f".oc-maturity-grid .ag-row[row-id='{item}'] .ag-cell[col-id='{field}']").text


def _cell_element(dash_duo, item: str, field: str = "title"):
    return dash_duo.find_element(f".oc-maturity-grid .ag-row[row-id='{item}'] .ag-cell[col-id='{field}']")


def _choose(dash_duo, item: str) -> None:
    """Click ``item``'s row until the grid has selected it: a click while the page still moves (a figure drawn,
    a tooltip shown) may land on a neighbour."""

    def chosen(duo):
        selected = f".oc-maturity-grid .ag-row[row-id='{item}'][aria-selected='true']"
        if not duo.find_elements(selected):
            _cell_element(duo, item).click()
        return duo.find_elements(selected)

    until(lambda: _settled(dash_duo, chosen), timeout=20)


def _settled(dash_duo, check, *args) -> bool:
    """``check(dash_duo, *args)``, False while the page redraws what it reads."""
    try:
        return check(dash_duo, *args)
    except (IndexError, StaleElementReferenceException):
        return False


def _domain_cards(dash_duo) -> dict[str, str]:
    return {card.get_attribute("data-domain"): card.text for card in dash_duo.find_elements(".oc-maturity-domain")}


def _dotted_outline(dash_duo) -> bool:
    outline = dash_duo.find_elements("#oc-maturity-radar .scatterlayer .trace")[-1]
    return "stroke-dasharray" in outline.find_element(By.CSS_SELECTOR, "path").get_attribute("style")


def _evidence_tooltip(dash_duo, item: str, text: str) -> bool:
    ActionChains(dash_duo.driver).move_to_element(_cell_element(dash_duo, item, "evidence")).perform()
    return any(text in tip.text for tip in dash_duo.find_elements(".ag-tooltip"))


def _open(dash_duo, app, query: str = "") -> None:
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/maturity" + query)
    dash_duo.wait_for_element(".oc-maturity-grid .ag-row[row-id='UX-08']", timeout=30)
    dash_duo.wait_for_element("#oc-maturity-radar .scatterlayer .trace path", timeout=10)


def _export(dash_duo, link_id: str) -> requests.Response:
    href = dash_duo.find_element(f"#{link_id}").get_attribute("href")
    assert href.startswith(dash_duo.server_url + "/maturity/export.")
    return requests.get(href, timeout=60)


def test_items_show_levels_evidence_and_assessments(dash_duo, maturity_app):
    _open(dash_duo, maturity_app)
    rows = dash_duo.find_elements(".oc-maturity-grid .ag-center-cols-container .ag-row")
    assert len(rows) == len(MODEL.items)
    assert set(_texts(dash_duo, ".oc-maturity-grid .ag-cell[col-id='domain_name']")) == set(MODEL.domains.values())
    assert {int(v) for v in _texts(dash_duo, ".oc-maturity-grid .ag-cell[col-id='level']")} == {1, 2, 3, 4, 5}
    assert (_cell(dash_duo, "MON-05", "evidence"), _cell(dash_duo, "MON-05", "value")) == ("Met", "1")
    assert (_cell(dash_duo, "MON-06", "evidence"), _cell(dash_duo, "MON-06", "value")) == ("Not met", "0.9333")
    assert _cell(dash_duo, "MON-09", "evidence") == "Assessor decides"
    assert (_cell(dash_duo, "MON-01", "status_text"), _cell(dash_duo, "MON-01", "assessor")) == ("Pass", "li.wei")
    assert _cell(dash_duo, "MON-02", "status_text") == "Not started"
    overall = dash_duo.find_element("#oc-maturity-overall").text
    assert "overall level" in overall and "evidence of 2026-11-18 14:00 Asia/Shanghai" in overall
    dash_duo.wait_for_contains_text("#oc-maturity-gaps", "item(s) stand between now and level 1", timeout=10)

    _choose(dash_duo, "MON-01")
    dash_duo.wait_for_contains_text(
        "#oc-maturity-detail h3", "MON-01 · Golden signals for critical services", timeout=10
    )
    evidence_row, assessment_row = dash_duo.find_elements("#oc-maturity-detail tbody tr")
    assert evidence_row.text.startswith("2026-11-18 14:00 1 Met ")
    assert "li.wei" in assessment_row.text and "wiki.example/mon-01" in assessment_row.text
    assert_no_console_errors(dash_duo)


def test_an_assessment_recorded_on_the_page_shows_in_the_table_and_the_trail(dash_duo, maturity_app):
    _open(dash_duo, maturity_app)
    _choose(dash_duo, "MON-02")
    dash_duo.wait_for_contains_text("#oc-maturity-detail h3", "MON-02", timeout=10)
    dash_duo.find_element("#oc-maturity-new-status").click()
    next(o for o in dash_duo.find_elements(".dash-dropdown-option") if o.text == "Pass").click()
    dash_duo.find_element("#oc-maturity-justification").send_keys("both sources answered all week")
    dash_duo.find_element("#oc-maturity-confirm").click()
    dash_duo.wait_for_text_to_equal("#oc-maturity-message", "MON-02 recorded by local.", timeout=10)
    dash_duo.wait_for_text_to_equal(".ag-row[row-id='MON-02'] .ag-cell[col-id='status_text']", "Pass", timeout=10)
    assert _cell(dash_duo, "MON-02", "assessor") == "local"
    dash_duo.wait_for_contains_text("#oc-maturity-detail", "both sources answered all week", timeout=10)
    assert_no_console_errors(dash_duo)


def test_figures_draw_every_domain_and_the_progress(dash_duo, maturity_app):
    _open(dash_duo, maturity_app)
    labels = " ".join(_texts(dash_duo, "#oc-maturity-radar .angularaxistick text"))
    assert all(word in labels for name in MODEL.domains.values() for word in name.split())
    dash_duo.wait_for_element("#oc-maturity-progress .scatterlayer .trace .point", timeout=10)
    radar = dash_duo.find_element("#oc-maturity-radar .main-svg")
    assert radar.size["width"] > 300 and radar.size["height"] > 200
    assert_no_console_errors(dash_duo)


def test_exports_answer_with_the_items(dash_duo, maturity_app):
    _open(dash_duo, maturity_app)
    csv = _export(dash_duo, "oc-maturity-csv")
    assert csv.status_code == 200 and csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv.headers["Content-Disposition"]
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Item,Domain,Level,Capability,") and len(lines) == len(MODEL.items) + 1
    assert any(line.startswith("MON-01,Monitoring,1,Golden signals") and "li.wei" in line for line in lines)
    pdf = _export(dash_duo, "oc-maturity-pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    shown = poppler.words(pdf.content)
    assert "li.wei 2026-11-16 14:00 CST golden signals on every tier-1 service" in shown
    assert MODEL.item("UX-08").title in shown
    assert_no_console_errors(dash_duo)


def test_chinese_page_shows_the_catalogue_in_chinese(dash_duo, maturity_app):
    _open(dash_duo, maturity_app, "?lang=zh")
    assert set(_texts(dash_duo, ".oc-maturity-grid .ag-cell[col-id='domain_name']")) == set(MODEL.domains_zh.values())
    assert _cell(dash_duo, "MON-01", "title") == MODEL.item("MON-01").title_zh
    assert (_cell(dash_duo, "MON-01", "applies"), _cell(dash_duo, "MON-01", "status_text")) == ("一级服务", "通过")
    assert (_cell(dash_duo, "MON-06", "evidence"), _cell(dash_duo, "MON-09", "evidence")) == ("未达标", "人工评估")
    headers = [h for h in _texts(dash_duo, ".oc-maturity-grid .ag-header-cell-text") if h]
    assert headers[:4] == ["编号", "领域", "等级", "能力项"]
    labels = " ".join(_texts(dash_duo, "#oc-maturity-radar .angularaxistick text"))
    assert all(name.split("（")[0] in labels for name in MODEL.domains_zh.values())
    page = dash_duo.find_element(".oc-maturity").text
    assert not any(item.title in page for item in MODEL.items), "English catalogue text on the Chinese page"
    assert not any(name in page for name in MODEL.domains.values()) and "share of" not in page

    _choose(dash_duo, "MON-01")
    dash_duo.wait_for_contains_text("#oc-maturity-detail", MODEL.item("MON-01").description_zh, timeout=10)
    assert "上报服务指标的一级服务占比 >= 100%" in dash_duo.find_element("#oc-maturity-detail").text
    csv = _export(dash_duo, "oc-maturity-csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("编号,领域,等级,能力项,说明,") and lines[1].startswith("MON-01,监控管理,1,一级服务")
    pdf = _export(dash_duo, "oc-maturity-pdf")
    assert pdf.url.endswith("/maturity/export.pdf?lang=zh") and pdf.headers["Content-Type"] == "application/pdf"
    shown = "".join(poppler.text(pdf.content).split())
    assert all(item.title_zh.replace(" ", "") in shown for item in MODEL.items)
    assert_no_console_errors(dash_duo)


def test_a_catalogue_without_chinese_falls_back_to_english(dash_duo, maturity_app, tmp_path):
    own = tmp_path / "own.yaml"
    own.write_text(
        "domains: {ops: Operations}\nitems:\n"
        "  - {id: OPS-1, domain: ops, level: 1, title: On-call rota kept, description: A rota exists.,"
        " rule: manual}\n"
    )
    ctx = maturity_app.server.extensions["opscenter"]
    settings = replace(ctx.settings, maturity=replace(ctx.settings.maturity, catalogue=str(own)))
    app = create_app(settings, ctx.store, maturity_app.server.extensions["opscenter.auth"].access)
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/maturity?lang=zh")
    dash_duo.wait_for_element(".oc-maturity-grid .ag-row[row-id='OPS-1']", timeout=30)
    assert (_cell(dash_duo, "OPS-1", "domain_name"), _cell(dash_duo, "OPS-1", "title")) == (
        "Operations",
        "On-call rota kept",
    )
    assert _cell(dash_duo, "OPS-1", "evidence") == "人工评估"
    assert_no_console_errors(dash_duo)


def test_evidence_suggests_a_level_before_anyone_confirms_it(dash_duo, maturity_app):
    """Nothing but MON-01 is assessed, yet the page says how far the evidence alone goes, in words and on the radar."""
    _open(dash_duo, maturity_app)
    dash_duo.wait_for_element(".oc-maturity-domain[data-domain='configuration'] .oc-maturity-suggests", timeout=10)
    cards = until(lambda: _settled(dash_duo, _domain_cards), timeout=10)
    assert set(cards) == set(MODEL.domains)
    assert "L0\nevidence suggests L3, awaiting confirmation" in cards["configuration"]
    assert "L0\nevidence suggests L0" in cards["continuity"], "a manual level-1 item stops the climb"
    assert "evidence suggests L0" in dash_duo.find_element("#oc-maturity-overall").text
    until(lambda: _settled(dash_duo, _dotted_outline), timeout=10)
    # hovered until its tooltip shows: a grid drawn anew under a still pointer shows none
    until(lambda: _settled(dash_duo, _evidence_tooltip, "MON-06", "auth-service: not seen in traced calls"), timeout=20)

    _choose(dash_duo, "CFG-01")
    state = "Configuration: confirmed L0 · evidence suggests L3, awaiting confirmation"
    dash_duo.wait_for_contains_text("#oc-maturity-detail .oc-maturity-state", state, timeout=10)
    assert "Met by the evidence, awaiting confirmation" in dash_duo.find_element("#oc-maturity-detail").text
    until(lambda: dash_duo.driver.current_url.endswith("/maturity?item=CFG-01"), timeout=10)
    assert_no_console_errors(dash_duo)


def test_a_link_to_an_item_opens_its_detail_with_what_fails(dash_duo, maturity_app):
    _open(dash_duo, maturity_app, "?item=HA-04&lang=zh")
    dash_duo.wait_for_contains_text("#oc-maturity-detail h3", "HA-04 · ", timeout=10)
    assert dash_duo.find_element(".oc-maturity-grid .ag-row[row-id='HA-04']").get_attribute("aria-selected") == "true"
    why = _texts(dash_duo, "#oc-maturity-detail .oc-maturity-findings li")
    assert why and all("有混沌演练的 30 天周期数" in line and line.endswith(" < 3") for line in why)
    assert "证据显示 L" in dash_duo.find_element("#oc-maturity-detail .oc-maturity-state").text
    csv = _export(dash_duo, "oc-maturity-csv").content.decode("utf-8-sig")
    assert "未达标原因" in csv.splitlines()[0] and why[0] in csv
    assert_no_console_errors(dash_duo)


@pytest.mark.parametrize("item", ["NOPE-1", "<img src=x onerror=alert(1)>", "MON-01'--"])
def test_a_link_to_no_catalogue_item_says_so(dash_duo, maturity_app, item):
    _open(dash_duo, maturity_app, "?item=" + quote(item, safe=""))
    assert dash_duo.find_element("#oc-maturity-detail").text == f"There is no item {item} in the catalogue."
    assert not dash_duo.find_elements(".oc-maturity-grid .ag-row[aria-selected='true']")
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "img[src='x']"), "the value was echoed as markup"
    assert_no_console_errors(dash_duo)
